/* pin.c: holds one copy of each pool pipe end that matters while the pool is killed.
 *
 * The pool is killed in steps: its parent first (so it cannot reap a worker
 * and die before recording the reap), then the rest of the group. The
 * parent's death closes its write ends, and without a copy held elsewhere a
 * blocked worker would see EOF, run on, record read_zero and exit, and could
 * be killed halfway through writing a record (a torn record). Measured before
 * this module: a worker ran after the kill in nearly every 3-worker naive
 * run, and 1 run in 40 left a torn record.
 *
 * Why copies and not SIGSTOP: freezing the group also stops that cascade, but
 * under a ptracer a group-stop races the SIGKILL that follows: strace -f then
 * fails PTRACE_LISTEN with EIO and gives up (seen in ~1 of 12 suite runs), and
 * the truth tests run pooltrace under strace.
 *
 * A copy adds a reference to the pool's own open file (pidfd_getfd), so the
 * pipe stays exactly as it was. Where the kernel refuses pidfd_getfd (before
 * Linux 5.6, or a stricter Yama ptrace scope) the pipe is opened afresh
 * through /proc/PID/fd/N for the same end, which counts as a reader or writer
 * just the same.
 */
#include "pool/pin.h"

#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool pin_held(const struct pin *p, ino_t inode, bool write)
{
	/* At most a few thousand copies, taken once per run: a scan is enough. */
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].inode == inode && p->v[i].write == write)
			return true;
	return false;
}

/* Copies pid's fd, a pipe end whose link is at path; pidfd may be -1. */
static int pin_take(struct pin *p, int pidfd, const char *path, int fd)
{
	struct stat target, link;
	bool write;
	int copy = -1;

	/* The link's permission bits are the end: fs/proc/fd.c sets S_IWUSR
	 * exactly when the file was opened for writing. */
	if (stat(path, &target) < 0 || !S_ISFIFO(target.st_mode) || lstat(path, &link) < 0)
		return -EIO;
	write = (link.st_mode & S_IWUSR) != 0;
	if (pin_held(p, target.st_ino, write))
		return 0;
	if (pidfd >= 0)
		copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (copy < 0 && (pidfd < 0 || errno == EPERM || errno == ENOSYS)) {
		copy = open(path, (write ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
		p->via_proc += copy >= 0;
	}
	if (copy < 0)
		return -EIO;
	ALLOC_GROW(p->v, p->n + 1, p->cap, 64);
	p->v[p->n++] = (struct pin_copy){ copy, target.st_ino, write };
	return 0;
}

int pin_fd(struct pin *p, pid_t pid, int fd)
{
	char path[64];
	int pidfd = p->proc_only ? -1 : (int)syscall(SYS_pidfd_open, pid, 0), ret;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	ret = pin_take(p, pidfd, path, fd);
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

size_t pin_pipes(struct pin *p, pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int pidfd;

	/* One process's table (the pool parent: ~1 fd per worker), so listing
	 * /proc/PID/fd costs little here, unlike the evidence walk over all. */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return p->n;
	pidfd = p->proc_only ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
	while ((de = readdir(dir))) {
		char link[sizeof(path) + sizeof(de->d_name)];

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		pin_take(p, pidfd, link, atoi(de->d_name));
	}
	if (pidfd >= 0)
		close(pidfd);
	closedir(dir);
	return p->n;
}

void pin_release(struct pin *p)
{
	for (size_t i = 0; i < p->n; i++)
		close(p->v[i].fd);
	free(p->v);
	p->v = NULL;
	p->n = p->cap = p->via_proc = 0;
}
