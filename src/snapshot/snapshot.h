/* snapshot.h: a live process tree read from /proc at one moment, stored as a run, and why it is stuck, in words. */
#ifndef POOLTRACE_SNAPSHOT_H
#define POOLTRACE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct snapshot_config {
	const char *db_path;
	const pid_t *roots; /* the trees to read: each pid and every descendant */
	size_t nroots;
	bool all;           /* instead: every process whose fds may be read */
	const char *command; /* for runs.command: how pooltrace was asked, shell-quoted */
};

/* One separate deadlock: a cycle of waits (a strongly connected part of the wait-for graph). */
struct snapshot_cycle {
	pid_t *pids; /* its processes, in tree order (one: a process waiting for itself alone) */
	size_t n;
};

struct snapshot_result {
	int64_t run_id;
	size_t processes, threads, pipes;
	size_t deadlocked; /* processes no one outside the deadlock can wake (0: no deadlock) */
	size_t unread;     /* processes whose fds could not be read (another user's) */
	struct snapshot_cycle *cycles; /* every separate deadlock, in tree order of each one's first process */
	size_t ncycles;
};

/*
 * Reads the trees, stores them as a run (runs.source 'snapshot', every fd
 * and process an event `found`, every blocked thread a `hang` event with
 * the holders of the end that would wake it), and writes the diagnosis in
 * words to out (NULL: no words). Reads /proc only: it stops, signals and changes nothing of
 * the processes it reads. Returns 0; -ESRCH (a root does not exist) or
 * -EACCES (a root's fds may not be read) or -EINVAL (the database cannot be
 * used), each with one line printed; -EIO on a failure to store (a full
 * disk, a directory that cannot take a new database), with one line printed
 * after the words, which are written all the same.
 */
int snapshot_run(const struct snapshot_config *cfg, FILE *out, struct snapshot_result *res);

/* Frees what snapshot_run left in res (its cycles), whatever it returned. */
void snapshot_result_release(struct snapshot_result *res);

#endif
