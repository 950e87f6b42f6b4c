/* chain.c: a process chain N deep, each level the parent of the next through a pipe: no pooltrace inside.
 *
 * Usage: chain N [keep]. Each level makes a pipe and forks; the child reads
 * its pipe to EOF and becomes the next level, down to depth N, where the
 * last child makes no pipe and exits. With "keep" a child closes nothing it
 * inherited (as a careless program would), so level k holds both ends of
 * every pipe above it: 2k fds, and N(N+1) holds in the run. Each parent writes a byte to its child,
 * closes its write end and waits for it. A run of N processes deep, one
 * wide: what `render` and `report` must draw in seconds (a pool is wide,
 * this is deep).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 4, keep = argc > 2 && !strcmp(argv[2], "keep");
	char c;

	for (int level = 0; level < depth; level++) {
		int fds[2], status;
		pid_t child;

		if (pipe(fds) < 0)
			return 1;
		child = fork();
		if (child < 0)
			return 1;
		if (child == 0) {
			if (!keep)
				close(fds[1]);
			/* Kept, the write end would hold off EOF: read the one byte. */
			if (read(fds[0], &c, 1) != 1)
				return 1;
			if (!keep)
				close(fds[0]);
			continue;
		}
		close(fds[0]);
		c = 'x';
		if (write(fds[1], &c, 1) != 1)
			return 1;
		close(fds[1]);
		if (waitpid(child, &status, 0) != child)
			return 1;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	return 0;
}
