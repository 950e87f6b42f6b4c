/* iochunks.c: writes io_chunks rows, each many per-task events (write, read, task) packed by core/iochunk.c.
 *
 * The packing (which events share a chunk, the text) is core/iochunk.c's;
 * here is only the INSERT, prepared once for a run and bound once a chunk.
 */
#include "store/iochunks.h"

#include "store/store.h"
#include "base/util.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>

struct store_iochunks {
	struct store *st;
	int64_t run_id;
	sqlite3_stmt *ins;
};

struct store_iochunks *store_iochunks_open(struct store *st, int64_t run_id)
{
	struct store_iochunks *w = xcalloc(1, sizeof(*w));

	w->st = st;
	w->run_id = run_id;
	w->ins = store_prepare(st, "INSERT INTO io_chunks (run_id, kind, pid, fd, pipe_id, pipe_end, inode,"
				   " result, first_seq, last_seq, first_ts_ns, n, events)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
	if (!w->ins)
		die("cannot prepare the io_chunks statement (schema mismatch?)");
	return w;
}

void store_iochunks_close(struct store_iochunks *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->ins);
	free(w);
}

int store_iochunks_add(struct store_iochunks *w, const struct store_iochunk *c)
{
	sqlite3_stmt *s = w->ins;
	int rc;

	assert(c->kind && c->n > 0 && c->events_len <= INT_MAX && (!c->inode || c->pipe_end));
	sqlite3_bind_int64(s, 1, w->run_id);
	sqlite3_bind_text(s, 2, c->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, c->pid);
	if (c->has_fd)
		sqlite3_bind_int(s, 4, c->fd);
	else
		sqlite3_bind_null(s, 4);
	if (c->pipe_id)
		sqlite3_bind_int64(s, 5, c->pipe_id);
	else
		sqlite3_bind_null(s, 5);
	if (c->inode) {
		sqlite3_bind_text(s, 6, c->pipe_end, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, (int64_t)c->inode);
	} else {
		sqlite3_bind_null(s, 6);
		sqlite3_bind_null(s, 7);
	}
	if (c->has_result)
		sqlite3_bind_int64(s, 8, c->result);
	else
		sqlite3_bind_null(s, 8);
	sqlite3_bind_int64(s, 9, (int64_t)c->first_seq);
	sqlite3_bind_int64(s, 10, (int64_t)c->last_seq);
	sqlite3_bind_int64(s, 11, (int64_t)c->first_ts_ns);
	sqlite3_bind_int64(s, 12, (int64_t)c->n);
	sqlite3_bind_text(s, 13, c->events, (int)c->events_len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	/* Reset whatever the step did, so the next chunk binds afresh; its SQLITE_STATIC texts are the caller's. */
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return error("%s: %s", store_path(w->st), store_errmsg(w->st));
	return 0;
}
