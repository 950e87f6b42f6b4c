/* manypipes.c: one process that makes N pipes and exits holding them all: no pooltrace inside.
 *
 * Usage: manypipes N. Raises its soft fd limit to the hard one first (2N
 * fds are needed). What `record`'s summary must count in near-linear time:
 * 2N holds in one process, none of them given up.
 */
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 16000;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (int i = 0; i < n; i++) {
		int fds[2];

		if (pipe(fds) < 0)
			return 1;
	}
	return 0;
}
