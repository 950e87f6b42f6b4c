/* sockpool.c: the textbook pool over socketpairs, as people write it when workers answer back.
 *
 * Usage: sockpool N [fixed]. One socketpair per worker; the worker keeps
 * sv[1], the parent sv[0]. The parent sends each worker 4 tasks (4 bytes
 * each) and reads back each answer, then closes each worker's socket and
 * waits for it, in order. Every later worker inherited the parent's sockets
 * of the earlier workers, so worker 0 never sees EOF and this hangs. With
 * "fixed", each worker first closes the sockets it inherited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4, fixed = argc > 2 && !strcmp(argv[2], "fixed");
	int *sock = calloc((size_t)n, sizeof(int));
	pid_t *pid = calloc((size_t)n, sizeof(pid_t));

	for (int i = 0; i < n; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			return 1;
		pid[i] = fork();
		if (pid[i] == 0) {
			int task;

			close(sv[0]);
			if (fixed)
				for (int j = 0; j < i; j++)
					close(sock[j]);
			/* Each task back doubled, until EOF. */
			while (read(sv[1], &task, sizeof(task)) == sizeof(task)) {
				task *= 2;
				if (write(sv[1], &task, sizeof(task)) != sizeof(task))
					_exit(1);
			}
			_exit(0);
		}
		close(sv[1]);
		sock[i] = sv[0];
	}
	long sum = 0;
	for (int t = 0; t < 4; t++)
		for (int i = 0; i < n; i++) {
			int task = t * n + i, answer;

			if (write(sock[i], &task, sizeof(task)) != sizeof(task) ||
			    read(sock[i], &answer, sizeof(answer)) != sizeof(answer))
				return 1;
			sum += answer;
		}
	for (int i = 0; i < n; i++) {
		close(sock[i]);
		waitpid(pid[i], NULL, 0);
	}
	printf("sum %ld\n", sum);
	free(sock);
	free(pid);
	return 0;
}
