/*
 * threadexec.c: execve from a thread other than the main one. The process
 * makes pipe A (plain) and pipe B (O_CLOEXEC); a second thread blocks in a
 * read of A and a third runs this program again as `threadexec after A0 A1`.
 * At that exec the kernel ends the other two threads, gives the execing
 * thread the process's pid (the main thread's tid) and closes B's fds
 * (close-on-exec). The new program closes A's fds and exits 7: the
 * process exits once, after its exec, with 7. `threadexec gone`: the main
 * thread calls pthread_exit first, so the exec comes from a process whose
 * main thread is already a zombie.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int a[2], b[2];
static char self[4096];

static void *reader(void *arg)
{
	char c;

	(void)arg;
	if (read(a[0], &c, 1) < 0) /* nobody writes: it waits until the exec ends it */
		perror("read");
	return NULL;
}

static void *execer(void *arg)
{
	char fd0[16], fd1[16];

	(void)arg;
	usleep(100 * 1000); /* the reader is in its read by then */
	snprintf(fd0, sizeof(fd0), "%d", a[0]);
	snprintf(fd1, sizeof(fd1), "%d", a[1]);
	execl(self, "threadexec", "after", fd0, fd1, (char *)NULL);
	perror("execl");
	exit(1);
}

int main(int argc, char **argv)
{
	pthread_t r, e;
	ssize_t n;

	if (argc == 4 && !strcmp(argv[1], "after")) {
		printf("after exec: pid %d\n", (int)getpid());
		close(atoi(argv[2]));
		close(atoi(argv[3]));
		return 7;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	if (pipe(a) < 0 || pipe2(b, O_CLOEXEC) < 0)
		return 1;
	printf("before exec: pid %d\n", (int)getpid());
	fflush(stdout);
	pthread_create(&r, NULL, reader, NULL);
	pthread_create(&e, NULL, execer, NULL);
	if (argc == 2 && !strcmp(argv[1], "gone"))
		pthread_exit(NULL);
	pthread_join(e, NULL); /* never returns: the exec ends this thread */
	return 1;
}
