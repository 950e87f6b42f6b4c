/* tracer.c: `pooltrace record`: runs any program under ptrace and records its fd events into a trace.
 *
 * The program runs with a seccomp filter that stops it (SECCOMP_RET_TRACE)
 * only at the calls that change fd tables or reap children: pipe, pipe2,
 * socketpair, close, close_range, dup, dup2, dup3, fcntl(F_DUPFD*), wait4,
 * waitid, execve, execveat, recvmsg and recvmmsg (fds may arrive) and
 * shutdown (a socketpair end's reader may see EOF); with --io also read,
 * write, readv, writev, splice, tee, vmsplice and sendfile (and of those,
 * only the ones on a pipe get an exit stop). Every other call runs at full
 * speed. fork, vfork, clone, exec and exit arrive as ptrace events.
 * Everything recorded is observed from the kernel's side: what an fd is
 * comes from /proc/PID/fd and fdinfo, what a new process holds is read while
 * it is stopped at its parent's fork event, what exec closed is the table
 * before the call against the table at the exec event, and a pipe fd made
 * by a call that is not stopped at (an open of /dev/fd/N) is found when the
 * table is read again (tracer_reread: a call names it, a fork, an exec).
 * The records go through the same ingest and fd model as the pool's, so
 * every view and picture works on them.
 *
 * Invariants:
 *   1. The program starts with exactly the fds pooltrace was given: nothing
 *      is open in pooltrace when it forks (the database is opened after).
 *   2. PTRACE_O_EXITKILL: if pooltrace dies, by any means, every traced
 *      process is killed by the kernel.
 *   3. Seqs are handed out in the order the tracer sees the stops, which for
 *      one process is the order of its calls; a new process's fork event and
 *      inherited fds come before anything it does (it is stopped meanwhile).
 *   4. A thread is not a process: its calls are its thread group's.
 *   5. Job control is the program's: it is traced with PTRACE_SEIZE, and a
 *      group-stop (SIGSTOP, SIGTSTP, ^Z) is left standing with PTRACE_LISTEN
 *      until a SIGCONT ends it, as it would be untraced.
 *
 * States of a traced task: NEW (stopped by the kernel until its parent's
 * fork event is seen and its fds are read; that first stop is swallowed) -> RUNNING
 * <-> IN_CALL (seccomp stop seen, waiting for the call's exit stop) -> DEAD
 * (exit reported; a process whose real parent is not pooltrace stays until
 * that parent's wait reaps it).
 */
#include "ptrace/tracer.h"

#include "core/evlog.h"
#include "procfs/deadlock.h"
#include "procfs/hang.h"
#include "procfs/proctree.h"
#include "procfs/wake.h"
#include "core/ingest.h"
#include "core/session.h"
#include "ptrace/stacks.h"
#include "ptrace/syscalls.h"
#include "base/pidmap.h"
#include "base/util.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t tracer_signal;

/*
 * What pooltrace changed in a task to keep a CLONE_UNTRACED child traced,
 * to put back once the call is over: the flags of clone (rdi) or of
 * clone3's struct clone_args (a word of memory).
 */
struct tracer_undo {
	enum { UNDO_NONE, UNDO_RDI, UNDO_RBX, UNDO_MEM } kind; /* UNDO_RBX: an i386 clone's flags (ebx) */
	uint64_t addr, value;
	bool shared; /* UNDO_MEM under CLONE_VM: the child's memory is the parent's */
};

#define TRACER_NS_MAX 8 /* pid namespaces deep, counting the tracer's; deeper ones are not mapped */

/* One traced thread. */
struct tracer_task {
	pid_t tid;          /* 0: empty slot */
	pid_t tgid;         /* its process */
	pid_t parent;       /* a process: its real parent (a tgid, or pooltrace) */
	bool process;       /* tid == tgid: the thread group's leader */
	bool known;         /* its parent's fork/clone event (or the start) was seen */
	bool fresh;         /* known, and its first stop (a new tracee's SIGSTOP) is yet to come */
	bool held;          /* stopped before its parent's event: resumed once that is seen */
	bool in_call;       /* between a seccomp stop and that call's exit stop */
	bool exiting;       /* its PTRACE_EVENT_EXIT was seen: it is on its way out */
	bool dead;          /* its exit was reported to us */
	int end_status;     /* dead: how it ended, as our waitpid saw it (a reap whose status pointer is NULL) */
	uint64_t clear_tid; /* a thread: where the kernel writes 0 when it exits, and wakes its joiner (0: unknown) */
	long nr;            /* the call in progress */
	const struct syscall_row *row; /* its row (syscalls.c): flags, decoder, fd arguments; never NULL in a call */
	uint32_t arch;      /* its ABI (AUDIT_ARCH_*): an i386 call reaches the decoders only as clone or clone3 */
	uint64_t args[6];
	struct evlog_record before; /* close: the fd; dup2/dup3: what newfd was; --io: the fd read from */
	struct evlog_record before_out; /* --io, splice and its kin: the fd written to */
	int io_in, io_out;  /* --io: the pipe fds the call reads from and writes to (-1: none) */
	bool replaced;      /* dup2/dup3: newfd was open */
	bool recorded;      /* the call was recorded at its entry (close, close_range) */
	bool skip_exit;     /* nothing to record at the call's exit: no exit stop */
	bool rights;        /* recvmsg with room for ancillary data: fds may arrive (SCM_RIGHTS) */
	struct tracer_undo undo; /* clone, clone3 with CLONE_UNTRACED: put back at the exit (a child: at its first stop) */
	int *exec_fds;      /* execve: the fds open when it was called */
	int64_t exec_stack; /* --stacks: execve's stack, taken at its entry (the old program's) */
	size_t nexec_fds;
	/* A process (its leader's task): what its fds are, for --io, by fd. */
	struct tracer_fdc *fdc;
	size_t nfdc;
	/* A process: the fds it is known to hold, one bit each (tracer_reread), once fdset_valid. */
	uint64_t *fdset;
	size_t nfdset; /* words */
	bool fdset_valid;
	/* A process: its timers whose signal may wake it when all its threads are blocked (tracer_timer_set). */
	/* Its tid in each pid namespace from the tracer's down (NSpid): a wait of
	 * the program's inside a namespace it made names a child by its pid there. */
	pid_t nspid[TRACER_NS_MAX];
	int nslevel;        /* the index of its own namespace's pid in nspid: 0 is the tracer's */
	uint64_t alarm_ns;  /* ITIMER_REAL (alarm, setitimer): when it fires, on now_ns()'s clock; 0: disarmed */
	bool alarm_repeats; /* ITIMER_REAL with an interval: it fires again and again */
	bool posix_timers;  /* timer_settime armed a POSIX timer (each is not followed to its end: until exec) */
	/* Attach: seized, and its first stop (our PTRACE_INTERRUPT, or a new
	 * child's) not seen yet; once seen, first_stop is its waitpid status,
	 * which says how to resume it (tracer_attach_resume). */
	bool pending;
	int first_stop;
};
_Static_assert(offsetof(struct tracer_task, tid) == 0, "a pidmap entry begins with its key");

/*
 * --io asks of every read and write whether its fd is a pipe. /proc answers
 * in three system calls; the answer stays true until the program changes
 * that fd, which it can only do through calls that are traced (close,
 * close_range, dup*, fcntl F_DUPFD*, pipe, exec's close-on-exec; a call that
 * makes an fd from nothing, like open, takes a number that is free, so not
 * one cached). So each answer is kept until then.
 */
enum { FDC_UNKNOWN, FDC_OTHER, FDC_PIPE }; /* FDC_PIPE: a pipe or a socketpair's end */
#define TRACER_FDC_MAX 65536 /* fds above are looked up every time */

struct tracer_fdc {
	uint64_t inode;
	uint8_t state, end;
};

struct tracer {
	const struct tracer_config *cfg;
	struct hang_seen seen; /* the processes a `blocked` event was recorded for */
	struct session *ss; /* the run in the trace: see session.c */
	pid_t self, top;
	bool attached;     /* record -p: the program was running before us, and goes on after */
	bool detach_now;   /* attached: detach at the next turn of the loop (a signal, --for, a deadlock) */
	size_t adopted;    /* attaching: tasks taken into the table so far */
	bool untraceable;  /* attaching: a process of the tree could not be traced */
	struct proctree_proc *attach_procs; /* attaching: the tree, parents first */
	size_t attach_nprocs;
	struct pidmap tasks; /* struct tracer_task by tid */
	struct evlog_record *batch;
	size_t nbatch, batch_cap;
	struct evlog_texts texts;
	uint64_t seq;
	uint64_t last_event_ns;
	const char *outcome;
	int top_status;
	bool top_ended;
	bool killing;
	long processes;
	/* The inodes of the socketpairs' ends made in the program, each with its peer's. */
	struct inomap socks;
	/* The inodes of the pipes made in the program (value 1): any other pipe may have a holder outside. */
	struct inomap pipes;
	struct stacks *stacks; /* --stacks: the calling thread's stack at fd events (stacks.c); NULL without */
	bool top_execd;        /* the first process exec'd the program (its first exec is pooltrace's) */
};

static void tracer_on_signal(int sig)
{
	tracer_signal = sig;
}

/* ---- tasks ---- */

static struct tracer_task *tracer_task(struct tracer *t, pid_t tid, bool create)
{
	size_t len = t->tasks.len;
	struct tracer_task *k;

	if (!create)
		return pidmap_get(&t->tasks, tid);
	k = pidmap_put(&t->tasks, tid);
	if (t->tasks.len > len)
		k->tgid = tid; /* new: its own process until its clone event says otherwise */
	return k;
}

/* Removes a task. */
static void tracer_forget(struct tracer *t, struct tracer_task *k)
{
	free(k->exec_fds);
	free(k->fdc);
	free(k->fdset);
	pidmap_del(&t->tasks, k);
}

/* ---- events ---- */

/* A new event of pid, in seq order. The pointer is good until the next event. */
static struct evlog_record *tracer_event(struct tracer *t, int kind, pid_t pid)
{
	struct evlog_record *r;

	ALLOC_GROW(t->batch, t->nbatch + 1, t->batch_cap, 1024);
	r = &t->batch[t->nbatch++];
	memset(r, 0, sizeof(*r));
	r->kind = (uint8_t)kind;
	r->pid = pid;
	r->ts_ns = now_ns();
	atomic_store_explicit(&r->ready, ++t->seq, memory_order_relaxed);
	t->last_event_ns = r->ts_ns;
	return r;
}

/* --stacks: the stack of thread tid (stopped in its call) for the event just recorded. */
static void tracer_stack(struct tracer *t, pid_t tgid, pid_t tid)
{
	if (t->stacks)
		stacks_link(t->stacks, t->seq, stacks_capture(t->stacks, tgid, tid));
}

/* Stores what was recorded; commits at most every 50 ms, or now when asked. */
static int tracer_flush(struct tracer *t, bool commit_now)
{
	if (t->nbatch) {
		if (session_store(t->ss, t->batch, t->nbatch, &t->texts) < 0)
			return -EIO;
		t->nbatch = 0;
		t->texts.len = 0;
	}
	return session_commit(t->ss, commit_now);
}

/* The peer of a socketpair end made in the program, or 0 for any other socket. */
static uint64_t tracer_sock_peer(const struct tracer *t, uint64_t inode)
{
	return (uint64_t)inomap_get(&t->socks, inode);
}

/* hang_outside's question: is this pipe one the program made, this socket an end of its own socketpairs? */
static bool tracer_inside(void *ctx, uint64_t inode, bool socket)
{
	const struct tracer *t = ctx;

	return socket ? tracer_sock_peer(t, inode) != 0 : inomap_get(&t->pipes, inode) != 0;
}

/*
 * What fd of process pid refers to, into r: a pipe's inode and end (from
 * fdinfo's flags), a socketpair end's inode (END_SOCKET) when it is one made
 * in the program, or, with text, the link's text (a path, "socket:[N]").
 * Read through its thread tid (/proc/PID/task/TID/fd), the one making the
 * call: once the main thread has exited (pthread_exit), /proc/PID/fd is
 * empty while the others still share the table.
 * Returns 0, or -EBADF when the fd is not open.
 */
static int tracer_observe(struct tracer *t, pid_t pid, pid_t tid, int fd, struct evlog_record *r, bool text)
{
	char path[96], link[PATH_MAX + 1], info[512], *flags;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd/%d", (int)pid, (int)tid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -EBADF;
	link[n] = '\0';
	if (!strncmp(link, "pipe:[", 6)) {
		long acc = O_RDWR;

		r->inode = strtoull(link + 6, NULL, 10);
		r->has |= HAS_INODE;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/fdinfo/%d", (int)pid, (int)tid, fd);
		if (read_small_file(path, info, sizeof(info)) > 0 && (flags = strstr(info, "flags:")))
			acc = strtol(flags + 6, NULL, 8) & O_ACCMODE;
		r->pipe_end = acc == O_RDONLY ? END_READ : acc == O_WRONLY ? END_WRITE : END_RDWR;
	} else if (!strncmp(link, "socket:[", 8) && tracer_sock_peer(t, strtoull(link + 8, NULL, 10))) {
		r->inode = strtoull(link + 8, NULL, 10);
		r->has |= HAS_INODE;
		r->pipe_end = END_SOCKET;
	} else if (text) {
		evlog_texts_attach(&t->texts, r, link);
	}
	return 0;
}

/* The task of k's process (its leader), which holds what the process owns; NULL once the leader is gone. */
static struct tracer_task *tracer_leader(struct tracer *t, struct tracer_task *k)
{
	return k->process ? k : tracer_task(t, k->tgid, false);
}

static bool tracer_unknown(struct tracer *t, struct tracer_task *k, int fd);
static void tracer_reread(struct tracer *t, struct tracer_task *k, const int *fds, size_t n);

/*
 * --io: whether fd of k's process is a pipe or an end of a socketpair made
 * in the program, into r (HAS_INODE set if so), from the cache or /proc.
 * A pipe first seen here outside the set (opened with no traced call) is
 * found first (tracer_reread), so its reads and writes touch its hold.
 */
static bool tracer_fd_is_pipe(struct tracer *t, struct tracer_task *k, int fd, struct evlog_record *r)
{
	struct tracer_task *p = tracer_leader(t, k);
	struct tracer_fdc *c;

	if (!p || fd < 0 || fd >= TRACER_FDC_MAX) {
		if (tracer_observe(t, k->tgid, k->tid, fd, r, false) < 0 || !(r->has & HAS_INODE))
			return false;
		if (tracer_unknown(t, k, fd))
			tracer_reread(t, k, NULL, 0);
		return true;
	}
	if ((size_t)fd >= p->nfdc) {
		size_t n = p->nfdc ? p->nfdc : 16;

		while (n <= (size_t)fd)
			n *= 2;
		p->fdc = xrealloc(p->fdc, n * sizeof(*p->fdc));
		memset(p->fdc + p->nfdc, 0, (n - p->nfdc) * sizeof(*p->fdc));
		p->nfdc = n;
	}
	c = &p->fdc[fd];
	if (c->state == FDC_UNKNOWN) {
		struct evlog_record seen = { 0 };

		if (tracer_observe(t, k->tgid, k->tid, fd, &seen, false) < 0)
			return false; /* not open: the call fails; nothing to keep */
		c->state = seen.has & HAS_INODE ? FDC_PIPE : FDC_OTHER;
		c->inode = seen.inode;
		c->end = seen.pipe_end;
		if (c->state == FDC_PIPE && tracer_unknown(t, k, fd))
			tracer_reread(t, k, NULL, 0); /* moves no task: c stays good */
	}
	if (c->state != FDC_PIPE)
		return false;
	r->inode = c->inode;
	r->pipe_end = c->end;
	r->has |= HAS_INODE;
	return true;
}

/* fds first..last of k's process may now be something else. */
static void tracer_fd_changed(struct tracer *t, struct tracer_task *k, uint64_t first, uint64_t last)
{
	struct tracer_task *p = tracer_leader(t, k);

	if (!p || first >= p->nfdc)
		return;
	if (last >= p->nfdc)
		last = p->nfdc - 1;
	memset(p->fdc + first, 0, (last - first + 1) * sizeof(*p->fdc));
}

static int tracer_cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* The fds open in process pid, read through its thread tid, sorted; *out is allocated. Returns how many. */
static size_t tracer_list_fds(pid_t pid, pid_t tid, int **out)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	size_t n = 0, cap = 0;
	int *fds = NULL;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd", (int)pid, (int)tid);
	if ((d = opendir(path))) {
		while ((de = readdir(d))) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			ALLOC_GROW(fds, n + 1, cap, 32);
			fds[n++] = atoi(de->d_name);
		}
		closedir(d);
	}
	if (n)
		qsort(fds, n, sizeof(*fds), tracer_cmp_int);
	*out = fds;
	return n;
}

/*
 * ---- fds made by calls that are not traced ----
 *
 * open("/dev/fd/N"), open("/proc/self/fd/N") or open("/dev/stderr") on a
 * pipe, pidfd_getfd: an fd of a pipe the program holds without any call
 * pooltrace stops at. Each process (its leader's task) keeps the set of fds
 * it is known to hold: its table as read at its fork (or at the attach, or
 * its exec), and every fd a traced call made or closed since. When a call
 * names a pipe fd outside it (a close, a dup from it or dup2 over it, a
 * read or write with --io), at every close_range, fork and exec, and
 * at a deadlock (tracer_check_hang), the table is read again and each pipe (or socketpair end) in
 * it not in the set is recorded as a `found` event (arg 1), before the
 * call that uses it: a hold from then on. Files are never found (their
 * closes end no hold, as before). The set costs no /proc read while every
 * fd named is in it; at fork and exec the table is read anyway. Not at an
 * exit: a hold found there would end at the very next seq, spanning no
 * event, so no view could see it, and the read would cost every process
 * one listing (measured: 3% on a fork-heavy shell loop).
 */
static bool tracer_known(const struct tracer_task *p, int fd)
{
	return fd >= 0 && (size_t)fd / 64 < p->nfdset && (p->fdset[fd / 64] >> (fd % 64) & 1);
}

static void tracer_know(struct tracer_task *p, int fd, bool open)
{
	size_t w;

	if (!p || fd < 0)
		return;
	w = (size_t)fd / 64;
	if (w >= p->nfdset) {
		size_t n = p->nfdset ? p->nfdset : 4;

		if (!open)
			return;
		while (n <= w)
			n *= 2;
		p->fdset = xrealloc(p->fdset, n * sizeof(*p->fdset));
		memset(p->fdset + p->nfdset, 0, (n - p->nfdset) * sizeof(*p->fdset));
		p->nfdset = n;
	}
	if (open)
		p->fdset[w] |= 1ULL << (fd % 64);
	else
		p->fdset[w] &= ~(1ULL << (fd % 64));
}

/* The set of process p is exactly fds (sorted or not), n of them. */
static void tracer_know_only(struct tracer_task *p, const int *fds, size_t n)
{
	if (!p)
		return;
	if (p->nfdset)
		memset(p->fdset, 0, p->nfdset * sizeof(*p->fdset));
	for (size_t i = 0; i < n; i++)
		tracer_know(p, fds[i], true);
	p->fdset_valid = true;
}

/* fds first..last are closed in k's process. */
static void tracer_know_closed(struct tracer *t, struct tracer_task *k, uint64_t first, uint64_t last)
{
	struct tracer_task *p = tracer_leader(t, k);

	if (!p || first >= (uint64_t)p->nfdset * 64)
		return;
	if (last >= (uint64_t)p->nfdset * 64)
		last = (uint64_t)p->nfdset * 64 - 1;
	for (uint64_t fd = first; fd <= last; fd++)
		tracer_know(p, (int)fd, false);
}

/* Whether fd is outside the set of k's process (false while the set is not known). */
static bool tracer_unknown(struct tracer *t, struct tracer_task *k, int fd)
{
	struct tracer_task *p = tracer_leader(t, k);

	return p && p->fdset_valid && fd >= 0 && !tracer_known(p, fd);
}

/*
 * The table of k's process read again (fds: as just listed through k, n of
 * them; NULL: listed here): each pipe or socketpair end of it outside the
 * set becomes a `found` event, and the set is the table from now on. A set
 * not yet known is only filled.
 */
static void tracer_reread(struct tracer *t, struct tracer_task *k, const int *fds, size_t n)
{
	struct tracer_task *p = tracer_leader(t, k);
	int *own = NULL;

	if (!p)
		return;
	if (!fds) {
		n = tracer_list_fds(k->tgid, k->tid, &own);
		fds = own;
	}
	for (size_t i = 0; p->fdset_valid && i < n; i++) {
		struct evlog_record seen = { 0 }, *r;

		if (tracer_known(p, fds[i]) || tracer_observe(t, k->tgid, k->tid, fds[i], &seen, false) < 0 ||
		    !(seen.has & HAS_INODE))
			continue;
		r = tracer_event(t, EV_FOUND, k->tgid);
		r->fd = fds[i];
		r->inode = seen.inode;
		r->pipe_end = seen.pipe_end;
		r->arg = 1; /* made by a call not traced */
		r->has = HAS_FD | HAS_INODE | HAS_ARG;
	}
	tracer_know_only(p, fds, n);
	free(own);
}

/*
 * fd is named by a call of k's: if it is outside the set, a pipe's fd is
 * found first (with any other such: the table is read again), and any other
 * open fd (a file the program opened) joins the set.
 */
static void tracer_named(struct tracer *t, struct tracer_task *k, int fd)
{
	struct evlog_record seen = { 0 };

	if (!tracer_unknown(t, k, fd) || tracer_observe(t, k->tgid, k->tid, fd, &seen, false) < 0)
		return;
	if (seen.has & HAS_INODE)
		tracer_reread(t, k, NULL, 0);
	else
		tracer_know(tracer_leader(t, k), fd, true);
}

/*
 * A new process: its fork event, then every fd it was born with, read while
 * it is stopped. by: the parent's thread that forked (NULL: pooltrace's own
 * child); an fd the child has that is outside that parent's set was made
 * by a call not traced, and is found in the parent first. Returns the fork event's seq.
 */
static uint64_t tracer_born(struct tracer *t, pid_t pid, pid_t parent, struct tracer_task *by)
{
	uint64_t seq;
	struct evlog_record *r;
	int *fds;
	size_t n;

	n = tracer_list_fds(pid, pid, &fds);
	for (size_t i = 0; by && i < n; i++)
		if (tracer_unknown(t, by, fds[i])) {
			tracer_reread(t, by, NULL, 0);
			break;
		}
	tracer_know_only(tracer_task(t, pid, false), fds, n);
	r = tracer_event(t, EV_FORK, pid);
	seq = t->seq;
	r->other_pid = parent;
	r->has = HAS_OTHER_PID;
	for (size_t i = 0; i < n; i++) {
		r = tracer_event(t, EV_INHERIT, pid);
		r->fd = fds[i];
		r->has = HAS_FD;
		tracer_observe(t, pid, pid, fds[i], r, true);
	}
	free(fds);
	t->processes++;
	return seq;
}

/* ---- the calls ---- */

static bool tracer_read_mem(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return addr && process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* recvmmsg's vector is read this many headers at a time; the kernel takes at most 1024 (UIO_MAXIOV). */
#define TRACER_MMSG_CHUNK 64
#define TRACER_MMSG_MAX 1024

static bool tracer_msghdr_room(const struct msghdr *mh)
{
	return mh->msg_control && mh->msg_controllen >= CMSG_LEN(sizeof(int));
}

/*
 * recvmsg or recvmmsg, at its entry: whether a msghdr of it has room for an
 * SCM_RIGHTS message (fds sent over a unix socket). Only then is its exit
 * stopped at.
 */
static bool tracer_rights_room(struct tracer_task *k)
{
	struct mmsghdr v[TRACER_MMSG_CHUNK];
	struct msghdr mh;
	size_t n = k->args[2] < TRACER_MMSG_MAX ? (size_t)k->args[2] : TRACER_MMSG_MAX;

	if (k->nr == SYS_recvmsg)
		return tracer_read_mem(k->tid, k->args[1], &mh, sizeof(mh)) && tracer_msghdr_room(&mh);
	for (size_t i = 0; i < n; i += TRACER_MMSG_CHUNK) {
		size_t m = n - i < TRACER_MMSG_CHUNK ? n - i : TRACER_MMSG_CHUNK;

		if (!tracer_read_mem(k->tid, k->args[1] + i * sizeof(*v), v, m * sizeof(*v)))
			return false;
		for (size_t j = 0; j < m; j++)
			if (tracer_msghdr_room(&v[j].msg_hdr))
				return true;
	}
	return false;
}

/*
 * One message received (recvmsg's, or one of recvmmsg's), at the call's
 * exit: each fd it brought (SCM_RIGHTS) is a new fd of the process, a
 * `receive` event with what it refers to, observed as for dup.
 */
static void tracer_received_one(struct tracer *t, struct tracer_task *k, const struct msghdr *got)
{
	char control[4096];
	struct msghdr mh = *got, local = { 0 };

	if (!mh.msg_control)
		return;
	/* The kernel set msg_controllen to what it wrote; a cut-off message (MSG_CTRUNC) keeps what fit. */
	local.msg_controllen = mh.msg_controllen < sizeof(control) ? mh.msg_controllen : sizeof(control);
	local.msg_control = control;
	if (!local.msg_controllen || !tracer_read_mem(k->tid, (uint64_t)mh.msg_control, control, local.msg_controllen))
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&local); c; c = CMSG_NXTHDR(&local, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			struct evlog_record *r;
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			tracer_fd_changed(t, k, (uint64_t)fd, (uint64_t)fd);
			tracer_know(tracer_leader(t, k), fd, true);
			r = tracer_event(t, EV_RECEIVE, k->tgid);
			r->fd = fd;
			r->fd2 = (int)k->args[0];
			r->result = 0;
			r->has = HAS_FD | HAS_FD2 | HAS_RESULT;
			tracer_observe(t, k->tgid, k->tid, fd, r, true);
		}
	}
}

/* recvmsg, or the n messages recvmmsg returned, at the call's exit. */
static void tracer_received(struct tracer *t, struct tracer_task *k, int64_t n)
{
	struct mmsghdr v[TRACER_MMSG_CHUNK];
	struct msghdr mh;

	if (k->nr == SYS_recvmsg) {
		if (tracer_read_mem(k->tid, k->args[1], &mh, sizeof(mh)))
			tracer_received_one(t, k, &mh);
		return;
	}
	for (int64_t i = 0; i < n && i < TRACER_MMSG_MAX; i += TRACER_MMSG_CHUNK) {
		size_t m = n - i < TRACER_MMSG_CHUNK ? (size_t)(n - i) : TRACER_MMSG_CHUNK;

		if (!tracer_read_mem(k->tid, k->args[1] + (uint64_t)i * sizeof(*v), v, m * sizeof(*v)))
			return;
		for (size_t j = 0; j < m; j++)
			tracer_received_one(t, k, &v[j].msg_hdr);
	}
}

/*
 * --io: which of the call's fds are pipes (or socketpair ends) it reads from
 * (io_in) and writes to (io_out). read/readv/recvfrom/recvmsg read args[0],
 * write/writev/sendto/sendmsg write it; splice moves
 * from args[0] to args[2]; sendfile from args[1] to args[0]; tee copies into
 * args[1] without consuming args[0] (only the write is a call on the pipe's
 * contents); vmsplice moves user memory into a pipe's write end, or out of a
 * read end.
 */
/* Puts back what tracer_keep_traced changed in task tid. */
static void tracer_undo(pid_t tid, struct tracer_undo *u)
{
	struct user_regs_struct regs;

	if ((u->kind == UNDO_RDI || u->kind == UNDO_RBX) && ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0) {
		if (u->kind == UNDO_RDI)
			regs.rdi = u->value;
		else
			regs.rbx = u->value;
		ptrace(PTRACE_SETREGS, tid, 0, &regs);
	} else if (u->kind == UNDO_MEM) {
		ptrace(PTRACE_POKEDATA, tid, (void *)(uintptr_t)u->addr, (void *)(uintptr_t)u->value);
	}
	u->kind = UNDO_NONE;
}

/*
 * clone or clone3 with CLONE_UNTRACED: its child would run with the seccomp
 * filter and no tracer, and every call the filter stops at would fail with
 * ENOSYS (a child that should exec exits instead). The flag is cleared for
 * the call, in rdi for clone and in the caller's struct clone_args for
 * clone3, so the child is traced as any other; at the call's exit it is put
 * back, and in the child too at its first stop (its registers, and its
 * memory unless shared, are copies of the changed ones), so the program
 * finds its own flags where it left them.
 */
static void tracer_keep_traced(struct tracer_task *k)
{
	struct user_regs_struct regs;
	uint64_t flags;

	bool i386 = k->arch == AUDIT_ARCH_I386;

	k->skip_exit = true;
	if (k->nr == (i386 ? SYSCALL_I386_CLONE : SYS_clone)) {
		if (!(k->args[0] & CLONE_UNTRACED) || ptrace(PTRACE_GETREGS, k->tid, 0, &regs) < 0)
			return;
		/* i386 (int $0x80): the flags are in ebx, not rdi. */
		k->undo = (struct tracer_undo){ .kind = i386 ? UNDO_RBX : UNDO_RDI, .value = i386 ? regs.rbx : regs.rdi };
		if (i386)
			regs.rbx &= ~(unsigned long long)CLONE_UNTRACED;
		else
			regs.rdi &= ~(unsigned long long)CLONE_UNTRACED;
		if (ptrace(PTRACE_SETREGS, k->tid, 0, &regs) < 0)
			return (void)(k->undo.kind = UNDO_NONE);
	} else {
		/* flags is clone_args' first member, one aligned word. */
		if (!tracer_read_mem(k->tid, k->args[0], &flags, sizeof(flags)) || !(flags & CLONE_UNTRACED) ||
		    ptrace(PTRACE_POKEDATA, k->tid, (void *)(uintptr_t)k->args[0],
			   (void *)(uintptr_t)(flags & ~(uint64_t)CLONE_UNTRACED)) < 0)
			return;
		k->undo = (struct tracer_undo){ .kind = UNDO_MEM, .addr = k->args[0], .value = flags,
						.shared = flags & CLONE_VM };
	}
	k->skip_exit = false;
}

static void tracer_io_entry(struct tracer *t, struct tracer_task *k)
{
	int in = k->row->io_in >= 0 ? (int)k->args[k->row->io_in] : -1;
	int out = k->row->io_out >= 0 ? (int)k->args[k->row->io_out] : -1;

	/* vmsplice: into a pipe through its write end, out of it through its read end. */
	if ((k->row->flags & SYSCALL_IO_EITHER) && tracer_fd_is_pipe(t, k, in, &k->before_out) &&
	    k->before_out.pipe_end == END_WRITE) {
		k->io_in = -1, k->io_out = in;
		return;
	}
	k->io_in = in >= 0 && tracer_fd_is_pipe(t, k, in, &k->before) ? in : -1;
	k->io_out = out >= 0 && tracer_fd_is_pipe(t, k, out, &k->before_out) ? out : -1;
}

/* One read, read_zero or write event of --io, on pipe fd as seen at the call's entry. */
static void tracer_io_event(struct tracer *t, struct tracer_task *k, int kind, int fd, int64_t rval,
			    const struct evlog_record *seen)
{
	struct evlog_record *r = tracer_event(t, kind, k->tgid);

	r->fd = fd;
	r->result = rval;
	r->inode = seen->inode;
	r->pipe_end = seen->pipe_end;
	r->has = HAS_FD | HAS_RESULT | HAS_INODE;
}

/* ---- the decoders: what each kind of call (enum syscall_decoder) does at its entry and exit ---- */

/* A close of an open fd is recorded at its entry (see tracer_call_entry). */
static void tracer_enter_close(struct tracer *t, struct tracer_task *k)
{
	struct evlog_record *r;

	tracer_fd_changed(t, k, k->args[0], k->args[0]);
	/* No text: the batch may be stored before the call returns. */
	if (tracer_observe(t, k->tgid, k->tid, (int)k->args[0], &k->before, false) == 0) {
		/* A pipe open though no traced call made it: found first (with any other such). */
		if ((k->before.has & HAS_INODE) && tracer_unknown(t, k, (int)k->args[0]))
			tracer_reread(t, k, NULL, 0);
		tracer_know(tracer_leader(t, k), (int)k->args[0], false);
		r = tracer_event(t, EV_CLOSE, k->tgid);
		r->fd = (int)k->args[0];
		r->result = 0;
		r->has = HAS_FD | HAS_RESULT | (k->before.has & HAS_INODE);
		r->inode = k->before.inode;
		r->pipe_end = k->before.pipe_end;
		k->recorded = true;
		if (r->has & HAS_INODE)
			tracer_stack(t, k->tgid, k->tid);
	}
}

static void tracer_enter_close_range(struct tracer *t, struct tracer_task *k)
{
	struct evlog_record *r;

	if (k->args[2] & 4 /* CLOSE_RANGE_CLOEXEC: marks, closes nothing */ || k->args[0] > k->args[1])
		return;
	tracer_fd_changed(t, k, k->args[0], k->args[1]);
	/* Which fds it closes is not known without a look: any made with no traced call are found first. */
	tracer_reread(t, k, NULL, 0);
	tracer_know_closed(t, k, k->args[0], k->args[1]);
	r = tracer_event(t, EV_CLOSE_RANGE, k->tgid);
	r->fd = (int)k->args[0];
	r->fd2 = k->args[1] > INT_MAX ? INT_MAX : (int)k->args[1];
	r->result = 0;
	r->has = HAS_FD | HAS_FD2 | HAS_RESULT;
	k->recorded = true;
	tracer_stack(t, k->tgid, k->tid);
}

/* The fd copied, made with no traced call: found before its copy is. */
static void tracer_enter_dup(struct tracer *t, struct tracer_task *k)
{
	tracer_named(t, k, (int)k->args[0]);
}

static void tracer_enter_dup2(struct tracer *t, struct tracer_task *k)
{
	k->replaced = (int)k->args[0] != (int)k->args[1] &&
		      tracer_observe(t, k->tgid, k->tid, (int)k->args[1], &k->before, false) == 0;
	/* newfd a pipe replaced, though no traced call made it: found before the dup2 ends it. */
	if (k->replaced && (k->before.has & HAS_INODE) && tracer_unknown(t, k, (int)k->args[1]))
		tracer_reread(t, k, NULL, 0);
	tracer_enter_dup(t, k);
}

static void tracer_enter_exec(struct tracer *t, struct tracer_task *k)
{
	free(k->exec_fds);
	k->nexec_fds = tracer_list_fds(k->tgid, k->tid, &k->exec_fds);
	/* Read anyway: any fd made with no traced call is found before the exec's close-on-exec closes. */
	tracer_reread(t, k, k->exec_fds, k->nexec_fds);
	/* Not the first process's first exec: that is pooltrace's own (tracer_child). */
	k->exec_stack = t->stacks && (k->tgid != t->top || t->top_execd || t->attached)
				? stacks_capture(t->stacks, k->tgid, k->tid) : 0;
}

/*
 * A reap by a wait4/waitid of the program, or by pooltrace: who, and how it
 * ended. status is NULL when the caller did not say (wait(NULL)): then it
 * is how our own waitpid saw the process end, which the kernel reports to
 * us before it lets the real parent reap a tracee; a process we never
 * traced stays without a code rather than getting a false 0.
 */
static void tracer_reaped(struct tracer *t, pid_t by, pid_t pid, const int *status)
{
	struct evlog_record *r = tracer_event(t, EV_REAP, by);
	struct tracer_task *k = tracer_task(t, pid, false);

	if (!status && k && k->dead)
		status = &k->end_status;
	r->other_pid = pid;
	r->has = HAS_OTHER_PID;
	if (status && WIFEXITED(*status)) {
		r->arg = WEXITSTATUS(*status);
		r->has |= HAS_ARG;
	} else if (status && WIFSIGNALED(*status)) {
		r->signal = (uint8_t)WTERMSIG(*status);
		r->has |= HAS_SIGNAL;
	}
	if (k && k->dead)
		tracer_forget(t, k);
	else if (k)
		k->parent = -1; /* reaped before we saw it die: nobody else reaps it */
}

/*
 * The process a wait of k's named: pid is in k's pid namespace (wait4's
 * result, waitid's si_pid), which is the tracer's unless the program made
 * one (unshare --pid, clone with CLONE_NEWPID). Unknown there: pid as it is.
 */
static pid_t tracer_pid_of(const struct tracer *t, const struct tracer_task *k, pid_t pid)
{
	int level = k->nslevel;

	if (level == 0)
		return pid;
	/* Sibling namespaces at one level reuse pids: k's own children first
	 * (an orphan it reaps as a namespace's init is not one). */
	for (int own = 1; own >= 0; own--)
		for (size_t i = 0; i < t->tasks.cap; i++) {
			const struct tracer_task *c = pidmap_at(&t->tasks, i);

			if (c && c->process && c->nslevel >= level && c->nspid[level] == pid &&
			    (!own || c->parent == k->tgid))
				return c->tid;
		}
	return pid;
}

/*
 * Whether a wait4 that returned pid reaped it: a traced process is reaped
 * only once its exit has been reported to us (the kernel shows a tracee's
 * zombie to its tracer first); one still alive was reported stopped or
 * continued. A process we do not trace: taken as reaped.
 */
static bool tracer_wait_reaped(struct tracer *t, pid_t pid)
{
	struct tracer_task *c = tracer_task(t, pid, false);

	return !c || c->dead;
}

/*
 * alarm, setitimer or timer_settime returned rval: what the process's timers
 * are now, for the deadlock check (tracer_timer_wakes). Only ITIMER_REAL
 * counts among the itimers: ITIMER_VIRTUAL and ITIMER_PROF advance only
 * while the process runs, so they never fire once all its threads block.
 */
static void tracer_exit_alarm(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	struct tracer_task *p = tracer_leader(t, k);

	if (!p || rval < 0)
		return;
	p->alarm_ns = k->args[0] ? now_ns() + (uint64_t)(unsigned)k->args[0] * 1000000000ULL : 0;
	p->alarm_repeats = false;
}

static void tracer_exit_setitimer(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	struct tracer_task *p = tracer_leader(t, k);
	struct itimerval itv;

	if (!p || rval < 0)
		return;
	if (k->args[0] != ITIMER_REAL)
		return;
	/* A NULL new value disarms it, as a zero one does. */
	memset(&itv, 0, sizeof(itv));
	if (k->args[1] && !tracer_read_mem(k->tid, k->args[1], &itv, sizeof(itv))) {
		/* Unreadable: it may be armed for good. */
		p->alarm_repeats = true;
		return;
	}
	p->alarm_ns = itv.it_value.tv_sec || itv.it_value.tv_usec
			      ? now_ns() + (uint64_t)itv.it_value.tv_sec * 1000000000ULL +
					(uint64_t)itv.it_value.tv_usec * 1000ULL
			      : 0;
	p->alarm_repeats = p->alarm_ns && (itv.it_interval.tv_sec || itv.it_interval.tv_usec);
}

static void tracer_exit_timer_settime(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	struct tracer_task *p = tracer_leader(t, k);
	struct itimerspec its;

	if (!p || rval < 0)
		return;
	/* Armed unless the new value is read and zero; a disarm of one timer says nothing of the others. */
	if (!k->args[2] || !tracer_read_mem(k->tid, k->args[2], &its, sizeof(its)) || its.it_value.tv_sec ||
	    its.it_value.tv_nsec)
		p->posix_timers = true;
}

static void tracer_exit_pipe(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	struct evlog_record *r;
	int fds[2];

	if (rval != 0 || !tracer_read_mem(k->tid, k->args[0], fds, sizeof(fds)))
		return;
	tracer_fd_changed(t, k, (uint64_t)fds[0], (uint64_t)fds[0]);
	tracer_fd_changed(t, k, (uint64_t)fds[1], (uint64_t)fds[1]);
	tracer_know(tracer_leader(t, k), fds[0], true);
	tracer_know(tracer_leader(t, k), fds[1], true);
	r = tracer_event(t, EV_PIPE, k->tgid);
	r->fd = fds[0];
	r->fd2 = fds[1];
	r->result = 0;
	r->has = HAS_FD | HAS_FD2 | HAS_RESULT;
	if (tracer_observe(t, k->tgid, k->tid, fds[0], r, true) == 0 && (r->has & HAS_INODE))
		inomap_put(&t->pipes, r->inode, 1);
	tracer_stack(t, k->tgid, k->tid);
}

static void tracer_exit_socketpair(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	struct evlog_record *r;
	int fds[2];
	uint64_t ino[2];

	if (rval != 0 || !tracer_read_mem(k->tid, k->args[3], fds, sizeof(fds)))
		return;
	tracer_fd_changed(t, k, (uint64_t)fds[0], (uint64_t)fds[0]);
	tracer_fd_changed(t, k, (uint64_t)fds[1], (uint64_t)fds[1]);
	/* Both ends' inodes, from their links: the pair is known from here on. */
	for (int i = 0; i < 2; i++) {
		char path[96], link[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/fd/%d", (int)k->tgid, (int)k->tid, fds[i]);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 8)
			return;
		link[n] = '\0';
		if (strncmp(link, "socket:[", 8) || !(ino[i] = strtoull(link + 8, NULL, 10)))
			return;
	}
	tracer_know(tracer_leader(t, k), fds[0], true);
	tracer_know(tracer_leader(t, k), fds[1], true);
	inomap_put(&t->socks, ino[0], (int64_t)ino[1]);
	inomap_put(&t->socks, ino[1], (int64_t)ino[0]);
	r = tracer_event(t, EV_SOCKETPAIR, k->tgid);
	r->fd = fds[0];
	r->fd2 = fds[1];
	r->inode = ino[0];
	r->arg = (int64_t)ino[1];
	r->pipe_end = END_SOCKET;
	r->result = 0;
	r->has = HAS_FD | HAS_FD2 | HAS_RESULT | HAS_INODE | HAS_ARG;
	tracer_stack(t, k->tgid, k->tid);
}

static void tracer_exit_recvmmsg(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	/* Not a read for --io (its result counts messages, not bytes): only the fds it brought. */
	if (k->rights && rval > 0)
		tracer_received(t, k, rval);
}

/*
 * Of a socketpair end's sending side only: from then on its peer's reader
 * sees EOF, whoever else still holds this end (the socket is shut, not the
 * fd). Observed at the exit: a shutdown changes no fd.
 */
static void tracer_exit_shutdown(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	struct evlog_record *r, seen = { 0 };

	if (rval != 0 || (k->args[1] != SHUT_WR && k->args[1] != SHUT_RDWR) ||
	    tracer_observe(t, k->tgid, k->tid, (int)k->args[0], &seen, false) < 0 || seen.pipe_end != END_SOCKET)
		return;
	r = tracer_event(t, EV_SHUTDOWN, k->tgid);
	r->fd = (int)k->args[0];
	r->inode = seen.inode;
	r->pipe_end = END_SOCKET;
	r->arg = (int64_t)k->args[1];
	r->result = 0;
	r->has = HAS_FD | HAS_INODE | HAS_ARG | HAS_RESULT;
}

static void tracer_exit_close(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	struct evlog_record *r;

	if (k->recorded)
		return;
	/* Not open when called: the error it returned. */
	r = tracer_event(t, EV_CLOSE, k->tgid);
	r->fd = (int)k->args[0];
	r->result = rval;
	r->has = HAS_FD | HAS_RESULT;
}

static void tracer_exit_dup(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	struct evlog_record *r;

	if (rval < 0)
		return;
	tracer_fd_changed(t, k, (uint64_t)rval, (uint64_t)rval);
	tracer_know(tracer_leader(t, k), (int)rval, true);
	r = tracer_event(t, k->row->decoder == SYSCALL_DEC_DUP2 ? EV_DUP2 : EV_DUP, k->tgid);
	r->fd = (int)rval;
	r->fd2 = (int)k->args[0];
	r->result = rval;
	r->arg = k->replaced;
	r->has = HAS_FD | HAS_FD2 | HAS_RESULT | HAS_ARG;
	tracer_observe(t, k->tgid, k->tid, (int)rval, r, true);
	tracer_stack(t, k->tgid, k->tid);
}

static void tracer_exit_wait4(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	pid_t pid = rval > 0 ? tracer_pid_of(t, k, (pid_t)rval) : 0;
	int status = 0;
	bool told;

	if (rval <= 0 || !tracer_wait_reaped(t, pid))
		return;
	told = k->args[1] && tracer_read_mem(k->tid, k->args[1], &status, sizeof(status));
	/* WUNTRACED, WCONTINUED: a stop or a continue is reported, nothing is reaped. */
	if (told && (WIFSTOPPED(status) || WIFCONTINUED(status)))
		return;
	tracer_reaped(t, k->tgid, pid, told ? &status : NULL);
}

static void tracer_exit_waitid(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	siginfo_t si;
	int status;

	if (rval != 0 || (k->args[3] & WNOWAIT) || !tracer_read_mem(k->tid, k->args[2], &si, sizeof(si)) ||
	    !si.si_pid)
		return;
	/* WSTOPPED, WCONTINUED (CLD_STOPPED, CLD_TRAPPED, CLD_CONTINUED) only report. */
	if (si.si_code != CLD_EXITED && si.si_code != CLD_KILLED && si.si_code != CLD_DUMPED)
		return;
	status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : si.si_status & 0x7f;
	tracer_reaped(t, k->tgid, tracer_pid_of(t, k, si.si_pid), &status);
}

/* Each kind of call's decoders, by enum syscall_decoder (syscalls.c's rows name theirs). */
struct tracer_decoder {
	void (*enter)(struct tracer *t, struct tracer_task *k);             /* at the seccomp (or entry) stop */
	void (*exit)(struct tracer *t, struct tracer_task *k, int64_t rval); /* at the exit stop, with its result */
};

static const struct tracer_decoder tracer_decoders[SYSCALL_DEC_COUNT] = {
	[SYSCALL_DEC_PIPE] = { NULL, tracer_exit_pipe },
	[SYSCALL_DEC_SOCKETPAIR] = { NULL, tracer_exit_socketpair },
	[SYSCALL_DEC_CLOSE] = { tracer_enter_close, tracer_exit_close },
	[SYSCALL_DEC_CLOSE_RANGE] = { tracer_enter_close_range, NULL },
	[SYSCALL_DEC_DUP] = { tracer_enter_dup, tracer_exit_dup },
	[SYSCALL_DEC_DUP2] = { tracer_enter_dup2, tracer_exit_dup },
	[SYSCALL_DEC_SHUTDOWN] = { NULL, tracer_exit_shutdown },
	[SYSCALL_DEC_WAIT4] = { NULL, tracer_exit_wait4 },
	[SYSCALL_DEC_WAITID] = { NULL, tracer_exit_waitid },
	[SYSCALL_DEC_EXEC] = { tracer_enter_exec, NULL }, /* its end is the exec event (tracer_exec) */
	[SYSCALL_DEC_RECVMMSG] = { NULL, tracer_exit_recvmmsg },
	[SYSCALL_DEC_ALARM] = { NULL, tracer_exit_alarm },
	[SYSCALL_DEC_SETITIMER] = { NULL, tracer_exit_setitimer },
	[SYSCALL_DEC_TIMER_SETTIME] = { NULL, tracer_exit_timer_settime },
};

/*
 * At a seccomp stop: what the call will change must be seen before it does.
 * A close of an open fd is recorded here, not at its exit: threads share the
 * fd table, and another thread's pipe() may reuse the number the moment the
 * kernel releases it, before this call returns. Recorded at the entry, the
 * close comes first, as it did. (close always releases an open fd, whatever
 * it returns: its result is recorded as 0.)
 */
static void tracer_call_entry(struct tracer *t, struct tracer_task *k)
{
	const struct tracer_decoder *dec;

	memset(&k->before, 0, sizeof(k->before));
	memset(&k->before_out, 0, sizeof(k->before_out));
	k->io_in = k->io_out = -1;
	k->replaced = false;
	k->recorded = false;
	k->skip_exit = false;
	k->rights = (k->row->flags & SYSCALL_RIGHTS) && tracer_rights_room(k);
	/* Never left over from an earlier call: that would write into memory the program reuses. */
	assert(k->undo.kind == UNDO_NONE);
	/* An i386 call stopped at and not blind is its clone or clone3 (tracer_blind_call). */
	if (k->arch == AUDIT_ARCH_I386 || (k->row->flags & SYSCALL_UNTRACED)) {
		tracer_keep_traced(k);
		return;
	}
	if (t->cfg->io && (k->row->flags & SYSCALL_IO)) {
		/* --io: only calls on a pipe are recorded; the rest run on unstopped. */
		tracer_io_entry(t, k);
		k->skip_exit = k->io_in < 0 && k->io_out < 0 && !k->rights;
		return;
	}
	if (k->row->flags & SYSCALL_RIGHTS) {
		k->skip_exit = !k->rights;
		return;
	}
	dec = &tracer_decoders[k->row->decoder];
	if (dec->enter)
		dec->enter(t, k);
}

/* At the call's exit stop: record it with its result. */
static void tracer_call_exit(struct tracer *t, struct tracer_task *k, int64_t rval)
{
	const struct tracer_decoder *dec = &tracer_decoders[k->row->decoder];

	if (k->undo.kind != UNDO_NONE)
		tracer_undo(k->tid, &k->undo);
	if (k->arch == AUDIT_ARCH_I386)
		return; /* an i386 clone: its child is its fork event's */
	if (k->row->flags & SYSCALL_IO) {
		/* splice from one pipe into another is a read of the one and a write of the other. */
		if (k->io_in >= 0)
			tracer_io_event(t, k, rval == 0 ? EV_READ_ZERO : EV_READ, k->io_in, rval, &k->before);
		if (k->io_out >= 0)
			tracer_io_event(t, k, EV_WRITE, k->io_out, rval, &k->before_out);
		if (k->rights && rval >= 0)
			tracer_received(t, k, rval);
		return;
	}
	if (dec->exit)
		dec->exit(t, k, rval);
}

/*
 * After an exec: whether the program the process now runs is setuid, setgid
 * or has file capabilities that it did not get, as happens under ptrace for
 * a tracer without CAP_SYS_PTRACE and under no-new-privileges. The program
 * then behaves otherwise than untraced: the run says so.
 */
static void tracer_check_privileges(struct tracer *t, pid_t pid, const char *exe)
{
	char path[64], status[4096], why[PATH_MAX + 96];
	const char *p, *lost = NULL;
	unsigned long euid = 0, egid = 0, prm = 0;
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) < 0 || !(st.st_mode & (S_ISUID | S_ISGID) || getxattr(path, "security.capability", NULL, 0) > 0))
		return;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small_file(path, status, sizeof(status)) < 0)
		return;
	if ((p = strstr(status, "\nUid:")))
		sscanf(p + 5, "%*u %lu", &euid);
	if ((p = strstr(status, "\nGid:")))
		sscanf(p + 5, "%*u %lu", &egid);
	if ((p = strstr(status, "\nCapPrm:")))
		prm = strtoul(p + 8, NULL, 16);
	if ((st.st_mode & S_ISUID) && euid != st.st_uid)
		lost = "setuid";
	else if ((st.st_mode & S_ISGID) && egid != st.st_gid && (st.st_mode & S_IXGRP))
		lost = "setgid";
	else if (!(st.st_mode & (S_ISUID | S_ISGID)) && prm == 0)
		lost = "file capability";
	if (!lost)
		return;
	/* A reason may not hold "; " (session_mark_incomplete's separator). */
	snprintf(why, sizeof(why), "%s ran without its %s privileges, which a traced exec did not get",
		 strstr(exe, "; ") ? "a program" : exe, lost);
	session_mark_incomplete(t->ss, why);
}

/* The exec event: the new program, and the fds its close-on-exec flags closed. */
static void tracer_exec(struct tracer *t, struct tracer_task *k)
{
	char path[64], exe[PATH_MAX + 1];
	struct evlog_record *r;
	int *now;
	size_t n, j = 0;
	ssize_t len;

	tracer_fd_changed(t, k, 0, UINT64_MAX);
	/* exec deletes the POSIX timers; alarm and setitimer's ITIMER_REAL survive it. */
	if (tracer_leader(t, k))
		tracer_leader(t, k)->posix_timers = false;
	r = tracer_event(t, EV_EXEC, k->tgid);
	if (t->stacks) {
		/* Where the old program called execve; what it maps now is another program's. */
		stacks_link(t->stacks, t->seq, k->exec_stack);
		stacks_forget(t->stacks, k->tgid);
		k->exec_stack = 0;
	}
	t->top_execd |= k->tgid == t->top;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)k->tgid);
	len = readlink(path, exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	evlog_texts_attach(&t->texts, r, exe);
	tracer_check_privileges(t, k->tgid, exe);
	if (t->attached && !(k->in_call && (k->nr == SYS_execve || k->nr == SYS_execveat)))
		session_mark_incomplete(t->ss, "an exec was under way at the attach: what its close-on-exec flags closed is not known");
	n = tracer_list_fds(k->tgid, k->tid, &now);
	for (size_t i = 0; i < k->nexec_fds; i++) {
		while (j < n && now[j] < k->exec_fds[i])
			j++;
		if (j < n && now[j] == k->exec_fds[i])
			continue;
		r = tracer_event(t, EV_CLOEXEC, k->tgid);
		r->fd = k->exec_fds[i];
		r->has = HAS_FD;
	}
	tracer_know_only(tracer_leader(t, k), now, n);
	free(now);
	free(k->exec_fds);
	k->exec_fds = NULL;
	k->nexec_fds = 0;
}

/*
 * The exec event of an execve made by a thread other than the main one. The
 * kernel has ended every other thread, the main one without a death to
 * report (its exit stop was seen, status 0), and given the execing thread
 * the process's pid as its tid: the event comes under it, and former is the
 * tid it had. What that thread was doing (the execve and the fds open when
 * it was called) moves onto the main thread's task, which keeps what the
 * process owns; the process did not exit. Returns the task, now under tid.
 */
static struct tracer_task *tracer_exec_takeover(struct tracer *t, pid_t tid, pid_t former)
{
	struct tracer_task *f = tracer_task(t, former, false), *k, moved;

	if (!f)
		return tracer_task(t, tid, true);
	moved = *f;
	f->exec_fds = NULL; /* moved */
	f->fdc = NULL;
	f->fdset = NULL;
	tracer_forget(t, f);
	if (!(k = tracer_task(t, tid, false))) {
		/* No main thread known: the execing thread's task becomes the process's. */
		k = tracer_task(t, tid, true);
		*k = moved;
		k->tid = k->tgid = tid;
		k->process = true;
	} else {
		free(moved.fdc);
		free(moved.fdset);
		free(k->exec_fds);
		k->exec_fds = moved.exec_fds;
		k->nexec_fds = moved.nexec_fds;
		k->nr = moved.nr;
		k->row = moved.row;
		memcpy(k->args, moved.args, sizeof(k->args));
		k->in_call = moved.in_call;
		k->skip_exit = moved.skip_exit;
		k->undo = moved.undo;
	}
	k->known = true;
	k->fresh = k->held = false;
	k->exiting = k->dead = false;
	k->clear_tid = 0; /* exec clears it, waking any joiner */
	return k;
}

/*
 * Thread k stopped on its way out (PTRACE_EVENT_EXIT) with status. A
 * process exits with its last thread, not with its main one: a main thread
 * that called pthread_exit leaves the others running on the process's fds,
 * and at an exec from another thread the main one is ended too while the
 * process lives on (tracer_exec_takeover). So the process's exit is
 * recorded at its last thread's stop, with that thread's status (after an
 * exit_group, every thread's is the group's).
 */
static void tracer_thread_exit(struct tracer *t, struct tracer_task *k, int status)
{
	struct evlog_record *r;

	k->exiting = true;
	if (!k->known)
		return; /* a thread whose clone event is still to come: its process has another */
	for (size_t i = 0; i < t->tasks.cap; i++) {
		const struct tracer_task *o = pidmap_at(&t->tasks, i);

		if (o && o->known && o->tgid == k->tgid && !o->exiting && !o->dead)
			return;
	}
	if (!WIFEXITED(status))
		return;
	r = tracer_event(t, EV_EXIT, k->tgid);
	r->arg = WEXITSTATUS(status);
	r->has = HAS_ARG;
}

/* ---- stops ---- */

/*
 * Attached, no seccomp filter stops the program at the calls that matter
 * (none can be added to a running process): every call stops, at its entry
 * and its exit, and tracer_stopped asks syscall_stops which ones the filter
 * would have stopped. So a resume that would run on to the next filtered
 * call runs on to the next call instead.
 */
static void tracer_resume(const struct tracer *t, pid_t tid, enum __ptrace_request how, int sig)
{
	if (t->attached && how == PTRACE_CONT)
		how = PTRACE_SYSCALL;
	/* ESRCH: it died meanwhile (SIGKILL); its exit is reported anyway. */
	ptrace(how, tid, 0, (void *)(long)sig);
}

/*
 * At a clone event, for a new thread: the address its parent asked the
 * kernel to clear and wake when the thread exits (CLONE_CHILD_CLEARTID).
 * pthread_join waits on that word with a futex, which is how hang.c knows
 * whom a thread in futex_wait is joining. 0 when not a thread or unknown.
 */
static uint64_t tracer_clear_tid(pid_t parent)
{
	struct user_regs_struct regs;
	uint64_t flags, ctid, args[3];

	if (ptrace(PTRACE_GETREGS, parent, 0, &regs) < 0)
		return 0;
	/* An i386 task (int $0x80: 32-bit code segment): its clone's registers are others; not followed. */
	if (regs.cs == 0x23)
		return 0;
	if (regs.orig_rax == SYS_clone) {
		flags = regs.rdi;
		ctid = regs.r10; /* clone(flags, stack, parent_tid, child_tid, tls) on x86-64 */
	} else if (regs.orig_rax == SYS_clone3 && tracer_read_mem(parent, regs.rdi, args, sizeof(args))) {
		flags = args[0]; /* struct clone_args: flags, pidfd, child_tid, ... */
		ctid = args[2];
	} else {
		return 0;
	}
	return (flags & CLONE_THREAD) && (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
}

/*
 * A parent's fork, vfork or clone event: the new task is known now. It is
 * stopped by the kernel until we resume it, whichever came first, its stop
 * or this event; so its fds are read before it runs.
 */
/*
 * What /proc/TID/status says of task k: its process (Tgid) and its pid in
 * each namespace (NSpid) into k, and its parent's pid (PPid) into *ppid
 * when ppid is not NULL (-1 if unknown).
 */
static void tracer_read_status(struct tracer_task *k, pid_t *ppid)
{
	char path[64], buf[4096], *p;
	bool read;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)k->tid);
	read = read_small_file(path, buf, sizeof(buf)) > 0;
	k->tgid = read && (p = strstr(buf, "\nTgid:")) ? (pid_t)strtol(p + 6, NULL, 10) : k->tid;
	k->process = k->tgid == k->tid;
	if (ppid)
		*ppid = read && (p = strstr(buf, "\nPPid:")) ? (pid_t)strtol(p + 6, NULL, 10) : -1;
	if (read && (p = strstr(buf, "\nNSpid:"))) {
		char *end;

		p += 7;
		for (int i = 0; i < TRACER_NS_MAX; i++, p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			k->nspid[i] = (pid_t)v;
			k->nslevel = i;
		}
	}
}

static void tracer_new_task(struct tracer *t, struct tracer_task *parent, pid_t tid)
{
	/* Read before the table may change, which moves the parent's slot. */
	pid_t parent_tgid = parent->tgid, parent_tid = parent->tid;
	struct tracer_undo undo = parent->undo;
	struct tracer_task *k = tracer_task(t, tid, false);

	/* A pid whose process ended and was reaped outside the program (attached: the
	 * first process's parent is not ours) may come back as this new one. */
	if (k && k->dead)
		tracer_forget(t, k);
	k = tracer_task(t, tid, true);
	tracer_read_status(k, NULL);
	k->parent = parent_tgid;
	k->known = true;
	/* The child holds a copy of what keep_traced changed, unless its memory is the parent's. */
	if (undo.kind == UNDO_RDI || undo.kind == UNDO_RBX || (undo.kind == UNDO_MEM && !undo.shared))
		k->undo = undo;
	if (k->process) {
		/* The parent's fds made by calls not traced may come first (tracer_born). */
		uint64_t fork_seq = tracer_born(t, tid, parent_tgid, tracer_task(t, parent_tid, false));

		/* --stacks: the parent's, stopped at its fork event, for the child's fork event. */
		if (t->stacks)
			stacks_link(t->stacks, fork_seq, stacks_capture(t->stacks, parent_tgid, parent_tid));
	}
	if (k->held) {
		if (k->undo.kind != UNDO_NONE)
			tracer_undo(tid, &k->undo);
		k->held = false;
		tracer_resume(t, tid, PTRACE_CONT, 0);
	} else {
		k->fresh = true;
	}
}

/*
 * A call of an ABI or kind the trace cannot follow (an i386 or x32 call, an
 * io_uring ring): the run is marked incomplete, with why, and the call runs
 * on. Returns true for such a call.
 */
static bool tracer_blind_call(struct tracer *t, uint32_t arch, uint64_t nr)
{
	const struct syscall_row *row;

	if (arch == AUDIT_ARCH_X86_64 && nr >= SYSCALL_X32_BIT && nr < SYSCALL_X32_END) {
		session_mark_incomplete(t->ss, SYSCALL_X32_INCOMPLETE);
		return true;
	}
	row = syscall_find(arch, (long)nr);
	/* clone, clone3 of either ABI: followed (their child is kept traced). */
	if (row && (row->flags & SYSCALL_UNTRACED))
		return false;
	if (arch == AUDIT_ARCH_X86_64 && !(row && (row->flags & SYSCALL_BLIND)))
		return false;
	session_mark_incomplete(t->ss, row && row->incomplete ? row->incomplete : "calls of an unknown ABI");
	return true;
}

/* A call the filter stops at (or, attached, syscall_stops names) begins: what it will change is seen now. */
static void tracer_call_begins(struct tracer *t, struct tracer_task *k, uint32_t arch, uint64_t nr,
			       const uint64_t args[6])
{
	/* What the filter (or syscall_stops) stops at and tracer_blind_call lets through has a row. */
	static const struct syscall_row none = { .decoder = SYSCALL_DEC_NONE, .io_in = -1, .io_out = -1 };

	k->arch = arch;
	k->nr = (long)nr;
	k->row = syscall_find(arch, (long)nr);
	assert(k->row);
	if (!k->row)
		k->row = &none;
	memcpy(k->args, args, sizeof(k->args));
	k->in_call = true;
	tracer_call_entry(t, k);
	k->in_call = !k->skip_exit;
}

static void tracer_stopped(struct tracer *t, pid_t tid, int status)
{
	struct tracer_task *k = tracer_task(t, tid, true);
	int sig = WSTOPSIG(status), event = status >> 16;
	/* Zeroed: valgrind does not know the kernel fills it. */
	struct __ptrace_syscall_info info = { 0 };
	unsigned long msg = 0;

	if (sig == (SIGTRAP | 0x80) && t->attached) {
		/* Attached: every call's entry and exit stop (see tracer_resume).
		 * An exit whose entry was not seen (the call was under way at the
		 * attach, or not one the filter would stop) records nothing. */
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) > 0 &&
		    info.op == PTRACE_SYSCALL_INFO_ENTRY && !k->in_call &&
		    syscall_stops(info.arch, (long)info.entry.nr, info.entry.args, t->cfg->io) &&
		    !tracer_blind_call(t, info.arch, info.entry.nr)) {
			tracer_call_begins(t, k, info.arch, info.entry.nr, info.entry.args);
		} else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
			if (k->in_call)
				tracer_call_exit(t, k, info.exit.rval);
			if ((k = tracer_task(t, tid, false)))
				k->in_call = false;
		}
		tracer_resume(t, tid, PTRACE_SYSCALL, 0);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) {
		/* A syscall stop after a seccomp stop: entry (older kernels) or exit. */
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) > 0 &&
		    info.op == PTRACE_SYSCALL_INFO_EXIT) {
			if (k->in_call)
				tracer_call_exit(t, k, info.exit.rval);
			/* A reap in it may have removed a task and moved this one. */
			if ((k = tracer_task(t, tid, false)))
				k->in_call = false;
			tracer_resume(t, tid, PTRACE_CONT, 0);
		} else {
			tracer_resume(t, tid, PTRACE_SYSCALL, 0);
		}
		return;
	}
	if (k->pending) {
		/* Attached: a task's first stop came after the attach was done (it
		 * was in an uninterruptible sleep, a vfork parent say). Our
		 * interrupt's stop is swallowed; any other is the program's. */
		k->pending = false;
		if (event == PTRACE_EVENT_STOP && sig == SIGTRAP) {
			tracer_resume(t, tid, PTRACE_SYSCALL, 0);
			return;
		}
	}
	if (event == PTRACE_EVENT_STOP) {
		if (k->fresh) {
			/* A new tracee's first stop is ours, not the program's. */
			k->fresh = false;
			if (k->undo.kind != UNDO_NONE)
				tracer_undo(tid, &k->undo);
			tracer_resume(t, tid, PTRACE_CONT, 0);
		} else if (!k->known) {
			/* Stopped before its parent's event: it stays so until that event. */
			k->held = true;
		} else if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			/* A group-stop (job control): it stays stopped until SIGCONT, as untraced. */
			tracer_resume(t, tid, PTRACE_LISTEN, 0);
		} else {
			tracer_resume(t, tid, PTRACE_CONT, 0); /* the stop ended */
		}
		return;
	}
	if (sig == SIGTRAP && event) {
		switch (event) {
		case PTRACE_EVENT_SECCOMP:
			if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) > 0 &&
			    info.op == PTRACE_SYSCALL_INFO_SECCOMP && tracer_blind_call(t, info.arch, info.seccomp.nr))
				break; /* resumed below, with no exit stop */
			if (info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
				tracer_call_begins(t, k, info.arch, info.seccomp.nr, info.seccomp.args);
				tracer_resume(t, tid, k->in_call ? PTRACE_SYSCALL : PTRACE_CONT, 0);
				return;
			}
			break;
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE:
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0) {
				struct tracer_task *child;

				tracer_new_task(t, k, (pid_t)msg); /* may move the tasks: k is not used after */
				if (event == PTRACE_EVENT_CLONE && (child = tracer_task(t, (pid_t)msg, false)))
					child->clear_tid = tracer_clear_tid(tid);
			}
			break;
		case PTRACE_EVENT_EXEC:
			/* From a thread other than the main one: the tid it had. */
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0 && (pid_t)msg != tid)
				k = tracer_exec_takeover(t, tid, (pid_t)msg);
			tracer_exec(t, k);
			break;
		case PTRACE_EVENT_EXIT:
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) < 0)
				msg = (unsigned long)W_EXITCODE(0, SIGKILL); /* unknown: no exit code is made up */
			tracer_thread_exit(t, k, (int)msg);
			break;
		default:
			break;
		}
		/* A clone whose flags keep_traced changed must still stop at its
		 * exit, where they are put back (k may have moved: look again). */
		k = tracer_task(t, tid, false);
		tracer_resume(t, tid, k && k->in_call && k->undo.kind != UNDO_NONE ? PTRACE_SYSCALL : PTRACE_CONT, 0);
		return;
	}
	if (!k->known) {
		/* Stopped before its parent's event: it stays so until that event. */
		k->held = true;
		return;
	}
	/* A signal for the program: delivered as it would have been. */
	tracer_resume(t, tid, PTRACE_CONT, sig);
}

/* A traced thread ended (waitpid told us). */
static void tracer_ended(struct tracer *t, pid_t tid, int status)
{
	struct tracer_task *k = tracer_task(t, tid, false);

	if (!k)
		return;
	if (!k->process) {
		tracer_forget(t, k);
		return;
	}
	if (t->stacks)
		stacks_forget(t->stacks, tid);
	/* Its children are pooltrace's now (we are their subreaper); attached,
	 * they go to a reaper outside the program, which is not traced. */
	for (size_t i = 0; i < t->tasks.cap; i++) {
		struct tracer_task *c = pidmap_at(&t->tasks, i);

		if (c && c->process && c->parent == k->tgid)
			c->parent = t->attached ? -1 : t->self;
	}
	if (tid == t->top) {
		t->top_status = status;
		t->top_ended = true;
	}
	if (k->parent == t->self || k->parent == -1) {
		/* Our child: this waitpid was its reap, and its pid is free from
		 * now on, so it leaves the table (a kill of the program must
		 * never reach whoever gets the pid next). */
		k->dead = true;
		if (k->parent == t->self)
			tracer_reaped(t, t->self, tid, &status);
		else
			tracer_forget(t, k);
		return;
	}
	k->dead = true; /* its parent's wait4 will reap it */
	k->end_status = status;
}

/* ---- deadlock ---- */

static void tracer_kill_all(struct tracer *t)
{
	t->killing = true;
	for (size_t i = 0; i < t->tasks.cap; i++) {
		struct tracer_task *k = pidmap_at(&t->tasks, i);
		struct evlog_record *r;

		if (!k || k->dead)
			continue;
		if (!k->known) {
			/* Stopped before its parent's fork event was seen (or not yet
			 * stopped): it is the program's too, though not recorded yet. */
			kill(k->tid, SIGKILL);
			continue;
		}
		if (!k->process)
			continue;
		r = tracer_event(t, EV_KILL, t->self);
		r->other_pid = k->tid;
		r->signal = SIGKILL;
		r->has = HAS_OTHER_PID | HAS_SIGNAL;
		kill(k->tid, SIGKILL);
	}
}

/*
 * The program's live threads, each with its process: a process is stuck
 * only when every one of its threads is (another may be about to write).
 * *out is allocated.
 */
static size_t tracer_threads(struct tracer *t, struct hang_task **out)
{
	struct hang_task *tasks = xcalloc(t->tasks.len ? t->tasks.len : 1, sizeof(*tasks));
	size_t n = 0;

	for (size_t i = 0; i < t->tasks.cap; i++) {
		const struct tracer_task *k = pidmap_at(&t->tasks, i);

		if (k && !k->dead)
			tasks[n++] = (struct hang_task){ k->tgid, k->tid, k->clear_tid };
	}
	*out = tasks;
	return n;
}

/* A thread found blocked at the deadlock, by its hang event. */
struct tracer_hung {
	uint64_t seq;
	pid_t tgid, tid;
};

/*
 * --stacks: the stack each thread blocks in, for its hang event, just
 * before the program is killed. A thread blocked in the kernel is in no
 * stop of ours, so every one is interrupted (PTRACE_INTERRUPT), then each
 * is unwound at its interrupt stop, where its registers are those of its
 * call. It is left stopped: the kill that follows ends it from there. Not
 * for a program attached to and let go: the interrupt would end its call
 * early (the kernel restarts it, but an attached task also stops at that
 * exit, which the loop would take for the call's end), so its run has no
 * such stacks. All are interrupted first and waited for together, for
 * 100 ms in all: one that does not stop by then (it cannot be: nothing
 * moves) keeps its hang event without a stack, and its stop comes to the
 * loop later, which resumes it. A stop with an event the loop must see (an
 * exit, a fork, an exec that came first) goes to the loop's own handling,
 * as do ends.
 */
static void tracer_hang_stacks(struct tracer *t, const struct tracer_hung *hung, size_t n)
{
	bool *waiting = xcalloc(n + 1, sizeof(*waiting));
	uint64_t until = now_ns() + 100 * 1000000ULL;
	size_t left = 0;

	for (size_t i = 0; i < n; i++)
		left += waiting[i] = ptrace(PTRACE_INTERRUPT, hung[i].tid, 0, 0) == 0;
	while (left && now_ns() < until) {
		bool any = false;

		for (size_t i = 0; i < n; i++) {
			int status = 0;
			pid_t got;

			if (!waiting[i] || (got = waitpid(hung[i].tid, &status, __WALL | WNOHANG)) == 0)
				continue;
			waiting[i] = false;
			left--;
			any = true;
			if (got != hung[i].tid)
				continue;
			/* The interrupt's stop, or one before it that carries no event to handle: the exit of
			 * the blocked call (a traced one, wait4, ends with -ERESTARTSYS first) or a signal's. */
			if (WIFSTOPPED(status) && (status >> 16 == PTRACE_EVENT_STOP || status >> 16 == 0))
				stacks_link(t->stacks, hung[i].seq, stacks_capture(t->stacks, hung[i].tgid, hung[i].tid));
			else if (WIFSTOPPED(status))
				tracer_stopped(t, got, status);
			else
				tracer_ended(t, got, status);
		}
		if (!any)
			sleep_ms(1);
	}
	free(waiting);
}

/*
 * A hang or blocked event with p's evidence. Its text may outgrow a record's
 * (poll's fds, up to POLLWAIT_MAX of them): then it is kept whole aside.
 */
static void tracer_evidence(struct tracer *t, int kind, const struct hang_proc *p)
{
	struct evlog_record *r = tracer_event(t, kind, p->pid);
	char text[POLLWAIT_MAX * 12 + 256];

	hang_evidence(p, r);
	/* Only a text that filled the record may have been cut: described again, whole. */
	if (strlen(r->text) + 1 < sizeof(r->text))
		return;
	hang_evidence_text(p, text, sizeof(text));
	if (strlen(text) >= sizeof(r->text))
		evlog_texts_attach(&t->texts, r, text);
}

/* hang_outside_holders' question: is this process the program's? */
static bool tracer_in_program(void *ctx, pid_t pid)
{
	return tracer_task(ctx, pid, false) != NULL;
}

/*
 * Whether a timer of the program's may still wake it, though all its threads
 * are blocked: ITIMER_REAL not yet fired (or repeating), or a POSIX timer,
 * whose signal the process catches in a thread that does not block it. Then
 * the program can still move, and it is not a deadlock yet; once the timer
 * has fired and nothing moved, the next check finds one. A timer whose
 * signal has its default action (SIGALRM ends the process) is a watchdog,
 * not a way out: that is still a deadlock.
 */
static bool tracer_timer_wakes(struct tracer *t, const struct hang_proc *p, size_t n)
{
	uint64_t now = now_ns();
	pid_t *tids = xcalloc(n, sizeof(*tids));
	bool wakes = false;

	for (size_t i = 0; i < n && !wakes; i++) {
		struct tracer_task *k = tracer_task(t, p[i].pid, false);
		size_t ntids = 0;
		bool first = true;
		int sigs[16], nsigs;

		for (size_t j = 0; j < i && first; j++)
			first = p[j].pid != p[i].pid;
		if (!first || !k || !(k->posix_timers || k->alarm_repeats || k->alarm_ns > now))
			continue;
		for (size_t j = i; j < n; j++)
			if (p[j].pid == p[i].pid)
				tids[ntids++] = p[j].tid;
		if ((k->alarm_repeats || k->alarm_ns > now) && wake_caught(p[i].pid, tids, ntids, SIGALRM))
			wakes = true;
		if (!wakes && k->posix_timers) {
			nsigs = wake_timer_signals(p[i].pid, sigs, sizeof(sigs) / sizeof(sigs[0]));
			/* /proc cannot say, or too many to look at: it may wake. */
			wakes = nsigs < 0 || (size_t)nsigs > sizeof(sigs) / sizeof(sigs[0]);
			for (int j = 0; j < nsigs && !wakes; j++)
				wakes = wake_caught(p[i].pid, tids, ntids, sigs[j]);
		}
	}
	free(tids);
	return wakes;
}

/* The deadlock check's view of the program (deadlock_check): its live threads, and what else may wake them. */
struct tracer_probe {
	struct tracer *t;
	struct hang_task *tasks;
	size_t ntasks;
	size_t unread;             /* processes outside whose fds could not be read (hang_outside_holders) */
	struct tracer_hung *hung;  /* the hang events recorded, for --stacks */
	size_t nhung;
};

static ssize_t tracer_probe_scan(void *ctx, struct hang_proc **out)
{
	struct tracer_probe *pr = ctx;
	ssize_t n = hang_scan_tasks(pr->tasks, pr->ntasks, out);

	if (n > 0)
		hang_outside(*out, (size_t)n, tracer_inside, pr->t);
	return n;
}

static bool tracer_probe_can_move(void *ctx, struct hang_proc *p, size_t n)
{
	struct tracer_probe *pr = ctx;

	/* Only now the walk of every process: a pipe of the program's that one
	 * outside also holds (reopened through /proc, or handed over) may be
	 * written by it. */
	pr->unread = hang_outside_holders(p, n, tracer_in_program, pr->t);
	if (!hang_all_blocked(p, n))
		return true;
	/* A timer whose signal the program catches may yet run a handler that writes or closes. */
	return tracer_timer_wakes(pr->t, p, n);
}

static uint64_t tracer_probe_progress(void *ctx)
{
	return ((struct tracer_probe *)ctx)->t->seq;
}

/* No deadlock: note who is found blocked on a pipe, once each (see supervisor.c). */
static void tracer_probe_not_stuck(void *ctx, const struct hang_proc *p, size_t n)
{
	struct tracer *t = ((struct tracer_probe *)ctx)->t;

	for (size_t i = 0; i < n; i++)
		if (hang_seen_first(&t->seen, &p[i]))
			tracer_evidence(t, EV_BLOCKED, &p[i]);
}

static uint64_t tracer_sink_hang(void *ctx, const struct hang_proc *p)
{
	struct tracer_probe *pr = ctx;

	tracer_evidence(pr->t, EV_HANG, p);
	pr->hung[pr->nhung++] = (struct tracer_hung){ pr->t->seq, p->pid, p->tid };
	return pr->t->seq;
}

static uint64_t tracer_sink_sock_peer(void *ctx, uint64_t inode)
{
	return tracer_sock_peer(((struct tracer_probe *)ctx)->t, inode);
}

/*
 * Every process of the program blocked on a pipe or in a wait, twice 20 ms
 * apart, none scheduled and nothing recorded in between: a deadlock
 * (deadlock_check). Its evidence is recorded (deadlock_record: what each
 * waits in, and who holds the other end of each pipe a process is blocked
 * on: the wait_for view's edges), then the program is killed, or, attached,
 * let go.
 */
static void tracer_check_hang(struct tracer *t)
{
	struct tracer_probe pr = { .t = t };
	const struct deadlock_probe probe = { .ctx = &pr, .scan = tracer_probe_scan, .can_move = tracer_probe_can_move,
					      .progress = tracer_probe_progress, .not_stuck = tracer_probe_not_stuck };
	const struct deadlock_sink sink = { .ctx = &pr, .ingest = session_ingest(t->ss), .hang = tracer_sink_hang,
					    .sock_peer = tracer_sink_sock_peer };
	bool let_go = t->attached && !t->cfg->kill_on_deadlock;
	struct hang_proc *b;
	ssize_t nb;

	pr.ntasks = tracer_threads(t, &pr.tasks);
	nb = deadlock_check(&probe, &b);
	if (nb > 0) {
		/* Each table read again, through a live thread: a pipe held by an fd no traced
		 * call made is held at the hang too, in the holds as in the evidence. */
		for (ssize_t i = 0; i < nb; i++) {
			struct tracer_task *k = tracer_task(t, b[i].tid, false);

			if (k && deadlock_reads_fds(&b[i], b, (size_t)nb))
				tracer_reread(t, k, NULL, 0);
		}
		pr.hung = xcalloc((size_t)nb, sizeof(*pr.hung));
		deadlock_record(b, (size_t)nb, &sink);
		if (t->stacks && !let_go)
			tracer_hang_stacks(t, pr.hung, pr.nhung);
		free(pr.hung);
		if (!t->outcome)
			t->outcome = "deadlock";
		if (pr.unread)
			session_mark_incomplete(t->ss, "the deadlock was found without the fds of processes pooltrace"
						       " may not read, which might hold the program's pipes");
		/* Someone else's program, attached to: recorded, and left as it is. */
		if (let_go)
			t->detach_now = true;
		else
			tracer_kill_all(t);
		hang_procs_free(b, nb);
	}
	free(pr.tasks);
}

/* ---- the run ---- */

/* The seccomp filter of syscalls.c: stop at the calls that change fd tables or reap, and with io at reads and writes. */
static int tracer_install_filter(bool io)
{
	struct sock_filter code[SYSCALL_FILTER_MAX];
	struct sock_fprog prog = { (unsigned short)syscall_filter(io, code), code };

	/* With CAP_SYS_ADMIN (root) a filter needs no no-new-privileges, which
	 * would keep a setuid program of the program's from its privileges;
	 * a root tracer's tracee keeps them at exec. Without, it is required. */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)
		return 0;
	if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0 ? -errno : 0;
}

/* The program's process, up to its exec. Nothing of pooltrace's is open here. */
static _Noreturn void tracer_child(char *const *argv, bool io, const sigset_t *mask, pid_t tracer)
{
	/* Until it is seized (PTRACE_O_EXITKILL), nothing would end this child
	 * if pooltrace died now: it would sit stopped before its exec. So it
	 * asks for SIGKILL at its parent's death, and checks that pooltrace did
	 * not die before it asked. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != tracer)
		_exit(126);
	sigprocmask(SIG_SETMASK, mask, NULL);
	raise(SIGSTOP); /* pooltrace seizes us, sets its options and reads our fds meanwhile */
	/* Seized: EXITKILL covers us now. The program starts with none, as after a fork. */
	prctl(PR_SET_PDEATHSIG, 0);
	if (tracer_install_filter(io) < 0) {
		fprintf(stderr, "pooltrace record: cannot install the seccomp filter: %s\n", strerror(errno));
		_exit(126);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "pooltrace record: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static int tracer_begin_run(struct tracer *t)
{
	struct session_run run = {
		.source = t->attached ? "attach" : "record",
		.command = t->cfg->command,
		.crash_worker = -1,
		.io_events = t->cfg->io,
		.supervisor_pid = t->self,
	};

	return session_begin(t->cfg->db_path, &run, &t->ss);
}

static int tracer_finish(struct tracer *t, struct tracer_result *res)
{
	struct session_end end = { .outcome = res->outcome, .has_exit_status = res->exited, .exit_status = res->status,
				   .stacks = t->stacks ? stacks_rows(t->stacks) : NULL };

	if (tracer_flush(t, false) < 0) {
		session_fail(t->ss);
		return -EIO;
	}
	if (session_finish(t->ss, &end) < 0)
		return -EIO;
	res->events = session_events(t->ss);
	snprintf(res->incomplete, sizeof(res->incomplete), "%s", session_incomplete(t->ss) ? session_incomplete(t->ss) : "");
	/* Attached, a signal is how the run ends, not a wish to skip the counts
	 * (nor --fail-on): only a second one stops them. */
	if (t->attached)
		tracer_signal = 0;
	/* The run is stored: a count that cannot be read is reported, not fatal. */
	session_counts(t->ss, &res->leaked_write_ends, &res->eof_blockers, &tracer_signal);
	return 0;
}

static void tracer_detach_all(struct tracer *t);

/* Until every traced process is gone (or, attached, let go): handles stops and ends, commits, checks for deadlock. */
static int tracer_loop(struct tracer *t)
{
	sigset_t chld;
	uint64_t hang_ns = (uint64_t)t->cfg->hang_ms * 1000000ULL, last_check = 0;
	uint64_t until_ns = t->attached && t->cfg->for_ms ? now_ns() + (uint64_t)t->cfg->for_ms * 1000000ULL : 0;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
		struct timespec ts = { 0, 10 * 1000000L };

		if (tid > 0) {
			if (WIFSTOPPED(status))
				tracer_stopped(t, tid, status);
			else if (WIFEXITED(status) || WIFSIGNALED(status))
				tracer_ended(t, tid, status);
			if (t->nbatch >= 4096 && tracer_flush(t, false) < 0)
				return -EIO;
			continue;
		}
		if (tid < 0 && errno == ECHILD)
			return 0;
		if (tid < 0 && errno != EINTR)
			return error("waitpid: %s", strerror(errno));
		if (tracer_flush(t, false) < 0)
			return -EIO;
		/* Attached, a signal or --for's end means: let the program go. */
		if (t->attached && !t->killing && (tracer_signal || (until_ns && now_ns() >= until_ns)))
			t->detach_now = true;
		if (t->detach_now) {
			if (!t->outcome)
				t->outcome = "detached";
			tracer_detach_all(t);
			return 0;
		}
		if (tracer_signal && !t->killing) {
			t->outcome = "interrupted";
			tracer_kill_all(t);
		}
		if (!t->killing && now_ns() - t->last_event_ns >= hang_ns && now_ns() - last_check >= hang_ns) {
			tracer_check_hang(t);
			last_check = now_ns();
		}
		sigtimedwait(&chld, NULL, &ts);
	}
}

/*
 * Kills and reaps every process of the program, recording nothing more,
 * after the trace could not be stored. A killed tracee still stops once on
 * its way out (PTRACE_EVENT_EXIT), and stays there until resumed: each stop
 * is resumed, and a task stopped that the kill missed (one whose fork event
 * was not handled yet) is killed then.
 */
static void tracer_abandon(struct tracer *t)
{
	int status;
	pid_t tid;

	tracer_kill_all(t);
	while ((tid = waitpid(-1, &status, __WALL)) > 0 || errno == EINTR)
		if (tid > 0 && WIFSTOPPED(status)) {
			kill(tid, SIGKILL);
			ptrace(PTRACE_CONT, tid, 0, 0);
		}
}


/* ---- attach (record -p) ---- */

/*
 * The options of an attached tracee. No PTRACE_O_EXITKILL: the program is
 * someone else's and goes on if pooltrace dies (the kernel detaches every
 * tracee of a tracer that exits). No PTRACE_O_TRACESECCOMP: there is no
 * filter of ours.
 */
#define TRACER_ATTACH_OPTIONS                                                                                   \
	(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |             \
	 PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT)

#define TRACER_ATTACH_WAIT_MS 2000 /* for every task to stop at the attach, and again at the detach */

/* /proc/TID/status's TracerPid: who traces tid (0: no one; -1: unknown). */
static pid_t tracer_tracer_of(pid_t tid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "\nTracerPid:")))
		return -EIO;
	return (pid_t)strtol(p + 11, NULL, 10);
}

/* The process of task tid (Tgid), or tid itself when /proc cannot say. */
static pid_t tracer_tgid_of(pid_t tid)
{
	struct tracer_task probe = { .tid = tid };

	tracer_read_status(&probe, NULL);
	return probe.tgid;
}

/* Task tid's state letter from /proc/TID/stat ('?' when unreadable), and its flags into *flags. */
static char tracer_stat_of(pid_t tid, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	char state = '?';

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return '?';
	/* ") S ppid pgrp session tty_nr tpgid flags": flags is the 7th field after the name. */
	if (sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, flags ? flags : &(unsigned long){ 0 }) < 1)
		return '?';
	return state;
}

/* A task of the tree into the table, pending its first stop; parent is its process's parent (-1: outside). */
static struct tracer_task *tracer_adopt(struct tracer *t, pid_t tid)
{
	struct tracer_task *k = tracer_task(t, tid, false);
	pid_t ppid;

	if (k && k->dead)
		tracer_forget(t, k);
	if (!(k = tracer_task(t, tid, false))) {
		t->adopted++;
		k = tracer_task(t, tid, true);
		tracer_read_status(k, &ppid);
		k->parent = ppid;
		k->known = true;
		k->pending = true;
	}
	return k;
}

/*
 * Seizes thread tid and asks it to stop. Returns 1 when it is ours now
 * (seized, or already ours: a child of a seized task, attached by the
 * kernel at its fork), 0 when it is gone, -EPERM when another tracer has it
 * or it may not be traced (one line printed for the first process), or
 * -errno.
 */
static int tracer_seize(struct tracer *t, pid_t tid)
{
	pid_t by;

	if (tracer_task(t, tid, false) && !tracer_task(t, tid, false)->dead)
		return 1;
	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)TRACER_ATTACH_OPTIONS) < 0) {
		int err = errno;

		if (err == ESRCH || (err == EPERM && tracer_stat_of(tid, NULL) == 'Z'))
			return 0; /* gone, or a zombie: nothing to trace (its process is found, not seized) */
		if (err != EPERM || (by = tracer_tracer_of(tid)) != t->self) {
			/* Any thread of the first process: the attach ends here, with one line. */
			if (tid == t->top || tracer_tgid_of(tid) == t->top)
				error("cannot trace process %d: %s%s", (int)t->top, strerror(err),
				      err == EPERM && by > 0 ? " (another tracer has it: a debugger, strace?)"
				      : err == EPERM ? " (another user's, or ptrace is restricted: see /proc/sys/kernel/yama/ptrace_scope)"
						     : "");
			return -err;
		}
	}
	/* In the table before anything else can fail: a task seized is always let go (tracer_detach_all). */
	tracer_adopt(t, tid);
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 && errno != ESRCH)
		return -errno;
	return 1;
}

/* Seizes every thread of process pid not yet ours. Returns how many were new, or -errno (see tracer_seize). */
static int tracer_seize_process(struct tracer *t, pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int fresh = 0, rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return 0; /* gone */
	while ((de = readdir(d)) && rc >= 0) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || (tracer_task(t, tid, false) && !tracer_task(t, tid, false)->dead))
			continue;
		if ((rc = tracer_seize(t, tid)) > 0)
			fresh++;
	}
	closedir(d);
	return rc < 0 ? rc : fresh;
}

/*
 * A stop during the attach or the detach, not handled as the loop's: kept
 * in first_stop. A fork's child is the tree's too (the kernel attached it).
 */
static void tracer_attach_stopped(struct tracer *t, pid_t tid, int status)
{
	struct tracer_task *k;
	int event = status >> 16;
	unsigned long msg;

	if (!WIFSTOPPED(status)) {
		if ((k = tracer_task(t, tid, false)))
			tracer_forget(t, k);
		return;
	}
	k = tracer_adopt(t, tid);
	k->pending = false;
	k->first_stop = status;
	if ((event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) &&
	    ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0)
		tracer_adopt(t, (pid_t)msg);
}

/* How many tasks of the table still owe their first stop. */
static size_t tracer_pending(const struct tracer *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->tasks.cap; i++) {
		const struct tracer_task *k = pidmap_at(&t->tasks, i);

		n += k && k->pending;
	}
	return n;
}

/* Takes the stops that come until none is pending, or for at most ms. */
static void tracer_collect_stops(struct tracer *t, long ms)
{
	uint64_t until = now_ns() + (uint64_t)ms * 1000000ULL;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (tracer_pending(t) && now_ns() < until) {
		struct timespec ts = { 0, 5 * 1000000L };
		int status;
		pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);

		if (tid > 0)
			tracer_attach_stopped(t, tid, status);
		else if (tid < 0 && errno == ECHILD)
			break;
		else
			sigtimedwait(&chld, NULL, &ts);
	}
}

/* Resumes a task from the stop it made at the attach, as that stop asks. */
static void tracer_attach_resume(struct tracer *t, struct tracer_task *k)
{
	int sig = WSTOPSIG(k->first_stop), event = k->first_stop >> 16;

	if (event == PTRACE_EVENT_STOP && sig != SIGTRAP)
		/* A group-stop: it was stopped (^Z, SIGSTOP) and stays so. */
		tracer_resume(t, k->tid, PTRACE_LISTEN, 0);
	else if (event || sig == SIGTRAP)
		tracer_resume(t, k->tid, PTRACE_SYSCALL, 0); /* our interrupt, or an event of the program's */
	else
		tracer_resume(t, k->tid, PTRACE_SYSCALL, sig); /* a signal for it, delivered */
	k->first_stop = 0;
}

/*
 * Process pid as the attach found it: a `found` event naming its parent
 * and program, then one per fd, what each is read as at a fork's inherit.
 * Its pipes are the program's from now on: a deadlock among them is looked
 * for, after asking /proc whether a process outside holds one.
 */
static void tracer_found(struct tracer *t, pid_t pid, pid_t ppid, const char *comm, const struct inomap *outside)
{
	struct evlog_record *r = tracer_event(t, EV_FOUND, pid);
	char path[64], exe[PATH_MAX + 1];
	ssize_t len;
	int *fds;
	size_t n;
	pid_t tid = pid;

	r->other_pid = ppid;
	r->has = HAS_OTHER_PID;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	len = readlink(path, exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	/* A zombie has no exe any more: its name, as snapshot does. */
	evlog_texts_attach(&t->texts, r, len > 0 ? exe : comm);
	/* Through a live thread: a main thread that called pthread_exit shows no fds. */
	n = tracer_list_fds(pid, tid, &fds);
	for (size_t i = 0; !n && i < t->tasks.cap; i++) {
		const struct tracer_task *k = pidmap_at(&t->tasks, i);

		if (k && k->tgid == pid && k->tid != pid && !k->dead) {
			free(fds);
			n = tracer_list_fds(pid, tid = k->tid, &fds);
		}
	}
	for (size_t i = 0; i < n; i++) {
		r = tracer_event(t, EV_FOUND, pid);
		r->fd = fds[i];
		r->has = HAS_FD;
		tracer_observe(t, pid, tid, fds[i], r, true);
		if (!(r->has & HAS_INODE) || r->pipe_end == END_SOCKET)
			continue;
		if (inomap_get(outside, r->inode)) {
			/* Held outside the tree too (the caller's pipe, a harness's): not the
			 * program's, as an inherited one from outside is not under record. */
			r->arg = 1;
			r->has |= HAS_ARG;
		} else {
			inomap_put(&t->pipes, r->inode, 1);
		}
	}
	tracer_know_only(tracer_task(t, pid, false), fds, n);
	free(fds);
	t->processes++;
}

/* Whether pid is pooltrace or one of its ancestors (whose tree holds pooltrace). */
static bool tracer_is_own_line(pid_t pid)
{
	pid_t p = getpid(), ppid;
	char comm[32];

	for (int depth = 0; p > 0 && depth < 4096; depth++) {
		if (p == pid)
			return true;
		if (proctree_stat(p, &ppid, comm, sizeof(comm)) < 0 || ppid == p)
			return false;
		p = ppid;
	}
	return false;
}

/*
 * Seizes the running tree rooted at t->top: every thread of every process,
 * read again from /proc until a reading finds no task that is not ours (a
 * process not yet seized may fork meanwhile; one seized cannot fork
 * unseen: the kernel attaches its children). Then, with the tree stopped,
 * its processes and fds are recorded as `found`, and it is resumed, each
 * task as its stop asks. Returns 0, or -EINVAL (no such process, ours, or
 * may not be traced) with one line printed, or -EIO.
 */
static int tracer_attach(struct tracer *t)
{
	struct proctree_proc *procs = NULL;
	size_t nprocs = 0, ntree = 0;
	pid_t ppid;
	char comm[32];
	int rc;

	unsigned long flags = 0;
	pid_t tgid;

	if (proctree_stat(t->top, &ppid, comm, sizeof(comm)) < 0)
		return error("no process %d", (int)t->top), -EINVAL;
	if ((tgid = tracer_tgid_of(t->top)) != t->top)
		return error("%d is a thread of process %d: attach to its process (-p %d)", (int)t->top, (int)tgid,
			     (int)tgid), -EINVAL;
	if (tracer_stat_of(t->top, &flags) == 'Z')
		return error("process %d has ended: it is a zombie its parent has not reaped", (int)t->top), -EINVAL;
	if (flags & 0x00200000 /* PF_KTHREAD */)
		return error("process %d is a kernel thread: it runs no program to trace", (int)t->top), -EINVAL;
	if (tracer_is_own_line(t->top))
		return error("process %d is pooltrace or its ancestor: its tree would hold pooltrace itself", (int)t->top),
		       -EINVAL;
	for (int round = 0;; round++) {
		size_t before = t->adopted;

		free(procs);
		nprocs = proctree_list(&procs);
		ntree = proctree_select(procs, nprocs, &t->top, 1);
		for (size_t i = 0; i < ntree; i++) {
			rc = tracer_seize_process(t, procs[i].pid);
			if (rc == -EPERM && procs[i].pid != t->top) {
				t->untraceable = true;
				continue;
			}
			if (rc < 0) {
				free(procs);
				if (rc != -EPERM)
					error("cannot trace process %d: %s", (int)procs[i].pid, strerror(-rc));
				return rc == -EPERM ? -EINVAL : -EIO;
			}
		}
		if (!tracer_task(t, t->top, false)) {
			free(procs);
			return error("process %d ended before it could be traced", (int)t->top), -EINVAL;
		}
		tracer_collect_stops(t, TRACER_ATTACH_WAIT_MS);
		/* Nothing new in this reading, nor forked while it stopped: the tree is whole. */
		if (t->adopted == before || round >= 64)
			break;
	}
	t->attach_procs = procs;
	t->attach_nprocs = ntree;
	return 0;
}

/* proctree_outside_pipes' question: is pid a process of the tree (as the attach found it)? */
static bool tracer_in_tree(void *ctx, pid_t pid)
{
	const struct tracer *t = ctx;

	for (size_t i = 0; i < t->attach_nprocs; i++)
		if (t->attach_procs[i].pid == pid)
			return true;
	return false;
}

/*
 * With the tree seized and stopped (but for tasks in an uninterruptible
 * sleep), what each process holds stays put while it is read: every
 * process is recorded as `found`, and then each task resumed as its stop
 * asks.
 */
static void tracer_attach_record(struct tracer *t)
{
	struct inomap tree_pipes = { 0 }, outside = { 0 };

	if (t->untraceable)
		session_mark_incomplete(t->ss, "a process of the tree could not be traced (another tracer had it)");
	/* Which of the tree's pipes a process outside it holds too. */
	for (size_t i = 0; i < t->attach_nprocs; i++)
		proctree_pipes_of(t->attach_procs[i].pid, &tree_pipes);
	if (proctree_outside_pipes(&tree_pipes, tracer_in_tree, t, &outside))
		session_mark_incomplete(t->ss, "some processes outside the tree could not be read: a pipe of the tree"
					       " they hold is taken for the program's");
	for (size_t i = 0; i < t->attach_nprocs; i++) {
		const struct proctree_proc *p = &t->attach_procs[i];
		struct tracer_task *k = tracer_task(t, p->pid, false);
		int sig;

		if (k && !k->process)
			continue;
		if (k && !k->dead) {
			/* Its parent in the tree is who will reap it; outside, no one the trace sees. */
			k->parent = i && tracer_task(t, p->ppid, false) ? p->ppid : -1;
			/* Timers armed before the attach are not known: an alarm may be (its signal caught, it can wake). */
			k->alarm_repeats = true;
			k->posix_timers = wake_timer_signals(p->pid, &sig, 1) != 0;
		}
		/* One not seized is found too: a zombie (it ended before or during the
		 * attach, and its parent, stopped meanwhile, has yet to reap it), or one
		 * another tracer has. Its parent's reap then names a process of the trace. */
		tracer_found(t, p->pid, p->ppid, p->comm, &outside);
	}
	inomap_release(&tree_pipes);
	inomap_release(&outside);
	free(t->attach_procs);
	t->attach_procs = NULL;
	for (size_t i = 0; i < t->tasks.cap; i++) {
		struct tracer_task *k = pidmap_at(&t->tasks, i);

		if (k && !k->pending && k->first_stop)
			tracer_attach_resume(t, k);
	}
}

/*
 * Lets go of every task, leaving the program as it was: each is asked to
 * stop (PTRACE_INTERRUPT), and at that stop, with what pooltrace changed
 * in it put back, detached with the signal it was stopped for (none for a
 * call's, an event's or a group-stop: a group-stopped task stays stopped).
 * A child forked meanwhile is the kernel's to us and is let go too. A task
 * that does not stop in time (an uninterruptible sleep) is let go by the
 * kernel when pooltrace exits.
 */
static void tracer_detach_all(struct tracer *t)
{
	uint64_t until = now_ns() + (uint64_t)TRACER_ATTACH_WAIT_MS * 1000000ULL;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (size_t i = 0; i < t->tasks.cap; i++) {
		struct tracer_task *k = pidmap_at(&t->tasks, i);

		if (!k || k->dead)
			continue;
		if (k->held || k->first_stop) {
			/* Stopped already (before its parent's event, or at the attach): its stop is
			 * not reported again. A signal it was stopped for is delivered (the attach failed). */
			int fs = k->first_stop, sig = fs && !(fs >> 16) && WSTOPSIG(fs) != SIGTRAP ? WSTOPSIG(fs) : 0;

			ptrace(PTRACE_DETACH, k->tid, 0, (void *)(long)sig);
			k->dead = true;
			continue;
		}
		k->pending = ptrace(PTRACE_INTERRUPT, k->tid, 0, 0) == 0;
	}
	while (tracer_pending(t) && now_ns() < until) {
		struct timespec ts = { 0, 5 * 1000000L };
		struct tracer_task *k;
		int status, sig, event;
		pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);

		if (tid < 0 && errno == ECHILD)
			break;
		if (tid <= 0) {
			sigtimedwait(&chld, NULL, &ts);
			continue;
		}
		tracer_attach_stopped(t, tid, status);
		if (!WIFSTOPPED(status) || !(k = tracer_task(t, tid, false)))
			continue;
		if (k->undo.kind != UNDO_NONE)
			tracer_undo(tid, &k->undo);
		sig = WSTOPSIG(status);
		event = status >> 16;
		ptrace(PTRACE_DETACH, tid, 0, (void *)(long)(event || sig == (SIGTRAP | 0x80) ? 0 : sig));
		k->first_stop = 0;
		k->dead = true;
	}
}

/*
 * pooltrace's own fd limit, raised to the hard one when it is under 64: every fact it records
 * comes through an fd of its own (a /proc directory, an fdinfo file, a
 * pidfd_getfd copy), and out of fds it would record no inherited fd and
 * find no deadlock. Called after the fork, so the program keeps the limit
 * it was given. Returns 0, or -EIO with one line printed when even the hard
 * limit is too low to trace.
 */
static int tracer_fd_limit(void)
{
	const rlim_t need = 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		return error("the fd limit is %llu (ulimit -Hn); pooltrace record needs %llu of its own to trace",
			     (unsigned long long)rl.rlim_max, (unsigned long long)need), -EIO;
	if (rl.rlim_cur >= rl.rlim_max || rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return error("cannot raise the fd limit to %llu: %s", (unsigned long long)rl.rlim_cur, strerror(errno)), -EIO;
	return 0;
}

/*
 * Starts argv, stopped before its exec, seized, and begins the run. Returns
 * 0, or -errno with one line printed and the child gone.
 */
static int tracer_start(struct tracer *t, const sigset_t *old)
{
	const struct tracer_config *cfg = t->cfg;
	int status, ret;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return error("cannot become a child subreaper: %s", strerror(errno)), -EIO;
	fflush(NULL);
	t->top = fork();
	if (t->top < 0)
		return error("cannot fork: %s", strerror(errno)), -EIO;
	if (t->top == 0)
		tracer_child(cfg->argv, cfg->io, old, t->self);
	tracer_signal = 0;
	on_stop_signals(tracer_on_signal);
	/* It stops itself; seized while stopped, it runs no further until SIGCONT. */
	if (waitpid(t->top, &status, WUNTRACED) != t->top || !WIFSTOPPED(status)) {
		error("%s could not be traced", cfg->argv[0]);
		return -EIO;
	}
	ret = tracer_fd_limit();
	if (ret == 0 &&
	    ptrace(PTRACE_SEIZE, t->top, 0,
		   (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
				  PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |
				  PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)) < 0) {
		error("cannot trace %s: %s (is ptrace allowed here?)", cfg->argv[0], strerror(errno));
		ret = -EIO;
	}
	/* The database is opened only now, after the fork, so that the program
	 * cannot inherit its fds; a bad one still ends the program before its
	 * exec, so nothing of it has run. */
	if (ret == 0)
		ret = tracer_begin_run(t);
	if (ret < 0) {
		kill(t->top, SIGKILL);
		waitpid(t->top, &status, 0);
		return ret;
	}
	{
		struct tracer_task *top = tracer_task(t, t->top, true);

		top->parent = t->self;
		top->process = top->known = true;
	}
	tracer_born(t, t->top, t->self, NULL);
	/* Ends the stop it put itself in; its stops are then handled as any group-stop. */
	kill(t->top, SIGCONT);
	return 0;
}

/* Seizes the running tree at cfg->attach and begins the run. Returns 0, or -errno with one line printed, the tree let go. */
static int tracer_start_attached(struct tracer *t)
{
	int ret;

	t->top = t->cfg->attach;
	t->attached = true;
	tracer_signal = 0;
	on_stop_signals(tracer_on_signal);
	if ((ret = tracer_fd_limit()) == 0 && (ret = tracer_attach(t)) == 0 && (ret = tracer_begin_run(t)) == 0) {
		tracer_attach_record(t);
		return 0;
	}
	tracer_detach_all(t);
	free(t->attach_procs);
	t->attach_procs = NULL;
	return ret;
}

int tracer_run(const struct tracer_config *cfg, struct tracer_result *res)
{
	struct tracer t = { .cfg = cfg, .tasks = PIDMAP_INIT(struct tracer_task) };
	sigset_t chld, old;
	int ret;

	memset(res, 0, sizeof(*res));
	res->run_id = -1;
	t.self = getpid();
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	if ((ret = cfg->attach ? tracer_start_attached(&t) : tracer_start(&t, &old)) < 0)
		goto out;
	ret = -EIO;
	res->run_id = session_run_id(t.ss);
	if (cfg->stacks)
		t.stacks = stacks_new();
	/* Its error was said where it happened, in one line (a full disk: SQLite's words, with the file). */
	if (tracer_loop(&t) < 0) {
		session_fail(t.ss);
		if (t.attached)
			tracer_detach_all(&t);
		else
			tracer_abandon(&t);
		goto out;
	}
	res->exited = !t.attached || t.top_ended;
	if (res->exited)
		res->status = WIFEXITED(t.top_status) ? WEXITSTATUS(t.top_status) : 128 + WTERMSIG(t.top_status);
	if (!t.outcome)
		t.outcome = res->exited && WIFSIGNALED(t.top_status) ? "crashed" : "ok";
	res->outcome = t.outcome;
	res->processes = t.processes;
	res->socketpairs = (long)t.socks.len / 2;
	if (tracer_finish(&t, res) < 0)
		goto out;
	ret = 0;
out:
	res->signal = tracer_signal;
	/* Closed while SIGXFSZ is still ignored: closing may write (a WAL
	 * checkpoint), and past a file-size limit that write must fail, not kill. */
	session_free(t.ss);
	on_stop_signals(NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	stacks_free(t.stacks);
	for (size_t i = 0; i < t.tasks.cap; i++) {
		struct tracer_task *k = pidmap_at(&t.tasks, i);

		if (k) {
			free(k->exec_fds);
			free(k->fdc);
			free(k->fdset);
		}
	}
	pidmap_release(&t.tasks);
	free(t.batch);
	inomap_release(&t.socks);
	inomap_release(&t.pipes);
	hang_seen_release(&t.seen);
	evlog_texts_release(&t.texts);
	return ret;
}
