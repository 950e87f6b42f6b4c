/* iochunk.h: packs the per-task events (write, read, task) into io_chunks rows, many events to a row. */
#ifndef POOLTRACE_IOCHUNK_H
#define POOLTRACE_IOCHUNK_H

#include <stdbool.h>
#include <stdint.h>

struct store;
struct evlog_record;
struct iochunk_set;

/* The kinds stored in io_chunks rather than one row each in event_rows. */
bool iochunk_kind(int kind);

/* Chunks for run run_id of st. Dies only on out-of-memory or a schema mismatch. */
struct iochunk_set *iochunk_new(struct store *st, int64_t run_id);
/* Drops what was never flushed; the store stays open. */
void iochunk_free(struct iochunk_set *set);

/*
 * Adds one record (rec.ready holds its seq) of a kind iochunk_kind accepts,
 * to the open chunk of its process, kind and fd. pipe_id is the pool pipe its
 * inode belongs to (0: none). A chunk that fills up is written at once.
 * Returns 0, or -EIO with sqlite's message printed.
 */
int iochunk_add(struct iochunk_set *set, const struct evlog_record *rec, int64_t pipe_id);

/* Writes every chunk with events in it. Call before each commit. Returns 0 or -EIO. */
int iochunk_flush(struct iochunk_set *set);

#endif
