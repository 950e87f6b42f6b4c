/* snapshot.c: a live process tree read from /proc at one moment, stored as a run, and why it is stuck, in words.
 *
 * The program is someone else's, already running, maybe hung for hours:
 * nothing here stops, signals or traces it. Everything comes from /proc:
 * the fd tables (/proc/PID/fd and fdinfo), each thread's state, wchan and
 * system call (hang.c), and how full a pipe is (a pidfd_getfd copy, closed
 * at once, where the kernel allows it).
 *
 * Who can move: a thread that is not blocked can; a thread blocked on a
 * pipe can be woken by any process holding the other end, one in a wait by
 * the children it waits for, one in poll by any of its fds' wakers. A
 * process can move when one of its threads can; what is left when nothing
 * more can move is deadlocked. Its cycles are the deadlocks; the rest of it
 * is stuck behind them. Processes outside the tree that hold a pipe of it
 * are taken as able to move (they are not examined), so only a tree that
 * truly holds itself is called deadlocked.
 *
 * Invariants: snap->procs[0..ntree) are the tree (parents before their
 * children), the others are the rest of /proc, read only for their fds;
 * holds are sorted by inode.
 */
#include "snapshot/snapshot.h"
#include "core/evlog.h"
#include "core/ingest.h"
#include "core/session.h"
#include "procfs/hang.h"
#include "procfs/proctree.h"
#include "procfs/wake.h"
#include "base/util.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct snap_proc {
	pid_t pid, ppid;
	char comm[32];    /* /proc/PID/stat's name: what the words call it */
	bool readable;    /* its fd table could be read */
	bool moves;       /* it can still move (see the file's comment) */
	bool on_cycle;    /* deadlocked, and on a cycle of waits */
	bool waits_on_itself; /* on a cycle of one: only it holds what would wake it */
	size_t cycle;     /* with on_cycle only, which one: numbered in tree order, by each one's first process */
	int timer_signal; /* a POSIX timer's signal it catches, which may wake it; 0: none */
	pid_t waited_as;  /* the pid its parent's wait4 or waitid names it by: its pid in the parent's pid namespace */
	size_t thread0, nthreads; /* its threads in snapshot.threads */
};

/* One fd of a pipe, in any process read. */
struct snap_hold {
	uint64_t inode;
	size_t proc;
	int fd;
	uint8_t end; /* END_READ, END_WRITE, END_RDWR */
};

struct snapshot {
	const struct snapshot_config *cfg;
	struct snap_proc *procs;
	size_t nprocs, ntree;
	struct snap_hold *holds;
	size_t nholds, holds_cap;
	struct hang_proc *threads; /* the tree's threads, by process */
	ssize_t nthreads;
	int *fifo_fd;              /* by thread: the fd of a named FIFO it waits on (a path, not pipe:[N]); -1: none */
	dev_t pipefs;              /* the device of every pipe(2) pipe: a FIFO on another is a named one */
	struct session *ss;
	struct evlog_record *batch;
	size_t nbatch, batch_cap;
	struct evlog_texts texts;
	uint64_t seq;
	size_t unread;
	size_t ncycles;            /* the separate deadlocks: cycles of waits (strongly connected parts), each its own */
};

static struct evlog_record *snap_event(struct snapshot *s, int kind, pid_t pid)
{
	struct evlog_record *r;

	ALLOC_GROW(s->batch, s->nbatch + 1, s->batch_cap, 1024);
	r = &s->batch[s->nbatch++];
	memset(r, 0, sizeof(*r));
	r->kind = (uint8_t)kind;
	r->pid = pid;
	r->ts_ns = now_ns();
	atomic_store_explicit(&r->ready, ++s->seq, memory_order_relaxed);
	return r;
}

/* ---- what /proc says ---- */

/* Whether pid's fd table may be read: another user's may not. */
static bool snap_fds_readable(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return false;
	close(fd);
	return true;
}

/* With all, the tree: every process whose fds may be read, moved to the front. Returns how many. */
static size_t snap_select_readable(struct proctree_proc *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (snap_fds_readable(p[i].pid)) {
			struct proctree_proc t = p[k];

			p[k++] = p[i];
			p[i] = t;
		}
	return k;
}

/*
 * Every process in /proc but pooltrace itself, the tree first (roots, then
 * each one's children after it; with all, every process whose fds may be
 * read: the others, another user's, are outside, as any process outside is).
 */
static void snap_select(struct snapshot *s)
{
	struct proctree_proc *all;
	size_t n = proctree_list(&all);

	s->ntree = s->cfg->all ? snap_select_readable(all, n) : proctree_select(all, n, s->cfg->roots, s->cfg->nroots);
	s->procs = xcalloc(n ? n : 1, sizeof(*s->procs));
	s->nprocs = n;
	for (size_t i = 0; i < n; i++) {
		s->procs[i].pid = all[i].pid;
		s->procs[i].ppid = all[i].ppid;
		memcpy(s->procs[i].comm, all[i].comm, sizeof(s->procs[i].comm));
	}
	free(all);
}

static void snap_add_hold(struct snapshot *s, uint64_t inode, size_t proc, int fd, uint8_t end)
{
	ALLOC_GROW(s->holds, s->nholds + 1, s->holds_cap, 1024);
	s->holds[s->nholds++] = (struct snap_hold){ inode, proc, fd, end };
}

/*
 * Process i's fds: each pipe's inode and end into the holds, and for the
 * tree a `found` event per fd. The end is the access mode that the
 * /proc/PID/fd/N link's own permission bits show (fs/proc/fd.c sets them
 * from the file's f_mode, as fdinfo's flags: hang.c's walk reads it the same
 * way): two stats per pipe fd, not an open and read of fdinfo, which for
 * the half a million fds of a hung 1000-worker pool is most of the time.
 * path is the table's directory. Returns how many fds it has, or -errno
 * when it cannot be read.
 */
static int snap_read_fd_dir(struct snapshot *s, size_t i, const char *path)
{
	struct snap_proc *p = &s->procs[i];
	bool tree = i < s->ntree;
	char link[PATH_MAX + 1];
	struct dirent *de;
	DIR *dir;
	int dfd, count = 0;

	if (!(dir = opendir(path)))
		return -errno;
	p->readable = true;
	dfd = dirfd(dir);
	while ((de = readdir(dir))) {
		struct evlog_record *e;
		struct stat target, self;
		int fd;
		ssize_t len;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		count++;
		fd = atoi(de->d_name);
		/* A named FIFO (on a file system, not pipefs) is a file like any other here: anyone may open it. */
		if (fstatat(dfd, de->d_name, &target, 0) == 0 && S_ISFIFO(target.st_mode) && target.st_dev == s->pipefs &&
		    fstatat(dfd, de->d_name, &self, AT_SYMLINK_NOFOLLOW) == 0) {
			uint8_t end = self.st_mode & S_IWUSR ? (self.st_mode & S_IRUSR ? END_RDWR : END_WRITE) : END_READ;

			snap_add_hold(s, target.st_ino, i, fd, end);
			if (!tree)
				continue;
			e = snap_event(s, EV_FOUND, p->pid);
			e->fd = fd;
			e->has = HAS_FD | HAS_INODE;
			e->inode = target.st_ino;
			e->pipe_end = end;
			continue;
		}
		if (!tree || (len = readlinkat(dfd, de->d_name, link, sizeof(link) - 1)) < 0)
			continue; /* not the tree's, or closed meanwhile */
		link[len] = '\0';
		e = snap_event(s, EV_FOUND, p->pid);
		e->fd = fd;
		e->has = HAS_FD;
		evlog_texts_attach(&s->texts, e, link);
	}
	closedir(dir);
	return count;
}

/*
 * Process i's fds (snap_read_fd_dir), from /proc/PID/fd; when that shows
 * none, perhaps its main thread has exited (pthread_exit) and the others run
 * on: then through one of those, /proc/PID/task/TID/fd. Returns 0, or
 * -errno when the table cannot be read.
 */
static int snap_read_fds(struct snapshot *s, size_t i)
{
	char path[64];
	pid_t pid = s->procs[i].pid, tid;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((n = snap_read_fd_dir(s, i, path)) != 0)
		return n < 0 ? n : 0;
	if ((tid = hang_fd_thread(pid)) == pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd", (int)pid, (int)tid);
	snap_read_fd_dir(s, i, path); /* gone meanwhile: it holds nothing */
	return 0;
}

static int snap_cmp_hold(const void *a, const void *b)
{
	const struct snap_hold *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return x->proc < y->proc ? -1 : x->proc > y->proc;
}

/* The first hold of inode (holds sorted), or nholds. */
static size_t snap_first_hold(const struct snapshot *s, uint64_t inode)
{
	size_t lo = 0, hi = s->nholds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->holds[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether a hold of this end can wake a thread that waits as wait says (a reader: a writer wakes it). */
static bool snap_wakes(const struct snap_hold *h, enum hang_wait wait)
{
	return h->end == END_RDWR || (wait == HANG_PIPE_READ ? h->end == END_WRITE : h->end == END_READ);
}

/*
 * The tree's threads, scanned twice 20 ms apart: a thread that ran in
 * between (its context switches changed) or is in another call counts as
 * running. A socket counts as leading outside (hang_outside).
 */
static void snap_scan_threads(struct snapshot *s)
{
	struct hang_task *tasks = NULL;
	struct hang_proc *a = NULL;
	size_t n = 0, cap = 0;
	ssize_t na;

	for (size_t i = 0; i < s->ntree; i++) {
		char path[64];
		struct dirent *de;
		DIR *dir;

		snprintf(path, sizeof(path), "/proc/%d/task", (int)s->procs[i].pid);
		if (!(dir = opendir(path)))
			continue;
		while ((de = readdir(dir))) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			ALLOC_GROW(tasks, n + 1, cap, 256);
			tasks[n++] = (struct hang_task){ s->procs[i].pid, (pid_t)atoi(de->d_name), 0 };
		}
		closedir(dir);
	}
	na = hang_scan_tasks(tasks, n, &a);
	sleep_ms(20);
	s->nthreads = hang_scan_tasks(tasks, n, &s->threads);
	free(tasks);
	if (s->nthreads < 0) {
		s->nthreads = 0;
		hang_procs_free(a, na);
		return;
	}
	for (ssize_t i = 0; i < s->nthreads; i++) {
		struct hang_proc *b = &s->threads[i];
		bool same = false;

		for (ssize_t j = 0; j < na && !same; j++)
			same = a[j].tid == b->tid && a[j].switches == b->switches && a[j].wait == b->wait &&
			       a[j].syscall_nr == b->syscall_nr;
		if (!same)
			b->wait = HANG_RUNNING;
	}
	hang_procs_free(a, na);
	hang_outside(s->threads, (size_t)s->nthreads, NULL, NULL);
	/* hang_scan_tasks keeps the order it was given: each process's threads are together. */
	for (size_t i = 0, t = 0; i < s->ntree; i++) {
		s->procs[i].thread0 = t;
		while (t < (size_t)s->nthreads && s->threads[t].pid == s->procs[i].pid)
			t++;
		s->procs[i].nthreads = t - s->procs[i].thread0;
	}
}

/* The device of the pipes pipe(2) makes (pipefs), to tell a named FIFO from them. */
static dev_t snap_pipefs_dev(void)
{
	int fds[2];
	struct stat st = { 0 };

	if (pipe2(fds, O_CLOEXEC) < 0)
		return (dev_t)-1;
	fstat(fds[0], &st);
	close(fds[0]);
	close(fds[1]);
	return st.st_dev;
}

/* Whether fd of pid is a named FIFO: a FIFO whose device is not pipefs's. */
static bool snap_is_named_fifo(const struct snapshot *s, pid_t pid, int fd)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	return stat(path, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_dev != s->pipefs;
}

/*
 * For each thread blocked on a pipe end (or polling one) that is a named
 * FIFO, that fd: any process that may open the FIFO's path, now or later,
 * can write or read it, so such a thread can be woken.
 */
static void snap_find_fifos(struct snapshot *s)
{
	s->fifo_fd = xcalloc(s->nthreads > 0 ? (size_t)s->nthreads : 1, sizeof(*s->fifo_fd));
	for (ssize_t i = 0; i < s->nthreads; i++) {
		const struct hang_proc *t = &s->threads[i];

		s->fifo_fd[i] = -1;
		if ((t->wait == HANG_PIPE_READ || t->wait == HANG_PIPE_WRITE) && snap_is_named_fifo(s, t->pid, t->fd))
			s->fifo_fd[i] = t->fd;
		for (int j = 0; t->wait == HANG_POLL && j < t->npolled && s->fifo_fd[i] < 0; j++)
			if (t->polled[j].wait == HANG_PIPE_READ || t->polled[j].wait == HANG_PIPE_WRITE)
				if (snap_is_named_fifo(s, t->pid, t->polled[j].fd))
					s->fifo_fd[i] = t->polled[j].fd;
	}
}

/* ---- pid namespaces ---- */

enum { SNAP_NS_MAX = 32 }; /* the kernel nests pid namespaces 32 deep at most */

/* pid's NSpid (its pid in each pid namespace, pooltrace's first) into v; returns how many (1: not nested). */
static int snap_nspids(pid_t pid, pid_t v[SNAP_NS_MAX])
{
	char path[64], buf[4096], *p;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nNSpid:")))
		return v[0] = pid, 1;
	for (p += 7; n < SNAP_NS_MAX && *p != '\n' && *p;) {
		char *end;
		long x = strtol(p, &end, 10);

		if (end == p)
			break;
		v[n++] = (pid_t)x;
		p = end;
	}
	return n ? n : (v[0] = pid, 1);
}

/*
 * Each tree process's waited_as: a wait inside a pid namespace (a
 * container, unshare --pid) names a child by its pid there, which is the
 * child's NSpid entry at its parent's depth. Not nested (NSpid of one
 * entry, the usual case): its pid.
 */
static void snap_map_nspids(struct snapshot *s)
{
	pid_t (*ns)[SNAP_NS_MAX] = xcalloc(s->ntree ? s->ntree : 1, sizeof(*ns));
	int *depth = xcalloc(s->ntree ? s->ntree : 1, sizeof(*depth));
	bool nested = false;

	for (size_t i = 0; i < s->ntree; i++) {
		s->procs[i].waited_as = s->procs[i].pid;
		depth[i] = snap_nspids(s->procs[i].pid, ns[i]);
		nested = nested || depth[i] > 1;
	}
	/* The tree has its parents before their children, but not at known places. */
	for (size_t i = 0; nested && i < s->ntree; i++)
		for (size_t j = 0; j < s->ntree; j++)
			if (s->procs[j].pid == s->procs[i].ppid) {
				if (depth[j] <= depth[i])
					s->procs[i].waited_as = ns[i][depth[j] - 1];
				break;
			}
	free(ns);
	free(depth);
}

/* The tree process a wait of thread t (of process owner) names: its child of that pid as the waiter sees it; -1: any child, or none of the tree's. */
static ssize_t snap_awaited(const struct snapshot *s, size_t owner, const struct hang_proc *t)
{
	/* wait4's pid is an int: -1 (any child) is 0xffffffff in the register. */
	pid_t awaited = (pid_t)t->syscall_arg0;

	for (size_t i = 0; awaited > 0 && i < s->ntree; i++)
		if (s->procs[i].ppid == s->procs[owner].pid && s->procs[i].waited_as == awaited)
			return (ssize_t)i;
	return -1;
}

/* ---- who can move ---- */

/* One (inode, end) a thread waits to be woken through: a pipe it reads, writes or polls. */
static size_t snap_waits(const struct hang_proc *t, struct hang_fdwait *out, size_t max)
{
	size_t n = 0;

	if (t->wait == HANG_PIPE_READ || t->wait == HANG_PIPE_WRITE)
		out[n++] = (struct hang_fdwait){ t->fd, t->wait, t->inode };
	for (int j = 0; t->wait == HANG_POLL && j < t->npolled && n < max; j++)
		out[n++] = t->polled[j];
	return n;
}

/*
 * Calls fn(ctx, proc) for every process that can wake thread t: the holders
 * of the other end of each pipe it waits on, the children it waits for.
 * Returns false when a waker is unknown (a child not in the tree): t may wake.
 */
static bool snap_wakers(const struct snapshot *s, size_t owner, const struct hang_proc *t,
			void (*fn)(void *ctx, size_t proc, const struct snap_hold *h), void *ctx)
{
	struct hang_fdwait w[POLLWAIT_MAX + 1];
	size_t nw = snap_waits(t, w, POLLWAIT_MAX + 1);
	bool any = false;

	if (s->fifo_fd[t - s->threads] >= 0)
		return false; /* a named FIFO: whoever opens it may wake t */

	for (size_t k = 0; k < nw; k++)
		for (size_t h = snap_first_hold(s, w[k].inode); h < s->nholds && s->holds[h].inode == w[k].inode; h++)
			if (snap_wakes(&s->holds[h], w[k].wait)) {
				fn(ctx, s->holds[h].proc, &s->holds[h]);
				any = true;
			}
	/* A pipe whose other end no process read holds: one that could not be read may. */
	if (t->wait != HANG_CHILD_WAIT)
		return any || t->wait == HANG_JOIN || t->wait == HANG_ZOMBIE;
	any = false;
	/* wait4's pid is an int: -1 (any child) is 0xffffffff in the register. */
	pid_t awaited = (pid_t)t->syscall_arg0;
	ssize_t child = snap_awaited(s, owner, t);

	if (child >= 0) {
		fn(ctx, (size_t)child, NULL);
		return true;
	}
	for (size_t i = 0; awaited <= 0 && i < s->ntree; i++)
		if (s->procs[i].ppid == s->procs[owner].pid) {
			fn(ctx, i, NULL);
			any = true;
		}
	return any;
}

struct snap_moves_ctx {
	const struct snapshot *s;
	bool moves;
};

static void snap_moves_fn(void *ctx, size_t proc, const struct snap_hold *h)
{
	struct snap_moves_ctx *c = ctx;

	(void)h;
	if (c->s->procs[proc].moves)
		c->moves = true;
}

/*
 * Whether process p is a zombie: every thread of it is. A main thread that
 * called pthread_exit is one while the others run on.
 */
static bool snap_zombie(const struct snapshot *s, const struct snap_proc *p)
{
	for (size_t t = p->thread0; t < p->thread0 + p->nthreads; t++)
		if (s->threads[t].wait != HANG_ZOMBIE)
			return false;
	return p->nthreads > 0;
}

/*
 * The signal of a POSIX timer of process i (/proc/PID/timers) that it
 * catches in a thread that does not block it, or 0: the handler may write
 * or close what another thread waits on. A timer disarmed counts too (the
 * file does not say which are armed): careful in the program's favour.
 */
static int snap_timer_signal(const struct snapshot *s, size_t i)
{
	const struct snap_proc *p = &s->procs[i];
	int sigs[16], n = wake_timer_signals(p->pid, sigs, 16), found = 0;
	pid_t *tids;

	if (n <= 0)
		return 0;
	tids = xcalloc(p->nthreads, sizeof(*tids));
	for (size_t t = 0; t < p->nthreads; t++)
		tids[t] = s->threads[p->thread0 + t].tid;
	for (int k = 0; k < n && k < 16 && !found; k++)
		if (wake_caught(p->pid, tids, p->nthreads, sigs[k]))
			found = sigs[k];
	free(tids);
	return found;
}

/* Sets moves for every process that can still move; returns how many of the tree cannot. */
static size_t snap_find_stuck(struct snapshot *s)
{
	size_t stuck = 0;
	bool changed = true;

	/* Outside the tree: not examined, taken as able to move. */
	for (size_t i = 0; i < s->nprocs; i++) {
		struct snap_proc *p = &s->procs[i];

		/* pooltrace's own parent (a shell running it) may wait for pooltrace, which is left out
		 * of the tree but will exit: it can move. */
		p->moves = i >= s->ntree || p->nthreads == 0 || p->pid == getppid();
		for (size_t t = p->thread0; t < p->thread0 + p->nthreads && !p->moves; t++)
			p->moves = s->threads[t].wait == HANG_RUNNING;
		/* A zombie moves no more, and holds nothing. */
		if (i < s->ntree && snap_zombie(s, p))
			p->moves = false;
		else if (!p->moves && (p->timer_signal = snap_timer_signal(s, i)))
			p->moves = true;
	}
	while (changed) {
		changed = false;
		for (size_t i = 0; i < s->ntree; i++) {
			struct snap_proc *p = &s->procs[i];

			for (size_t t = p->thread0; t < p->thread0 + p->nthreads && !p->moves; t++) {
				struct snap_moves_ctx c = { s, false };
				const struct hang_proc *th = &s->threads[t];

				if (th->wait == HANG_ZOMBIE || th->wait == HANG_JOIN)
					continue; /* a join waits on its own process's thread */
				if (!snap_wakers(s, i, th, snap_moves_fn, &c) || c.moves)
					p->moves = changed = true;
			}
		}
	}
	for (size_t i = 0; i < s->ntree; i++)
		stuck += !s->procs[i].moves && !snap_zombie(s, &s->procs[i]);
	return stuck;
}

/* ---- the cycles: Tarjan's strongly connected components over the stuck processes' waits ---- */

struct snap_tarjan {
	struct snapshot *s;
	int *index, *low;
	bool *on_stack;
	size_t *stack, depth;
	int next;
	size_t from; /* the process whose edges are being walked */
	size_t *edges, nedges, edges_cap;
	size_t ncycles; /* the cycles found so far, numbered as found (snap_find_cycles renumbers them) */
};

static void snap_edge_fn(void *ctx, size_t proc, const struct snap_hold *h)
{
	struct snap_tarjan *g = ctx;

	(void)h;
	if (proc >= g->s->ntree || g->s->procs[proc].moves)
		return;
	ALLOC_GROW(g->edges, g->nedges + 1, g->edges_cap, 64);
	g->edges[g->nedges++] = proc;
}

/* The stuck processes proc waits for (its edges), into g->edges from index start. */
static size_t snap_edges(struct snap_tarjan *g, size_t proc)
{
	const struct snap_proc *p = &g->s->procs[proc];
	size_t start = g->nedges;

	for (size_t t = p->thread0; t < p->thread0 + p->nthreads; t++)
		snap_wakers(g->s, proc, &g->s->threads[t], snap_edge_fn, g);
	return start;
}

static void snap_strongconnect(struct snap_tarjan *g, size_t v)
{
	size_t start, end;

	g->index[v] = g->low[v] = g->next++;
	g->stack[g->depth++] = v;
	g->on_stack[v] = true;
	start = snap_edges(g, v);
	end = g->nedges;
	for (size_t e = start; e < end; e++) {
		size_t w = g->edges[e];

		if (g->index[w] < 0) {
			snap_strongconnect(g, w);
			g->low[v] = g->low[w] < g->low[v] ? g->low[w] : g->low[v];
		} else if (g->on_stack[w]) {
			g->low[v] = g->index[w] < g->low[v] ? g->index[w] : g->low[v];
		}
	}
	if (g->low[v] == g->index[v]) {
		size_t first = g->depth, w;
		bool self = false;

		do {
			w = g->stack[--first];
		} while (w != v);
		for (size_t e = start; e < end; e++)
			self = self || g->edges[e] == v;
		/* A component of two or more, or one that waits on itself, is a cycle: a deadlock of its own. */
		for (size_t k = first; k < g->depth; k++) {
			g->on_stack[g->stack[k]] = false;
			g->s->procs[g->stack[k]].on_cycle = g->depth - first > 1 || self;
			g->s->procs[g->stack[k]].waits_on_itself = g->depth - first == 1 && self;
			g->s->procs[g->stack[k]].cycle = g->ncycles;
		}
		g->ncycles += g->depth - first > 1 || self;
		g->depth = first;
	}
}

static void snap_find_cycles(struct snapshot *s)
{
	size_t n = s->ntree;
	struct snap_tarjan g = { s, xcalloc(n, sizeof(int)), xcalloc(n, sizeof(int)), xcalloc(n, sizeof(bool)),
				 xcalloc(n, sizeof(size_t)), 0, 0, 0, NULL, 0, 0, 0 };
	size_t *order;

	for (size_t i = 0; i < n; i++)
		g.index[i] = -1;
	for (size_t i = 0; i < n; i++)
		if (!s->procs[i].moves && g.index[i] < 0)
			snap_strongconnect(&g, i);
	/* Tarjan finds a cycle when it leaves it, the deepest first: the words tell them in tree order
	 * (the roots as given, parents before their children), by each one's first process. */
	order = xcalloc(g.ncycles ? g.ncycles : 1, sizeof(*order));
	for (size_t c = 0; c < g.ncycles; c++)
		order[c] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		struct snap_proc *p = &s->procs[i];

		if (!p->on_cycle)
			continue;
		if (order[p->cycle] == SIZE_MAX)
			order[p->cycle] = s->ncycles++;
		p->cycle = order[p->cycle];
	}
	assert(s->ncycles == g.ncycles);
	free(order);
	free(g.index);
	free(g.low);
	free(g.on_stack);
	free(g.stack);
	free(g.edges);
}

/* ---- the evidence, stored ---- */

struct snap_holder_ctx {
	struct snapshot *s;
	uint64_t seq;
	pid_t blocked;
};

static void snap_holder_fn(void *ctx, size_t proc, const struct snap_hold *h)
{
	struct snap_holder_ctx *c = ctx;

	if (h && proc < c->s->ntree)
		ingest_hang_holder(session_ingest(c->s->ss), c->seq, c->blocked, h->inode, c->s->procs[proc].pid, h->fd);
}

/* A `hang` event for every blocked thread of the tree, with the holders of what would wake it. */
static void snap_evidence(struct snapshot *s)
{
	char text[POLLWAIT_MAX * 12 + 256];

	for (size_t i = 0; i < s->ntree; i++) {
		const struct snap_proc *p = &s->procs[i];

		for (size_t t = p->thread0; t < p->thread0 + p->nthreads; t++) {
			const struct hang_proc *th = &s->threads[t];
			struct evlog_record *r;
			struct snap_holder_ctx c = { s, 0, p->pid };
			ssize_t child;

			if (th->wait == HANG_RUNNING || th->wait == HANG_ZOMBIE)
				continue;
			r = snap_event(s, EV_HANG, p->pid);
			hang_evidence(th, r);
			/* The child a wait names, as the trace knows it (the detail keeps the pid the call named). */
			if (th->wait == HANG_CHILD_WAIT && (child = snap_awaited(s, i, th)) >= 0)
				r->other_pid = s->procs[child].pid;
			/* A named FIFO's inode is a file system's: it must not be taken for a pipe's of pipefs. */
			if (s->fifo_fd[t] >= 0) {
				r->has &= (uint8_t)~HAS_INODE;
				r->inode = 0;
			}
			if (strlen(r->text) + 1 >= sizeof(r->text)) {
				hang_evidence_text(th, text, sizeof(text));
				evlog_texts_attach(&s->texts, r, text);
			}
			c.seq = s->seq;
			snap_wakers(s, i, th, snap_holder_fn, &c);
		}
	}
}

/* ---- the words ---- */

/* Process i's name as the words show it: a program names itself, so it may hold escapes and bytes that are not UTF-8. */
static const char *snap_comm(const struct snapshot *s, size_t i, char safe[static 4 * 32])
{
	text_safe(safe, 4 * 32, s->procs[i].comm);
	return safe;
}

static void snap_name(const struct snapshot *s, size_t i, char *buf, size_t len)
{
	char safe[4 * 32];

	snprintf(buf, len, "pid %d (%s)", (int)s->procs[i].pid, snap_comm(s, i, safe));
}

struct snap_list_ctx {
	const struct snapshot *s;
	FILE *out;
	size_t shown, total;
	bool child;
};

static void snap_list_fn(void *ctx, size_t proc, const struct snap_hold *h)
{
	struct snap_list_ctx *c = ctx;
	const struct snap_proc *p = &c->s->procs[proc];
	enum { SNAP_LIST_MAX = 6 };
	char safe[4 * 32];

	c->total++;
	if (c->shown == SNAP_LIST_MAX)
		return;
	fprintf(c->out, "%s%s %d (%s", c->shown ? ", " : "", "pid", (int)p->pid, snap_comm(c->s, proc, safe));
	if (h)
		fprintf(c->out, ", fd %d", h->fd);
	fprintf(c->out, ", %s)", proc >= c->s->ntree ? "outside the tree" : p->moves ? "can move" : "blocked");
	c->shown++;
}

static const char *snap_wait_words(enum hang_wait w)
{
	switch (w) {
	case HANG_PIPE_READ: return "data or EOF";
	case HANG_PIPE_WRITE: return "room";
	default: return "";
	}
}

/* The rest of the line of thread t, which waits on a named FIFO: anyone who may open it can wake t. */
static void snap_say_fifo(const struct snapshot *s, const struct hang_proc *t, FILE *out)
{
	char path[64], link[PATH_MAX + 1], safe[4 * sizeof(link)];
	int fd = s->fifo_fd[t - s->threads];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)t->pid, fd);
	len = readlink(path, link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = '\0';
	text_safe(safe, sizeof(safe), len > 0 ? link : "?");
	if (t->wait == HANG_POLL)
		fprintf(out, " waits in %s on %d fds, fd %d the FIFO %s", hang_call_name(t->syscall_nr), t->npolled, fd, safe);
	else
		fprintf(out, " waits in %s(fd %d) for %s on the FIFO %s", hang_call_name(t->syscall_nr), fd,
			snap_wait_words(t->wait), safe);
	fprintf(out, ", which any process allowed to open it may %s: it can be woken\n",
		t->wait == HANG_POLL ? "write or read" : t->wait == HANG_PIPE_WRITE ? "read" : "write");
}

/* One line for thread t of process i, after indent: what it waits in, and who could wake it. */
static void snap_say_thread(const struct snapshot *s, size_t i, const struct hang_proc *t, const char *indent,
			    FILE *out)
{
	char name[4 * 32 + 32];
	struct snap_list_ctx c = { s, out, 0, 0, false };

	snap_name(s, i, name, sizeof(name));
	fprintf(out, "%s%s", indent, name);
	if (t->tid != t->pid)
		fprintf(out, " thread %d", (int)t->tid);
	if (s->fifo_fd[t - s->threads] >= 0) {
		snap_say_fifo(s, t, out);
		return;
	}
	switch (t->wait) {
	case HANG_PIPE_READ:
	case HANG_PIPE_WRITE:
		fprintf(out, " waits in %s(fd %d) for %s on pipe:[%llu]", hang_call_name(t->syscall_nr), t->fd,
			snap_wait_words(t->wait), (unsigned long long)t->inode);
		if (t->wait == HANG_PIPE_WRITE && t->queued >= 0 && t->capacity > 0 && t->queued >= t->capacity)
			fprintf(out, ", which is full (%ld of %ld bytes)", t->queued, t->capacity);
		fprintf(out, "; its %s end is held by ", t->wait == HANG_PIPE_READ ? "write" : "read");
		break;
	case HANG_POLL:
		fprintf(out, " waits in %s on %d pipe fds; they can be woken by ", hang_call_name(t->syscall_nr),
			t->npolled);
		break;
	case HANG_CHILD_WAIT:
		if ((pid_t)t->syscall_arg0 > 0) {
			ssize_t child = snap_awaited(s, i, t);
			pid_t pid = child >= 0 ? s->procs[child].pid : (pid_t)t->syscall_arg0;

			fprintf(out, " waits in %s for its child pid %d", hang_call_name(t->syscall_nr), (int)pid);
			if (pid != (pid_t)t->syscall_arg0)
				fprintf(out, " (pid %d in its pid namespace)", (int)(pid_t)t->syscall_arg0);
			fputs(": ", out);
		} else
			fprintf(out, " waits in %s for any child: ", hang_call_name(t->syscall_nr));
		break;
	case HANG_JOIN:
		fprintf(out, " waits in pthread_join for thread %d of its own\n", (int)t->joins);
		return;
	default:
		fprintf(out, " %s\n", t->wait == HANG_ZOMBIE ? "is a zombie" : "can move");
		return;
	}
	snap_wakers(s, i, t, snap_list_fn, &c);
	if (!c.total)
		fprintf(out, "no process pooltrace may read (so one it may not may wake it)");
	else if (c.total > c.shown)
		fprintf(out, " and %zu more", c.total - c.shown);
	if (s->procs[i].timer_signal)
		fprintf(out, "; a timer's signal (SIG%s) that it catches can wake it", sigabbrev_np(s->procs[i].timer_signal));
	fputc('\n', out);
}

/* Process i's blocked threads, one line each after indent (the first few of a process with many). */
static void snap_say_proc(const struct snapshot *s, size_t i, const char *indent, FILE *out)
{
	const struct snap_proc *p = &s->procs[i];
	size_t said = 0;

	for (size_t t = p->thread0; t < p->thread0 + p->nthreads && said < 4; t++)
		/* A main thread gone by pthread_exit is no process's zombie: its other threads are the process. */
		if (s->threads[t].wait != HANG_RUNNING && (s->threads[t].wait != HANG_ZOMBIE || snap_zombie(s, p))) {
			snap_say_thread(s, i, &s->threads[t], indent, out);
			said++;
		}
}

/*
 * The processes whose fds could not be read (another user's): with --all not
 * counted among the processes read; for a deadlock, a holder among them
 * would not be seen.
 */
static void snap_say_unread(const struct snapshot *s, size_t stuck, FILE *out)
{
	if (!s->unread || (!s->cfg->all && !stuck))
		return;
	fprintf(out, "(%zu process%s of other users could not be read%s%s)\n", s->unread, s->unread == 1 ? "" : "es",
		s->cfg->all ? (s->unread == 1 ? ", and is not counted" : ", and are not counted") : "",
		stuck ? ": a holder among them would not be seen" : "");
}

enum { SNAP_SAY_MAX = 12, SNAP_CYCLES_MAX = 6 };

/* The rest of the stuck processes, on no cycle: their count, and the first few. */
static void snap_say_behind(const struct snapshot *s, size_t stuck, size_t on_cycle, FILE *out)
{
	size_t said = 0;

	if (stuck <= on_cycle)
		return;
	fprintf(out, "stuck behind %s: %zu\n", s->ncycles > 1 ? "them" : "it", stuck - on_cycle);
	for (size_t i = 0; i < s->ntree && said < SNAP_SAY_MAX / 2; i++)
		if (!s->procs[i].moves && !s->procs[i].on_cycle && s->procs[i].nthreads && !snap_zombie(s, &s->procs[i])) {
			snap_say_proc(s, i, "  ", out);
			said++;
		}
}

/*
 * The first process of each of cycles [from, ncycles), after "through": the
 * pids and their one name ("pids 4001, 4005 (leakypool)"), or each with its
 * own; the first SNAP_CYCLES_MAX, then how many more.
 */
static void snap_say_through(const struct snapshot *s, const size_t *first, size_t from, FILE *out)
{
	char name[4 * 32 + 32], safe[4 * 32];
	bool one_name = true;

	for (size_t c = from + 1; c < s->ncycles && one_name; c++)
		one_name = !strcmp(s->procs[first[c]].comm, s->procs[first[from]].comm);
	fputs(one_name ? "pids " : "", out);
	for (size_t c = from; c < s->ncycles && c - from < SNAP_CYCLES_MAX; c++) {
		if (one_name)
			snprintf(name, sizeof(name), "%d", (int)s->procs[first[c]].pid);
		else
			snap_name(s, first[c], name, sizeof(name));
		fprintf(out, "%s%s", c > from ? ", " : "", name);
	}
	if (s->ncycles - from > SNAP_CYCLES_MAX)
		fprintf(out, " and %zu more", s->ncycles - from - SNAP_CYCLES_MAX);
	if (one_name)
		fprintf(out, " (%s)", snap_comm(s, first[from], safe));
}

/*
 * Several separate deadlocks (two cycles or more, a process waiting for
 * itself alone being one): each in turn, with the first few processes of
 * each. Past SNAP_CYCLES_MAX, the first 3 and where each of the rest starts
 * (--json has them all), as explain tells them.
 */
static void snap_say_cycles(const struct snapshot *s, size_t stuck, size_t on_cycle, FILE *out)
{
	static const char *const nth[SNAP_CYCLES_MAX] = { "first", "second", "third", "fourth", "fifth", "sixth" };
	size_t told = s->ncycles > SNAP_CYCLES_MAX ? 3 : s->ncycles;
	size_t *size = xcalloc(s->ncycles, sizeof(*size)), *first = xcalloc(s->ncycles, sizeof(*first));
	char name[4 * 32 + 32];

	for (size_t i = 0; i < s->ntree; i++)
		if (s->procs[i].on_cycle && !size[s->procs[i].cycle]++)
			first[s->procs[i].cycle] = i;
	fprintf(out, "deadlock: %zu of %zu processes can never move again; %zu of them are in %zu separate cycles of waits,"
		     " each a deadlock of its own:\n", stuck, s->ntree, on_cycle, s->ncycles);
	for (size_t c = 0; c < told; c++) {
		size_t said = 0;

		if (s->procs[first[c]].waits_on_itself) {
			snap_name(s, first[c], name, sizeof(name));
			fprintf(out, "  the %s, %s, waits for itself alone:\n", nth[c], name);
		} else
			fprintf(out, "  the %s, %zu processes that wait for each other:\n", nth[c], size[c]);
		for (size_t i = first[c]; i < s->ntree && said < SNAP_SAY_MAX / 2; i++)
			if (s->procs[i].on_cycle && s->procs[i].cycle == c) {
				snap_say_proc(s, i, "    ", out);
				said++;
			}
		if (size[c] > said)
			fprintf(out, "    ... and %zu more processes on this cycle\n", size[c] - said);
	}
	if (told < s->ncycles) {
		fprintf(out, "  ... and %zu more cycles, through ", s->ncycles - told);
		snap_say_through(s, first, told, out);
		fputs("; --json has each\n", out);
	}
	free(size);
	free(first);
	snap_say_behind(s, stuck, on_cycle, out);
	snap_say_unread(s, stuck, out);
}

static void snap_words(const struct snapshot *s, size_t stuck, FILE *out)
{
	size_t on_cycle = 0, alone = 0, said = 0, blocked = 0;

	for (size_t i = 0; i < s->ntree; i++) {
		on_cycle += s->procs[i].on_cycle;
		alone += s->procs[i].waits_on_itself;
	}
	if (stuck && s->ncycles > 1) {
		snap_say_cycles(s, stuck, on_cycle, out);
		return;
	}
	/* One deadlock (or none found among the stuck): its cycle, then who is stuck behind it. */
	if (stuck) {
		fprintf(out, "deadlock: %zu of %zu processes can never move again; ", stuck, s->ntree);
		/* A cycle of one is a process waiting for itself: no other process takes part. */
		if (alone)
			fputs("one of them waits for itself alone:\n", out);
		else if (on_cycle)
			fprintf(out, "%zu of them wait for each other:\n", on_cycle);
		for (size_t i = 0; i < s->ntree && said < SNAP_SAY_MAX; i++)
			if (s->procs[i].on_cycle) {
				snap_say_proc(s, i, "  ", out);
				said++;
			}
		if (on_cycle > said)
			fprintf(out, "  ... and %zu more processes on the cycle\n", on_cycle - said);
		snap_say_behind(s, stuck, on_cycle, out);
		snap_say_unread(s, stuck, out);
		return;
	}
	for (ssize_t t = 0; t < s->nthreads; t++)
		blocked += s->threads[t].wait != HANG_RUNNING && s->threads[t].wait != HANG_ZOMBIE;
	if (!blocked) {
		fprintf(out, "no deadlock: none of the %zu processes is blocked on a pipe or in a wait for a child\n",
			s->ntree);
		snap_say_unread(s, stuck, out);
		return;
	}
	fprintf(out, "no deadlock: %zu thread%s blocked, and %s can still be woken:\n", blocked,
		blocked == 1 ? " is" : "s are", blocked == 1 ? "it" : "each");
	for (size_t i = 0; i < s->ntree && said < SNAP_SAY_MAX; i++) {
		const struct snap_proc *p = &s->procs[i];

		for (size_t t = p->thread0; t < p->thread0 + p->nthreads && said < SNAP_SAY_MAX; t++)
			if (s->threads[t].wait != HANG_RUNNING && s->threads[t].wait != HANG_ZOMBIE) {
				snap_say_thread(s, i, &s->threads[t], "  ", out);
				said++;
			}
	}
	if (blocked > said)
		fprintf(out, "  ... and %zu more\n", blocked - said);
	snap_say_unread(s, stuck, out);
}

/* ---- the run ---- */

/* Each cycle's pids into res, for the caller (--json): every one, not the few the words tell. */
static void snap_result_cycles(const struct snapshot *s, struct snapshot_result *res)
{
	if (!s->ncycles)
		return;
	res->cycles = xcalloc(s->ncycles, sizeof(*res->cycles));
	res->ncycles = s->ncycles;
	/* cycle means something only with on_cycle. */
	for (size_t i = 0; i < s->ntree; i++)
		if (s->procs[i].on_cycle)
			res->cycles[s->procs[i].cycle].n++;
	for (size_t c = 0; c < s->ncycles; c++) {
		res->cycles[c].pids = xcalloc(res->cycles[c].n, sizeof(pid_t));
		res->cycles[c].n = 0;
	}
	for (size_t i = 0; i < s->ntree; i++)
		if (s->procs[i].on_cycle) {
			struct snapshot_cycle *cy = &res->cycles[s->procs[i].cycle];

			cy->pids[cy->n++] = s->procs[i].pid;
		}
}

void snapshot_result_release(struct snapshot_result *res)
{
	for (size_t c = 0; c < res->ncycles; c++)
		free(res->cycles[c].pids);
	free(res->cycles);
	res->cycles = NULL;
	res->ncycles = 0;
}

/* Checks that each root exists and may be read, with one line for the first that is not. */
static int snap_check_roots(const struct snapshot_config *cfg)
{
	for (size_t r = 0; r < cfg->nroots; r++) {
		char path[64];
		DIR *dir;

		snprintf(path, sizeof(path), "/proc/%d/fd", (int)cfg->roots[r]);
		if ((dir = opendir(path))) {
			closedir(dir);
			continue;
		}
		if (errno == ENOENT)
			return error("no process %d", (int)cfg->roots[r]), -ESRCH;
		return error("process %d: its fds may not be read (%s): it is another user's", (int)cfg->roots[r],
			     strerror(errno)), -EACCES;
	}
	return 0;
}

/*
 * Stores what was read as a run: the fds and processes found, then the
 * evidence of each blocked thread (which names the pipes those make).
 * Returns 0, or the first error (printed), the run then marked failed.
 */
static int snap_store(struct snapshot *s, const struct session_run *run, size_t stuck)
{
	struct session_end end = { .outcome = stuck ? "deadlock" : "ok" };
	int rc;

	if (!s->ss && (rc = session_begin(s->cfg->db_path, run, &s->ss)) < 0)
		return rc;
	rc = session_store(s->ss, s->batch, s->nbatch, &s->texts);
	s->nbatch = 0;
	if (rc == 0) {
		snap_evidence(s);
		rc = session_store(s->ss, s->batch, s->nbatch, &s->texts);
	}
	if (rc == 0)
		rc = session_finish(s->ss, &end);
	else
		session_fail(s->ss);
	return rc;
}

int snapshot_run(const struct snapshot_config *cfg, FILE *out, struct snapshot_result *res)
{
	struct snapshot s = { .cfg = cfg };
	struct session_run run = { .source = "snapshot", .command = cfg->command, .crash_worker = -1,
				   .supervisor_pid = getpid() };
	size_t stuck;
	int rc, begun = 0;

	assert(cfg->all || cfg->nroots > 0);
	memset(res, 0, sizeof(*res));
	if ((rc = snap_check_roots(cfg)) < 0)
		return rc;
	/* A database that is there must be one to use (bad input: nothing is read); one that cannot
	 * take the run (a full disk) still gets the words. One that is not there is made after the
	 * words: a directory that cannot take it must not cost the diagnosis. */
	if (access(cfg->db_path, F_OK) == 0 && (begun = session_begin(cfg->db_path, &run, &s.ss)) == -EINVAL)
		return begun;
	s.pipefs = snap_pipefs_dev();
	snap_select(&s);
	if (!s.ntree) {
		session_free(s.ss);
		free(s.procs);
		return error("no process to read (every one ended meanwhile)"), -ESRCH;
	}
	for (size_t i = 0; i < s.ntree; i++) {
		struct evlog_record *r = snap_event(&s, EV_FOUND, s.procs[i].pid);
		char path[64], exe[PATH_MAX + 1];
		ssize_t len;

		r->other_pid = s.procs[i].ppid;
		r->has = HAS_OTHER_PID;
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)s.procs[i].pid);
		len = readlink(path, exe, sizeof(exe) - 1);
		exe[len > 0 ? len : 0] = '\0';
		evlog_texts_attach(&s.texts, r, len > 0 ? exe : s.procs[i].comm);
	}
	/* Every process's fds, so a holder outside the tree is seen too. */
	for (size_t i = 0; i < s.nprocs; i++)
		if ((rc = snap_read_fds(&s, i)) < 0 && rc != -ENOENT)
			s.unread++;
	qsort(s.holds, s.nholds, sizeof(*s.holds), snap_cmp_hold);
	snap_scan_threads(&s);
	snap_find_fifos(&s);
	snap_map_nspids(&s);
	stuck = snap_find_stuck(&s);
	if (stuck)
		snap_find_cycles(&s);
	res->processes = s.ntree;
	res->threads = (size_t)s.nthreads;
	res->deadlocked = stuck;
	res->unread = s.unread;
	for (size_t h = 0; h < s.nholds; h++)
		res->pipes += s.holds[h].proc < s.ntree && (h == 0 || s.holds[h - 1].inode != s.holds[h].inode);
	snap_result_cycles(&s, res);
	/* The words first, whether or not the run can be stored: they are what the user came for. */
	if (out) {
		snap_words(&s, stuck, out);
		fflush(out);
	}
	if ((rc = begun < 0 ? begun : snap_store(&s, &run, stuck)) == 0)
		res->run_id = session_run_id(s.ss);
	session_free(s.ss);
	hang_procs_free(s.threads, s.nthreads);
	free(s.fifo_fd);
	evlog_texts_release(&s.texts);
	free(s.batch);
	free(s.holds);
	free(s.procs);
	return rc < 0 ? -EIO : 0;
}
