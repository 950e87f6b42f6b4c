/* session.h: one run's life in the trace database, whatever its source: begin, store, commit, finish, fail. */
#ifndef POOLTRACE_SESSION_H
#define POOLTRACE_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct evlog_record;
struct evlog_texts;
struct ingest;
struct session;
struct stackrows;

/* What the source knows of its run when it begins: the facts of the runs row. */
struct session_run {
	const char *source;   /* "pool", "record" or "snapshot" */
	const char *command;  /* record: the command line, shell-quoted; NULL for the pool */
	const char *strategy; /* the pool's facts; NULL (strategy) and ignored for a recorded program */
	int workers;
	int64_t tasks, task_ms;
	int crash_worker; /* -1: none */
	bool io_events;
	pid_t supervisor_pid; /* the pooltrace process */
};

/* How a run ended, for its runs row. */
struct session_end {
	const char *outcome; /* ok, deadlock, crashed, killed, interrupted */
	bool has_exit_status;
	int exit_status; /* record: the program's, 128+N for signal N */
	uint64_t dropped, torn;
	const struct stackrows *stacks; /* record --stacks: written with the outcome; NULL: none */
};

/*
 * Opens (or creates) the trace at db_path and inserts the run's row, with
 * the next free id, in one write transaction. Call after the program is
 * forked: the connection must never cross a fork. Returns 0 with *out set;
 * -EINVAL for a database that cannot be used (the caller exits 2) or -EIO,
 * with one error line printed.
 */
int session_begin(const char *db_path, const struct session_run *run, struct session **out);

/*
 * Stores n records (in seq order) whose long texts are in texts, inside the
 * session's open transaction (begun here if none is). Returns 0 or -EIO
 * with SQLite's message printed.
 */
int session_store(struct session *s, const struct evlog_record *recs, size_t n, const struct evlog_texts *texts);

/*
 * Commits what was stored if the last commit is 50 ms old, or now when
 * asked, so a SIGKILL of pooltrace loses at most that much. A commit held
 * off by a reader (SQLITE_BUSY) leaves the transaction open for the next
 * call. Returns 0 or -EIO with the error printed.
 */
int session_commit(struct session *s, bool now);

/*
 * The trace will not be the whole truth: the source saw calls it cannot
 * follow (why: one short phrase, e.g. "i386 (32-bit) calls, whose fds are
 * not followed"). Each reason is kept once, in the order given (none may
 * contain "; "), and written into runs.incomplete when the run ends, for
 * every reader to show.
 */
void session_mark_incomplete(struct session *s, const char *why);
/* The reasons so far, '; ' between them, or NULL when there are none. */
const char *session_incomplete(const struct session *s);

/* The ingest of the run, for the deadlock evidence the source adds (ingest_hang_holder). */
struct ingest *session_ingest(struct session *s);

int64_t session_run_id(const struct session *s);
/* Events stored so far. */
uint64_t session_events(const struct session *s);

/*
 * Ends the run: closes the holds still open, writes the outcome and the
 * counts into its row, and commits, waiting up to a minute for a reader that
 * holds the commit off. On failure the run is marked failed (session_fail).
 * Returns 0 or -EIO with the error printed.
 */
int session_finish(struct session *s, const struct session_end *end);

/*
 * The finished run's leaked_write_ends and eof_blockers. A signal that sets
 * *stop meanwhile ends the count at once (a program of thousands of pipes
 * takes long: Ctrl-C must not wait for it). Returns 0; -EINTR (stopped) or
 * -EIO (an error printed) with both -1: the run is stored all the same.
 */
int session_counts(struct session *s, int64_t *leaked, int64_t *blockers, const volatile sig_atomic_t *stop);

/*
 * The trace could not be stored (a full disk, an I/O error): what was
 * committed stays, and the run's row says it failed and why, with SQLite's
 * last message, so no reader takes it for a run still going on. Best effort:
 * if that write fails too, says so. Safe to call more than once.
 */
void session_fail(struct session *s);

/* Whether session_fail was called: then nothing more may be stored. */
bool session_failed(const struct session *s);

/* Rolls back what was not committed, closes the database, frees s (NULL is fine). */
void session_free(struct session *s);

#endif
