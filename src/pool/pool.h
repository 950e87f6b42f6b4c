/* pool.h: the classic pipe-per-worker process pool, with its five shutdown strategies. */
#ifndef POOLTRACE_POOL_H
#define POOLTRACE_POOL_H

enum pool_strategy {
	POOL_NAIVE,
	POOL_CLOSE_ALL,
	POOL_REVERSE_CLOSE,
	POOL_CHILD_CLOSE,
	POOL_CLOSE_RANGE,
	POOL_STRATEGY_COUNT
};

/* A pipe lesson run instead of a shutdown strategy (scenario.c). */
enum scenario {
	SCENARIO_NONE,
	SCENARIO_EMPTY_READ,
	SCENARIO_FULL_PIPE,
	SCENARIO_FULL_PIPE_STUCK,
	SCENARIO_EOF,
	SCENARIO_SIGPIPE,
	SCENARIO_SIGPIPE_IGNORED,
	SCENARIO_COALESCE,
	SCENARIO_COALESCE_FIXED,
	SCENARIO_ATOMIC,
	SCENARIO_ATOMIC_BIG,
	SCENARIO_COUNT
};

struct pool_config {
	enum pool_strategy strategy;
	int workers;
	long tasks;
	long task_ms;
	int crash_worker; /* -1: none */
	long shutdown_delay_ms; /* the parent works this long after dispatching, before shutdown */
	enum scenario scenario; /* SCENARIO_NONE: the pool with its strategy */
	long pause_ms;          /* a scenario's pause (see scenario.c) */
};

/* What a run is called in the trace: its scenario's name, else its strategy's. */
const char *pool_run_name(const struct pool_config *cfg);

/* "naive", "close-all", ...; NULL for an out-of-range value. */
const char *pool_strategy_name(enum pool_strategy s);
/* Returns 0 and sets *out, or -EINVAL for an unknown name. */
int pool_strategy_parse(const char *name, enum pool_strategy *out);
/* "naive, close-all, ..." for messages. */
const char *pool_strategy_list(void);

/* The pool parent's exit status when a worker died or exited non-zero. */
#define POOL_EXIT_WORKER_FAILED 3

/*
 * Runs the pool in the calling process, which becomes the pool parent: creates
 * one pipe per worker and forks, dispatches cfg->tasks task codes round-robin,
 * shuts down with the strategy, and exits. Every call goes through capture_*.
 * Never returns.
 */
_Noreturn void pool_run(const struct pool_config *cfg);

#endif
