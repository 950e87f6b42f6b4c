/* pollwait.c: the fds a thread blocked in poll, ppoll, select, pselect6 or an epoll wait is waiting on.
 *
 * A thread in one of these calls wakes when any of its fds becomes ready, or
 * when its timeout runs out. Only a wait without timeout can be part of a
 * deadlock; its fds are read from the thread's own memory (the pollfd array,
 * the fd_sets) with process_vm_readv, which ptrace's own permission allows,
 * or for epoll from the epoll fd's registrations in /proc/PID/fdinfo.
 */
#include "procfs/pollwait.h"

#include "base/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

bool pollwait_is_call(long nr)
{
	return nr == SYS_poll || nr == SYS_ppoll || nr == SYS_select || nr == SYS_pselect6 || nr == SYS_epoll_wait ||
	       nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2;
}

static bool pollwait_read(pid_t tid, unsigned long addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };

	return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* poll, ppoll: the pollfd array. A negative fd is skipped by the kernel too. */
static int pollwait_poll(pid_t tid, unsigned long addr, unsigned long nfds, int *fds)
{
	struct pollfd p[POLLWAIT_MAX];
	int n = 0;

	if (nfds > POLLWAIT_MAX || (nfds && !pollwait_read(tid, addr, p, nfds * sizeof(*p))))
		return -EIO;
	for (unsigned long i = 0; i < nfds; i++)
		if (p[i].fd >= 0)
			fds[n++] = p[i].fd;
	return n;
}

/* select, pselect6: the fds set in any of the three fd_sets (each read up to nfds bits). */
static int pollwait_select(pid_t tid, unsigned long nfds, const unsigned long *sets, int *fds)
{
	enum { WORD = 8 * sizeof(unsigned long), MAXFD = 4096 };
	unsigned long bits[3][MAXFD / WORD];
	size_t words = (nfds + WORD - 1) / WORD;
	int n = 0;

	if (nfds > MAXFD)
		return -EIO;
	for (int s = 0; s < 3; s++) {
		memset(bits[s], 0, sizeof(bits[s]));
		if (sets[s] && words && !pollwait_read(tid, sets[s], bits[s], words * sizeof(unsigned long)))
			return -EIO;
	}
	for (unsigned long fd = 0; fd < nfds; fd++)
		if ((bits[0][fd / WORD] | bits[1][fd / WORD] | bits[2][fd / WORD]) & (1UL << (fd % WORD))) {
			if (n == POLLWAIT_MAX)
				return -EIO;
			fds[n++] = (int)fd;
		}
	return n;
}

/*
 * epoll: each registration's "tfd: N ... ino:HEX" line in the epoll fd's
 * fdinfo. A registration outlives the fd number it was made with when the
 * file is still open elsewhere: unless fd N is still that file, the list is
 * unknown.
 */
static int pollwait_epoll(pid_t pid, pid_t tid, int epfd, int *fds)
{
	char path[96], buf[16384], *line;
	int n = 0;

	/* Through the waiting thread: a main thread gone by pthread_exit shows no fds. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/fdinfo/%d", (int)pid, (int)tid, epfd);
	if (read_small_file(path, buf, sizeof(buf)) < 0 || strlen(buf) == sizeof(buf) - 1)
		return -EIO;
	for (line = strstr(buf, "tfd:"); line; line = strstr(line + 1, "\ntfd:")) {
		char *ino = strstr(line, "ino:"), *end = strchr(line + 1, '\n');
		struct stat st;
		int fd;

		if (*line == '\n')
			line++;
		if (!ino || (end && ino > end) || sscanf(line, "tfd: %d", &fd) != 1 || n == POLLWAIT_MAX)
			return -EIO;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/fd/%d", (int)pid, (int)tid, fd);
		if (stat(path, &st) < 0 || st.st_ino != strtoull(ino + 4, NULL, 16))
			return -EIO;
		fds[n++] = fd;
	}
	return n;
}

int pollwait_fds(pid_t pid, pid_t tid, long nr, const unsigned long args[6], int *fds)
{
	switch (nr) {
	case SYS_poll:
		return (int)args[2] < 0 ? pollwait_poll(tid, args[0], args[1], fds) : -EIO;
	case SYS_ppoll:
		return args[2] == 0 ? pollwait_poll(tid, args[0], args[1], fds) : -EIO;
	case SYS_select:
	case SYS_pselect6:
		return args[4] == 0 ? pollwait_select(tid, args[0], &args[1], fds) : -EIO;
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
		return (int)args[3] < 0 ? pollwait_epoll(pid, tid, (int)args[0], fds) : -EIO;
	case SYS_epoll_pwait2:
		return args[3] == 0 ? pollwait_epoll(pid, tid, (int)args[0], fds) : -EIO;
	default:
		return -EIO;
	}
}
