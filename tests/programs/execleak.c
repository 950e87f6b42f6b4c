/* execleak.c: a child that execs with both ends of its parent's pipe (no O_CLOEXEC), so the parent's read waits for EOF until the exec'd program exits. No pooltrace inside.
 *
 * Usage: execleak [fixed]. The parent makes a pipe, forks a child that execs
 * `sleep 0.3`, closes its write end and reads to EOF: the sleep still holds
 * the write end it inherited, so EOF comes only when it exits. With "fixed",
 * the pipe is made with pipe2(O_CLOEXEC) (the exec closes both ends).
 */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int p[2], fixed = argc > 1 && !strcmp(argv[1], "fixed");
	char c;
	pid_t pid;

	if ((fixed ? pipe2(p, O_CLOEXEC) : pipe(p)) < 0)
		return 1;
	if ((pid = fork()) == 0) {
		execlp("sleep", "sleep", "0.3", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (read(p[0], &c, 1) > 0)
		;
	waitpid(pid, NULL, 0);
	return 0;
}
