/* rows.c: writes the rows ingest derives from a run's events: events, processes, pipes, holds, hang holders.
 *
 * Which rows there are is core/ingest.c's; here are their statements,
 * prepared once for a run.
 *
 * pooltrace_batch, pooltrace_holds and pooltrace_holders are eponymous
 * virtual tables over the batch being written, so each bulk table gets its
 * rows with one INSERT ... SELECT instead of a bind/step/reset per row
 * (measured: 1.6 M against 0.9 M rows/s). Their columns are those of
 * `event_rows`, `holds` and `hang_holders`. Invariant: a table shows rows
 * only while the store_rows_add_* call that writes it runs (w->n is 0
 * otherwise); each row is asked of the caller once, as the cursor reaches it.
 */
#include "store/rows.h"

#include "store/store.h"
#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum store_rows_table { STORE_ROWS_EVENTS, STORE_ROWS_HOLDS, STORE_ROWS_HOLDERS };

static const struct {
	const char *name, *columns;
} store_rows_tables[] = {
	[STORE_ROWS_EVENTS] = { "pooltrace_batch", "CREATE TABLE x(run_id, seq, ts_ns, pid, kind, fd, fd2, pipe_id,"
						   " pipe_end, inode, other_pid, result, arg, signal, is_foreign, detail)" },
	[STORE_ROWS_HOLDS] = { "pooltrace_holds", "CREATE TABLE x(run_id, pid, fd, pipe_id, pipe_end, inode,"
						  " is_foreign, detail, from_seq, from_kind, to_seq, to_kind, touched_seq)" },
	[STORE_ROWS_HOLDERS] = { "pooltrace_holders", "CREATE TABLE x(run_id, seq, blocked_pid, pipe_id, inode,"
						      " holder_pid, holder_fd)" },
};
#define STORE_ROWS_NTABLES (sizeof(store_rows_tables) / sizeof(store_rows_tables[0]))

struct store_rows {
	struct store *st;
	int64_t run_id;
	/* The batch of the one INSERT ... SELECT running: its table, n rows, and where they come from. */
	enum store_rows_table table;
	size_t n;
	store_rows_event_fn *event_row;
	store_rows_hold_fn *hold_row;
	const struct store_hang_holder *holders;
	void *ctx;
	sqlite3_stmt *ins_events, *ins_proc, *ins_pipe, *ins_hold, *ins_holders;
	sqlite3_stmt *set_first_read, *set_exit, *set_reap, *set_program, *set_shut;
};

struct store_rows_vtab {
	sqlite3_vtab base;
	struct store_rows *w;
	enum store_rows_table table;
};

struct store_rows_cursor {
	sqlite3_vtab_cursor base;
	size_t i;
	union {
		struct store_event event;
		struct store_hold hold;
	} row; /* row i, as the caller filled it in */
};

/* One module under three names: which table it is comes from the name it was connected by. */
static int store_rows_vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **vt,
				 char **err)
{
	enum store_rows_table table = STORE_ROWS_EVENTS;
	struct store_rows_vtab *t;
	int rc;

	(void)err;
	for (size_t k = 0; argc > 0 && k < STORE_ROWS_NTABLES; k++)
		if (!strcmp(argv[0], store_rows_tables[k].name))
			table = (enum store_rows_table)k;
	rc = sqlite3_declare_vtab(db, store_rows_tables[table].columns);
	if (rc != SQLITE_OK)
		return rc;
	t = sqlite3_malloc(sizeof(*t));
	if (!t)
		return SQLITE_NOMEM;
	memset(t, 0, sizeof(*t));
	t->w = aux;
	t->table = table;
	*vt = &t->base;
	return SQLITE_OK;
}

static int store_rows_vt_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt);
	return SQLITE_OK;
}

static int store_rows_vt_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	(void)vt;
	info->estimatedCost = 1000;
	return SQLITE_OK;
}

static int store_rows_vt_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **cur)
{
	struct store_rows_cursor *c = sqlite3_malloc(sizeof(*c));

	(void)vt;
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	*cur = &c->base;
	return SQLITE_OK;
}

static int store_rows_vt_close(sqlite3_vtab_cursor *cur)
{
	sqlite3_free(cur);
	return SQLITE_OK;
}

/* The rows table shows now: none unless the batch being written is its. */
static size_t store_rows_vt_count(const sqlite3_vtab_cursor *cur)
{
	const struct store_rows_vtab *t = (const struct store_rows_vtab *)cur->pVtab;

	return t->w->table == t->table ? t->w->n : 0;
}

/* Asks the caller for the row the cursor is on, if it is on one. */
static void store_rows_vt_fill(struct store_rows_cursor *c)
{
	const struct store_rows_vtab *t = (const struct store_rows_vtab *)c->base.pVtab;
	const struct store_rows *w = t->w;

	if (c->i >= store_rows_vt_count(&c->base))
		return;
	switch (t->table) {
	case STORE_ROWS_EVENTS:
		memset(&c->row.event, 0, sizeof(c->row.event));
		w->event_row(w->ctx, c->i, &c->row.event);
		assert(c->row.event.kind);
		break;
	case STORE_ROWS_HOLDS:
		memset(&c->row.hold, 0, sizeof(c->row.hold));
		w->hold_row(w->ctx, c->i, &c->row.hold);
		break;
	case STORE_ROWS_HOLDERS: /* read in place */
		break;
	}
}

static int store_rows_vt_filter(sqlite3_vtab_cursor *cur, int idx, const char *idx_str, int argc,
				sqlite3_value **argv)
{
	(void)idx, (void)idx_str, (void)argc, (void)argv;
	((struct store_rows_cursor *)cur)->i = 0;
	store_rows_vt_fill((struct store_rows_cursor *)cur);
	return SQLITE_OK;
}

static int store_rows_vt_next(sqlite3_vtab_cursor *cur)
{
	((struct store_rows_cursor *)cur)->i++;
	store_rows_vt_fill((struct store_rows_cursor *)cur);
	return SQLITE_OK;
}

static int store_rows_vt_eof(sqlite3_vtab_cursor *cur)
{
	return ((struct store_rows_cursor *)cur)->i >= store_rows_vt_count(cur);
}

static void store_rows_result_opt(sqlite3_context *ctx, bool has, int64_t v)
{
	if (has)
		sqlite3_result_int64(ctx, v);
}

/* A text, or NULL for none or "": the texts are the caller's and outlive the statement. */
static void store_rows_result_text(sqlite3_context *ctx, const char *t)
{
	if (t && *t)
		sqlite3_result_text(ctx, t, -1, SQLITE_STATIC);
}

static void store_rows_event_column(const struct store_rows *w, const struct store_event *e, sqlite3_context *ctx,
				    int col)
{
	switch (col) {
	case 0: sqlite3_result_int64(ctx, w->run_id); break;
	case 1: sqlite3_result_int64(ctx, (int64_t)e->seq); break;
	case 2: sqlite3_result_int64(ctx, (int64_t)e->ts_ns); break;
	case 3: sqlite3_result_int64(ctx, e->pid); break;
	case 4: sqlite3_result_text(ctx, e->kind, -1, SQLITE_STATIC); break;
	case 5: store_rows_result_opt(ctx, e->has_fd, e->fd); break;
	case 6: store_rows_result_opt(ctx, e->has_fd2, e->fd2); break;
	case 7: store_rows_result_opt(ctx, e->pipe_id != 0, e->pipe_id); break;
	case 8: store_rows_result_text(ctx, e->pipe_end); break;
	case 9: store_rows_result_opt(ctx, e->has_inode, (int64_t)e->inode); break;
	case 10: store_rows_result_opt(ctx, e->has_other_pid, e->other_pid); break;
	case 11: store_rows_result_opt(ctx, e->has_result, e->result); break;
	case 12: store_rows_result_opt(ctx, e->has_arg, e->arg); break;
	case 13: store_rows_result_opt(ctx, e->has_signal, e->signal); break;
	case 14: store_rows_result_opt(ctx, e->has_is_foreign, e->is_foreign); break;
	case 15: store_rows_result_text(ctx, e->detail); break;
	}
}

static void store_rows_hold_column(const struct store_rows *w, const struct store_hold *h, sqlite3_context *ctx,
				   int col)
{
	switch (col) {
	case 0: sqlite3_result_int64(ctx, w->run_id); break;
	case 1: sqlite3_result_int64(ctx, h->pid); break;
	case 2: sqlite3_result_int(ctx, h->fd); break;
	case 3: store_rows_result_opt(ctx, h->pipe_id != 0, h->pipe_id); break;
	case 4: store_rows_result_text(ctx, h->pipe_end); break;
	case 5: store_rows_result_opt(ctx, h->inode != 0, (int64_t)h->inode); break;
	case 6: sqlite3_result_int(ctx, h->is_foreign); break;
	case 7: store_rows_result_text(ctx, h->detail); break;
	case 8: sqlite3_result_int64(ctx, (int64_t)h->from_seq); break;
	case 9: store_rows_result_text(ctx, h->from_kind); break;
	case 10: store_rows_result_opt(ctx, h->to_seq != 0, (int64_t)h->to_seq); break;
	case 11: store_rows_result_text(ctx, h->to_kind); break;
	case 12: store_rows_result_opt(ctx, h->touched_seq != 0, (int64_t)h->touched_seq); break;
	}
}

static void store_rows_holder_column(const struct store_rows *w, const struct store_hang_holder *h,
				     sqlite3_context *ctx, int col)
{
	switch (col) {
	case 0: sqlite3_result_int64(ctx, w->run_id); break;
	case 1: sqlite3_result_int64(ctx, (int64_t)h->seq); break;
	case 2: sqlite3_result_int64(ctx, h->blocked_pid); break;
	case 3: store_rows_result_opt(ctx, h->pipe_id != 0, h->pipe_id); break;
	case 4: sqlite3_result_int64(ctx, (int64_t)h->inode); break;
	case 5: sqlite3_result_int64(ctx, h->holder_pid); break;
	case 6: sqlite3_result_int(ctx, h->holder_fd); break;
	}
}

static int store_rows_vt_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	const struct store_rows_vtab *t = (const struct store_rows_vtab *)cur->pVtab;
	const struct store_rows_cursor *c = (const struct store_rows_cursor *)cur;

	assert(c->i < store_rows_vt_count(cur));
	switch (t->table) {
	case STORE_ROWS_EVENTS: store_rows_event_column(t->w, &c->row.event, ctx, col); break;
	case STORE_ROWS_HOLDS: store_rows_hold_column(t->w, &c->row.hold, ctx, col); break;
	case STORE_ROWS_HOLDERS: store_rows_holder_column(t->w, &t->w->holders[c->i], ctx, col); break;
	}
	return SQLITE_OK;
}

static int store_rows_vt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = (sqlite3_int64)((struct store_rows_cursor *)cur)->i;
	return SQLITE_OK;
}

static const sqlite3_module store_rows_module = {
	.iVersion = 0,
	.xCreate = NULL, /* eponymous-only: it exists as long as the connection does */
	.xConnect = store_rows_vt_connect,
	.xBestIndex = store_rows_vt_best_index,
	.xDisconnect = store_rows_vt_disconnect,
	.xOpen = store_rows_vt_open,
	.xClose = store_rows_vt_close,
	.xFilter = store_rows_vt_filter,
	.xNext = store_rows_vt_next,
	.xEof = store_rows_vt_eof,
	.xColumn = store_rows_vt_column,
	.xRowid = store_rows_vt_rowid,
};

struct store_rows *store_rows_open(struct store *st, int64_t run_id)
{
	struct store_rows *w = xcalloc(1, sizeof(*w));

	w->st = st;
	w->run_id = run_id;
	for (size_t k = 0; k < STORE_ROWS_NTABLES; k++)
		if (sqlite3_create_module(store_db(st), store_rows_tables[k].name, &store_rows_module, w) != SQLITE_OK)
			die("cannot register the batch tables: %s", store_errmsg(st));
	w->ins_events = store_prepare(st, "INSERT INTO event_rows (run_id, seq, ts_ns, pid, kind, fd, fd2, pipe_id,"
				      " pipe_end, inode, other_pid, result, arg, signal, is_foreign, detail)"
				      " SELECT * FROM pooltrace_batch");
	w->ins_proc = store_prepare(st, "INSERT OR IGNORE INTO processes (run_id, pid, role, worker_index, ppid, fork_seq)"
				    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	w->ins_pipe = store_prepare(st, "INSERT INTO pipes (run_id, pipe_id, inode, channel, created_by, created_seq,"
					" read_fd, write_fd, kind, peer_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	w->ins_hold = store_prepare(st, "INSERT INTO holds (run_id, pid, fd, pipe_id, pipe_end, inode, is_foreign,"
				    " detail, from_seq, from_kind, to_seq, to_kind, touched_seq)"
				    " SELECT * FROM pooltrace_holds");
	w->set_first_read = store_prepare(st, "UPDATE processes SET first_read_seq = ?3 WHERE run_id = ?1 AND pid = ?2");
	w->set_exit = store_prepare(st, "UPDATE processes SET exit_seq = ?3, exit_code = ?4 WHERE run_id = ?1 AND pid = ?2");
	w->set_reap = store_prepare(st, "UPDATE processes SET reap_seq = ?3, reaped_by = ?4,"
				    " exit_code = coalesce(?5, exit_code), term_signal = ?6 WHERE run_id = ?1 AND pid = ?2");
	w->set_program = store_prepare(st, "UPDATE processes SET program = ?3 WHERE run_id = ?1 AND pid = ?2");
	w->set_shut = store_prepare(st, "UPDATE pipes SET shut_seq = ?3 WHERE run_id = ?1 AND pipe_id = ?2"
					" AND shut_seq IS NULL");
	w->ins_holders = store_prepare(st, "INSERT INTO hang_holders (run_id, seq, blocked_pid, pipe_id, inode,"
				       " holder_pid, holder_fd) SELECT * FROM pooltrace_holders");
	if (!w->ins_events || !w->ins_proc || !w->ins_pipe || !w->ins_hold || !w->ins_holders ||
	    !w->set_first_read || !w->set_exit || !w->set_reap || !w->set_program || !w->set_shut)
		die("cannot prepare the trace statements (schema mismatch?)");
	return w;
}

void store_rows_close(struct store_rows *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->ins_events);
	sqlite3_finalize(w->ins_proc);
	sqlite3_finalize(w->ins_pipe);
	sqlite3_finalize(w->ins_hold);
	sqlite3_finalize(w->set_first_read);
	sqlite3_finalize(w->set_exit);
	sqlite3_finalize(w->set_reap);
	sqlite3_finalize(w->set_program);
	sqlite3_finalize(w->set_shut);
	sqlite3_finalize(w->ins_holders);
	free(w);
}

/* Steps a bound statement to completion and resets it. 0, or -EIO with SQLite's message printed. */
static int store_rows_step(struct store_rows *w, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		error("%s: %s", store_path(w->st), store_errmsg(w->st));
		return -EIO;
	}
	return 0;
}

/* Runs ins, an INSERT ... SELECT from table, over the n rows the caller has set up in w. */
static int store_rows_step_batch(struct store_rows *w, enum store_rows_table table, size_t n, sqlite3_stmt *ins)
{
	int rc;

	assert(w->n == 0); /* one batch at a time */
	w->table = table;
	w->n = n;
	rc = store_rows_step(w, ins);
	w->n = 0;
	w->event_row = NULL;
	w->hold_row = NULL;
	w->holders = NULL;
	w->ctx = NULL;
	return rc;
}

int store_rows_add_events(struct store_rows *w, size_t n, store_rows_event_fn *row, void *ctx)
{
	if (!n)
		return 0;
	w->event_row = row;
	w->ctx = ctx;
	return store_rows_step_batch(w, STORE_ROWS_EVENTS, n, w->ins_events);
}

int store_rows_add_holds(struct store_rows *w, size_t n, store_rows_hold_fn *row, void *ctx)
{
	if (!n)
		return 0;
	w->hold_row = row;
	w->ctx = ctx;
	return store_rows_step_batch(w, STORE_ROWS_HOLDS, n, w->ins_hold);
}

int store_rows_add_hang_holders(struct store_rows *w, const struct store_hang_holder *rows, size_t n)
{
	if (!n)
		return 0;
	w->holders = rows;
	return store_rows_step_batch(w, STORE_ROWS_HOLDERS, n, w->ins_holders);
}

static void store_rows_bind_opt(sqlite3_stmt *s, int col, bool has, int64_t v)
{
	if (has)
		sqlite3_bind_int64(s, col, v);
	else
		sqlite3_bind_null(s, col);
}

int store_rows_add_process(struct store_rows *w, const struct store_process *p)
{
	sqlite3_stmt *s = w->ins_proc;

	assert(p->role);
	sqlite3_bind_int64(s, 1, w->run_id);
	sqlite3_bind_int64(s, 2, p->pid);
	sqlite3_bind_text(s, 3, p->role, -1, SQLITE_STATIC);
	store_rows_bind_opt(s, 4, p->has_worker_index, p->worker_index);
	store_rows_bind_opt(s, 5, p->has_ppid, p->ppid);
	sqlite3_bind_int64(s, 6, (int64_t)p->fork_seq);
	return store_rows_step(w, s);
}

int store_rows_add_pipe(struct store_rows *w, const struct store_pipe *p)
{
	sqlite3_stmt *s = w->ins_pipe;

	sqlite3_bind_int64(s, 1, w->run_id);
	sqlite3_bind_int64(s, 2, p->pipe_id);
	sqlite3_bind_int64(s, 3, (int64_t)p->inode);
	store_rows_bind_opt(s, 4, p->has_channel, p->channel);
	sqlite3_bind_int64(s, 5, p->created_by);
	sqlite3_bind_int64(s, 6, (int64_t)p->created_seq);
	sqlite3_bind_int(s, 7, p->read_fd);
	sqlite3_bind_int(s, 8, p->write_fd);
	sqlite3_bind_text(s, 9, p->peer_id ? "socket" : "pipe", -1, SQLITE_STATIC);
	store_rows_bind_opt(s, 10, p->peer_id != 0, p->peer_id);
	return store_rows_step(w, s);
}

/* Binds ?1 (the run), ?2 (the key: a pid or a pipe_id) and ?3 (a seq) of an UPDATE, the same in all of them. */
static void store_rows_bind_key(struct store_rows *w, sqlite3_stmt *s, int64_t key, uint64_t seq)
{
	sqlite3_bind_int64(s, 1, w->run_id);
	sqlite3_bind_int64(s, 2, key);
	sqlite3_bind_int64(s, 3, (int64_t)seq);
}

int store_rows_set_first_read(struct store_rows *w, int64_t pid, uint64_t first_read_seq)
{
	store_rows_bind_key(w, w->set_first_read, pid, first_read_seq);
	return store_rows_step(w, w->set_first_read);
}

int store_rows_set_exit(struct store_rows *w, int64_t pid, uint64_t exit_seq, int64_t exit_code)
{
	sqlite3_bind_int64(w->set_exit, 4, exit_code);
	store_rows_bind_key(w, w->set_exit, pid, exit_seq);
	return store_rows_step(w, w->set_exit);
}

int store_rows_set_program(struct store_rows *w, int64_t pid, const char *program)
{
	sqlite3_stmt *s = w->set_program;

	sqlite3_bind_text(s, 3, program, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 1, w->run_id);
	sqlite3_bind_int64(s, 2, pid);
	return store_rows_step(w, s);
}

int store_rows_set_reap(struct store_rows *w, int64_t pid, uint64_t reap_seq, int64_t reaped_by, bool has_code,
			int64_t exit_code, bool has_signal, int64_t term_signal)
{
	sqlite3_stmt *s = w->set_reap;

	sqlite3_bind_int64(s, 4, reaped_by);
	store_rows_bind_opt(s, 5, has_code, exit_code);
	store_rows_bind_opt(s, 6, has_signal, term_signal);
	store_rows_bind_key(w, s, pid, reap_seq);
	return store_rows_step(w, s);
}

int store_rows_set_shut(struct store_rows *w, int64_t pipe_id, uint64_t shut_seq)
{
	store_rows_bind_key(w, w->set_shut, pipe_id, shut_seq);
	return store_rows_step(w, w->set_shut);
}
