/* ingest.c: turns event-log records into rows: events, and the processes, pipes and holds they imply.
 *
 * Each record becomes one `event_rows` row, or, for the per-task kinds
 * (write, read, task), one element of an io_chunks row (see iochunk.c); the
 * `events` view shows both alike. Alongside, the fd model (fdmodel.c) keeps
 * every process's fd table as the events describe it, and each hold it hands
 * back when it ends becomes one `holds` row, written once.
 *
 * The rows' SQL is the store's (store/rows.c, store/iochunks.c): here they
 * are only derived, and handed over as plain values.
 */
#include "core/ingest.h"

#include "core/evlog.h"
#include "core/fdmodel.h"
#include "core/iochunk.h"
#include "store/rows.h"
#include "base/pidmap.h"
#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* What ingest itself remembers of a process (its fd table is in the fd model). */
struct ingest_proc {
	pid_t pid;            /* 0: empty slot */
	int is_worker;
	int first_read_done;
};
_Static_assert(offsetof(struct ingest_proc, pid) == 0, "a pidmap entry begins with its key");

struct ingest {
	uint64_t last_seq; /* the last record's: records come in seq order (ingest.h) */
	/* The event_rows rows of the batch, read back by ingest_event_row while
	 * store_rows_add_events writes them: the records other than the chunked
	 * kinds, with their pipe_id. */
	const struct evlog_record **batch;
	const struct evlog_texts *texts; /* the batch's long texts */
	int64_t *batch_pipe_id;
	size_t nbatch, batch_cap;
	struct iochunk_set *chunks;
	bool generic;       /* record: role 'process' for everyone */
	uint64_t count;
	int64_t npipes;
	struct fdmodel *fds;        /* every process's fd table */
	struct fdmodel_hold **ended; /* ended holds not yet written */
	size_t nended, ended_cap;
	struct store_hang_holder *holders; /* hang evidence not yet written */
	size_t nholders, holders_cap;
	struct pidmap procs;  /* struct ingest_proc by pid */
	struct inomap pipes;  /* inode -> pipe_id */
	struct store_rows *rows; /* the statements of all but io_chunks */
};

static struct ingest_proc *ingest_proc_find(struct ingest *in, pid_t pid, int create)
{
	return create ? pidmap_put(&in->procs, pid) : pidmap_get(&in->procs, pid);
}

static int64_t ingest_pipe_lookup(const struct ingest *in, uint64_t inode)
{
	return inomap_get(&in->pipes, inode);
}

/* Row i of the batch's event_rows rows (store_rows_event_fn): the record as it was logged. */
static void ingest_event_row(void *ctx, size_t i, struct store_event *out)
{
	const struct ingest *in = ctx;
	const struct evlog_record *r = in->batch[i];
	int64_t pipe_id = in->batch_pipe_id[i];
	uint8_t has = r->has;

	assert(i < in->nbatch);
	out->seq = r->ready;
	out->ts_ns = r->ts_ns;
	out->pid = r->pid;
	out->kind = evlog_kind_name(r->kind);
	out->has_fd = has & HAS_FD;
	out->fd = r->fd;
	out->has_fd2 = has & HAS_FD2;
	out->fd2 = r->fd2;
	out->pipe_id = pipe_id;
	out->has_inode = has & HAS_INODE;
	out->pipe_end = out->has_inode ? evlog_end_name(r->pipe_end) : NULL;
	out->inode = r->inode;
	out->has_other_pid = has & HAS_OTHER_PID;
	out->other_pid = r->other_pid;
	out->has_result = has & HAS_RESULT;
	out->result = r->result;
	out->has_arg = has & HAS_ARG;
	out->arg = r->arg;
	out->has_signal = has & HAS_SIGNAL;
	out->signal = r->signal;
	/* An inherited fd is foreign when it is on no pipe the run made. */
	out->has_is_foreign = r->kind == EV_INHERIT;
	out->is_foreign = pipe_id == 0;
	out->detail = evlog_text(r, in->texts);
}

/* Row i of the ended holds' rows (store_rows_hold_fn). */
static void ingest_hold_row(void *ctx, size_t i, struct store_hold *out)
{
	const struct ingest *in = ctx;
	const struct fdmodel_hold *h = in->ended[i];

	assert(i < in->nended);
	out->pid = h->pid;
	out->fd = h->fd;
	out->pipe_id = h->pipe_id;
	out->pipe_end = h->inode ? evlog_end_name(h->end) : NULL;
	out->inode = h->inode;
	out->is_foreign = h->pipe_id == 0;
	out->detail = h->detail;
	out->from_seq = h->from_seq;
	out->from_kind = h->from_kind;
	out->to_seq = h->to_seq;
	out->to_kind = h->to_kind;
	out->touched_seq = h->touched_seq;
}

/* The fd model hands over each hold that ended: queue it for the next flush. */
static void ingest_hold_ended(void *ctx, struct fdmodel_hold *h)
{
	struct ingest *in = ctx;

	ALLOC_GROW(in->ended, in->nended + 1, in->ended_cap, 1024);
	in->ended[in->nended++] = h;
}

struct ingest *ingest_new(struct store *st, int64_t run_id, bool generic)
{
	struct ingest *in = xcalloc(1, sizeof(*in));

	in->procs = (struct pidmap)PIDMAP_INIT(struct ingest_proc);
	in->generic = generic;
	in->fds = fdmodel_new(ingest_hold_ended, in);
	in->chunks = iochunk_new(st, run_id);
	in->rows = store_rows_open(st, run_id);
	return in;
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	store_rows_close(in->rows);
	free(in->holders);
	iochunk_free(in->chunks);
	fdmodel_free(in->fds);
	for (size_t i = 0; i < in->nended; i++)
		fdmodel_hold_free(in->ended[i]);
	free(in->ended);
	pidmap_release(&in->procs);
	inomap_release(&in->pipes);
	free(in->batch);
	free(in->batch_pipe_id);
	free(in);
}

uint64_t ingest_count(const struct ingest *in)
{
	return in->count;
}

static int ingest_cmp_hold(const void *a, const void *b)
{
	const struct fdmodel_hold *x = *(struct fdmodel_hold *const *)a, *y = *(struct fdmodel_hold *const *)b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->fd != y->fd)
		return x->fd < y->fd ? -1 : 1;
	return (x->from_seq > y->from_seq) - (x->from_seq < y->from_seq);
}

/*
 * Writes the holds that ended since the last flush, in one INSERT ... SELECT,
 * in the table's key order: SQLite then appends where it would otherwise
 * seek (measured for 500k holds: 0.36 s sorted against 1.2 s as they came).
 */
static int ingest_flush_holds(struct ingest *in)
{
	int ret = 0;

	if (in->nended) {
		qsort(in->ended, in->nended, sizeof(*in->ended), ingest_cmp_hold);
		ret = store_rows_add_holds(in->rows, in->nended, ingest_hold_row, in);
	}
	for (size_t i = 0; i < in->nended; i++)
		fdmodel_hold_free(in->ended[i]);
	in->nended = 0;
	return ret;
}

int ingest_finish(struct ingest *in)
{
	/* Holds still open when the trace ends are written with to_seq NULL. */
	fdmodel_finish(in->fds);
	return ingest_flush_holds(in);
}

/*
 * The next pipes row: a pipe (peer 0), or one end of a socketpair, whose
 * other end is pipe_id peer. The channel (arg) is the pool's, for pipes.
 */
static int ingest_pipe_row(struct ingest *in, const struct evlog_record *r, uint64_t seq, uint64_t inode, int read_fd,
			   int write_fd, int64_t peer)
{
	inomap_put(&in->pipes, inode, ++in->npipes);
	return store_rows_add_pipe(in->rows, &(struct store_pipe){ .pipe_id = in->npipes, .inode = inode,
								   .has_channel = !peer && (r->has & HAS_ARG),
								   .channel = r->arg, .created_by = r->pid,
								   .created_seq = seq, .read_fd = read_fd,
								   .write_fd = write_fd, .peer_id = peer });
}

/* Derived rows for one record: processes, pipes, and (through the fd model) holds. */
static int ingest_derive(struct ingest *in, const struct evlog_record *r, uint64_t seq)
{
	const char *kind = evlog_kind_name(r->kind);
	int ok = !(r->has & HAS_RESULT) || r->result >= 0;
	uint64_t inode = r->has & HAS_INODE ? r->inode : 0;
	struct ingest_proc *p;

	switch (r->kind) {
	case EV_PIPE:
		if (!ok || !(r->has & HAS_INODE))
			return 0;
		if (ingest_pipe_row(in, r, seq, r->inode, r->fd, r->fd2, 0) < 0)
			return -EIO;
		fdmodel_open(in->fds, r->pid, r->fd, r->inode, END_READ, in->npipes, NULL, seq, kind);
		fdmodel_open(in->fds, r->pid, r->fd2, r->inode, END_WRITE, in->npipes, NULL, seq, kind);
		return 0;
	case EV_SOCKETPAIR:
		/* Two rows, one per end, each naming the other (see schema.sql). */
		if (!ok || !(r->has & HAS_INODE) || !(r->has & HAS_ARG))
			return 0;
		if (ingest_pipe_row(in, r, seq, r->inode, r->fd, r->fd, in->npipes + 2) < 0 ||
		    ingest_pipe_row(in, r, seq, (uint64_t)r->arg, r->fd2, r->fd2, in->npipes) < 0)
			return -EIO;
		fdmodel_open(in->fds, r->pid, r->fd, r->inode, END_SOCKET, in->npipes - 1, NULL, seq, kind);
		fdmodel_open(in->fds, r->pid, r->fd2, (uint64_t)r->arg, END_SOCKET, in->npipes, NULL, seq, kind);
		return 0;
	case EV_FORK:
		if (!ok)
			return 0;
		p = ingest_proc_find(in, r->pid, 1);
		p->is_worker = (r->has & HAS_ARG) != 0;
		fdmodel_begin(in->fds, r->pid, seq);
		return store_rows_add_process(in->rows, &(struct store_process){
			.pid = r->pid, .role = in->generic ? "process" : p->is_worker ? "worker" : "parent",
			.has_worker_index = r->has & HAS_ARG, .worker_index = r->arg,
			.has_ppid = r->has & HAS_OTHER_PID, .ppid = r->other_pid, .fork_seq = seq });
	case EV_FOUND:
		if (!(r->has & HAS_FD)) {
			/* A process as a fork would begin it, and its program as an exec would name it. */
			fdmodel_begin(in->fds, r->pid, seq);
			if (store_rows_add_process(in->rows, &(struct store_process){
				    .pid = r->pid, .role = "process", .has_ppid = r->has & HAS_OTHER_PID,
				    .ppid = r->other_pid, .fork_seq = seq }) < 0)
				return -EIO;
			return store_rows_set_program(in->rows, r->pid, evlog_text(r, in->texts));
		}
		/* A pipe first found here: its row names the first process found holding it, and that
		 * process's fd for the end it holds (-1 for the other end: who made it is unknown).
		 * Not for an fd of a traced run made by a call not traced (arg 1): the run saw every
		 * pipe of its own made, so a pipe new here is from outside, as an inherited one is. */
		if (inode && r->pipe_end != END_SOCKET && !(r->has & HAS_ARG) && ingest_pipe_lookup(in, inode) <= 0 &&
		    ingest_pipe_row(in, r, seq, inode, r->pipe_end == END_WRITE ? -1 : r->fd,
				    r->pipe_end == END_READ ? -1 : r->fd, 0) < 0)
			return -EIO;
		fdmodel_open(in->fds, r->pid, r->fd, inode, r->pipe_end, ingest_pipe_lookup(in, inode),
			     evlog_text(r, in->texts), seq, kind);
		return 0;
	case EV_INHERIT:
		fdmodel_inherit(in->fds, r->pid, r->fd, inode, r->pipe_end, ingest_pipe_lookup(in, inode),
				evlog_text(r, in->texts), seq);
		return 0;
	case EV_CLOSE:
		if (ok)
			fdmodel_close(in->fds, r->pid, r->fd, seq, kind);
		return 0;
	case EV_CLOSE_RANGE:
		if (ok)
			fdmodel_close_range(in->fds, r->pid, r->fd, r->fd2, seq, kind);
		return 0;
	case EV_DUP:
	case EV_DUP2:
		if (!ok || r->fd == r->fd2)
			return 0;
		fdmodel_touch(in->fds, r->pid, r->fd2, seq);
		fdmodel_open(in->fds, r->pid, r->fd, inode, r->pipe_end, ingest_pipe_lookup(in, inode), NULL, seq,
			     kind);
		return 0;
	case EV_RECEIVE:
		/* A new fd, as a dup makes one, but from another process's. */
		fdmodel_touch(in->fds, r->pid, r->fd2, seq);
		fdmodel_open(in->fds, r->pid, r->fd, inode, r->pipe_end, ingest_pipe_lookup(in, inode),
			     evlog_text(r, in->texts), seq, kind);
		return 0;
	case EV_WRITE:
		fdmodel_touch(in->fds, r->pid, r->fd, seq);
		return 0;
	case EV_SHUTDOWN: {
		/* A call on the fd; and the socket's sending side is shut for every holder. */
		int64_t pipe_id = ingest_pipe_lookup(in, inode);

		fdmodel_touch(in->fds, r->pid, r->fd, seq);
		if (!ok || pipe_id <= 0)
			return 0;
		return store_rows_set_shut(in->rows, pipe_id, seq);
	}
	case EV_HANG:
		/* Blocked in its very first read(0): the kernel's evidence is the anchor. */
		if (!(r->has & HAS_FD) || r->pipe_end != END_READ)
			return 0;
		goto first_read;
	case EV_READ:
	case EV_READ_ZERO:
		fdmodel_touch(in->fds, r->pid, r->fd, seq);
	first_read:
		p = ingest_proc_find(in, r->pid, 0);
		if (!p || !p->is_worker || p->first_read_done || r->fd != 0)
			return 0;
		p->first_read_done = 1;
		return store_rows_set_first_read(in->rows, r->pid, seq);
	case EV_EXEC:
		return store_rows_set_program(in->rows, r->pid, evlog_text(r, in->texts));
	case EV_CLOEXEC:
		fdmodel_close(in->fds, r->pid, r->fd, seq, kind);
		return 0;
	case EV_EXIT:
		if (store_rows_set_exit(in->rows, r->pid, seq, r->arg) < 0)
			return -EIO;
		fdmodel_end_process(in->fds, r->pid, seq, kind);
		return 0;
	case EV_REAP:
		if (store_rows_set_reap(in->rows, r->other_pid, seq, r->pid, r->has & HAS_ARG, r->arg,
				       r->has & HAS_SIGNAL, r->signal) < 0)
			return -EIO;
		/* A process killed by a signal never recorded `exit`: its fds end here. */
		fdmodel_end_process(in->fds, r->other_pid, seq, kind);
		return 0;
	default:
		return 0;
	}
}

int ingest_records(struct ingest *in, const struct evlog_record *recs, size_t n, const struct evlog_texts *texts)
{
	int rc;

	in->texts = texts;
	if (n > in->batch_cap) {
		in->batch_cap = n;
		in->batch = xrealloc(in->batch, n * sizeof(*in->batch));
		in->batch_pipe_id = xrealloc(in->batch_pipe_id, n * sizeof(*in->batch_pipe_id));
	}
	in->nbatch = 0;
	for (size_t i = 0; i < n; i++) {
		const struct evlog_record *r = &recs[i];
		int64_t pipe_id;

		/* Seq order is what the holds' windows and the reserved fork seqs rest on. */
		assert(r->ready > in->last_seq);
		in->last_seq = r->ready;
		/* Derive first: a `pipe` event must know its own pipe_id. */
		if (ingest_derive(in, r, r->ready) < 0)
			return -EIO;
		pipe_id = r->has & HAS_INODE ? ingest_pipe_lookup(in, r->inode) : 0;
		if (iochunk_kind(r->kind)) {
			if (iochunk_add(in->chunks, r, pipe_id) < 0)
				return -EIO;
			continue;
		}
		in->batch[in->nbatch] = r;
		in->batch_pipe_id[in->nbatch++] = pipe_id;
	}
	in->count += n;
	rc = store_rows_add_events(in->rows, in->nbatch, ingest_event_row, in);
	in->nbatch = 0;
	if (rc < 0)
		return rc;
	return ingest_flush_holds(in);
}

/* Writes the buffered hang evidence, in one INSERT ... SELECT. */
static int ingest_flush_holders(struct ingest *in)
{
	int rc = store_rows_add_hang_holders(in->rows, in->holders, in->nholders);

	in->nholders = 0;
	return rc;
}

int ingest_sync(struct ingest *in)
{
	if (ingest_flush_holders(in) < 0)
		return -EIO;
	return iochunk_flush(in->chunks);
}

void ingest_hang_holder(struct ingest *in, uint64_t seq, pid_t blocked, uint64_t inode, pid_t holder, int fd)
{
	ALLOC_GROW(in->holders, in->nholders + 1, in->holders_cap, 1024);
	in->holders[in->nholders++] = (struct store_hang_holder){ .seq = seq, .blocked_pid = blocked,
								   .pipe_id = ingest_pipe_lookup(in, inode),
								   .inode = inode, .holder_pid = holder,
								   .holder_fd = fd };
}
