/* supervisor.h: runs the pool as a child, drains its event log into SQLite, detects hangs, reaps everything. */
#ifndef POOLTRACE_SUPERVISOR_H
#define POOLTRACE_SUPERVISOR_H

#include "pool/pool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct supervisor_config {
	struct pool_config pool;
	const char *db_path;
	bool trace;          /* false: --no-trace, no log and no database */
	bool io_events;      /* false: --no-io-events */
	long hang_ms;        /* no progress for this long triggers a deadlock check */
	size_t log_capacity; /* records in the shared log */
	unsigned log_wait_ms;/* how long a writer waits for room before dropping */
};

struct supervisor_result {
	int64_t run_id;      /* -1 with --no-trace */
	const char *outcome; /* ok, deadlock, crashed, killed, interrupted */
	uint64_t events;
	uint64_t dropped;
	uint64_t torn;
	int64_t leaked_write_ends; /* the views' counts for this run */
	int64_t eof_blockers;
	int signal;          /* SIGINT/SIGTERM/SIGHUP that interrupted the run, else 0 */
	double seconds;      /* from forking the pool to the last reap */
	double ingest_seconds; /* time spent storing events (drain to commit) */
	/* Where the time went, for --stats: each from forking the pool. 0 when a
	 * phase did not happen (no deadlock: no detection and no evidence). */
	double detect_seconds;   /* the deadlock was confirmed */
	double evidence_seconds; /* its evidence was gathered and recorded */
	double stored_seconds;   /* the trace was committed with its outcome */
	double counted_seconds;  /* the summary counts were read back */
};

/*
 * Runs one traced (or untraced) pool to completion. Returns 0 when the run
 * was carried out and, when tracing, committed with its outcome (whatever the
 * outcome); -EINVAL when the database is not one to write to (bad input);
 * -EIO when the pool could not be started or the trace not stored (its row
 * then says 'failed' where it can). One error line is printed on failure.
 * res->signal is the terminating signal that came meanwhile, if any. The database is opened before the fork only to be validated, then
 * closed, so no pool process ever holds a tracer fd.
 */
int supervisor_run(const struct supervisor_config *cfg, struct supervisor_result *res);

#endif
