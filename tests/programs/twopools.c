/* twopools.c: two textbook pools in one program, each hung on its own: two deadlocks that do not wait on each other.
 *
 * Usage: twopools [N] [fixed]. The first process forks two pool parents
 * and waits for both. Each pool parent runs leakypool's pool of N workers
 * (default 2): one pipe per worker, tasks dispatched, then each write end
 * closed and its worker waited for, in order. Every later worker inherited
 * the earlier write ends, so each pool's worker 0 never sees EOF: two
 * cycles of waits, and the first process waits outside both. With "fixed",
 * each worker first closes the write ends it inherited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int twopools_pool(int n, int fixed)
{
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
		close(wfd[i]);
		waitpid(pid[i], NULL, 0);
	}
	free(wfd);
	free(pid);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2, fixed = argc > 2 && !strcmp(argv[2], "fixed"), failed = 0;
	pid_t pool[2];

	for (int p = 0; p < 2; p++)
		if ((pool[p] = fork()) == 0)
			_exit(twopools_pool(n, fixed));
	for (int p = 0; p < 2; p++) {
		int status;

		if (waitpid(pool[p], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	}
	return failed;
}
