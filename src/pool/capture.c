/* capture.c: the system-call wrappers the pool makes its calls through; each does the real call, then records it.
 *
 * Everything recorded is observed, not modelled: pipe inodes and ends come
 * from fstat and fcntl(F_GETFL) on the live fd, and what a new process holds
 * comes from probing its own fd table. The only state kept here is a per-process
 * fd -> (inode, end) cache filled from those observations, so that the hot
 * per-task read/write events need no extra system call.
 */
#include "pool/capture.h"

#include "core/evlog.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct capture_fd {
	uint64_t inode;
	uint8_t end;
};

static struct evlog *capture_log;
static bool capture_io_events;
static bool capture_first_read_done;
static pid_t capture_pid;
static struct capture_fd *capture_fds;
static size_t capture_nfds;

void capture_init(struct evlog *log, bool io_events)
{
	capture_log = log;
	capture_io_events = io_events;
	capture_pid = getpid();
}

static void capture_emit(struct evlog_record *r)
{
	r->pid = capture_pid;
	evlog_append(capture_log, r);
}

static struct capture_fd *capture_slot(int fd)
{
	if (fd < 0)
		return NULL;
	if ((size_t)fd >= capture_nfds) {
		size_t n = capture_nfds ? capture_nfds : 64;
		struct capture_fd *p;

		while (n <= (size_t)fd)
			n *= 2;
		/* A failed realloc only loses the cache; events then carry no inode. */
		p = realloc(capture_fds, n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + capture_nfds, 0, (n - capture_nfds) * sizeof(*p));
		capture_fds = p;
		capture_nfds = n;
	}
	return &capture_fds[fd];
}

static uint8_t capture_end_of_flags(int flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY: return END_READ;
	case O_WRONLY: return END_WRITE;
	default: return END_RDWR;
	}
}

/*
 * Identifies an open fd whose F_GETFL flags are known: for a pipe its inode
 * (st_ino, the N of pipe:[N]) and its end from the flags. Fills r's
 * inode/pipe_end and refreshes the cache. Returns 1 for a pipe, 0 for
 * something else, -1 for a closed fd.
 */
static int capture_identify(int fd, int flags, struct evlog_record *r)
{
	struct capture_fd *c = capture_slot(fd);
	struct stat st;

	if (fstat(fd, &st) < 0) {
		if (c)
			*c = (struct capture_fd){ 0, 0 };
		return -EBADF;
	}
	if (!S_ISFIFO(st.st_mode)) {
		if (c)
			*c = (struct capture_fd){ 0, 0 };
		return 0;
	}
	r->inode = st.st_ino;
	r->pipe_end = flags < 0 ? END_NONE : capture_end_of_flags(flags);
	r->has |= HAS_INODE;
	if (c)
		*c = (struct capture_fd){ r->inode, r->pipe_end };
	return 1;
}

/* Observes what fd refers to (see capture_identify). */
static int capture_observe(int fd, struct evlog_record *r)
{
	return capture_identify(fd, fcntl(fd, F_GETFL), r);
}

/* Copies the cached identity of fd into r (per-task events: no system call). */
static void capture_cached(int fd, struct evlog_record *r)
{
	if (fd >= 0 && (size_t)fd < capture_nfds && capture_fds[fd].inode) {
		r->inode = capture_fds[fd].inode;
		r->pipe_end = capture_fds[fd].end;
		r->has |= HAS_INODE;
	}
}

static void capture_forget(int fd)
{
	if (fd >= 0 && (size_t)fd < capture_nfds)
		capture_fds[fd] = (struct capture_fd){ 0, 0 };
}

/*
 * Sets r's text to what fd refers to, as /proc/self/fd/N names it (a path,
 * "pipe:[N]", "socket:[N]"), whole. name (PATH_MAX + 1 bytes) holds it, and
 * must live until r is emitted: a long one is copied into the log then.
 */
static void capture_describe(int fd, struct evlog_record *r, char *name)
{
	char link[32];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, name, PATH_MAX);
	if (len <= 0)
		return;
	name[len] = '\0';
	evlog_set_text(r, name);
}

/*
 * The size of this process's fd table, FDSize in /proc/self/status: every
 * open fd is below it. Without /proc, the soft fd limit (an fd above it can
 * only exist if the limit was lowered after the fd was opened).
 */
static int capture_fd_table_size(void)
{
	char buf[4096], *p;
	long size = -1;

	if (read_small_file("/proc/self/status", buf, sizeof(buf)) > 0 && (p = strstr(buf, "\nFDSize:")))
		size = strtol(p + 8, NULL, 10);
	if (size <= 0)
		size = sysconf(_SC_OPEN_MAX);
	return size > 0 && size < INT32_MAX ? (int)size : 1024;
}

/*
 * Records every fd this new process holds. The kernel's fd table is probed
 * directly: fcntl(F_GETFL) on each slot below the table's size fails with
 * EBADF exactly for the empty ones, and gives the end of the open ones. This
 * is the table /proc/self/fd lists, read without /proc: listing that
 * directory makes the kernel build a /proc inode and dentry for every entry,
 * and tear them all down again when the process is reaped (measured for a
 * 1000-worker pool, half a million fds: ~0.6 s of the pool's start-up).
 * tests/test_truth.c checks the result against strace, and that an fd above
 * the soft fd limit is still found.
 */
static void capture_observe_inherited(void)
{
	struct evlog_record r;
	char name[PATH_MAX + 1];
	int size = capture_fd_table_size();

	/* The cache came from the parent's memory; only the kernel's view counts now. */
	free(capture_fds);
	capture_fds = NULL;
	capture_nfds = 0;
	for (int fd = 0; fd < size; fd++) {
		int flags = fcntl(fd, F_GETFL);

		if (flags < 0)
			continue;
		memset(&r, 0, sizeof(r));
		r.kind = EV_INHERIT;
		r.fd = fd;
		r.has = HAS_FD;
		/* Not a pipe: keep what it is (a tty, a file, a socket) for the reader. */
		if (capture_identify(fd, flags, &r) == 0)
			capture_describe(fd, &r, name);
		capture_emit(&r);
	}
}

/*
 * The new process's first act: completes the `fork` event its parent reserved
 * (so the event sits before anything the parent did after fork), then
 * observes what it holds. Nothing can change this process's fd table between
 * fork and this observation, so it is the table fork copied.
 */
static void capture_child_begin(int worker_index, uint64_t seq, uint64_t ts_ns)
{
	struct evlog_record r;

	capture_pid = getpid();
	capture_first_read_done = false;
	if (!capture_log)
		return;
	if (seq) {
		memset(&r, 0, sizeof(r));
		r.kind = EV_FORK;
		r.pid = capture_pid;
		r.ts_ns = ts_ns;
		r.other_pid = getppid();
		r.has = HAS_OTHER_PID;
		if (worker_index >= 0) {
			r.arg = worker_index;
			r.has |= HAS_ARG;
		}
		evlog_fill(capture_log, seq, &r);
	}
	capture_observe_inherited();
}

int capture_pipe(int fds[2], int channel)
{
	struct evlog_record r, w;
	int ret = pipe(fds), saved = errno;

	if (!capture_log)
		return ret;
	memset(&r, 0, sizeof(r));
	r.kind = EV_PIPE;
	r.arg = channel;
	r.result = ret < 0 ? -saved : 0;
	r.has = HAS_ARG | HAS_RESULT;
	if (ret == 0) {
		memset(&w, 0, sizeof(w));
		capture_observe(fds[1], &w);
		capture_observe(fds[0], &r);
		r.fd = fds[0];
		r.fd2 = fds[1];
		r.has |= HAS_FD | HAS_FD2;
	}
	capture_emit(&r);
	errno = saved;
	return ret;
}

pid_t capture_fork(int worker_index)
{
	struct evlog_record r;
	uint64_t seq = 0, ts = 0;
	pid_t pid;
	int saved;

	if (capture_log) {
		seq = evlog_reserve(capture_log);
		ts = evlog_now_ns();
	}
	pid = fork();
	saved = errno;
	if (pid == 0) {
		capture_child_begin(worker_index, seq, ts);
		return 0;
	}
	if (pid < 0 && seq) {
		memset(&r, 0, sizeof(r));
		r.kind = EV_FORK;
		r.pid = capture_pid;
		r.ts_ns = ts;
		r.result = -saved;
		r.arg = worker_index;
		r.has = HAS_RESULT | HAS_ARG;
		evlog_fill(capture_log, seq, &r);
	}
	errno = saved;
	return pid;
}

int capture_close(int fd)
{
	struct evlog_record r;
	int ret, saved;

	if (!capture_log)
		return close(fd);
	memset(&r, 0, sizeof(r));
	/* Observe what the fd is before it goes: afterwards the kernel cannot tell. */
	capture_observe(fd, &r);
	ret = close(fd);
	saved = errno;
	capture_forget(fd);
	r.kind = EV_CLOSE;
	r.fd = fd;
	r.result = ret < 0 ? -saved : 0;
	r.has |= HAS_FD | HAS_RESULT;
	capture_emit(&r);
	errno = saved;
	return ret;
}

int capture_close_range(unsigned first, unsigned last)
{
	struct evlog_record r;
	int ret = close_range(first, last, 0), saved = errno;

	if (!capture_log)
		return ret;
	for (size_t fd = first; fd < capture_nfds && fd <= last; fd++)
		capture_forget((int)fd);
	memset(&r, 0, sizeof(r));
	r.kind = EV_CLOSE_RANGE;
	r.fd = (int32_t)first;
	r.fd2 = last > INT32_MAX ? INT32_MAX : (int32_t)last;
	r.result = ret < 0 ? -saved : 0;
	r.has = HAS_FD | HAS_FD2 | HAS_RESULT;
	capture_emit(&r);
	errno = saved;
	return ret;
}

int capture_dup2(int oldfd, int newfd)
{
	struct evlog_record r;
	char name[PATH_MAX + 1];
	int ret, saved;
	bool replaced;

	if (!capture_log)
		return dup2(oldfd, newfd);
	memset(&r, 0, sizeof(r));
	/* Whether newfd was open (and what it was) is only knowable before the call. */
	replaced = fcntl(newfd, F_GETFD) >= 0 && oldfd != newfd;
	if (replaced)
		capture_describe(newfd, &r, name);
	ret = dup2(oldfd, newfd);
	saved = errno;
	if (ret >= 0)
		capture_observe(newfd, &r);
	r.kind = EV_DUP2;
	r.fd = newfd;
	r.fd2 = oldfd;
	r.arg = replaced;
	r.result = ret < 0 ? -saved : ret;
	r.has |= HAS_FD | HAS_FD2 | HAS_ARG | HAS_RESULT;
	capture_emit(&r);
	errno = saved;
	return ret;
}

ssize_t capture_write(int fd, const void *buf, size_t n, int task_code)
{
	struct evlog_record r;
	ssize_t ret = write(fd, buf, n);
	int saved = errno;

	if (!capture_log || !capture_io_events)
		return ret;
	memset(&r, 0, sizeof(r));
	capture_cached(fd, &r);
	r.kind = EV_WRITE;
	r.fd = fd;
	r.arg = task_code;
	r.result = ret < 0 ? -saved : ret;
	r.has |= HAS_FD | HAS_ARG | HAS_RESULT;
	capture_emit(&r);
	errno = saved;
	return ret;
}

ssize_t capture_read(int fd, void *buf, size_t n)
{
	struct evlog_record r;
	ssize_t ret = read(fd, buf, n);
	int saved = errno;

	if (!capture_log)
		return ret;
	if (ret != 0 && !capture_io_events && capture_first_read_done)
		return ret;
	capture_first_read_done = true;
	memset(&r, 0, sizeof(r));
	capture_cached(fd, &r);
	r.kind = ret == 0 ? EV_READ_ZERO : EV_READ;
	r.fd = fd;
	r.result = ret < 0 ? -saved : ret;
	r.has |= HAS_FD | HAS_RESULT;
	if (ret == 4) {
		int32_t code;

		memcpy(&code, buf, sizeof(code));
		r.arg = code;
		r.has |= HAS_ARG;
	}
	capture_emit(&r);
	errno = saved;
	return ret;
}

pid_t capture_waitpid(pid_t pid, int *status)
{
	struct evlog_record r;
	pid_t ret;

	do
		ret = waitpid(pid, status, 0);
	while (ret < 0 && errno == EINTR);
	if (ret <= 0 || !capture_log)
		return ret;
	memset(&r, 0, sizeof(r));
	r.kind = EV_REAP;
	r.other_pid = ret;
	r.has = HAS_OTHER_PID;
	if (WIFEXITED(*status)) {
		r.arg = WEXITSTATUS(*status);
		r.has |= HAS_ARG;
	} else if (WIFSIGNALED(*status)) {
		r.signal = (uint8_t)WTERMSIG(*status);
		r.has |= HAS_SIGNAL;
	}
	capture_emit(&r);
	return ret;
}

void capture_task(int code)
{
	struct evlog_record r;

	if (!capture_log || !capture_io_events)
		return;
	memset(&r, 0, sizeof(r));
	r.kind = EV_TASK;
	r.arg = code;
	r.has = HAS_ARG;
	capture_emit(&r);
}

void capture_check(long intact, long torn)
{
	struct evlog_record r;

	if (!capture_log)
		return;
	memset(&r, 0, sizeof(r));
	r.kind = EV_CHECK;
	r.arg = intact;
	r.result = torn;
	r.has = HAS_ARG | HAS_RESULT;
	capture_emit(&r);
}

_Noreturn void capture_exit(int code)
{
	struct evlog_record r;

	if (capture_log) {
		memset(&r, 0, sizeof(r));
		r.kind = EV_EXIT;
		r.arg = code;
		r.has = HAS_ARG;
		capture_emit(&r);
	}
	_exit(code);
}
