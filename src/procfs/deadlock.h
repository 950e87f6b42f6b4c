/* deadlock.h: the two-scan deadlock check and a deadlock's evidence, one copy for every source that can find one (the pool, record). */
#ifndef POOLTRACE_DEADLOCK_H
#define POOLTRACE_DEADLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hang_proc;
struct ingest;

/* What a source tells the check about its program. */
struct deadlock_probe {
	void *ctx;
	/* The program's threads as /proc shows them now (hang_scan, hang_scan_tasks): a count with *out, or < 0. */
	ssize_t (*scan)(void *ctx, struct hang_proc **out);
	/* Optional: though every thread is blocked, whether something may still wake one (a timer, a holder outside). */
	bool (*can_move)(void *ctx, struct hang_proc *p, size_t n);
	/* A number that grows with every event the source records: unchanged across the check, nothing moved. */
	uint64_t (*progress)(void *ctx);
	/* Optional: the first scan when it is not a deadlock (for `blocked` events). */
	void (*not_stuck)(void *ctx, const struct hang_proc *p, size_t n);
};

/*
 * A deadlock is every thread blocked (and none able to move, can_move) at a
 * scan, and again 20 ms later in the same calls, none scheduled in between
 * (hang_same), with progress unchanged. Returns the second scan's count with
 * *out set (free it with hang_procs_free) when it is one; 0 when not.
 */
ssize_t deadlock_check(const struct deadlock_probe *pr, struct hang_proc **out);

/* What the evidence of a confirmed deadlock is written through. */
struct deadlock_sink {
	void *ctx;
	struct ingest *ingest; /* the hang_holders rows go here; NULL: none are written */
	/* Records thread p's hang event; returns its seq (0: not recorded). */
	uint64_t (*hang)(void *ctx, const struct hang_proc *p);
	/* Optional: the peer of the program's socketpair end inode (NULL: the program makes none). */
	uint64_t (*sock_peer)(void *ctx, uint64_t inode);
	/* Optional: one holder of each end a thread is blocked on; true when it took a copy of that fd (pin.c). */
	bool (*pin)(void *ctx, pid_t pid, int fd);
};

/*
 * The evidence of the deadlock procs[0..n) shows (deadlock_check's second
 * scan): one hang event per blocked thread (not for the exited main thread
 * of a process whose other threads run on), then one hang_holders row per
 * thread blocked on a pipe, socketpair end or poll fd and holder of the end
 * that could wake it (a write end for a reader, a read end for a writer, any
 * fd of the peer for a socket), each fd table read once, through a live
 * thread (hang_holders).
 */
void deadlock_record(const struct hang_proc *procs, size_t n, const struct deadlock_sink *sink);

/*
 * Whether p is the thread through which its process's fd table is read: the
 * main thread, unless it has exited (pthread_exit) and shows no fds any
 * more; then the first live other one of all[0..n).
 */
bool deadlock_reads_fds(const struct hang_proc *p, const struct hang_proc *all, size_t n);

#endif
