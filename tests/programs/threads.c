/* threads.c: threads that make and close pipes: their calls belong to their process's one fd table. */
#include <pthread.h>
#include <unistd.h>

static void *worker(void *arg)
{
	int fds[2];

	(void)arg;
	if (pipe(fds) == 0) {
		close(fds[0]);
		close(fds[1]);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}
