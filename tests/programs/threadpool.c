/*
 * threadpool.c: a thread pool fed through pipes, with the shutdown bug
 * threads make easy: the main thread joins each worker before it closes
 * that worker's pipe, so the worker never reads EOF and the join never
 * returns. No fork: one process, whose threads wait for each other.
 *
 * Usage: threadpool N [fixed|slow]. "fixed" closes every write end first,
 * then joins. "slow": each worker sleeps half a second after EOF, so the
 * main thread waits in the join for a while, and is not stuck.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int slow;

static void *worker(void *arg)
{
	int fd = *(int *)arg, task;
	long sum = 0;

	while (read(fd, &task, sizeof(task)) == (ssize_t)sizeof(task))
		sum += task;
	if (slow)
		nanosleep(&(struct timespec){ 0, 500000000 }, NULL);
	close(fd);
	return (void *)sum;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3, fixed = argc > 2 && !strcmp(argv[2], "fixed");
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	int (*fds)[2] = calloc((size_t)n, sizeof(*fds));
	long total = 0;

	slow = argc > 2 && !strcmp(argv[2], "slow");
	if (n < 1 || !t || !fds)
		return 2;
	for (int i = 0; i < n; i++)
		if (pipe(fds[i]) < 0 || pthread_create(&t[i], NULL, worker, &fds[i][0]) != 0)
			return 1;
	for (int task = 1; task <= 4 * n; task++)
		if (write(fds[task % n][1], &task, sizeof(task)) != (ssize_t)sizeof(task))
			return 1;
	if (fixed || slow)
		for (int i = 0; i < n; i++)
			close(fds[i][1]);
	for (int i = 0; i < n; i++) {
		void *sum;

		pthread_join(t[i], &sum); /* the bug: without "fixed", worker i is still reading */
		total += (long)sum;
		if (!fixed && !slow)
			close(fds[i][1]);
	}
	printf("%ld\n", total);
	free(t);
	free(fds);
	return 0;
}
