/* untraced.c: children made with CLONE_UNTRACED, as a tracer-aware program may make them: no pooltrace inside.
 *
 * Usage: untraced. Makes a pipe, then a child with clone(CLONE_UNTRACED |
 * SIGCHLD) and one with clone3 (flags CLONE_UNTRACED, exit signal SIGCHLD),
 * each of which closes its copy of the write end and execs
 * `sh -c 'echo child N'`. The parent closes its write end, reads EOF, reaps
 * both and prints their exit statuses; it also checks that its clone_args
 * struct still holds the flags it wrote.
 */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void child(int wfd, const char *n)
{
	char cmd[32];

	close(wfd);
	snprintf(cmd, sizeof(cmd), "echo child %s", n);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(7);
}

int main(void)
{
	struct clone_args ca;
	int p[2], st1 = -1, st2 = -1;
	long c1, c2;
	char byte;

	if (pipe(p) < 0)
		return 1;
	fflush(stdout);
	/* Fork-like: no new stack, so the child returns here as after fork. */
	c1 = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
	if (c1 == 0)
		child(p[1], "1");
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_UNTRACED;
	ca.exit_signal = SIGCHLD;
	c2 = syscall(SYS_clone3, &ca, sizeof(ca));
	if (c2 == 0)
		child(p[1], "2");
	if (c1 < 0 || c2 < 0)
		return 2;
	close(p[1]);
	if (read(p[0], &byte, 1) != 0)
		return 3;
	waitpid((pid_t)c1, &st1, 0);
	waitpid((pid_t)c2, &st2, 0);
	printf("exit %d %d, flags %s\n", WEXITSTATUS(st1), WEXITSTATUS(st2),
	       ca.flags == CLONE_UNTRACED ? "kept" : "changed");
	return 0;
}
