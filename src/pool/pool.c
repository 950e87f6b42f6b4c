/* pool.c: the classic pipe-per-worker process pool, with its five shutdown strategies.
 *
 * This is deliberately the textbook program, bug included: pipe() without
 * O_CLOEXEC, fork, dup2 of the read end onto fd 0 in the child, round-robin
 * 4-byte task codes, and a shutdown that closes write ends and waits. All of
 * its system calls that touch fds or processes go through capture_*, and it
 * knows nothing of SQLite or Graphviz.
 */
#include "pool/pool.h"

#include "pool/capture.h"
#include "pool/scenario.h"
#include "base/util.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

struct pool_channel {
	pid_t pid;
	int write_fd;
	int alive; /* 0 once a write found no reader (EPIPE) */
};

static const char *const pool_names[POOL_STRATEGY_COUNT] = {
	[POOL_NAIVE] = "naive",
	[POOL_CLOSE_ALL] = "close-all",
	[POOL_REVERSE_CLOSE] = "reverse-close",
	[POOL_CHILD_CLOSE] = "child-close",
	[POOL_CLOSE_RANGE] = "close-range",
};

const char *pool_strategy_name(enum pool_strategy s)
{
	return (unsigned)s < POOL_STRATEGY_COUNT ? pool_names[s] : NULL;
}

int pool_strategy_parse(const char *name, enum pool_strategy *out)
{
	for (int i = 0; i < POOL_STRATEGY_COUNT; i++) {
		if (!strcmp(name, pool_names[i])) {
			*out = (enum pool_strategy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *pool_strategy_list(void)
{
	return "naive, close-all, reverse-close, child-close, close-range";
}

static void pool_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static _Noreturn void pool_crash(void)
{
	/* Default action even under ASan, whose own SIGSEGV handler would turn
	 * the crash into a report and an exit code instead of a signal. */
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	_exit(127);
}

static _Noreturn void pool_worker(const struct pool_config *cfg, int index, int fds[2],
				  const struct pool_channel *channels)
{
	int32_t code;
	ssize_t n;
	int first = 1;

	capture_dup2(fds[0], 0);
	if (cfg->strategy == POOL_CLOSE_RANGE) {
		/* The originals and every inherited write end, in one call. */
		capture_close_range(3, ~0U);
	} else {
		capture_close(fds[0]);
		capture_close(fds[1]);
	}
	if (cfg->strategy == POOL_CHILD_CLOSE) {
		/* The textbook fix: drop the write ends the earlier channels left us. */
		for (int i = 0; i < index; i++)
			capture_close(channels[i].write_fd);
	}
	for (;;) {
		n = capture_read(0, &code, sizeof(code));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		capture_task(code);
		if (first && index == cfg->crash_worker)
			pool_crash();
		first = 0;
		if (cfg->task_ms > 0)
			pool_sleep_ms(cfg->task_ms);
	}
	capture_exit(n < 0 ? 1 : 0);
}

static void pool_dispatch(const struct pool_config *cfg, struct pool_channel *ch)
{
	int next = 0, live = cfg->workers;

	for (long t = 0; t < cfg->tasks && live > 0; t++) {
		int32_t code = (int32_t)t;
		ssize_t n;

		while (!ch[next].alive)
			next = (next + 1) % cfg->workers;
		do
			n = capture_write(ch[next].write_fd, &code, sizeof(code), code);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno == EPIPE) {
			/* The worker died (--crash-worker): stop feeding it, keep the rest going. */
			ch[next].alive = 0;
			live--;
			t--;
		}
		next = (next + 1) % cfg->workers;
	}
}

/* Waits for one worker; returns 1 if it did not exit with status 0. */
static int pool_wait(pid_t pid)
{
	int status;

	if (capture_waitpid(pid, &status) != pid)
		return 1;
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static int pool_close_and_wait(struct pool_channel *c)
{
	capture_close(c->write_fd);
	return pool_wait(c->pid);
}

/* Returns how many workers failed (died by a signal or exited non-zero). */
static int pool_shutdown(const struct pool_config *cfg, struct pool_channel *ch)
{
	int n = cfg->workers, failed = 0;

	switch (cfg->strategy) {
	case POOL_CLOSE_ALL:
		for (int i = 0; i < n; i++)
			capture_close(ch[i].write_fd);
		for (int i = 0; i < n; i++)
			failed += pool_wait(ch[i].pid);
		break;
	case POOL_REVERSE_CLOSE:
		for (int i = n - 1; i >= 0; i--)
			failed += pool_close_and_wait(&ch[i]);
		break;
	case POOL_NAIVE:
	case POOL_CHILD_CLOSE:
	case POOL_CLOSE_RANGE:
	default:
		/* For naive this blocks in the first waitpid: the bug being shown. */
		for (int i = 0; i < n; i++)
			failed += pool_close_and_wait(&ch[i]);
		break;
	}
	return failed;
}

const char *pool_run_name(const struct pool_config *cfg)
{
	return cfg->scenario != SCENARIO_NONE ? scenario_name(cfg->scenario) : pool_strategy_name(cfg->strategy);
}

_Noreturn void pool_run(const struct pool_config *cfg)
{
	struct pool_channel *ch;
	int fds[2];

	if (cfg->scenario != SCENARIO_NONE)
		scenario_run(cfg);
	ch = xcalloc((size_t)cfg->workers, sizeof(*ch));
	/* A dead worker must show up as EPIPE on its channel, not kill the parent. */
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < cfg->workers; i++) {
		pid_t pid;

		if (capture_pipe(fds, i) < 0) {
			error("pool: pipe for worker %d: %s", i, strerror(errno));
			capture_exit(1);
		}
		pid = capture_fork(i);
		if (pid < 0) {
			error("pool: fork of worker %d: %s", i, strerror(errno));
			capture_exit(1);
		}
		if (pid == 0)
			pool_worker(cfg, i, fds, ch);
		capture_close(fds[0]);
		ch[i] = (struct pool_channel){ pid, fds[1], 1 };
	}
	int failed;

	pool_dispatch(cfg, ch);
	if (cfg->shutdown_delay_ms > 0)
		pool_sleep_ms(cfg->shutdown_delay_ms);
	failed = pool_shutdown(cfg, ch);
	free(ch);
	/* Like any pool worth its name, report lost workers in the exit status. */
	capture_exit(failed ? POOL_EXIT_WORKER_FAILED : 0);
}
