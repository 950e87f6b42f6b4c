/* runs.c: the runs row of a run being written: inserted when it begins, its end or its failure when it ends.
 *
 * Only the session (src/core/session.c) calls these, for the run it began.
 * It owns the waits for the lock and when to commit; only store_run_insert
 * commits (or rolls back), since the id and the row are a transaction of
 * their own.
 */
#include "store/runs.h"

#include "store/store.h"
#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

int store_run_insert(struct store *st, const struct store_run_start *run, int64_t *id)
{
	sqlite3_stmt *q;
	int rc;

	assert(run->source && run->started_at);
	if (store_next_run_id(st, id) < 0 ||
	    !(q = store_prepare(st, "INSERT INTO runs (id, source, command, strategy, workers, tasks, task_ms,"
				    " crash_worker, io_events, started_at, started_ns, supervisor_pid)"
				    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"))) {
		store_txn_rollback(st);
		return -EIO;
	}
	sqlite3_bind_int64(q, 1, *id);
	sqlite3_bind_text(q, 2, run->source, -1, SQLITE_STATIC);
	if (run->command)
		sqlite3_bind_text(q, 3, run->command, -1, SQLITE_STATIC);
	if (run->strategy) {
		sqlite3_bind_text(q, 4, run->strategy, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 5, run->workers);
		sqlite3_bind_int64(q, 6, run->tasks);
		sqlite3_bind_int64(q, 7, run->task_ms);
		if (run->crash_worker >= 0)
			sqlite3_bind_int(q, 8, run->crash_worker);
	}
	sqlite3_bind_int(q, 9, run->io_events);
	sqlite3_bind_text(q, 10, run->started_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 11, (int64_t)now_ns());
	sqlite3_bind_int64(q, 12, run->supervisor_pid);
	rc = store_step(st, q);
	sqlite3_finalize(q);
	/* Waiting STORE_BUSY_MS for a reader, and saying why it failed: unlike a batch's commit, nothing can go on without it. */
	if (rc < 0 || store_exec(st, "COMMIT") < 0) {
		store_txn_rollback(st);
		return -EIO;
	}
	return 0;
}

int store_run_set_end(struct store *st, int64_t run_id, const struct store_run_end *end)
{
	sqlite3_stmt *q;
	int rc;

	assert(end->outcome && strcmp(end->outcome, "failed") != 0);
	q = store_prepare(st, "UPDATE runs SET outcome = ?2, ended_ns = ?3, events = ?4, events_dropped = ?5,"
			      " events_torn = ?6, exit_status = ?7, incomplete = ?8 WHERE id = ?1");
	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, run_id);
	sqlite3_bind_text(q, 2, end->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)now_ns());
	sqlite3_bind_int64(q, 4, end->events);
	sqlite3_bind_int64(q, 5, end->events_dropped);
	sqlite3_bind_int64(q, 6, end->events_torn);
	if (end->has_exit_status)
		sqlite3_bind_int(q, 7, end->exit_status);
	if (end->incomplete)
		sqlite3_bind_text(q, 8, end->incomplete, -1, SQLITE_STATIC);
	rc = store_step(st, q);
	sqlite3_finalize(q);
	return rc < 0 ? -EIO : 0;
}

int store_run_mark_failed(struct store *st, int64_t run_id, const char *why)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	int rc = -1;

	/* Twice: a disk filled by the WAL itself may have room once a checkpoint has moved it into the file and truncated it.
	 * Quietly: the failure was said once already; only a mark that could not be written is said again. The
	 * checkpoint's own result is not looked at: the UPDATE after it is what tells. */
	for (int attempt = 0; attempt < 2 && rc != SQLITE_DONE; attempt++) {
		if (attempt)
			sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		if (sqlite3_prepare_v2(db, "UPDATE runs SET outcome = 'failed', failure = ?2, ended_ns = ?3 WHERE id = ?1",
				       -1, &q, NULL) != SQLITE_OK)
			continue;
		sqlite3_bind_int64(q, 1, run_id);
		sqlite3_bind_text(q, 2, why, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, (int64_t)now_ns());
		rc = sqlite3_step(q);
		sqlite3_finalize(q);
	}
	if (rc == SQLITE_DONE)
		return 0;
	error("%s: run %lld could not be marked as failed either (%s); its outcome stays empty", store_path(st),
	      (long long)run_id, sqlite3_errmsg(db));
	return -EIO;
}
