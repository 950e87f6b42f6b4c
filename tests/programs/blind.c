/* blind.c: calls record cannot follow, and preadv2/pwritev2 on a pipe: no pooltrace inside.
 *
 * Usage: blind int80 | uring | pidfd | pv2. int80: makes a pipe and closes its
 * write end through the i386 entry point (int $0x80, close = 6), then reads
 * EOF from the read end. uring: sets up an io_uring ring (and closes it).
 * pv2: writes 5 bytes into a pipe with pwritev2 and reads them back with
 * preadv2, both at offset -1, then reads EOF. Exits 0 when each step did
 * what it should. pidfd: copies its own stdout with pidfd_getfd and
 * closes the copy.
 */
#define _GNU_SOURCE
#include <linux/io_uring.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int p[2];
	char buf[8];

	if (pipe(p) < 0)
		return 1;
	if (!strcmp(mode, "int80")) {
		long r, fd = p[1];

		__asm__ volatile("int $0x80" : "=a"(r) : "a"(6L), "b"(fd) : "memory");
		return r == 0 && read(p[0], buf, 1) == 0 ? 0 : 2;
	}
	if (!strcmp(mode, "uring")) {
		struct io_uring_params params;
		long fd;

		memset(&params, 0, sizeof(params));
		fd = syscall(SYS_io_uring_setup, 4, &params);
		return fd >= 0 && close((int)fd) == 0 ? 0 : 2;
	}
	if (!strcmp(mode, "pidfd")) {
		long pidfd = syscall(SYS_pidfd_open, getpid(), 0), fd = pidfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pidfd, 1, 0);

		return fd >= 0 && close((int)fd) == 0 ? 0 : 2;
	}
	if (!strcmp(mode, "pv2")) {
		struct iovec out = { "hello", 5 }, in = { buf, sizeof(buf) };

		if (pwritev2(p[1], &out, 1, -1, 0) != 5 || close(p[1]) < 0)
			return 2;
		return preadv2(p[0], &in, 1, -1, 0) == 5 && preadv2(p[0], &in, 1, -1, 0) == 0 ? 0 : 2;
	}
	return 1;
}
