/* scenario.c: the pipe situations every lesson on pipes teaches, each a small variation of the pool.
 *
 * Like pool.c these are plain programs: every call that touches an fd or a
 * process goes through capture_*, and nothing here knows SQLite or Graphviz.
 * What the kernel did is recorded by the same wrappers (byte counts in each
 * read's and write's result) and observed by the supervisor (a process found
 * blocked on a pipe gets a `blocked` event with how full the pipe was). Every
 * worker first makes its pipe's read end fd 0 and closes everything else, so
 * each scenario shows its own lesson and not the leaked write ends.
 */
#include "pool/scenario.h"

#include "pool/capture.h"
#include "base/util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct {
	const char *name, *lesson;
	int workers;
	long tasks, pause_ms;
} scenario_table[SCENARIO_COUNT] = {
	/* Pauses long enough for several looks (every 100 ms of silence) even in the sanitizer build under load. */
	[SCENARIO_EMPTY_READ] = { "empty-read", "a reader of an empty pipe blocks until a writer writes", 3, 6, 1000 },
	/* The pause outlasts filling the pipe (16384 writes) even in the sanitizer build. */
	[SCENARIO_FULL_PIPE] = { "full-pipe", "a writer to a full pipe blocks until the reader reads", 1, 32768, 1000 },
	[SCENARIO_FULL_PIPE_STUCK] = { "full-pipe-stuck",
				       "a writer blocked on a full pipe whose reader waits for that writer: deadlock",
				       1, 32768, 0 },
	[SCENARIO_EOF] = { "eof", "when every write end is closed, read returns 0", 3, 6, 0 },
	[SCENARIO_SIGPIPE] = { "sigpipe", "writing to a pipe with no reader kills the writer with SIGPIPE", 2, 6, 500 },
	[SCENARIO_SIGPIPE_IGNORED] = { "sigpipe-ignored", "with SIGPIPE ignored, that write fails with EPIPE instead",
				       2, 6, 500 },
	[SCENARIO_COALESCE] = { "coalesce", "a pipe is a byte stream: writes are not messages", 1, 40, 500 },
	[SCENARIO_COALESCE_FIXED] = { "coalesce-fixed", "a reader that reassembles records gets every one", 1, 40, 500 },
	[SCENARIO_ATOMIC] = { "atomic", "writes of at most PIPE_BUF bytes are never interleaved", 3, 300, 0 },
	[SCENARIO_ATOMIC_BIG] = { "atomic-big", "larger writes can be split, and parts of two writers mixed", 3, 300, 0 },
};

const char *scenario_name(enum scenario s)
{
	return s > SCENARIO_NONE && s < SCENARIO_COUNT ? scenario_table[s].name : NULL;
}

const char *scenario_lesson(enum scenario s)
{
	return s > SCENARIO_NONE && s < SCENARIO_COUNT ? scenario_table[s].lesson : NULL;
}

int scenario_parse(const char *name, enum scenario *out)
{
	for (int i = SCENARIO_NONE + 1; i < SCENARIO_COUNT; i++)
		if (!strcmp(name, scenario_table[i].name)) {
			*out = (enum scenario)i;
			return 0;
		}
	return -EINVAL;
}

void scenario_defaults(enum scenario s, int *workers, long *tasks, long *pause_ms)
{
	if (s <= SCENARIO_NONE || s >= SCENARIO_COUNT)
		return;
	*workers = scenario_table[s].workers;
	*tasks = scenario_table[s].tasks;
	*pause_ms = scenario_table[s].pause_ms;
}

/*
 * The parent's arrays live here, not only in its locals: a worker forked
 * while they exist ends with _exit still holding its copy of them, and from
 * a global they are memory it can still reach, not a leak (valgrind follows
 * every process of the pool).
 */
static struct {
	int *w;          /* write ends the parent keeps, per worker */
	pid_t *pids;
	bool *dead;      /* sigpipe: workers whose pipe had no reader */
	uint64_t *rec;   /* atomic: one record */
	unsigned char *buf;
} scenario_mem;

static void scenario_alloc(int workers)
{
	scenario_mem.w = xcalloc((size_t)workers, sizeof(*scenario_mem.w));
	scenario_mem.pids = xcalloc((size_t)workers, sizeof(*scenario_mem.pids));
	scenario_mem.dead = xcalloc((size_t)workers, sizeof(*scenario_mem.dead));
}

static void scenario_release(void)
{
	free(scenario_mem.w);
	free(scenario_mem.pids);
	free(scenario_mem.dead);
	free(scenario_mem.rec);
	free(scenario_mem.buf);
	memset(&scenario_mem, 0, sizeof(scenario_mem));
}

/* A worker's start: the pipe's read end (or, for a writer, write end) as fd `to`, nothing else above 2. */
static void scenario_only(int fd, int to)
{
	capture_dup2(fd, to);
	capture_close_range(3, ~0U);
}

static void scenario_write_code(int fd, int32_t code)
{
	ssize_t n;

	do
		n = capture_write(fd, &code, sizeof(code), code);
	while (n < 0 && errno == EINTR);
}

/* Reads task codes from fd 0 until EOF; a read that returns 0 is the `read_zero` event. */
static _Noreturn void scenario_reader(void)
{
	int32_t code;
	ssize_t n;

	while ((n = capture_read(0, &code, sizeof(code))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			capture_exit(1);
		capture_task(code);
	}
	capture_exit(0);
}

/* Forks worker i reading its own pipe; returns the write end the parent keeps. */
static int scenario_fork_reader(int i, pid_t *pid)
{
	int fds[2];

	if (capture_pipe(fds, i) < 0 || (*pid = capture_fork(i)) < 0) {
		error("scenario: pipe or fork for worker %d: %s", i, strerror(errno));
		capture_exit(1);
	}
	if (*pid == 0) {
		scenario_only(fds[0], 0);
		scenario_reader();
	}
	capture_close(fds[0]);
	return fds[1];
}

/* Waits for every worker; returns how many failed (a signal or a non-zero exit). */
static int scenario_wait_all(int n, const pid_t *pids)
{
	int failed = 0, status;

	for (int i = 0; i < n; i++)
		if (capture_waitpid(pids[i], &status) != pids[i] || !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	return failed;
}

/* Closes every write end, then waits for every worker: each reads to EOF. */
static int scenario_finish(int n, const int *w, const pid_t *pids)
{
	for (int i = 0; i < n; i++)
		if (w[i] >= 0)
			capture_close(w[i]);
	return scenario_wait_all(n, pids);
}

/*
 * empty-read and eof: workers that read their pipe to EOF. With a pause the
 * parent forks them and works before it writes: each blocks in read on an
 * empty pipe (the supervisor finds it there) until its first task arrives.
 */
static int scenario_readers(const struct pool_config *cfg)
{
	int *w, failed;
	pid_t *pids;

	scenario_alloc(cfg->workers);
	w = scenario_mem.w, pids = scenario_mem.pids;
	for (int i = 0; i < cfg->workers; i++)
		w[i] = scenario_fork_reader(i, &pids[i]);
	sleep_ms(cfg->pause_ms);
	for (long t = 0; t < cfg->tasks; t++)
		scenario_write_code(w[t % cfg->workers], (int32_t)t);
	failed = scenario_finish(cfg->workers, w, pids);
	scenario_release();
	return failed;
}

/*
 * full-pipe: one worker that sleeps before it reads, and a parent that
 * writes more than the pipe holds: it blocks in write with the pipe full
 * until the worker drains it. full-pipe-stuck: the worker waits first for a
 * "go" on a second pipe, which the parent sends only after its writes, so
 * the parent waits for the worker and the worker for the parent.
 */
static int scenario_full(const struct pool_config *cfg, bool stuck)
{
	int task[2], go[2] = { -1, -1 };
	pid_t pid;

	if (capture_pipe(task, 0) < 0 || (stuck && capture_pipe(go, 0) < 0) || (pid = capture_fork(0)) < 0) {
		error("scenario: pipe or fork: %s", strerror(errno));
		capture_exit(1);
	}
	if (pid == 0) {
		char byte;

		capture_dup2(task[0], 0);
		if (stuck) {
			capture_dup2(go[0], 3);
			capture_close_range(4, ~0U);
			while (capture_read(3, &byte, 1) < 0 && errno == EINTR)
				;
		} else {
			capture_close_range(3, ~0U);
			sleep_ms(cfg->pause_ms);
		}
		scenario_reader();
	}
	capture_close(task[0]);
	if (stuck)
		capture_close(go[0]);
	for (long t = 0; t < cfg->tasks; t++)
		scenario_write_code(task[1], (int32_t)t);
	if (stuck) {
		scenario_write_code(go[1], 0);
		capture_close(go[1]);
	}
	return scenario_finish(1, &task[1], &pid);
}

/*
 * sigpipe: worker 0 exits after its first task, its pipe's read end closing
 * with it; the parent's next write to that pipe finds no reader. By default
 * that kills the parent with SIGPIPE; ignored, the write fails with EPIPE and
 * the parent carries on with the others.
 */
static int scenario_sigpipe(const struct pool_config *cfg, bool ignored)
{
	int *w, failed;
	pid_t *pids;
	bool *dead;

	scenario_alloc(cfg->workers);
	w = scenario_mem.w, pids = scenario_mem.pids, dead = scenario_mem.dead;
	signal(SIGPIPE, ignored ? SIG_IGN : SIG_DFL);
	for (int i = 0; i < cfg->workers; i++) {
		int fds[2];

		if (capture_pipe(fds, i) < 0 || (pids[i] = capture_fork(i)) < 0)
			capture_exit(1);
		if (pids[i] == 0) {
			int32_t code;

			scenario_only(fds[0], 0);
			if (i != 0)
				scenario_reader();
			if (capture_read(0, &code, sizeof(code)) == sizeof(code))
				capture_task(code);
			capture_exit(0); /* with tasks still to come */
		}
		capture_close(fds[0]);
		w[i] = fds[1];
	}
	for (long t = 0, next = 0, live = cfg->workers; t < cfg->tasks && live > 0; t++) {
		int32_t code = (int32_t)t;
		int i;

		if (t == cfg->workers)
			sleep_ms(cfg->pause_ms); /* worker 0 has read its task and gone */
		while (dead[next % cfg->workers])
			next++;
		i = (int)(next++ % cfg->workers);
		if (capture_write(w[i], &code, sizeof(code), code) < 0 && errno == EPIPE) {
			/* Ignored SIGPIPE: that worker is gone; its task goes to the next one. */
			dead[i] = true;
			live--;
			capture_close(w[i]);
			w[i] = -1;
			t--;
		}
	}
	failed = scenario_finish(cfg->workers, w, pids);
	scenario_release();
	return failed;
}

/*
 * coalesce: the parent writes its 4-byte task codes while the worker sleeps,
 * then the worker reads with a 64-byte buffer. The naive worker takes each
 * read for one code (one `task` event per read) and loses the rest; the
 * fixed one takes every whole code out of each read and keeps a partial one
 * for the next.
 */
static int scenario_coalesce(const struct pool_config *cfg, bool fixed)
{
	int fds[2];
	pid_t pid;

	if (capture_pipe(fds, 0) < 0 || (pid = capture_fork(0)) < 0)
		capture_exit(1);
	if (pid == 0) {
		unsigned char buf[64 + sizeof(int32_t)];
		size_t have = 0;
		ssize_t n;

		scenario_only(fds[0], 0);
		sleep_ms(cfg->pause_ms);
		while ((n = capture_read(0, buf + have, 64)) != 0) {
			int32_t code;

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				capture_exit(1);
			if (!fixed) {
				memcpy(&code, buf, sizeof(code)); /* "one read, one message" */
				capture_task(code);
				continue;
			}
			have += (size_t)n;
			size_t used = 0;
			for (; have - used >= sizeof(code); used += sizeof(code)) {
				memcpy(&code, buf + used, sizeof(code));
				capture_task(code);
			}
			memmove(buf, buf + used, have - used);
			have -= used;
		}
		capture_exit(0);
	}
	capture_close(fds[0]);
	for (long t = 0; t < cfg->tasks; t++)
		scenario_write_code(fds[1], (int32_t)t);
	return scenario_finish(1, &fds[1], &pid);
}

/*
 * atomic: several writers share one pipe to the parent, each writing records
 * in which every 8-byte word is (writer << 32 | record). The parent reads the
 * stream in PIPE_BUF pieces, cuts it into records and counts those whose
 * words all agree (intact) and those that mix writers or records (torn); it
 * records the counts as a `check` event. Records of PIPE_BUF bytes are
 * written atomically; records of 4 * PIPE_BUF can be split while the pipe is
 * full, and another writer's bytes land in between.
 */
static int scenario_atomic(const struct pool_config *cfg, size_t size)
{
	size_t words = size / sizeof(uint64_t), got = 0;
	uint64_t *rec;
	unsigned char *buf;
	pid_t *pids;
	long intact = 0, torn = 0;
	int fds[2], failed;
	ssize_t n;

	scenario_alloc(cfg->workers);
	rec = scenario_mem.rec = xmalloc(size);
	buf = scenario_mem.buf = xmalloc(size);
	pids = scenario_mem.pids;
	if (capture_pipe(fds, -1) < 0)
		capture_exit(1);
	for (int i = 0; i < cfg->workers; i++) {
		if ((pids[i] = capture_fork(i)) < 0)
			capture_exit(1);
		if (pids[i] == 0) {
			scenario_only(fds[1], 1);
			for (long r = 0; r < cfg->tasks; r++) {
				for (size_t k = 0; k < words; k++)
					rec[k] = (uint64_t)i << 32 | (uint64_t)r;
				if (capture_write(1, rec, size, (int)r) != (ssize_t)size)
					capture_exit(1);
			}
			capture_exit(0);
		}
	}
	capture_close(fds[1]);
	while ((n = capture_read(fds[0], buf + got, size - got < PIPE_BUF ? size - got : PIPE_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
		if (got < size)
			continue;
		memcpy(rec, buf, size);
		got = 0;
		size_t k = 1;
		while (k < words && rec[k] == rec[0])
			k++;
		if (k == words)
			intact++;
		else
			torn++;
	}
	capture_check(intact, torn);
	capture_close(fds[0]);
	failed = scenario_wait_all(cfg->workers, pids);
	scenario_release();
	return failed;
}

_Noreturn void scenario_run(const struct pool_config *cfg)
{
	int failed = 0;

	switch (cfg->scenario) {
	case SCENARIO_EMPTY_READ:
	case SCENARIO_EOF:
		failed = scenario_readers(cfg);
		break;
	case SCENARIO_FULL_PIPE:
	case SCENARIO_FULL_PIPE_STUCK:
		failed = scenario_full(cfg, cfg->scenario == SCENARIO_FULL_PIPE_STUCK);
		break;
	case SCENARIO_SIGPIPE:
	case SCENARIO_SIGPIPE_IGNORED:
		failed = scenario_sigpipe(cfg, cfg->scenario == SCENARIO_SIGPIPE_IGNORED);
		break;
	case SCENARIO_COALESCE:
	case SCENARIO_COALESCE_FIXED:
		failed = scenario_coalesce(cfg, cfg->scenario == SCENARIO_COALESCE_FIXED);
		break;
	case SCENARIO_ATOMIC:
	case SCENARIO_ATOMIC_BIG:
		failed = scenario_atomic(cfg, cfg->scenario == SCENARIO_ATOMIC ? PIPE_BUF : 4 * PIPE_BUF);
		break;
	default:
		capture_exit(2);
	}
	capture_exit(failed ? 3 : 0);
}
