/*
 * deadlock.c: the deadlock check and its evidence, written once for every
 * source. The pool (supervisor.c) and record (tracer.c) differ in how they
 * list their threads, what else may wake them (record: timers, holders
 * outside the program) and how they record an event; those are the probe's
 * and the sink's callbacks. The rules are here: two scans 20 ms apart, and
 * which fds of whom can wake each blocked thread.
 */
#include "procfs/deadlock.h"

#include "base/util.h"
#include "core/ingest.h"
#include "procfs/hang.h"

#include <assert.h>
#include <stdlib.h>

ssize_t deadlock_check(const struct deadlock_probe *pr, struct hang_proc **out)
{
	struct hang_proc *a = NULL, *b = NULL;
	uint64_t before = pr->progress(pr->ctx);
	ssize_t na, nb = 0;
	bool stuck;

	*out = NULL;
	na = pr->scan(pr->ctx, &a);
	stuck = na > 0 && hang_all_blocked(a, (size_t)na) && !(pr->can_move && pr->can_move(pr->ctx, a, (size_t)na));
	if (na > 0 && !stuck && pr->not_stuck)
		pr->not_stuck(pr->ctx, a, (size_t)na);
	if (stuck) {
		sleep_ms(20);
		nb = pr->scan(pr->ctx, &b);
		if (nb > 0 && hang_same(a, (size_t)na, b, (size_t)nb) && pr->progress(pr->ctx) == before) {
			hang_procs_free(a, na);
			*out = b;
			return nb;
		}
	}
	hang_procs_free(a, na);
	hang_procs_free(b, nb);
	return 0;
}

/* A zombie thread-group leader whose other threads still run (it called pthread_exit): they say what it waits in. */
static bool deadlock_leader_gone(const struct hang_proc *p, const struct hang_proc *all, size_t n)
{
	if (p->wait != HANG_ZOMBIE || p->tid != p->pid)
		return false;
	for (size_t i = 0; i < n; i++)
		if (all[i].pid == p->pid && all[i].tid != p->tid)
			return true;
	return false;
}

bool deadlock_reads_fds(const struct hang_proc *p, const struct hang_proc *all, size_t n)
{
	if (p->wait == HANG_ZOMBIE)
		return false;
	if (p->tid == p->pid)
		return true;
	for (size_t i = 0; i < n; i++)
		if (all[i].pid == p->pid && all[i].wait != HANG_ZOMBIE && (all[i].tid == p->pid || &all[i] < p))
			return false;
	return true;
}

/* A thread blocked on a pipe (socket) end: its hang event, and the inode whose holders can wake it. */
struct deadlock_blocked {
	uint64_t inode, seq;
	pid_t pid;
	bool pinned; /* (the first of an inode's run) a copy of a waking end was taken */
};

struct deadlock_holders {
	const struct deadlock_sink *sink;
	struct deadlock_blocked *list; /* sorted by inode */
	size_t n;
};

static int deadlock_cmp_blocked(const void *a, const void *b)
{
	uint64_t x = ((const struct deadlock_blocked *)a)->inode, y = ((const struct deadlock_blocked *)b)->inode;

	return (x > y) - (x < y);
}

static int deadlock_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* hang_holders' callback: one hang_holders row per thread blocked on that inode (a binary search: 1000 workers make half a million holders). */
static void deadlock_holder(void *ctx, uint64_t inode, pid_t pid, int fd)
{
	struct deadlock_holders *h = ctx;
	struct deadlock_blocked key = { .inode = inode }, *b;

	b = h->n ? bsearch(&key, h->list, h->n, sizeof(key), deadlock_cmp_blocked) : NULL;
	if (!b)
		return;
	while (b > h->list && b[-1].inode == inode)
		b--;
	/* One copy of an end that could wake them, per pipe, held until the
	 * program is reaped: whoever dies first, that reader gets no EOF and
	 * that writer no EPIPE (see pin.c). */
	if (h->sink->pin && !b->pinned && h->sink->pin(h->sink->ctx, pid, fd))
		b->pinned = true;
	if (!h->sink->ingest)
		return;
	for (; b < h->list + h->n && b->inode == inode; b++)
		ingest_hang_holder(h->sink->ingest, b->seq, b->pid, inode, pid, fd);
}

static void deadlock_sort(uint64_t *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), deadlock_cmp_u64);
}

void deadlock_record(const struct hang_proc *procs, size_t n, const struct deadlock_sink *sink)
{
	size_t nwaits = 0, nleaders = 0;

	assert(sink->hang);
	/* One wait per thread on a pipe or socket, one per fd for a thread in poll. */
	for (size_t i = 0; i < n; i++)
		nwaits += procs[i].wait == HANG_POLL ? (size_t)procs[i].npolled : 1;

	struct deadlock_holders holders = { sink, xcalloc(nwaits + 1, sizeof(*holders.list)), 0 };
	/* Pipes a thread waits to read (their write ends can wake it), to write
	 * to (their read ends), and socketpair ends whose peer it waits on (any fd of the peer). */
	uint64_t *write_of = xcalloc(nwaits + 1, sizeof(*write_of)), *read_of = xcalloc(nwaits + 1, sizeof(*read_of));
	uint64_t *sock_of = xcalloc(nwaits + 1, sizeof(*sock_of));
	struct hang_wants wants = { write_of, 0, read_of, 0, sock_of, 0 };
	/* One entry per live process, a live thread's, for the walk of its fd table. */
	struct hang_proc *leaders = xcalloc(n + 1, sizeof(*leaders));

	for (size_t i = 0; i < n; i++) {
		const struct hang_proc *p = &procs[i];
		struct hang_fdwait one = { p->fd, p->wait, p->inode };
		const struct hang_fdwait *w = p->wait == HANG_POLL ? p->polled : &one;
		int nw = p->wait == HANG_POLL ? p->npolled : hang_on_io(p);
		uint64_t seq;

		if (deadlock_reads_fds(p, procs, n))
			leaders[nleaders++] = *p;
		if (deadlock_leader_gone(p, procs, n))
			continue;
		seq = sink->hang(sink->ctx, p);
		for (int j = 0; seq && j < nw; j++) {
			uint64_t inode = w[j].inode;

			if (w[j].wait == HANG_PIPE_READ)
				write_of[wants.nwrite++] = inode;
			else if (w[j].wait == HANG_PIPE_WRITE)
				read_of[wants.nread++] = inode;
			else if (sink->sock_peer)
				sock_of[wants.nsock++] = inode = sink->sock_peer(sink->ctx, inode);
			else
				continue;
			holders.list[holders.n++] = (struct deadlock_blocked){ inode, seq, p->pid, false };
		}
	}
	assert(holders.n <= nwaits);
	if (holders.n)
		qsort(holders.list, holders.n, sizeof(*holders.list), deadlock_cmp_blocked);
	deadlock_sort(write_of, wants.nwrite);
	deadlock_sort(read_of, wants.nread);
	deadlock_sort(sock_of, wants.nsock);
	if (holders.n)
		hang_holders(HANG_FDS_PIDFD, leaders, nleaders, &wants, deadlock_holder, &holders);
	free(leaders);
	free(holders.list);
	free(write_of);
	free(read_of);
	free(sock_of);
}
