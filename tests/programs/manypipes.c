/* manypipes.c: one process that makes N pipes, one after another: no pooltrace inside.
 *
 * Usage: manypipes N [close]. Without "close" it exits holding them all
 * (2N fds: it raises its soft fd limit to the hard one first). With "close"
 * it closes each pipe's write end, then its read end, before making the
 * next, so the same two fd numbers come back N times: N give-ups of a write
 * end in one process of 2N holds, what `record`'s summary must count in
 * near-linear time (it read every hold of the process for each give-up).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 16000, closing = argc > 2 && !strcmp(argv[2], "close");
	struct rlimit rl;

	if (!closing && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (int i = 0; i < n; i++) {
		int fds[2];

		if (pipe(fds) < 0)
			return 1;
		if (closing && (close(fds[1]) < 0 || close(fds[0]) < 0))
			return 1;
	}
	return 0;
}
