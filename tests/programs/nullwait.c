/* nullwait.c: children reaped without a status pointer, and one reported stopped before it is reaped: no pooltrace inside.
 *
 * Usage: nullwait. Child 1 exits 3 and is reaped with waitpid(pid, NULL, 0);
 * child 2 is killed by SIGKILL and reaped with wait(NULL); child 3 stops
 * itself, is reported stopped by waitpid(WUNTRACED), is continued, writes to
 * a pipe the parent reads, closes it, exits 5, and is reaped with
 * waitid(P_PID, pid, NULL-free siginfo, WEXITED) after a waitid(WSTOPPED)
 * and a waitid(WCONTINUED) that only report. The parent prints what it saw.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t c1, c2, c3;
	int p[2], st = 0;
	char byte = 0;
	siginfo_t si;

	if ((c1 = fork()) == 0)
		_exit(3);
	if ((c2 = fork()) == 0) {
		raise(SIGKILL);
		_exit(1);
	}
	waitpid(c1, NULL, 0);
	wait(NULL);
	if (pipe(p) < 0)
		return 1;
	if ((c3 = fork()) == 0) {
		close(p[0]);
		raise(SIGSTOP);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		close(p[1]);
		_exit(5);
	}
	close(p[1]);
	waitpid(c3, &st, WUNTRACED);
	printf("c3 stopped: %d\n", WIFSTOPPED(st));
	kill(c3, SIGCONT);
	waitid(P_PID, (id_t)c3, &si, WCONTINUED);
	printf("c3 continued: %d\n", si.si_code == CLD_CONTINUED);
	if (read(p[0], &byte, 1) != 1 || read(p[0], &byte, 1) != 0)
		return 1;
	waitid(P_PID, (id_t)c3, &si, WEXITED);
	printf("c3 exited %d\n", si.si_status);
	return 0;
}
