/* explain.h: a stored run's diagnosis in plain words: its outcome, each wait-for cycle as reasons, the leaked write ends in groups, whom they blocked, and the fix that fits. */
#ifndef POOLTRACE_EXPLAIN_H
#define POOLTRACE_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct store;

/* One process of the run, as the words name it. */
struct explain_proc {
	int pid, ppid;
	int role;          /* EXPLAIN_PARENT, EXPLAIN_WORKER, EXPLAIN_PROCESS */
	int worker;        /* worker index, -1 */
	int rank;          /* position in fork order, 0 first */
	char *program;     /* basename of what it (or an ancestor) exec'd; NULL: unknown */
	int64_t fork_seq, reap_seq; /* -1: none */
	int64_t hang;      /* index of its first hang event in explain.hangs, -1: none */
};
enum { EXPLAIN_PARENT, EXPLAIN_WORKER, EXPLAIN_PROCESS };

/* A `hang` event: one thread found blocked at the deadlock. */
struct explain_hang {
	int64_t seq;
	int pid, fd;
	bool child_wait;          /* in wait4 or waitid: other_pid is the child it names (<= 0: any) */
	int other_pid;
	int64_t pipe_id;          /* -1: not on a pipe */
	char end;                 /* 'r' blocked reading (waits for data or EOF), 'w' writing (waits for room), 's' socket, 0 */
	int64_t queued, capacity; /* -1: unknown */
	char call[24];            /* from the detail: read, write, wait4, poll... */
	int tid, joins;           /* from the detail: the thread (0: the process's main one), the thread it joins (0: none) */
	size_t holder0, nholders; /* its rows in explain.holders */
};

/* A hang_holders row: a process holding the end that would wake a blocked one. */
struct explain_holder {
	int64_t seq;
	int pid, fd;
};

/* One leaked write end (a leaked_write_ends row, with its hold's window). */
struct explain_leak {
	int64_t pipe_id;
	int pid, fd;
	int64_t from_seq, to_seq; /* to_seq -1: outlived the trace */
	int64_t exec_seq;         /* an exec of its holder it survived, -1: none */
};

/*
 * A deadlock cycle: the shortest way round through the earliest-forked
 * process of one strongly connected part of the wait-for graph. Parts are
 * separate deadlocks (two hung pools), so each gives one.
 */
struct explain_cycle {
	int *procs;               /* indexes into explain.procs, in order; the last waits for the first */
	size_t n;
};

/* A pipe's leaked write ends (or a socketpair end's), and what they did to its reader. */
struct explain_group {
	int64_t pipe_id;
	int64_t peer_id;          /* a socketpair end: the other end (whose reader it keeps from EOF); -1: a pipe */
	int creator;
	int64_t created_seq;
	size_t leak0, nleaks;     /* in explain.leaks, sorted by pipe then fork order */
	size_t survived_exec;
	size_t nblockers;         /* its eof_blockers rows */
	int64_t close_seq;        /* the first give-up a blocker held off, -1: none */
	int closed_by;            /* who gave it up there */
	int64_t blocked_ns;       /* from close_seq to the last blocker's release (or the run's end) */
	bool until_end;           /* a blocker held on to the end (killed, or never let go) */
	int readers[4];           /* holders of the read end at close_seq (first few), pid */
	size_t nreaders;
};

/* A stretch of pipes whose leaks make a staircase: each later process holds every earlier pipe. */
struct explain_stair {
	size_t group0, ngroups;   /* in explain.groups */
	size_t nleaks;
	int first_holder, last_holder; /* pids, in fork order */
};

/*
 * record --stacks: where an event was called from, by the program's own
 * frame of its stack (the first not in libc or ld.so).
 */
struct explain_where {
	int64_t seq;
	char *file;         /* basename of the source file; NULL without debug info */
	int line;
	char *function;     /* without its parameter list; NULL: no symbol */
	char *module;       /* basename of the mapped file */
	int64_t offset;     /* in module */
};

/* A rule that fits the run, and its fix. */
struct explain_fix {
	const char *rule;   /* a short id: close-inherited, cloexec, read-first, reader-thread, accidental-order */
	const char *pattern;
	const char *fix;
};

struct explain {
	int64_t run;
	char *source, *command, *strategy, *outcome, *incomplete, *failure;
	int64_t workers, tasks, exit_status; /* -1: NULL */
	bool io_events;
	int64_t started_ns, ended_ns, killed_seq; /* killed_seq: pooltrace's first kill, -1 */
	int supervisor_pid;

	struct explain_proc *procs;   /* sorted by pid */
	size_t nprocs;
	struct explain_hang *hangs;   /* by seq */
	size_t nhangs;
	struct explain_holder *holders;
	size_t nholders;
	struct explain_cycle *cycles; /* one per strongly connected part (of 2 or more) of the wait-for graph, by its earliest-forked process */
	size_t ncycles;

	struct explain_leak *leaks;
	size_t nleaks;                /* == count(*) of leaked_write_ends for the run */
	struct explain_group *groups;
	size_t ngroups;
	struct explain_stair *stairs;
	size_t nstairs;
	size_t nblockers;             /* == count(*) of eof_blockers for the run */
	struct explain_peer { int64_t pipe_id, peer_id; } *peers; /* the run's socketpair ends, by pipe_id */
	size_t npeers;

	/* With the accidental-order rule: the first pipe's evidence, its last
	 * leaked holder let go (release_seq) before its last user closed (close_seq). */
	struct { int64_t pipe_id, release_seq, close_seq; int holder, closer; } accident;

	struct explain_where *wheres; /* by seq; none without --stacks */
	size_t nwheres;

	int self_deadlock;        /* a process whose threads wait only for each other (no cycle between processes): its pid, 0 */

	struct explain_fix fixes[6];
	size_t nfixes;
};

/*
 * Reads run `run` of st and works out its diagnosis into *x (zeroed first),
 * with a fixed number of set queries whatever the run's size. Returns 0;
 * -EINVAL for a run that does not exist; -EIO when the trace cannot be
 * read; an error is printed. explain_release frees *x either way.
 */
int explain_load(struct store *st, int64_t run, struct explain *x);
void explain_release(struct explain *x);

/* The diagnosis in words (text) or as one JSON object (json). Return 0, or -errno when out fails. */
int explain_print_text(const struct explain *x, FILE *out);
int explain_print_json(const struct explain *x, FILE *out);

/* Whether hang event h waits for process v: v holds the end that would wake it, or is the child it waits for. */
bool explain_waits_for(const struct explain *x, const struct explain_hang *h, const struct explain_proc *v);

/* record --stacks: where event seq was called from, or NULL. */
const struct explain_where *explain_where_at(const struct explain *x, int64_t seq);

/* A socketpair end's other end, or -1 for a pipe (or an id not in the run). */
int64_t explain_peer_of(const struct explain *x, int64_t pipe_id);

/* The process with this pid, or NULL. */
const struct explain_proc *explain_proc_find(const struct explain *x, int pid);

#endif
