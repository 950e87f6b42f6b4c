/* bothfull.c: a parent and a child that each write more than a pipe holds before reading the other's: both block on full pipes, a deadlock. No pooltrace inside.
 *
 * Usage: bothfull [fixed]. The parent writes 256 KiB into the child's stdin
 * and only then reads the child's stdout; the child writes 256 KiB to its
 * stdout before it reads its stdin. With "fixed", the parent writes from a
 * thread while it reads (the reader-thread fix).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BYTES (256 * 1024)

static char buf[BYTES];
static int to_child = -1;

static void *writer(void *arg)
{
	(void)arg;
	for (size_t off = 0; off < BYTES;) {
		ssize_t n = write(to_child, buf + off, BYTES - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(to_child);
	return NULL;
}

int main(int argc, char **argv)
{
	int in[2], out[2], status;
	int fixed = argc > 1 && !strcmp(argv[1], "fixed");
	pthread_t t;
	pid_t pid;

	if (pipe(in) < 0 || pipe(out) < 0)
		return 1;
	memset(buf, 'x', sizeof(buf));
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		for (size_t off = 0; off < BYTES;) {
			ssize_t n = write(1, buf + off, BYTES - off);

			if (n <= 0)
				_exit(1);
			off += (size_t)n;
		}
		close(1);
		while (read(0, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(in[0]);
	close(out[1]);
	to_child = in[1];
	if (fixed)
		pthread_create(&t, NULL, writer, NULL);
	else
		writer(NULL);
	while (read(out[0], buf, sizeof(buf)) > 0)
		;
	if (fixed)
		pthread_join(t, NULL);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
