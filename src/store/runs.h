/* runs.h: the runs row of a run being written: inserted when it begins, its end or its failure when it ends. */
#ifndef POOLTRACE_RUNS_H
#define POOLTRACE_RUNS_H

#include <stdbool.h>
#include <stdint.h>

struct store;

/* The facts of a new runs row (the columns of the same names; NULL texts are NULL). */
struct store_run_start {
	const char *source;   /* pool, record, snapshot or attach: never NULL */
	const char *command;  /* NULL: none (the pool) */
	const char *strategy; /* NULL: not a pool run, and then workers to crash_worker are NULL too */
	int workers;
	int64_t tasks, task_ms;
	int crash_worker; /* -1: NULL */
	bool io_events;
	const char *started_at; /* UTC, "%Y-%m-%dT%H:%M:%SZ" */
	int64_t supervisor_pid;
};

/*
 * Inserts the row of a new run, with the next free id (store_next_run_id)
 * and started_ns now, and commits: call in a write transaction begun for
 * this row alone (store_txn_begin), so that concurrent runs into one file
 * each get an id of their own. Returns 0 with *id set, or -EIO with the
 * error printed and the transaction rolled back.
 */
int store_run_insert(struct store *st, const struct store_run_start *run, int64_t *id);

/* How a run ended (the runs columns of the same names). */
struct store_run_end {
	const char *outcome; /* never NULL, never 'failed' (store_run_mark_failed) */
	int64_t events, events_dropped, events_torn;
	bool has_exit_status; /* false: exit_status NULL */
	int exit_status;
	const char *incomplete; /* NULL: the run is whole */
};

/*
 * Writes run run_id's end into its row, ended_ns now, inside the caller's
 * write transaction. Returns 0, or -EIO with the error printed.
 */
int store_run_set_end(struct store *st, int64_t run_id, const struct store_run_end *end);

/*
 * Marks run run_id failed, with why (SQLite's message of the failure) and
 * ended_ns now, outside any transaction (the caller rolled back). Tried
 * twice, the second time after a checkpoint that may free the room a full
 * disk took, and quietly: the failure was said once already. Returns 0, or
 * -EIO when the mark could not be written either, which is then said.
 */
int store_run_mark_failed(struct store *st, int64_t run_id, const char *why);

#endif
