/* store.h: the SQLite trace database: opening and validating it, its schema, runs. */
#ifndef POOLTRACE_STORE_H
#define POOLTRACE_STORE_H

#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 12
/* How long a statement waits for another connection's lock before SQLITE_BUSY. */
#define STORE_BUSY_MS 10000
#define STORE_APPLICATION_ID 1886679651 /* 'ptrc' */
/* Used when neither --db nor $POOLTRACE_DB names a file. */
#define STORE_DEFAULT_PATH "pooltrace.db"

enum store_mode { STORE_READ, STORE_WRITE };

/* An open trace database (store_open); opaque: its SQLite handle is store_db's. */
struct store;

/* The SQLite connection of st, for the statements of the layers above (ingest, the readers). */
sqlite3 *store_db(const struct store *st);

/* The file st was opened from, as given: for messages. */
const char *store_path(const struct store *st);

/* --db FILE if given, else $POOLTRACE_DB, else STORE_DEFAULT_PATH. */
const char *store_default_path(const char *given);

/*
 * Opens the trace database at path, a file name (not "", ":memory:" or a
 * "file:" URI). A file is never replaced or removed, and one that is not a
 * trace is never written to.
 *
 * STORE_READ requires an existing trace; it may be older than this version.
 * The connection cannot change the database (PRAGMA query_only).
 *
 * STORE_WRITE creates a missing file complete with its schema, atomically:
 * the schema is made in a temporary file that is then linked into place, so
 * any number of racing writers see either no file or a whole trace. An empty
 * existing file (zero bytes, or SQLite with nothing in it) becomes a trace;
 * an older trace is upgraded in place in one transaction. The database is put
 * in WAL mode, so readers never hold up the writer.
 *
 * Returns 0; -EINVAL for a file that is not one to use (not a trace, a bad
 * name, a newer schema, not writable: the caller exits 2); or -EIO when it
 * cannot be read or made (damaged, a full disk, no fd left: exit 1); with
 * one error line printed.
 */
int store_open(const char *path, enum store_mode mode, struct store **out);
void store_close(struct store *st);

/*
 * SQLite's message of the last failure on st (valid until the next call on
 * it): for a writer that records why it failed, after the error was printed.
 */
const char *store_errmsg(const struct store *st);

/*
 * Begins a write transaction, taking the lock now (BEGIN IMMEDIATE) so that
 * no statement of it can meet SQLITE_BUSY halfway through a batch, and
 * without waiting for another writer's lock (a writer of a running program
 * must not wait with it). Returns 0 in the transaction; -EBUSY when another
 * writer holds the lock (nothing printed); or -EIO with SQLite's message
 * printed.
 */
int store_txn_begin(struct store *st);

/*
 * Commits, waiting up to STORE_BUSY_MS for a reader that holds it off.
 * Returns 0; -EBUSY when one still does (nothing printed: the transaction
 * stays open, to be committed later); or -EIO with SQLite's message printed.
 */
int store_txn_commit(struct store *st);

/*
 * Rolls back the open transaction, if any. Best effort, for paths that have
 * failed already: see store.c.
 */
void store_txn_rollback(struct store *st);

/* Runs sql, which returns no rows. Returns 0, or -EIO with SQLite's message printed. */
int store_exec(struct store *st, const char *sql);

/* Prepares sql; prints SQLite's message and returns NULL on error. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql);
/* store_prepare of sqlite3_mprintf(fmt, ...): for SQL that differs by schema version. */
sqlite3_stmt *store_preparef(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Steps s: 1 when it gave a row, 0 when it is done, -EIO when it failed (a
 * damaged page, a full disk), with SQLite's message printed. Every read loop
 * goes through this, so a read error is never taken for the end of the rows.
 */
int store_step(struct store *st, sqlite3_stmt *s);

/*
 * The single integer sql answers, with ?1 bound to a: *out is that value, or
 * def when there is no row or it is NULL. Returns 0, or -EIO with the error
 * printed.
 */
int store_int(struct store *st, const char *sql, int64_t a, int64_t def, int64_t *out);

/* 0 when run run_id exists; -EINVAL (no such run) or -EIO, with an error printed. */
int store_check_run(struct store *st, int64_t run_id);

/*
 * The run a reader shows by default: the newest one that did not fail to be
 * stored (outcome 'failed'). 0 with *out set; -EINVAL when there is none, or
 * -EIO; an error is printed.
 */
int store_last_run(struct store *st, int64_t *out);

/*
 * The run's leaked_write_ends and eof_blockers counts. Returns 0, or -EIO
 * with an error printed (both are then -1).
 */
int store_run_counts(struct store *st, int64_t run_id, int64_t *leaked, int64_t *blockers);

/*
 * store_run_counts for a writer that may be asked to stop: a signal that
 * sets *stop meanwhile ends the count at once (SQLite's progress handler),
 * and the handler is gone again on return. POOLTRACE_TEST_ENDLESS_COUNT (a
 * test hook) puts a statement before the counts that only the stop ends.
 * Returns 0; -EINTR when *stop was set (the counts may then be -1); or -EIO
 * with an error printed (both -1).
 */
int store_run_counts_until(struct store *st, int64_t run_id, int64_t *leaked, int64_t *blockers,
			   const volatile sig_atomic_t *stop);

/*
 * The id for a new run: one more than the largest so far, so that every id
 * is one --run accepts. Call inside the transaction that inserts the run.
 * Returns 0, or -EIO with an error printed.
 */
int store_next_run_id(struct store *st, int64_t *out);

#endif
