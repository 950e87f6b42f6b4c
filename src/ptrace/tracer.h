/* tracer.h: `pooltrace record`: runs any program under ptrace and records its fd events into a trace. */
#ifndef POOLTRACE_TRACER_H
#define POOLTRACE_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct tracer_config {
	const char *db_path;
	char *const *argv;   /* the program and its arguments */
	const char *command; /* argv shell-quoted, for runs.command */
	long hang_ms;        /* no event for this long triggers a deadlock check */
	bool io;             /* also record read and write (readv, writev) on pipes */
	/* record -p: instead of running argv, attach to the running tree rooted
	 * at this pid (see tracer_run); 0: run argv. */
	pid_t attach;
	long for_ms;           /* attach: detach after this long; 0: at a signal, or when the tree is gone */
	bool kill_on_deadlock; /* attach: kill a deadlocked tree, as a run of argv does; else leave it running */
	bool stacks;         /* the calling thread's stack at each pipe, socketpair, fork, dup, close of a pipe end, exec */
};

struct tracer_result {
	int64_t run_id;
	const char *outcome;     /* ok, crashed, deadlock, interrupted; attach: detached too */
	int status;              /* the program's: its exit code, or 128+N after signal N */
	uint64_t events;
	long processes;
	int64_t leaked_write_ends, eof_blockers;
	long socketpairs;        /* socketpairs the program made */
	char incomplete[256];    /* runs.incomplete: why the trace misses calls, "" when it does not */
	int signal;              /* SIGINT/SIGTERM/SIGHUP that interrupted pooltrace, else 0 */
	bool exited;             /* the program's first process ended while traced: status is its */
};

/*
 * Runs argv under ptrace until every process of it is gone, recording into
 * cfg->db_path as a new run (source 'record'). Returns 0 when the run was
 * recorded (whatever the program did); -EINVAL for a database that cannot be
 * written (bad input); -EIO when the program could not be traced or the trace
 * not stored. One error line is printed on failure.
 *
 * With cfg->attach, the tree is someone else's, already running: every
 * thread of it is seized (PTRACE_SEIZE, without PTRACE_O_EXITKILL), its fd
 * tables are recorded as `found` events (source 'attach'), and it is traced
 * until a signal, cfg->for_ms, a deadlock, or its end; then every task is
 * detached and runs on as before. Nothing is killed unless
 * cfg->kill_on_deadlock. -EINVAL also for a pid that is not there, is
 * pooltrace's own ancestor, or may not be traced.
 */
int tracer_run(const struct tracer_config *cfg, struct tracer_result *res);

#endif
