/* leakypool.c: the textbook process pool, bug included, as people write it: no pooltrace inside.
 *
 * Usage: leakypool N [fixed]. One pipe per worker; each worker dup2's its read
 * end onto 0 and reads 4-byte tasks until EOF. The parent dispatches 4 tasks
 * per worker, then closes each write end and waits for that worker, in
 * order: every later worker inherited the earlier write ends, so worker 0
 * never sees EOF and this hangs. With "fixed", each worker first closes the
 * write ends it inherited (the child-close fix).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4, fixed = argc > 2 && !strcmp(argv[2], "fixed");
	int *wfd = calloc((size_t)n, sizeof(int));
	pid_t *pid = calloc((size_t)n, sizeof(pid_t));

	for (int i = 0; i < n; i++) {
		int fds[2];

		if (pipe(fds) < 0)
			return 1;
		pid[i] = fork();
		if (pid[i] == 0) {
			int task, sum = 0;

			dup2(fds[0], 0);
			close(fds[0]);
			close(fds[1]);
			if (fixed)
				for (int j = 0; j < i; j++)
					close(wfd[j]);
			while (read(0, &task, sizeof(task)) == (ssize_t)sizeof(task))
				sum += task;
			_exit(sum > 0 ? 0 : 1);
		}
		close(fds[0]);
		wfd[i] = fds[1];
	}
	for (int t = 1; t <= 4 * n; t++)
		if (write(wfd[t % n], &t, sizeof(t)) != (ssize_t)sizeof(t))
			return 1;
	for (int i = 0; i < n; i++) {
		int status;

		close(wfd[i]);
		waitpid(pid[i], &status, 0);
	}
	return 0;
}
