/*
 * latewrite.c: one process, two threads. The main thread reads a pipe that
 * its other thread writes to after a second: blocked meanwhile, but not
 * stuck, since a thread of its own will wake it. `latewrite stuck`: the
 * other thread reads a second pipe that nobody writes to instead, so both
 * threads wait for each other for good (a deadlock within one process).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int data[2], never[2];
static int stuck;

static void *writer(void *arg)
{
	char c;

	(void)arg;
	if (stuck) {
		if (read(never[0], &c, 1) < 0)
			perror("read");
		return NULL;
	}
	sleep(1);
	if (write(data[1], "x", 1) != 1)
		perror("write");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	char c;

	stuck = argc > 1 && !strcmp(argv[1], "stuck");
	if (pipe(data) < 0 || pipe(never) < 0 || pthread_create(&t, NULL, writer, NULL) != 0)
		return 1;
	if (read(data[0], &c, 1) != 1)
		return 1;
	pthread_join(t, NULL);
	printf("%c\n", c);
	return 0;
}
