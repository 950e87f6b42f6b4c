/* ingest.h: turns event-log records into rows: events, and the processes, pipes and holds they imply. */
#ifndef POOLTRACE_INGEST_H
#define POOLTRACE_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct store;
struct evlog_record;
struct ingest;

/*
 * Starts ingesting into run run_id of st. generic: the events come from a
 * program of any shape (record): every process has role 'process', and none
 * is a pool worker. Dies only on out-of-memory.
 */
struct ingest *ingest_new(struct store *st, int64_t run_id, bool generic);
/* Prepared statements are finalized; the store stays open. */
void ingest_free(struct ingest *in);

/*
 * Stores n records (in seq order; rec.ready holds the seq), whose long texts
 * are in texts (see evlog_drain). The caller owns the transaction. Returns 0,
 * or -EIO with sqlite's message printed.
 */
struct evlog_texts;
int ingest_records(struct ingest *in, const struct evlog_record *recs, size_t n, const struct evlog_texts *texts);

/*
 * Writes what is buffered (io_chunks, hang evidence). Call before each
 * commit, so a commit stores every record ingested before it. Returns 0 or -EIO.
 */
int ingest_sync(struct ingest *in);

/*
 * Writes the holds still open (to_seq NULL). Call once, after the last
 * records, inside the final transaction (whose commit calls ingest_sync).
 * Returns 0 or -EIO.
 */
int ingest_finish(struct ingest *in);

/* One row of deadlock evidence (see hang_holders in traces/schema.sql), written by the next ingest_sync. */
void ingest_hang_holder(struct ingest *in, uint64_t seq, pid_t blocked, uint64_t inode,
		       pid_t holder, int fd);

/* Events stored so far. */
uint64_t ingest_count(const struct ingest *in);

#endif
