/*
 * stopper.c: stops itself as ^Z or kill -STOP would, then says how long it
 * stood stopped. Usage: stopper PIDFILE. Writes its pid to PIDFILE, raises
 * SIGSTOP, and once continued prints "resumed after N ms". (SIGSTOP, not
 * SIGTSTP: the kernel discards SIGTSTP in an orphaned process group, as a
 * test's background job can be.)
 */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	FILE *f;

	if (argc != 2 || !(f = fopen(argv[1], "w")))
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	clock_gettime(CLOCK_MONOTONIC, &a);
	raise(SIGSTOP);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("resumed after %ld ms\n", (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000));
	return 0;
}
