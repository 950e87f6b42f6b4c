/* ingest.c: turns event-log records into rows: events, and the processes, pipes and holds they imply.
 *
 * Each record becomes one `event_rows` row, or, for the per-task kinds
 * (write, read, task), one element of an io_chunks row (see iochunk.c); the
 * `events` view shows both alike. Alongside, the fd model (fdmodel.c) keeps
 * every process's fd table as the events describe it, and each hold it hands
 * back when it ends becomes one `holds` row, written once.
 */
#include "core/ingest.h"

#include "core/evlog.h"
#include "core/fdmodel.h"
#include "core/iochunk.h"
#include "store/store.h"
#include "base/pidmap.h"
#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* One hang_holders row: who held the write end of the pipe a process was blocked on. */
struct ingest_holder {
	uint64_t seq, inode;
	int64_t pipe_id;
	pid_t blocked, holder;
	int fd;
};

/* What ingest itself remembers of a process (its fd table is in the fd model). */
struct ingest_proc {
	pid_t pid;            /* 0: empty slot */
	int is_worker;
	int first_read_done;
};
_Static_assert(offsetof(struct ingest_proc, pid) == 0, "a pidmap entry begins with its key");

struct ingest {
	struct store *st;
	uint64_t last_seq; /* the last record's: records come in seq order (ingest.h) */
	/* The rows the pooltrace_batch virtual table shows while one INSERT runs:
	 * the batch's records other than the chunked kinds, with their pipe_id. */
	const struct evlog_record **batch;
	const struct evlog_texts *texts; /* the batch's long texts */
	int64_t *batch_pipe_id;
	size_t nbatch, batch_cap;
	struct iochunk_set *chunks;
	int64_t run_id;
	bool generic;       /* record: role 'process' for everyone */
	uint64_t count;
	int64_t npipes;
	struct fdmodel *fds;        /* every process's fd table */
	struct fdmodel_hold **ended; /* ended holds not yet written */
	size_t nended, ended_cap;
	struct ingest_holder *holders; /* hang evidence not yet written */
	size_t nholders, holders_cap;
	struct pidmap procs;  /* struct ingest_proc by pid */
	struct inomap pipes;  /* inode -> pipe_id */
	sqlite3_stmt *ins_events, *ins_proc, *ins_pipe, *ins_hold, *ins_holders;
	sqlite3_stmt *set_first_read, *set_exit, *set_reap, *set_program, *set_shut;
};

static struct ingest_proc *ingest_proc_find(struct ingest *in, pid_t pid, int create)
{
	return create ? pidmap_put(&in->procs, pid) : pidmap_get(&in->procs, pid);
}

static int64_t ingest_pipe_lookup(const struct ingest *in, uint64_t inode)
{
	return inomap_get(&in->pipes, inode);
}

/*
 * pooltrace_batch, pooltrace_holds and pooltrace_holders: eponymous virtual
 * tables over the records being ingested, the holds that ended and the hang
 * evidence, so each goes into its table with one INSERT ... SELECT instead
 * of a bind/step/reset per row (measured: 1.6 M against 0.9 M rows/s).
 * Their columns are those of `event_rows`, `holds` and `hang_holders`.
 */
enum ingest_vt_kind { INGEST_VT_EVENTS, INGEST_VT_HOLDS, INGEST_VT_HOLDERS };

static const struct {
	const char *name, *columns;
} ingest_vt_tables[] = {
	[INGEST_VT_EVENTS] = { "pooltrace_batch", "CREATE TABLE x(run_id, seq, ts_ns, pid, kind, fd, fd2, pipe_id,"
						  " pipe_end, inode, other_pid, result, arg, signal, is_foreign, detail)" },
	[INGEST_VT_HOLDS] = { "pooltrace_holds", "CREATE TABLE x(run_id, pid, fd, pipe_id, pipe_end, inode,"
						 " is_foreign, detail, from_seq, from_kind, to_seq, to_kind, touched_seq)" },
	[INGEST_VT_HOLDERS] = { "pooltrace_holders", "CREATE TABLE x(run_id, seq, blocked_pid, pipe_id, inode,"
						     " holder_pid, holder_fd)" },
};

struct ingest_vtab {
	sqlite3_vtab base;
	struct ingest *in;
	enum ingest_vt_kind kind;
};

struct ingest_cursor {
	sqlite3_vtab_cursor base;
	size_t i;
};

/* One module under three names: which table it is comes from the name it was connected by. */
static int ingest_vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **vt,
			     char **err)
{
	enum ingest_vt_kind kind = INGEST_VT_EVENTS;
	struct ingest_vtab *t;
	int rc;

	(void)err;
	for (size_t k = 0; argc > 0 && k < sizeof(ingest_vt_tables) / sizeof(ingest_vt_tables[0]); k++)
		if (!strcmp(argv[0], ingest_vt_tables[k].name))
			kind = (enum ingest_vt_kind)k;
	rc = sqlite3_declare_vtab(db, ingest_vt_tables[kind].columns);
	if (rc != SQLITE_OK)
		return rc;
	t = sqlite3_malloc(sizeof(*t));
	if (!t)
		return SQLITE_NOMEM;
	memset(t, 0, sizeof(*t));
	t->in = aux;
	t->kind = kind;
	*vt = &t->base;
	return SQLITE_OK;
}

static int ingest_vt_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt);
	return SQLITE_OK;
}

static int ingest_vt_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	(void)vt;
	info->estimatedCost = 1000;
	return SQLITE_OK;
}

static int ingest_vt_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **cur)
{
	struct ingest_cursor *c = sqlite3_malloc(sizeof(*c));

	(void)vt;
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	*cur = &c->base;
	return SQLITE_OK;
}

static int ingest_vt_close(sqlite3_vtab_cursor *cur)
{
	sqlite3_free(cur);
	return SQLITE_OK;
}

static int ingest_vt_filter(sqlite3_vtab_cursor *cur, int idx, const char *idx_str, int argc, sqlite3_value **argv)
{
	(void)idx, (void)idx_str, (void)argc, (void)argv;
	((struct ingest_cursor *)cur)->i = 0;
	return SQLITE_OK;
}

static int ingest_vt_next(sqlite3_vtab_cursor *cur)
{
	((struct ingest_cursor *)cur)->i++;
	return SQLITE_OK;
}

static struct ingest *ingest_vt_owner(sqlite3_vtab_cursor *cur)
{
	return ((struct ingest_vtab *)cur->pVtab)->in;
}

static int ingest_vt_eof(sqlite3_vtab_cursor *cur)
{
	const struct ingest *in = ingest_vt_owner(cur);
	size_t n;

	switch (((struct ingest_vtab *)cur->pVtab)->kind) {
	case INGEST_VT_HOLDS: n = in->nended; break;
	case INGEST_VT_HOLDERS: n = in->nholders; break;
	default: n = in->nbatch; break;
	}
	return ((struct ingest_cursor *)cur)->i >= n;
}

static void ingest_result_opt(sqlite3_context *ctx, int has, int64_t v)
{
	if (has)
		sqlite3_result_int64(ctx, v);
}

static void ingest_result_text(sqlite3_context *ctx, const char *t)
{
	if (t && *t)
		sqlite3_result_text(ctx, t, -1, SQLITE_STATIC);
}

static void ingest_hold_column(const struct ingest *in, const struct fdmodel_hold *h, sqlite3_context *ctx, int col)
{
	switch (col) {
	case 0: sqlite3_result_int64(ctx, in->run_id); break;
	case 1: sqlite3_result_int64(ctx, h->pid); break;
	case 2: sqlite3_result_int(ctx, h->fd); break;
	case 3: ingest_result_opt(ctx, h->pipe_id != 0, h->pipe_id); break;
	case 4: ingest_result_text(ctx, h->inode ? evlog_end_name(h->end) : NULL); break;
	case 5: ingest_result_opt(ctx, h->inode != 0, (int64_t)h->inode); break;
	case 6: sqlite3_result_int(ctx, h->pipe_id == 0); break;
	case 7: ingest_result_text(ctx, h->detail); break;
	case 8: sqlite3_result_int64(ctx, (int64_t)h->from_seq); break;
	case 9: ingest_result_text(ctx, h->from_kind); break;
	case 10: ingest_result_opt(ctx, h->to_seq != 0, (int64_t)h->to_seq); break;
	case 11: ingest_result_text(ctx, h->to_kind); break;
	case 12: ingest_result_opt(ctx, h->touched_seq != 0, (int64_t)h->touched_seq); break;
	}
}

static void ingest_holder_column(const struct ingest *in, const struct ingest_holder *h, sqlite3_context *ctx,
				 int col)
{
	switch (col) {
	case 0: sqlite3_result_int64(ctx, in->run_id); break;
	case 1: sqlite3_result_int64(ctx, (int64_t)h->seq); break;
	case 2: sqlite3_result_int64(ctx, h->blocked); break;
	case 3: ingest_result_opt(ctx, h->pipe_id != 0, h->pipe_id); break;
	case 4: sqlite3_result_int64(ctx, (int64_t)h->inode); break;
	case 5: sqlite3_result_int64(ctx, h->holder); break;
	case 6: sqlite3_result_int(ctx, h->fd); break;
	}
}

static int ingest_vt_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	struct ingest *in = ingest_vt_owner(cur);
	size_t i = ((struct ingest_cursor *)cur)->i;
	const struct evlog_record *r;
	int has;
	const char *end;

	switch (((struct ingest_vtab *)cur->pVtab)->kind) {
	case INGEST_VT_HOLDS:
		ingest_hold_column(in, in->ended[i], ctx, col);
		return SQLITE_OK;
	case INGEST_VT_HOLDERS:
		ingest_holder_column(in, &in->holders[i], ctx, col);
		return SQLITE_OK;
	default:
		break;
	}
	r = in->batch[i];
	has = r->has;

	switch (col) {
	case 0: sqlite3_result_int64(ctx, in->run_id); break;
	case 1: sqlite3_result_int64(ctx, (int64_t)r->ready); break;
	case 2: sqlite3_result_int64(ctx, (int64_t)r->ts_ns); break;
	case 3: sqlite3_result_int64(ctx, r->pid); break;
	case 4: sqlite3_result_text(ctx, evlog_kind_name(r->kind), -1, SQLITE_STATIC); break;
	case 5: ingest_result_opt(ctx, has & HAS_FD, r->fd); break;
	case 6: ingest_result_opt(ctx, has & HAS_FD2, r->fd2); break;
	case 7: ingest_result_opt(ctx, in->batch_pipe_id[i] != 0, in->batch_pipe_id[i]); break;
	case 8:
		end = has & HAS_INODE ? evlog_end_name(r->pipe_end) : NULL;
		if (end)
			sqlite3_result_text(ctx, end, -1, SQLITE_STATIC);
		break;
	case 9: ingest_result_opt(ctx, has & HAS_INODE, (int64_t)r->inode); break;
	case 10: ingest_result_opt(ctx, has & HAS_OTHER_PID, r->other_pid); break;
	case 11: ingest_result_opt(ctx, has & HAS_RESULT, r->result); break;
	case 12: ingest_result_opt(ctx, has & HAS_ARG, r->arg); break;
	case 13: ingest_result_opt(ctx, has & HAS_SIGNAL, r->signal); break;
	case 14: ingest_result_opt(ctx, r->kind == EV_INHERIT, in->batch_pipe_id[i] == 0); break;
	case 15:
		ingest_result_text(ctx, evlog_text(r, in->texts));
		break;
	}
	return SQLITE_OK;
}

static int ingest_vt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = (sqlite3_int64)((struct ingest_cursor *)cur)->i;
	return SQLITE_OK;
}

static const sqlite3_module ingest_batch_module = {
	.iVersion = 0,
	.xCreate = NULL, /* eponymous-only: it exists as long as the connection does */
	.xConnect = ingest_vt_connect,
	.xBestIndex = ingest_vt_best_index,
	.xDisconnect = ingest_vt_disconnect,
	.xOpen = ingest_vt_open,
	.xClose = ingest_vt_close,
	.xFilter = ingest_vt_filter,
	.xNext = ingest_vt_next,
	.xEof = ingest_vt_eof,
	.xColumn = ingest_vt_column,
	.xRowid = ingest_vt_rowid,
};

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
	in->st = st;
	in->run_id = run_id;
	for (size_t k = 0; k < sizeof(ingest_vt_tables) / sizeof(ingest_vt_tables[0]); k++)
		if (sqlite3_create_module(store_db(st), ingest_vt_tables[k].name, &ingest_batch_module, in) != SQLITE_OK)
			die("cannot register the batch tables: %s", sqlite3_errmsg(store_db(st)));
	in->chunks = iochunk_new(st, run_id);
	in->ins_events = store_prepare(st, "INSERT INTO event_rows (run_id, seq, ts_ns, pid, kind, fd, fd2, pipe_id,"
				       " pipe_end, inode, other_pid, result, arg, signal, is_foreign, detail)"
				       " SELECT * FROM pooltrace_batch");
	in->ins_proc = store_prepare(st, "INSERT OR IGNORE INTO processes (run_id, pid, role, worker_index, ppid, fork_seq)"
				     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	in->ins_pipe = store_prepare(st, "INSERT INTO pipes (run_id, pipe_id, inode, channel, created_by, created_seq,"
					 " read_fd, write_fd, kind, peer_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	in->ins_hold = store_prepare(st, "INSERT INTO holds (run_id, pid, fd, pipe_id, pipe_end, inode, is_foreign,"
				     " detail, from_seq, from_kind, to_seq, to_kind, touched_seq)"
				     " SELECT * FROM pooltrace_holds");
	in->set_first_read = store_prepare(st, "UPDATE processes SET first_read_seq = ?3 WHERE run_id = ?1 AND pid = ?2");
	in->set_exit = store_prepare(st, "UPDATE processes SET exit_seq = ?3, exit_code = ?4 WHERE run_id = ?1 AND pid = ?2");
	in->set_reap = store_prepare(st, "UPDATE processes SET reap_seq = ?3, reaped_by = ?4,"
				     " exit_code = coalesce(?5, exit_code), term_signal = ?6 WHERE run_id = ?1 AND pid = ?2");
	in->set_program = store_prepare(st, "UPDATE processes SET program = ?3 WHERE run_id = ?1 AND pid = ?2");
	in->set_shut = store_prepare(st, "UPDATE pipes SET shut_seq = ?3 WHERE run_id = ?1 AND pipe_id = ?2"
					 " AND shut_seq IS NULL");
	in->ins_holders = store_prepare(st, "INSERT INTO hang_holders (run_id, seq, blocked_pid, pipe_id, inode,"
					" holder_pid, holder_fd) SELECT * FROM pooltrace_holders");
	if (!in->ins_events || !in->ins_proc || !in->ins_pipe || !in->ins_hold || !in->ins_holders ||
	    !in->set_first_read || !in->set_exit || !in->set_reap || !in->set_program || !in->set_shut)
		die("cannot prepare the trace statements (schema mismatch?)");
	return in;
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	sqlite3_finalize(in->ins_events);
	sqlite3_finalize(in->ins_proc);
	sqlite3_finalize(in->ins_pipe);
	sqlite3_finalize(in->ins_hold);
	sqlite3_finalize(in->set_first_read);
	sqlite3_finalize(in->set_exit);
	sqlite3_finalize(in->set_reap);
	sqlite3_finalize(in->set_program);
	sqlite3_finalize(in->set_shut);
	sqlite3_finalize(in->ins_holders);
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

/* Steps a bound statement to completion and resets it. */
static int ingest_step(struct ingest *in, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return error("%s: %s", store_path(in->st), sqlite3_errmsg(store_db(in->st)));
	return 0;
}

static void ingest_bind_opt(sqlite3_stmt *s, int col, int has, int64_t v)
{
	if (has)
		sqlite3_bind_int64(s, col, v);
	else
		sqlite3_bind_null(s, col);
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
		int rc = sqlite3_step(in->ins_hold);

		sqlite3_reset(in->ins_hold);
		if (rc != SQLITE_DONE)
			ret = error("%s: %s", store_path(in->st), sqlite3_errmsg(store_db(in->st)));
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

static int ingest_pid_update(struct ingest *in, sqlite3_stmt *s, pid_t pid, uint64_t seq)
{
	sqlite3_bind_int64(s, 1, in->run_id);
	sqlite3_bind_int64(s, 2, pid);
	sqlite3_bind_int64(s, 3, (int64_t)seq);
	return ingest_step(in, s);
}

/*
 * The next pipes row: a pipe (peer 0), or one end of a socketpair, whose
 * other end is pipe_id peer. The channel (arg) is the pool's, for pipes.
 */
static int ingest_pipe_row(struct ingest *in, const struct evlog_record *r, uint64_t seq, uint64_t inode, int read_fd,
			   int write_fd, int64_t peer)
{
	sqlite3_stmt *s = in->ins_pipe;

	inomap_put(&in->pipes, inode, ++in->npipes);
	sqlite3_bind_int64(s, 1, in->run_id);
	sqlite3_bind_int64(s, 2, in->npipes);
	sqlite3_bind_int64(s, 3, (int64_t)inode);
	ingest_bind_opt(s, 4, !peer && (r->has & HAS_ARG), r->arg);
	sqlite3_bind_int64(s, 5, r->pid);
	sqlite3_bind_int64(s, 6, (int64_t)seq);
	sqlite3_bind_int(s, 7, read_fd);
	sqlite3_bind_int(s, 8, write_fd);
	sqlite3_bind_text(s, 9, peer ? "socket" : "pipe", -1, SQLITE_STATIC);
	ingest_bind_opt(s, 10, peer != 0, peer);
	return ingest_step(in, s);
}

/* Derived rows for one record: processes, pipes, and (through the fd model) holds. */
static int ingest_derive(struct ingest *in, const struct evlog_record *r, uint64_t seq)
{
	const char *kind = evlog_kind_name(r->kind);
	int ok = !(r->has & HAS_RESULT) || r->result >= 0;
	uint64_t inode = r->has & HAS_INODE ? r->inode : 0;
	struct ingest_proc *p;
	sqlite3_stmt *s;

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
		s = in->ins_proc;
		sqlite3_bind_int64(s, 1, in->run_id);
		sqlite3_bind_int64(s, 2, r->pid);
		sqlite3_bind_text(s, 3, in->generic ? "process" : p->is_worker ? "worker" : "parent", -1, SQLITE_STATIC);
		ingest_bind_opt(s, 4, r->has & HAS_ARG, r->arg);
		ingest_bind_opt(s, 5, r->has & HAS_OTHER_PID, r->other_pid);
		sqlite3_bind_int64(s, 6, (int64_t)seq);
		return ingest_step(in, s);
	case EV_FOUND:
		if (!(r->has & HAS_FD)) {
			/* A process as a fork would begin it, and its program as an exec would name it. */
			fdmodel_begin(in->fds, r->pid, seq);
			s = in->ins_proc;
			sqlite3_bind_int64(s, 1, in->run_id);
			sqlite3_bind_int64(s, 2, r->pid);
			sqlite3_bind_text(s, 3, "process", -1, SQLITE_STATIC);
			sqlite3_bind_null(s, 4);
			ingest_bind_opt(s, 5, r->has & HAS_OTHER_PID, r->other_pid);
			sqlite3_bind_int64(s, 6, (int64_t)seq);
			if (ingest_step(in, s) < 0)
				return -EIO;
			s = in->set_program;
			sqlite3_bind_text(s, 4 - 1, evlog_text(r, in->texts), -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(s, 1, in->run_id);
			sqlite3_bind_int64(s, 2, r->pid);
			return ingest_step(in, s);
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
		sqlite3_bind_int64(in->set_shut, 1, in->run_id);
		sqlite3_bind_int64(in->set_shut, 2, pipe_id);
		sqlite3_bind_int64(in->set_shut, 3, (int64_t)seq);
		return ingest_step(in, in->set_shut);
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
		return ingest_pid_update(in, in->set_first_read, r->pid, seq);
	case EV_EXEC:
		sqlite3_bind_text(in->set_program, 4 - 1, evlog_text(r, in->texts), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(in->set_program, 1, in->run_id);
		sqlite3_bind_int64(in->set_program, 2, r->pid);
		return ingest_step(in, in->set_program);
	case EV_CLOEXEC:
		fdmodel_close(in->fds, r->pid, r->fd, seq, kind);
		return 0;
	case EV_EXIT:
		sqlite3_bind_int64(in->set_exit, 4, r->arg);
		if (ingest_pid_update(in, in->set_exit, r->pid, seq) < 0)
			return -EIO;
		fdmodel_end_process(in->fds, r->pid, seq, kind);
		return 0;
	case EV_REAP:
		s = in->set_reap;
		sqlite3_bind_int64(s, 4, r->pid);
		ingest_bind_opt(s, 5, r->has & HAS_ARG, r->arg);
		ingest_bind_opt(s, 6, r->has & HAS_SIGNAL, r->signal);
		if (ingest_pid_update(in, s, r->other_pid, seq) < 0)
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
	if (!in->nbatch)
		return ingest_flush_holds(in);
	rc = sqlite3_step(in->ins_events);
	sqlite3_reset(in->ins_events);
	in->nbatch = 0;
	if (rc != SQLITE_DONE)
		return error("%s: %s", store_path(in->st), sqlite3_errmsg(store_db(in->st)));
	return ingest_flush_holds(in);
}

/* Writes the buffered hang evidence, in one INSERT ... SELECT. */
static int ingest_flush_holders(struct ingest *in)
{
	int rc;

	if (!in->nholders)
		return 0;
	rc = sqlite3_step(in->ins_holders);
	sqlite3_reset(in->ins_holders);
	in->nholders = 0;
	if (rc != SQLITE_DONE)
		return error("%s: %s", store_path(in->st), sqlite3_errmsg(store_db(in->st)));
	return 0;
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
	in->holders[in->nholders++] = (struct ingest_holder){ .seq = seq, .inode = inode,
							       .pipe_id = ingest_pipe_lookup(in, inode),
							       .blocked = blocked, .holder = holder, .fd = fd };
}
