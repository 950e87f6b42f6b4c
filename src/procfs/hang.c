/* hang.c: deadlock evidence from the kernel's own view: /proc/PID/{stat,wchan,syscall,fd}.
 *
 * A pool is deadlocked when every one of its processes sleeps in a read or
 * write of a pipe or in wait4, and none of them ran between two looks: then no
 * process can wake another. The evidence is what /proc says at that moment.
 * Who holds a pipe's write end is read from each process's fd table, with
 * pidfd_getfd where the kernel allows it and /proc/PID/fd where it does not
 * (see hang_walk_pidfd and hang_walk_proc).
 */
#include "procfs/hang.h"

#include "core/evlog.h"
#include "procfs/pollwait.h"

#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* linux/pidfd.h, Linux 6.9: a pidfd of one thread */
#endif

/* Parses /proc/PID/task/TID/stat: state and process group. comm may hold spaces and ')'. */
static int hang_stat(pid_t pid, pid_t tid, char *state, pid_t *pgrp)
{
	char path[64], buf[512], *p;
	int ppid, grp;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return -EIO;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d %d", state, &ppid, &grp) != 3)
		return -EIO;
	*pgrp = grp;
	return 0;
}

/*
 * Reads /proc/PID/task/TID/status: the thread's context switches (voluntary
 * + not) and FDSize, the size of its fd table.
 */
static int hang_status(pid_t pid, pid_t tid, long *switches, int *fd_table_size)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return -EIO;
	*switches = 0;
	if ((p = strstr(buf, "voluntary_ctxt_switches:")))
		*switches += strtol(p + 24, NULL, 10);
	if ((p = strstr(buf, "nonvoluntary_ctxt_switches:")))
		*switches += strtol(p + 27, NULL, 10);
	*fd_table_size = (p = strstr(buf, "\nFDSize:")) ? (int)strtol(p + 8, NULL, 10) : -1;
	return 0;
}

static int hang_fd_table_size(pid_t pid, pid_t tid)
{
	long switches;
	int size;

	return hang_status(pid, tid, &switches, &size) < 0 ? -1 : size;
}

/*
 * A pidfd through which pidfd_getfd reads process pid's fds: of its thread
 * tid, which must be live. A main thread that has exited (pthread_exit)
 * holds no fd table any more though the process's other threads share one.
 */
static int hang_pidfd(pid_t pid, pid_t tid)
{
	return (int)syscall(SYS_pidfd_open, tid, tid != pid ? PIDFD_THREAD : 0);
}

pid_t hang_fd_thread(pid_t pid)
{
	char path[64], buf[512], *p;
	struct dirent *de;
	DIR *dir;
	pid_t live = pid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')) || (p[2] != 'Z' && p[2] != 'X'))
		return pid;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(dir = opendir(path)))
		return pid;
	while (live == pid && (de = readdir(dir))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		char state;
		pid_t grp;

		if (tid > 0 && tid != pid && hang_stat(pid, tid, &state, &grp) == 0 && state != 'Z' && state != 'X')
			live = tid;
	}
	closedir(dir);
	return live;
}

/* The inode of a pipe or socket fd of pid refers to, seen by its thread tid (*sock set for a socket), else 0. */
static uint64_t hang_fd_inode(pid_t pid, pid_t tid, int fd, bool *sock)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd/%d", (int)pid, (int)tid, fd);
	if (stat(path, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return 0;
	*sock = S_ISSOCK(st.st_mode);
	return st.st_ino;
}

/*
 * How full the pipe is that p is blocked on: FIONREAD and F_GETPIPE_SZ on a
 * copy of its fd (pidfd_getfd shares the open file, so no reader or writer
 * is added), closed at once. Left at -1 where the kernel refuses the copy.
 */
static void hang_pipe_fill(struct hang_proc *p)
{
	int pidfd = hang_pidfd(p->pid, p->tid), copy, n;

	if (pidfd < 0)
		return;
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, p->fd, 0);
	if (copy >= 0) {
		if (ioctl(copy, FIONREAD, &n) == 0)
			p->queued = n;
		p->capacity = fcntl(copy, F_GETPIPE_SZ);
		close(copy);
	}
	close(pidfd);
}

/*
 * The access mode of the file a /proc/PID/fd/N link refers to, from the
 * link's own permission bits: fs/proc/fd.c sets S_IRUSR and S_IWUSR from the
 * file's f_mode (the same mode fdinfo's `flags:` shows).
 */
static int hang_link_accmode(const struct stat *link)
{
	return link->st_mode & S_IWUSR ? (link->st_mode & S_IRUSR ? O_RDWR : O_WRONLY) : O_RDONLY;
}

/*
 * What a thread in poll, select or an epoll wait waits for: each of its fds
 * is a pipe end (woken by the holders of the other end) or a socket (by its
 * peer's, if the caller finds it is the program's); any other fd (a
 * terminal, an eventfd, a timer) or a timeout can wake it from outside.
 */
static void hang_inspect_poll(struct hang_proc *p, const unsigned long args[6])
{
	int fds[POLLWAIT_MAX], n = pollwait_fds(p->pid, p->tid, p->syscall_nr, args, fds);

	if (n <= 0)
		return; /* no fds at all: only a signal wakes it, which may come from anywhere */
	p->polled = xcalloc((size_t)n, sizeof(*p->polled));
	for (int i = 0; i < n; i++) {
		char path[96];
		struct stat target, link;
		struct hang_fdwait *w = &p->polled[i];

		snprintf(path, sizeof(path), "/proc/%d/task/%d/fd/%d", (int)p->pid, (int)p->tid, fds[i]);
		if (stat(path, &target) < 0 || lstat(path, &link) < 0)
			goto may_wake;
		w->fd = fds[i];
		w->inode = target.st_ino;
		if (S_ISSOCK(target.st_mode))
			w->wait = HANG_SOCK_READ;
		else if (S_ISFIFO(target.st_mode) && hang_link_accmode(&link) != O_RDWR)
			w->wait = hang_link_accmode(&link) == O_WRONLY ? HANG_PIPE_WRITE : HANG_PIPE_READ;
		else
			goto may_wake;
	}
	p->npolled = n;
	p->wait = HANG_POLL;
	return;
may_wake:
	free(p->polled);
	p->polled = NULL;
}

void hang_procs_free(struct hang_proc *procs, ssize_t n)
{
	for (ssize_t i = 0; i < n; i++)
		free(procs[i].polled);
	free(procs);
}

static void hang_inspect(struct hang_proc *p)
{
	char path[64], buf[256];
	long nr;
	unsigned long a[6];

	p->syscall_nr = -1;
	p->wait = HANG_RUNNING;
	p->queued = p->capacity = -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)p->pid, (int)p->tid);
	if (read_small_file(path, buf, sizeof(buf)) > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		memcpy(p->wchan, buf, sizeof(p->wchan) - 1); /* wchan names are short; cut, never overflow */
		p->wchan[sizeof(p->wchan) - 1] = '\0';
	}
	if (p->state == 'Z') {
		p->wait = HANG_ZOMBIE;
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)p->pid, (int)p->tid);
	/* "running", "-1 sp pc" outside a call, else "nr arg0 arg1 ... arg5 sp pc". */
	if (read_small_file(path, buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%ld 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) != 7)
		return;
	p->syscall_nr = nr;
	p->syscall_arg0 = (long)a[0];
	if (p->state != 'S')
		return;
	if (nr == SYS_read || nr == SYS_write || nr == SYS_readv || nr == SYS_writev || nr == SYS_recvfrom ||
	    nr == SYS_recvmsg || nr == SYS_sendto || nr == SYS_sendmsg) {
		bool in = nr == SYS_read || nr == SYS_readv || nr == SYS_recvfrom || nr == SYS_recvmsg, sock = false;

		p->fd = (int)a[0];
		p->inode = hang_fd_inode(p->pid, p->tid, p->fd, &sock);
		if (p->inode && sock) {
			/* Only the caller knows whether the socket's peer is inside the program. */
			p->wait = in ? HANG_SOCK_READ : HANG_SOCK_WRITE;
		} else if (p->inode) {
			p->wait = in ? HANG_PIPE_READ : HANG_PIPE_WRITE;
			hang_pipe_fill(p);
		}
	} else if (nr == SYS_wait4) {
		p->wait = HANG_CHILD_WAIT;
	} else if (nr == SYS_waitid) {
		p->wait = HANG_CHILD_WAIT;
		/* The child it names (idtype P_PID, id), else any: hang_evidence's other_pid. */
		p->syscall_arg0 = a[0] == P_PID ? (long)a[1] : -1;
	} else if (pollwait_is_call(nr)) {
		hang_inspect_poll(p, a);
	} else if (nr == SYS_futex && !a[3]) {
		unsigned long cmd = a[1] & ~(unsigned long)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

		/* A wait with no timeout: hang_scan_tasks finds whether it is a join. */
		if (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) {
			p->futex_addr = a[0];
			p->futex_val = (uint32_t)a[2];
		}
	}
}

/*
 * A thread in futex_wait on the word another thread of its process has the
 * kernel clear at its exit, holding that thread's tid (what pthread_join
 * waits on), is joining it: only that thread's exit wakes it.
 */
static void hang_find_joins(struct hang_proc *procs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct hang_proc *p = &procs[i];

		for (size_t j = 0; p->futex_addr && p->wait == HANG_RUNNING && j < n; j++)
			if (j != i && procs[j].pid == p->pid && procs[j].clear_tid == p->futex_addr &&
			    (uint32_t)procs[j].tid == p->futex_val && procs[j].wait != HANG_ZOMBIE) {
				p->wait = HANG_JOIN;
				p->joins = procs[j].tid;
			}
	}
}

ssize_t hang_scan(pid_t pgid, struct hang_proc **out)
{
	struct hang_proc *procs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir = opendir("/proc");

	*out = NULL;
	if (!dir)
		return -EIO;
	while ((de = readdir(dir))) {
		pid_t pid, grp;
		char state;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (hang_stat(pid, pid, &state, &grp) < 0 || grp != pgid)
			continue;
		ALLOC_GROW(procs, n + 1, cap, 64);
		memset(&procs[n], 0, sizeof(procs[n]));
		procs[n].pid = procs[n].tid = pid; /* the pool's processes have one thread each */
		procs[n].state = state;
		procs[n].fd = -1;
		if (hang_status(pid, pid, &procs[n].switches, &procs[n].fd_table_size) < 0)
			procs[n].switches = procs[n].fd_table_size = -1;
		hang_inspect(&procs[n]);
		n++;
	}
	closedir(dir);
	/* The pool makes all its pipes and no sockets: one it is blocked on leads outside. */
	hang_outside(procs, n, NULL, NULL);
	*out = procs;
	return (ssize_t)n;
}

ssize_t hang_scan_tasks(const struct hang_task *tasks, size_t ntasks, struct hang_proc **out)
{
	struct hang_proc *procs = xcalloc(ntasks ? ntasks : 1, sizeof(*procs));
	size_t n = 0;

	for (size_t i = 0; i < ntasks; i++) {
		struct hang_proc *p = &procs[n];
		pid_t grp;

		memset(p, 0, sizeof(*p));
		p->pid = tasks[i].pid;
		p->tid = tasks[i].tid;
		p->clear_tid = tasks[i].clear_tid;
		p->fd = -1;
		if (hang_stat(p->pid, p->tid, &p->state, &grp) < 0)
			continue; /* gone since */
		if (hang_status(p->pid, p->tid, &p->switches, &p->fd_table_size) < 0)
			p->switches = p->fd_table_size = -1;
		hang_inspect(p);
		n++;
	}
	hang_find_joins(procs, n);
	*out = procs;
	return (ssize_t)n;
}

void hang_outside(struct hang_proc *p, size_t n, bool (*inside)(void *ctx, uint64_t inode, bool socket), void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		bool socket = p[i].wait == HANG_SOCK_READ || p[i].wait == HANG_SOCK_WRITE;

		if (hang_on_io(&p[i]) && !(inside ? inside(ctx, p[i].inode, socket) : !socket))
			p[i].wait = HANG_RUNNING;
		for (int j = 0; p[i].wait == HANG_POLL && j < p[i].npolled; j++) {
			socket = p[i].polled[j].wait == HANG_SOCK_READ;
			if (!(inside ? inside(ctx, p[i].polled[j].inode, socket) : !socket))
				p[i].wait = HANG_RUNNING; /* any one fd from outside can wake it */
		}
	}
}

/* A pipe end a blocked thread waits to be woken through. */
struct hang_waking {
	uint64_t inode;
	int accmode; /* O_WRONLY: a writer wakes it; O_RDONLY: a reader; O_RDWR: either */
};

static int hang_cmp_waking(const void *a, const void *b)
{
	uint64_t x = ((const struct hang_waking *)a)->inode, y = ((const struct hang_waking *)b)->inode;

	return (x > y) - (x < y);
}

/* Whether a holder of inode with accmode can wake a thread waiting for w. */
static bool hang_wakes(const struct hang_waking *w, size_t n, uint64_t inode, int accmode)
{
	struct hang_waking key = { inode, 0 }, *hit = bsearch(&key, w, n, sizeof(key), hang_cmp_waking);

	for (; hit && hit > w && hit[-1].inode == inode; hit--)
		;
	for (; hit && hit < w + n && hit->inode == inode; hit++)
		if (hit->accmode == O_RDWR || accmode == O_RDWR || hit->accmode == accmode)
			return true;
	return false;
}

/* The pipes of p[0..n) that outside holders could wake them through; *out is allocated. */
static size_t hang_waking_ends(const struct hang_proc *p, size_t n, struct hang_waking **out)
{
	size_t cap = 0, len = 0;
	struct hang_waking *w = NULL;

	for (size_t i = 0; i < n; i++) {
		int m = p[i].wait == HANG_POLL ? p[i].npolled : 1;

		for (int j = 0; j < m; j++) {
			enum hang_wait wait = p[i].wait == HANG_POLL ? p[i].polled[j].wait : p[i].wait;
			uint64_t inode = p[i].wait == HANG_POLL ? p[i].polled[j].inode : p[i].inode;

			if (wait != HANG_PIPE_READ && wait != HANG_PIPE_WRITE)
				continue;
			ALLOC_GROW(w, len + 1, cap, 16);
			/* A poll for input is woken by writers; one for output by readers (as a blocked read, a blocked write). */
			w[len++] = (struct hang_waking){ inode, wait == HANG_PIPE_READ ? O_WRONLY : O_RDONLY };
		}
	}
	if (len) /* qsort takes no NULL, even of nothing */
		qsort(w, len, sizeof(*w), hang_cmp_waking);
	*out = w;
	return len;
}

/*
 * One outsider's fds, from dir (/proc/PID/fd or a thread's): each pipe end
 * through which it could wake a waiter of p[0..n) marks that one running.
 * Returns how many fds it has, or -EIO when dir cannot be read (errno set).
 */
static int hang_outsider_fds(const char *dir, struct hang_proc *p, size_t n, const struct hang_waking *w, size_t nw)
{
	char path[320], link[64];
	struct dirent *f;
	DIR *fds = opendir(dir);
	int count = 0;

	if (!fds)
		return -EIO;
	while ((f = readdir(fds))) {
		struct stat l;
		ssize_t len;
		uint64_t inode;

		if (f->d_name[0] < '0' || f->d_name[0] > '9')
			continue;
		count++;
		snprintf(path, sizeof(path), "%s/%s", dir, f->d_name);
		if ((len = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "pipe:[%" SCNu64 "]", &inode) != 1 || lstat(path, &l) < 0 ||
		    !hang_wakes(w, nw, inode, hang_link_accmode(&l)))
			continue;
		/* This outsider may write (or read) that pipe: whoever waits on it may wake. */
		for (size_t i = 0; i < n; i++) {
			bool hit = (p[i].wait == HANG_PIPE_READ || p[i].wait == HANG_PIPE_WRITE) && p[i].inode == inode;

			for (int j = 0; p[i].wait == HANG_POLL && j < p[i].npolled; j++)
				hit = hit || p[i].polled[j].inode == inode;
			if (hit)
				p[i].wait = HANG_RUNNING;
		}
	}
	closedir(fds);
	return count;
}

size_t hang_outside_holders(struct hang_proc *p, size_t n, bool (*program)(void *ctx, pid_t pid), void *ctx)
{
	struct hang_waking *w;
	size_t nw = hang_waking_ends(p, n, &w), unreadable = 0;
	DIR *proc = nw ? opendir("/proc") : NULL;
	struct dirent *e;
	pid_t self = getpid();

	while (proc && (e = readdir(proc))) {
		pid_t pid = (pid_t)strtol(e->d_name, NULL, 10), tid;
		char dir[64];
		int count;

		if (pid <= 0 || pid == self || program(ctx, pid))
			continue;
		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
		if ((count = hang_outsider_fds(dir, p, n, w, nw)) < 0) {
			/* Gone meanwhile is no unknown; not ours to read is. */
			unreadable += errno == EACCES || errno == EPERM;
			continue;
		}
		/* No fd at all: perhaps a main thread gone by pthread_exit, whose other threads hold the table. */
		if (count == 0 && (tid = hang_fd_thread(pid)) != pid) {
			snprintf(dir, sizeof(dir), "/proc/%d/task/%d/fd", (int)pid, (int)tid);
			hang_outsider_fds(dir, p, n, w, nw);
		}
	}
	if (proc)
		closedir(proc);
	free(w);
	return unreadable;
}

bool hang_on_io(const struct hang_proc *p)
{
	return p->wait == HANG_PIPE_READ || p->wait == HANG_PIPE_WRITE || p->wait == HANG_SOCK_READ ||
	       p->wait == HANG_SOCK_WRITE;
}

bool hang_all_blocked(const struct hang_proc *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i].wait == HANG_RUNNING)
			return false;
	return true;
}

bool hang_same(const struct hang_proc *a, size_t na, const struct hang_proc *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		const struct hang_proc *m = NULL;

		/* Both scans walk /proc in the same order, but do not rely on it. */
		if (b[i].tid == a[i].tid)
			m = &b[i];
		for (size_t j = 0; !m && j < nb; j++)
			if (b[j].tid == a[i].tid)
				m = &b[j];
		if (!m || m->switches != a[i].switches || m->wait != a[i].wait || m->state != a[i].state)
			return false;
	}
	return true;
}

bool hang_seen_first(struct hang_seen *s, const struct hang_proc *p)
{
	/* In poll, select or epoll: known by the first pipe it waits on. */
	uint64_t inode = p->wait == HANG_POLL ? p->polled[0].inode : p->inode;

	if (!hang_on_io(p) && p->wait != HANG_POLL)
		return false;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].pid == p->pid && s->v[i].inode == inode && s->v[i].wait == (int)p->wait)
			return false;
	ALLOC_GROW(s->v, s->n + 1, s->cap, 16);
	s->v[s->n++] = (struct hang_seen_key){ p->pid, inode, (int)p->wait };
	return true;
}

void hang_seen_release(struct hang_seen *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void hang_evidence_text(const struct hang_proc *p, char *buf, size_t len)
{
	/* Events name processes: a thread other than the leader is named in the text. */
	int used = p->tid != p->pid ? snprintf(buf, len, "tid=%d ", (int)p->tid) : 0;

	if (used >= 0 && (size_t)used < len)
		hang_describe(p, buf + used, len - (size_t)used);
}

void hang_evidence(const struct hang_proc *p, struct evlog_record *r)
{
	hang_evidence_text(p, r->text, sizeof(r->text));
	if (hang_on_io(p)) {
		r->fd = p->fd;
		r->inode = p->inode;
		r->pipe_end = p->wait == HANG_PIPE_READ ? END_READ : p->wait == HANG_PIPE_WRITE ? END_WRITE : END_SOCKET;
		r->has |= HAS_FD | HAS_INODE;
		if (p->queued >= 0 && p->capacity >= 0) {
			r->result = p->queued;
			r->arg = p->capacity;
			r->has |= HAS_RESULT | HAS_ARG;
		}
	} else if (p->wait == HANG_CHILD_WAIT) {
		r->other_pid = (int32_t)p->syscall_arg0; /* the pid it waits for; -1: any */
		r->has |= HAS_OTHER_PID;
	}
}

const char *hang_call_name(long nr)
{
	switch (nr) {
	case SYS_wait4: return "wait4";
	case SYS_waitid: return "waitid";
	case SYS_futex: return "futex";
	case SYS_nanosleep: return "nanosleep";
	case SYS_clock_nanosleep: return "clock_nanosleep";
	case SYS_pause: return "pause";
	case SYS_rt_sigsuspend: return "rt_sigsuspend";
	case SYS_rt_sigtimedwait: return "rt_sigtimedwait";
	case SYS_accept: return "accept";
	case SYS_accept4: return "accept4";
	case SYS_connect: return "connect";
	case SYS_poll: return "poll";
	case SYS_ppoll: return "ppoll";
	case SYS_select: return "select";
	case SYS_pselect6: return "pselect6";
	case SYS_epoll_wait: return "epoll_wait";
	case SYS_epoll_pwait: return "epoll_pwait";
	case SYS_epoll_pwait2: return "epoll_pwait2";
	case SYS_read: return "read";
	case SYS_write: return "write";
	case SYS_readv: return "readv";
	case SYS_writev: return "writev";
	case SYS_recvfrom: return "recvfrom";
	case SYS_recvmsg: return "recvmsg";
	case SYS_sendto: return "sendto";
	case SYS_sendmsg: return "sendmsg";
	default: return "?";
	}
}

void hang_describe(const struct hang_proc *p, char *buf, size_t len)
{
	switch (p->wait) {
	case HANG_PIPE_READ:
	case HANG_PIPE_WRITE:
		snprintf(buf, len, "state=%c wchan=%s syscall=%s fd=%d queued=%ld", p->state, p->wchan,
			 hang_call_name(p->syscall_nr), p->fd, p->queued);
		break;
	case HANG_SOCK_READ:
	case HANG_SOCK_WRITE:
		snprintf(buf, len, "state=%c wchan=%s syscall=%s fd=%d socket", p->state, p->wchan,
			 hang_call_name(p->syscall_nr), p->fd);
		break;
	case HANG_CHILD_WAIT:
		snprintf(buf, len, "state=%c wchan=%s syscall=%s pid=%ld", p->state, p->wchan,
			 p->syscall_nr == SYS_wait4 ? "wait4" : "waitid", p->syscall_arg0);
		break;
	case HANG_ZOMBIE:
		snprintf(buf, len, "state=Z (exited, not yet reaped)");
		break;
	case HANG_JOIN:
		snprintf(buf, len, "state=%c syscall=futex joins=%d wchan=%s", p->state, (int)p->joins, p->wchan);
		break;
	case HANG_POLL: {
		/* The fds before the wchan, which is long here (poll_schedule_timeout) and may be cut. */
		int used = snprintf(buf, len, "state=%c syscall=%s fds=", p->state, hang_call_name(p->syscall_nr));

		for (int i = 0; i < p->npolled && used > 0 && (size_t)used < len; i++)
			used += snprintf(buf + used, len - (size_t)used, "%s%d", i ? "," : "", p->polled[i].fd);
		if (used > 0 && (size_t)used < len)
			snprintf(buf + used, len - (size_t)used, " wchan=%s", p->wchan);
		break;
	}
	default:
		snprintf(buf, len, "state=%c wchan=%s syscall=%ld", p->state, p->wchan, p->syscall_nr);
	}
}

static int hang_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

struct hang_found {
	uint64_t inode;
	pid_t pid;
	int fd;
};

struct hang_worker {
	pthread_t thread;
	enum hang_fd_method method;
	const struct hang_proc *procs;
	size_t begin, end, stride;
	struct hang_wants wants;
	struct hang_found *found;
	size_t nfound, cap;
	size_t via_proc; /* processes walked through /proc (pidfd_getfd refused) */
	bool own_fds;    /* this walker thread has its own fd table (unshare) */
};

static void hang_found_add(struct hang_worker *w, uint64_t ino, pid_t pid, int fd)
{
	ALLOC_GROW(w->found, w->nfound + 1, w->cap, 1024);
	w->found[w->nfound++] = (struct hang_found){ ino, pid, fd };
}

static bool hang_in(const uint64_t *set, size_t n, uint64_t ino)
{
	return n && bsearch(&ino, set, n, sizeof(*set), hang_cmp_u64) != NULL;
}

/*
 * Whether an fd of inode ino is a holder wanted: for a pipe (mode's type
 * S_IFIFO) opened with access mode acc (O_RDONLY, O_WRONLY), or a socket.
 */
static bool hang_wanted(const struct hang_worker *w, uint64_t ino, mode_t mode, int acc)
{
	if (S_ISSOCK(mode))
		return hang_in(w->wants.sock_of, w->wants.nsock, ino);
	if (!S_ISFIFO(mode))
		return false;
	if (acc == O_WRONLY)
		return hang_in(w->wants.write_of, w->wants.nwrite, ino);
	if (acc == O_RDONLY)
		return hang_in(w->wants.read_of, w->wants.nread, ino);
	return false;
}

/*
 * Lists pid's fds through /proc/PID/task/TID/fd, tid a live thread of it.
 * The end is read from the permission bits of the /proc/PID/fd/N link
 * (hang_link_accmode).
 */
static void hang_walk_proc(struct hang_worker *w, pid_t pid, pid_t tid)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int dfd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd", (int)pid, (int)tid);
	dir = opendir(path);
	if (!dir)
		return; /* it died meanwhile: it holds nothing */
	dfd = dirfd(dir);
	while ((de = readdir(dir))) {
		struct stat target, link;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (fstatat(dfd, de->d_name, &target, 0) < 0 || !(S_ISFIFO(target.st_mode) || S_ISSOCK(target.st_mode)) ||
		    fstatat(dfd, de->d_name, &link, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!hang_wanted(w, target.st_ino, target.st_mode, hang_link_accmode(&link)))
			continue;
		hang_found_add(w, target.st_ino, pid, atoi(de->d_name));
	}
	closedir(dir);
}

/* Closes fds lo..hi of this walker's own table, except keep. */
static void hang_close_copies(int lo, int hi, int keep)
{
	if (keep < lo || keep > hi) {
		close_range((unsigned)lo, (unsigned)hi, 0);
		return;
	}
	if (keep > lo)
		close_range((unsigned)lo, (unsigned)keep - 1, 0);
	if (keep < hi)
		close_range((unsigned)keep + 1, (unsigned)hi, 0);
}

/*
 * Lists pid's fds by taking a duplicate of each (pidfd_getfd, Linux 5.6) and
 * asking it fstat and fcntl(F_GETFL), the truth rules' own sources for a
 * pipe's inode and end. Every slot below the fd table's size is tried; the
 * empty ones fail with EBADF. Unlike the /proc walk this builds no /proc
 * inode or dentry per fd, which the kernel would otherwise tear down when the
 * process is reaped: for a 1000-worker deadlock (half a million fds) ~1.8 s
 * of lookups and ~0.7 s of teardown, against 0.7 s for this way. A copy
 * shares the pool's open file and is closed within a batch of 256; the pool
 * is deadlocked and about to be killed, so the extra reference changes
 * nothing it could see.
 * A walker with its own fd table closes its copies in batches with one
 * close_range (nothing else can be in that range of its table but copies of
 * pooltrace's own fds, which it may close there: POSIX locks belong to the
 * table that took them); otherwise each copy is closed by itself.
 * Returns 0, or -EIO when the kernel refuses (no pidfd_getfd, or not allowed
 * to, e.g. under a stricter Yama ptrace scope): walk /proc instead. The
 * pidfd is of thread tid, a live one of pid's (hang_pidfd).
 */
static int hang_walk_pidfd(struct hang_worker *w, pid_t pid, pid_t tid, int size)
{
	enum { HANG_DUP_BATCH = 256 };
	int pidfd = hang_pidfd(pid, tid), ret = 0;
	int lo = INT_MAX, hi = -1, held = 0;

	if (pidfd < 0)
		return errno == ESRCH ? 0 : -1; /* ESRCH: it died meanwhile, it holds nothing */
	for (int fd = 0; fd < size; fd++) {
		int dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		struct stat st;

		if (dup < 0) {
			if (errno == EBADF)
				continue; /* an empty slot */
			if (errno != ESRCH)
				ret = -1;
			break;
		}
		if (fstat(dup, &st) == 0 && hang_wanted(w, st.st_ino, st.st_mode, fcntl(dup, F_GETFL) & O_ACCMODE))
			hang_found_add(w, st.st_ino, pid, fd);
		if (!w->own_fds) {
			close(dup);
			continue;
		}
		lo = dup < lo ? dup : lo;
		hi = dup > hi ? dup : hi;
		if (++held == HANG_DUP_BATCH) {
			hang_close_copies(lo, hi, pidfd);
			lo = INT_MAX, hi = -1, held = 0;
		}
	}
	if (held)
		hang_close_copies(lo, hi, pidfd);
	close(pidfd);
	return ret;
}

/* Walks the fds of every stride-th process; touches no shared state. */
static void *hang_walk(void *arg)
{
	struct hang_worker *w = arg;

	if (w->own_fds)
		w->own_fds = unshare(CLONE_FILES) == 0;

	for (size_t i = w->begin; i < w->end; i += w->stride) {
		const struct hang_proc *p = &w->procs[i];
		pid_t tid = p->tid > 0 ? p->tid : p->pid; /* no thread named: its main one */
		size_t before = w->nfound;

		if (w->method == HANG_FDS_PIDFD) {
			int size = p->fd_table_size > 0 ? p->fd_table_size : hang_fd_table_size(p->pid, tid);

			if (size >= 0 && hang_walk_pidfd(w, p->pid, tid, size) == 0)
				continue;
		}
		w->nfound = before; /* start this process over */
		w->via_proc++;
		hang_walk_proc(w, p->pid, tid);
	}
	return NULL;
}

size_t hang_holders(enum hang_fd_method method, const struct hang_proc *procs, size_t n,
		    const struct hang_wants *wants, void (*fn)(void *ctx, uint64_t inode, pid_t pid, int fd), void *ctx)
{
	/* Half a million fds for a 1000-worker deadlock: split them over the
	 * machine's cores. The threads only read the kernel; fn runs here. */
	enum { HANG_THREADS = 2 };
	struct hang_worker w[HANG_THREADS];
	int started[HANG_THREADS] = { 0 };
	size_t via_proc = 0;

	/* Both walkers are new threads: each unshares its fd table, which the
	 * main thread must never do (SQLite's locks belong to the table that took
	 * them). Whatever no thread took, this thread walks, with the shared table. */
	for (int t = 0; t < HANG_THREADS; t++) {
		w[t] = (struct hang_worker){ .method = method, .procs = procs, .begin = (size_t)t, .end = n,
					     .stride = HANG_THREADS, .wants = *wants, .own_fds = true };
		started[t] = pthread_create(&w[t].thread, NULL, hang_walk, &w[t]) == 0;
	}
	for (int t = 0; t < HANG_THREADS; t++)
		if (!started[t]) {
			w[t].own_fds = false;
			hang_walk(&w[t]);
		}
	for (int t = 0; t < HANG_THREADS; t++) {
		if (started[t])
			pthread_join(w[t].thread, NULL);
		for (size_t i = 0; i < w[t].nfound; i++)
			fn(ctx, w[t].found[i].inode, w[t].found[i].pid, w[t].found[i].fd);
		free(w[t].found);
		via_proc += w[t].via_proc;
	}
	return via_proc;
}
