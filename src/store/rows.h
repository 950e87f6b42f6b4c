/* rows.h: writes the rows ingest derives from a run's events: events, processes, pipes, holds, hang holders.
 *
 * Which rows there are is core/ingest.c's; here are their statements. The
 * three bulk tables (event_rows, holds, hang_holders) go in with one
 * INSERT ... SELECT each from a virtual table over the caller's batch: the
 * caller hands over a row count and a function that fills in row i, and
 * is called back while the statement runs.
 */
#ifndef POOLTRACE_STORE_ROWS_H
#define POOLTRACE_STORE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
/* The statements of one run's derived rows, from store_rows_open to store_rows_close. */
struct store_rows;

/*
 * One event_rows row (the columns of the same names). A has_ flag false
 * makes its column NULL; pipe_id 0 is NULL; a NULL or "" text is NULL.
 */
struct store_event {
	uint64_t seq, ts_ns;
	int64_t pid;
	const char *kind; /* never NULL */
	bool has_fd, has_fd2, has_inode, has_other_pid, has_result, has_arg, has_signal, has_is_foreign;
	int fd, fd2;
	int64_t pipe_id;
	const char *pipe_end;
	uint64_t inode;
	int64_t other_pid, result, arg, signal;
	bool is_foreign;
	const char *detail;
};

/* One holds row: pipe_id, inode, to_seq and touched_seq 0 are NULL, as is a NULL or "" text. */
struct store_hold {
	int64_t pid;
	int fd;
	int64_t pipe_id;
	const char *pipe_end;
	uint64_t inode;
	bool is_foreign;
	const char *detail;
	uint64_t from_seq;
	const char *from_kind;
	uint64_t to_seq;
	const char *to_kind;
	uint64_t touched_seq;
};

/* One hang_holders row: pipe_id 0 is NULL. */
struct store_hang_holder {
	uint64_t seq;
	int64_t blocked_pid;
	int64_t pipe_id;
	uint64_t inode;
	int64_t holder_pid;
	int holder_fd;
};

/* One processes row, as a fork (or a process found running) begins it. */
struct store_process {
	int64_t pid;
	const char *role; /* never NULL */
	bool has_worker_index, has_ppid; /* false: NULL */
	int64_t worker_index, ppid;
	uint64_t fork_seq;
};

/*
 * One pipes row. peer_id 0: a pipe (kind 'pipe', peer_id NULL); else one
 * end of a socketpair (kind 'socket'), whose other end is pipe peer_id.
 */
struct store_pipe {
	int64_t pipe_id;
	uint64_t inode;
	bool has_channel; /* false: channel NULL */
	int64_t channel;
	int64_t created_by;
	uint64_t created_seq;
	int read_fd, write_fd;
	int64_t peer_id;
};

/*
 * Fill in *out, zeroed, with row i (i < the n of the call) of the batch
 * being written; ctx is the caller's. The texts must stay valid until the
 * store_rows_add_* call returns.
 */
typedef void store_rows_event_fn(void *ctx, size_t i, struct store_event *out);
typedef void store_rows_hold_fn(void *ctx, size_t i, struct store_hold *out);

/*
 * Prepares the writing of run run_id's derived rows into st. Dies only on
 * out of memory or a schema mismatch. One at a time per connection: the
 * virtual tables are registered to the newest.
 */
struct store_rows *store_rows_open(struct store *st, int64_t run_id);
/* Finalizes the statements (NULL is fine); the store stays open. */
void store_rows_close(struct store_rows *w);

/*
 * Every write below runs inside the caller's write transaction, and returns
 * 0, or -EIO with SQLite's message printed.
 */

/* n event_rows rows, in the order row gives them; n 0 writes nothing. */
int store_rows_add_events(struct store_rows *w, size_t n, store_rows_event_fn *row, void *ctx);
/* n holds rows; n 0 writes nothing. Given in the table's key order (pid, fd, from_seq), SQLite appends them. */
int store_rows_add_holds(struct store_rows *w, size_t n, store_rows_hold_fn *row, void *ctx);
/* The n hang_holders rows of rows; n 0 writes nothing. */
int store_rows_add_hang_holders(struct store_rows *w, const struct store_hang_holder *rows, size_t n);

/* A processes row; none when the run has one for the pid already (INSERT OR IGNORE). */
int store_rows_add_process(struct store_rows *w, const struct store_process *p);
int store_rows_add_pipe(struct store_rows *w, const struct store_pipe *p);

/* Process pid's columns of the same names; program NULL is NULL. */
int store_rows_set_first_read(struct store_rows *w, int64_t pid, uint64_t first_read_seq);
int store_rows_set_exit(struct store_rows *w, int64_t pid, uint64_t exit_seq, int64_t exit_code);
int store_rows_set_program(struct store_rows *w, int64_t pid, const char *program);
/* has_code false keeps the exit_code an exit set; has_signal false: term_signal NULL. */
int store_rows_set_reap(struct store_rows *w, int64_t pid, uint64_t reap_seq, int64_t reaped_by, bool has_code,
			int64_t exit_code, bool has_signal, int64_t term_signal);
/* Pipe pipe_id's shut_seq, unless one was set already. */
int store_rows_set_shut(struct store_rows *w, int64_t pipe_id, uint64_t shut_seq);

#endif
