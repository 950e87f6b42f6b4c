/* untraced.c: children made with CLONE_UNTRACED, as a tracer-aware program may make them: no pooltrace inside.
 *
 * Usage: untraced. Makes a pipe, then a child with a raw clone(CLONE_UNTRACED
 * | SIGCHLD) whose flags stay in rdi (the syscall instruction keeps rdi, and
 * the asm relies on it), and one with clone3 (flags CLONE_UNTRACED, exit
 * signal SIGCHLD), and one with the i386 clone (int $0x80, eax 120, the flags
 * in ebx, which the call keeps). Each child says whether it still sees its flags where it
 * left them, closes its copy of the write end and execs
 * `sh -c 'echo child N ...'`. The parent checks the same at once (before
 * any other call), closes its write end, reads EOF, reaps both and prints
 * their exit statuses.
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

/* clone(flags, no new stack): returns twice, as fork; *rdi is what rdi held after the call. */
static long raw_clone(unsigned long flags, unsigned long *rdi)
{
	register unsigned long a0 __asm__("rdi") = flags;
	register unsigned long a1 __asm__("rsi") = 0, a2 __asm__("rdx") = 0, a3 __asm__("r10") = 0, a4 __asm__("r8") = 0;
	long ret = SYS_clone;

	__asm__ volatile("syscall" : "+a"(ret), "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4) : "rcx", "r11", "memory");
	*rdi = a0;
	return ret;
}

/* The i386 clone(flags, no new stack), through int $0x80: returns twice; *rbx is what ebx held after the call. */
static long raw_clone32(unsigned long flags, unsigned long *rbx)
{
	unsigned long b = flags;
	long ret = 120; /* i386 clone */

	__asm__ volatile("int $0x80" : "+a"(ret), "+b"(b) : "c"(0L), "d"(0L), "S"(0L), "D"(0L) : "memory");
	*rbx = b;
	return (int)ret; /* the i386 result is 32 bits */
}

static void child(int wfd, const char *n, int kept)
{
	char cmd[64];

	close(wfd);
	snprintf(cmd, sizeof(cmd), "echo child %s %s", n, kept ? "kept" : "changed");
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(7);
}

int main(void)
{
	struct clone_args ca;
	int p[2], st1 = -1, st2 = -1, st3 = -1, rdi_kept, flags_kept, rbx_kept;
	unsigned long rdi, rbx;
	long c1, c2, c3;
	char byte;

	if (pipe(p) < 0)
		return 1;
	fflush(stdout);
	/* Fork-like: no new stack, so the child returns here as after fork. */
	c1 = raw_clone(CLONE_UNTRACED | SIGCHLD, &rdi);
	rdi_kept = rdi == (CLONE_UNTRACED | SIGCHLD);
	if (c1 == 0)
		child(p[1], "1", rdi_kept);
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_UNTRACED;
	ca.exit_signal = SIGCHLD;
	c2 = syscall(SYS_clone3, &ca, sizeof(ca));
	flags_kept = ca.flags == CLONE_UNTRACED;
	if (c2 == 0)
		child(p[1], "2", flags_kept);
	c3 = raw_clone32(CLONE_UNTRACED | SIGCHLD, &rbx);
	rbx_kept = (uint32_t)rbx == (CLONE_UNTRACED | SIGCHLD);
	if (c3 == 0)
		child(p[1], "3", rbx_kept);
	if (c1 < 0 || c2 < 0 || c3 < 0)
		return 2;
	close(p[1]);
	if (read(p[0], &byte, 1) != 0)
		return 3;
	waitpid((pid_t)c1, &st1, 0);
	waitpid((pid_t)c2, &st2, 0);
	waitpid((pid_t)c3, &st3, 0);
	printf("exit %d %d %d, rdi %s, flags %s, ebx %s\n", WEXITSTATUS(st1), WEXITSTATUS(st2), WEXITSTATUS(st3),
	       rdi_kept ? "kept" : "changed", flags_kept ? "kept" : "changed", rbx_kept ? "kept" : "changed");
	return 0;
}
