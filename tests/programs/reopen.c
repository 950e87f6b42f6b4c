/* reopen.c: a pipe's write end held through fds no traced call made: open("/proc/self/fd/N"), open("/dev/fd/N").
 *
 * Usage: reopen. Makes a pipe (both ends close-on-exec) and forks a reader,
 * which takes the read end as its stdin and execs `reopen reader` (the exec
 * closes its copy of the write end: it never holds one). Then the parent
 * opens the write end again twice, as /proc/self/fd/W and /dev/fd/W (no
 * call pooltrace stops at), closes the original W, and forks a sleeper that
 * inherits both reopened fds and sleeps 2 s without touching them. The
 * parent writes "x\n" through the first, sleeps 1 s holding both, and
 * closes them: that last close is its give-up, and the sleeper holds the
 * reader off EOF until it exits. The reader prints how many bytes it read.
 *
 * reopen hang: forks a reader of a pipe, then opens the pipe's write end
 * again as /proc/self/fd/W, closes W and waits for the reader, which waits
 * for EOF that the reopened fd keeps away: a deadlock, with no call on the
 * reopened fd before it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[64], buf[64];
	int p[2], w2, w3, st;
	pid_t reader, sleeper;
	ssize_t n, total = 0;

	if (argc > 1 && !strcmp(argv[1], "reader")) {
		while ((n = read(0, buf, sizeof(buf))) > 0)
			total += n;
		printf("read %zd\n", total);
		return n < 0;
	}
	if (argc > 1 && !strcmp(argv[1], "hang")) {
		if (pipe(p) < 0)
			return 1;
		if ((reader = fork()) == 0) {
			close(p[1]);
			while (read(p[0], buf, sizeof(buf)) > 0)
				;
			_exit(0);
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
		if (reader < 0 || open(path, O_WRONLY) < 0)
			return 2;
		close(p[1]);
		waitpid(reader, &st, 0);
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	if ((reader = fork()) == 0) {
		dup2(p[0], 0);
		execl("/proc/self/exe", "reopen", "reader", (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	w2 = open(path, O_WRONLY);
	snprintf(path, sizeof(path), "/dev/fd/%d", p[1]);
	w3 = open(path, O_WRONLY);
	if (reader < 0 || w2 < 0 || w3 < 0)
		return 2;
	close(p[1]); /* not the last write end: w2 and w3 are */
	if ((sleeper = fork()) == 0) {
		close(p[0]);
		sleep(2);
		_exit(0);
	}
	close(p[0]);
	if (sleeper < 0 || write(w2, "x\n", 2) != 2)
		return 3;
	sleep(1);
	close(w2);
	close(w3);
	waitpid(sleeper, &st, 0);
	waitpid(reader, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 4;
}
