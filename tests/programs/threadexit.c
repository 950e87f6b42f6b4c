/*
 * threadexit.c: the main thread calls pthread_exit while another thread runs
 * on. `threadexit`: the main thread makes a pipe, starts a thread and
 * pthread_exits; the thread waits until the main thread is a zombie, then
 * writes a byte into the pipe, reads it back, closes both ends and calls
 * exit(3): the process's status. `threadexit stuck`: the thread then makes a
 * second pipe and reads it, holding its write end itself: a deadlock of a
 * process whose main thread is gone.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fds[2];
static int stuck;
static pid_t pid;

/* Whether the main thread (whose tid is the pid) has exited: state Z in its own stat. */
static int main_gone(void)
{
	char path[64], buf[512], *p;
	FILE *f;
	int gone = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)pid);
	if (!(f = fopen(path, "r")))
		return 1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		gone = p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return gone;
}

static void *worker(void *arg)
{
	char c;
	int never[2];

	(void)arg;
	for (int i = 0; i < 5000 && !main_gone(); i++)
		usleep(1000);
	if (write(fds[1], "x", 1) != 1 || read(fds[0], &c, 1) != 1)
		perror("pipe");
	close(fds[1]);
	close(fds[0]);
	if (stuck && pipe(never) == 0 && read(never[0], &c, 1) < 0)
		perror("read");
	exit(3);
}

int main(int argc, char **argv)
{
	pthread_t t;

	stuck = argc > 1 && !strcmp(argv[1], "stuck");
	pid = getpid();
	if (pipe(fds) < 0)
		return 1;
	pthread_create(&t, NULL, worker, NULL);
	pthread_exit(NULL);
}
