/* iochunks.h: writes io_chunks rows, each many per-task events (write, read, task) packed by core/iochunk.c. */
#ifndef POOLTRACE_STORE_IOCHUNKS_H
#define POOLTRACE_STORE_IOCHUNKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
/* The prepared INSERT of one run's io_chunks rows, from store_iochunks_open to store_iochunks_close. */
struct store_iochunks;

/* One io_chunks row (the columns of the same names). */
struct store_iochunk {
	const char *kind; /* write, read or task */
	int64_t pid;
	bool has_fd; /* false: fd NULL (a task) */
	int fd;
	int64_t pipe_id;      /* 0: NULL */
	uint64_t inode;       /* 0: inode and pipe_end NULL */
	const char *pipe_end; /* with an inode: never NULL then */
	bool has_result;      /* false: result NULL */
	int64_t result;
	uint64_t first_seq, last_seq, first_ts_ns, n;
	const char *events; /* the packed events, [[dseq, dts, arg], ...]; events_len bytes, no NUL needed */
	size_t events_len;
};

/* Prepares run run_id's io_chunks rows into st. Dies only on out of memory or a schema mismatch. */
struct store_iochunks *store_iochunks_open(struct store *st, int64_t run_id);
/* Finalizes the statement (NULL is fine); the store stays open. */
void store_iochunks_close(struct store_iochunks *w);

/* Inserts one row, inside the caller's write transaction. Returns 0, or -EIO with SQLite's message printed. */
int store_iochunks_add(struct store_iochunks *w, const struct store_iochunk *c);

#endif
