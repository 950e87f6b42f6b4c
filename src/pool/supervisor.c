/* supervisor.c: runs the pool as a child, drains its event log into SQLite, detects hangs, reaps everything.
 *
 * States and the function behind each transition:
 *
 *   START --supervisor_spawn--> RUNNING --(pool parent reaped, no child left)--> FINISHING
 *   RUNNING --supervisor_check_hang: all blocked--> KILLING     (outcome deadlock)
 *   RUNNING --SIGINT/SIGTERM/SIGHUP--> KILLING                  (outcome interrupted)
 *   RUNNING --pool parent dies by a signal--> RUNNING           (outcome killed; orphans
 *                                                                run on, hang check still applies)
 *   KILLING --supervisor_kill_all, supervisor_reap(block)--> FINISHING
 *   FINISHING --supervisor_finish--> DONE (outcome and counts committed)
 *
 * Invariants:
 *   1. The SQLite connection is opened only after the pool is forked, in this
 *      process; the pool holds no fd of ours (the log is an fd-less mapping).
 *   2. We are a child subreaper, so every pool process, orphaned or not, is
 *      eventually reaped by its parent or by us: DONE implies no pool process
 *      is left, neither zombie nor orphan.
 *   3. The outcome is the first cause seen; it is never overwritten.
 *   4. Everything drained is committed at most ~50 ms later, so a SIGKILL of
 *      the pool loses nothing that reached the log.
 */
#include "pool/supervisor.h"

#include "pool/capture.h"
#include "core/evlog.h"
#include "pool/guard.h"
#include "procfs/deadlock.h"
#include "procfs/hang.h"
#include "core/ingest.h"
#include "pool/pin.h"
#include "core/session.h"
#include "store/store.h"
#include "base/progress.h"
#include "base/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SUPERVISOR_BATCH 8192

static volatile sig_atomic_t supervisor_signal;

struct supervisor {
	const struct supervisor_config *cfg;
	struct evlog *log;
	struct session *ss; /* the run in the trace: see session.c (NULL with --no-trace) */
	pid_t self, pool_pid;
	struct evlog_record *buf;
	struct evlog_texts texts; /* long texts of the records in buf */
	uint64_t dropped_recorded;
	uint64_t ingest_ns; /* spent in ingest and commit, for --stats */
	const char *outcome;
	bool parent_done;
	bool killing;
	struct pin pins; /* pipe ends held while the pool dies: see pin.c */
	struct guard *guard; /* kills the pool if we die first: see guard.c */
	uint64_t t0, t_detect, t_evidence; /* now_ns() at fork, deadlock confirmed, evidence recorded */
	struct hang_seen seen; /* the processes a `blocked` event was recorded for */
	struct progress prog;  /* on a terminal: what a big pool is doing (progress.c) */
	long reaped;           /* pool processes reaped so far, for the progress line */
};

/* Seconds from forking the pool to t; 0 for a moment that never came. */
static double supervisor_since(const struct supervisor *sv, uint64_t t)
{
	return t ? (double)(t - sv->t0) / 1e9 : 0.0;
}

static void supervisor_on_signal(int sig)
{
	supervisor_signal = sig;
}

/* Moves what the log holds into the database. Returns records moved, or -EIO. */
static long supervisor_drain(struct supervisor *sv)
{
	long total = 0;
	uint64_t t0;
	size_t n;

	/* Nothing is stored once the run failed: what is left of the pool is being killed. */
	if (!sv->ss || session_failed(sv->ss))
		return 0;
	while ((n = evlog_drain(sv->log, sv->buf, SUPERVISOR_BATCH, &sv->texts)) > 0) {
		t0 = now_ns();
		if (session_store(sv->ss, sv->buf, n, &sv->texts) < 0)
			return -EIO;
		sv->ingest_ns += now_ns() - t0;
		total += (long)n;
		if (n < SUPERVISOR_BATCH)
			break;
	}
	t0 = now_ns();
	if (session_commit(sv->ss, false) < 0)
		return -EIO;
	sv->ingest_ns += now_ns() - t0;
	return total;
}

/* Appends a supervisor event (reap, kill, hang, overflow). Returns its seq, 0 if lost. */
static uint64_t supervisor_record(struct supervisor *sv, struct evlog_record *r)
{
	uint64_t seq = 0;

	/* A failed run stores nothing more: the log will not be drained again. */
	if (!sv->cfg->trace || (sv->ss && session_failed(sv->ss)))
		return 0;
	if (!r->pid)
		r->pid = sv->self;
	/* We are the reader: when the log is full, make room ourselves. The
	 * oldest slot may be a fork reservation its child has yet to fill, so
	 * keep trying for a while rather than a number of times. */
	for (uint64_t deadline = now_ns() + 2000000000ULL; !seq && now_ns() < deadline;) {
		seq = evlog_try_append(sv->log, r);
		if (!seq && supervisor_drain(sv) < 0)
			break;
		if (!seq)
			sleep_ms(1);
	}
	if (!seq)
		evlog_count_drop(sv->log);
	return seq;
}

static void supervisor_note_drops(struct supervisor *sv)
{
	uint64_t dropped = sv->cfg->trace ? evlog_dropped(sv->log) : 0;
	struct evlog_record r;

	if (dropped <= sv->dropped_recorded)
		return;
	/* Never silent: the gap is itself an event, placed where it was noticed. */
	memset(&r, 0, sizeof(r));
	r.kind = EV_OVERFLOW;
	r.arg = (int64_t)(dropped - sv->dropped_recorded);
	r.has = HAS_ARG;
	r.pid = sv->self;
	/* Counted as recorded only once its event is in the log; else next time. */
	if (evlog_try_append(sv->log, &r))
		sv->dropped_recorded = dropped;
}

static void supervisor_set_outcome(struct supervisor *sv, const char *outcome)
{
	if (!sv->outcome)
		sv->outcome = outcome;
}

static bool supervisor_is_crash_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT ||
	       sig == SIGSYS || sig == SIGTRAP;
}

static void supervisor_reaped(struct supervisor *sv, pid_t pid, int status)
{
	struct evlog_record r;

	sv->reaped++;
	memset(&r, 0, sizeof(r));
	r.kind = EV_REAP;
	r.other_pid = pid;
	r.has = HAS_OTHER_PID;
	if (WIFEXITED(status)) {
		r.arg = WEXITSTATUS(status);
		r.has |= HAS_ARG;
	} else if (WIFSIGNALED(status)) {
		r.signal = (uint8_t)WTERMSIG(status);
		r.has |= HAS_SIGNAL;
	}
	supervisor_record(sv, &r);
	if (pid != sv->pool_pid)
		return;
	sv->parent_done = true;
	if (WIFSIGNALED(status) && !sv->killing)
		supervisor_set_outcome(sv, supervisor_is_crash_signal(WTERMSIG(status)) ? "crashed" : "killed");
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		supervisor_set_outcome(sv, "crashed"); /* a worker died, or the pool could not start */
}

/*
 * Reaps exited children (ours, or orphans handed to us as subreaper).
 * Returns 1 if children remain, 0 when there are none left.
 */
static int supervisor_reap(struct supervisor *sv, bool block)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, block ? 0 : WNOHANG);

		if (pid > 0) {
			supervisor_reaped(sv, pid, status);
			continue;
		}
		if (pid == 0)
			return 1;
		if (errno == EINTR)
			continue;
		return 0; /* ECHILD */
	}
}

static void supervisor_record_kill(struct supervisor *sv, pid_t pid)
{
	struct evlog_record r;

	memset(&r, 0, sizeof(r));
	r.kind = EV_KILL;
	r.other_pid = pid;
	r.signal = SIGKILL;
	r.has = HAS_OTHER_PID | HAS_SIGNAL;
	supervisor_record(sv, &r);
}

/*
 * Kills the pool. The pool parent is killed and reaped before any worker: had
 * a worker died first, the parent (blocked in waitpid for it) could reap it
 * and die before recording the reap. The parent's death closes its pipe ends,
 * so first we take a copy of each (pin.c): no worker sees EOF or EPIPE from
 * it, so none runs again before the rest of the group is killed. The list of
 * whom we killed is taken before anything was killed. The copies are closed
 * once every pool process is reaped.
 */
static void supervisor_kill_all(struct supervisor *sv)
{
	struct hang_proc *procs = NULL;
	ssize_t n;

	sv->killing = true;
	n = hang_scan(sv->pool_pid, &procs);
	if (!sv->parent_done) {
		int status;
		pid_t pid;

		pin_pipes(&sv->pins, sv->pool_pid);
		supervisor_record_kill(sv, sv->pool_pid);
		kill(sv->pool_pid, SIGKILL);
		do
			pid = waitpid(sv->pool_pid, &status, 0);
		while (pid < 0 && errno == EINTR);
		if (pid == sv->pool_pid)
			supervisor_reaped(sv, pid, status);
	}
	kill(-sv->pool_pid, SIGKILL);
	for (ssize_t i = 0; i < n; i++)
		if (procs[i].state != 'Z' && procs[i].pid != sv->pool_pid)
			supervisor_record_kill(sv, procs[i].pid);
	hang_procs_free(procs, n);
}

/* deadlock_record's callbacks: the pool's hang events, and a copy of one waking end per pipe. */
static uint64_t supervisor_hang_event(void *ctx, const struct hang_proc *p)
{
	struct evlog_record r;

	memset(&r, 0, sizeof(r));
	r.kind = EV_HANG;
	r.pid = p->pid;
	hang_evidence(p, &r);
	return supervisor_record(ctx, &r);
}

static bool supervisor_pin(void *ctx, pid_t pid, int fd)
{
	struct supervisor *sv = ctx;

	return pin_fd(&sv->pins, pid, fd) == 0;
}

/*
 * Records one `hang` event per process with the kernel's evidence, and who
 * holds the other end of each pipe one is blocked on (the write end for a
 * reader, the read end for a writer); those are buffered and written by the
 * next commit (supervisor_finish always makes one).
 */
static void supervisor_record_hang(struct supervisor *sv, const struct hang_proc *procs, size_t n)
{
	const struct deadlock_sink sink = { .ctx = sv, .ingest = sv->ss ? session_ingest(sv->ss) : NULL,
					    .hang = supervisor_hang_event, .pin = supervisor_pin };

	deadlock_record(procs, n, &sink);
}

/*
 * Nothing was recorded for --hang-ms, but not every process is blocked: no
 * deadlock. Each process found blocked on a pipe gets one `blocked` event
 * with the kernel's evidence (what it waits in, how full the pipe is), once
 * per process, pipe and end, so a reader waiting on an empty pipe or a
 * writer on a full one shows in the trace although it was later woken.
 */
static void supervisor_note_blocked(struct supervisor *sv, const struct hang_proc *procs, size_t n)
{
	struct evlog_record r;

	for (size_t i = 0; i < n; i++) {
		if (!hang_seen_first(&sv->seen, &procs[i]))
			continue;
		memset(&r, 0, sizeof(r));
		r.kind = EV_BLOCKED;
		r.pid = procs[i].pid;
		hang_evidence(&procs[i], &r);
		supervisor_record(sv, &r);
	}
}

/* The deadlock check's view of the pool: its process group, and the event log's head. */
static ssize_t supervisor_scan(void *ctx, struct hang_proc **out)
{
	return hang_scan(((struct supervisor *)ctx)->pool_pid, out);
}

static uint64_t supervisor_progress(void *ctx)
{
	struct supervisor *sv = ctx;

	return sv->cfg->trace ? evlog_head(sv->log) : 0;
}

static void supervisor_not_stuck(void *ctx, const struct hang_proc *p, size_t n)
{
	supervisor_note_blocked(ctx, p, n);
}

/* Looks for a deadlock (deadlock_check: two scans of the pool ~20 ms apart). Returns true and handles it if found. */
static bool supervisor_check_hang(struct supervisor *sv)
{
	const struct deadlock_probe probe = { .ctx = sv, .scan = supervisor_scan, .progress = supervisor_progress,
					      .not_stuck = supervisor_not_stuck };
	struct hang_proc *b;
	ssize_t nb = deadlock_check(&probe, &b);

	if (nb <= 0)
		return false;
	sv->t_detect = now_ns();
	progress_show(&sv->prog, true, "run: deadlock; recording who holds what, then killing the pool");
	supervisor_set_outcome(sv, "deadlock");
	if (supervisor_drain(sv) < 0)
		error("could not store all of the hang evidence");
	supervisor_record_hang(sv, b, (size_t)nb);
	sv->t_evidence = now_ns();
	supervisor_kill_all(sv);
	hang_procs_free(b, nb);
	return true;
}

static pid_t supervisor_spawn(struct supervisor *sv, const sigset_t *old_mask)
{
	pid_t pid;

	capture_init(sv->cfg->trace ? sv->log : NULL, sv->cfg->io_events);
	pid = capture_fork(-1);
	if (pid != 0)
		return pid;
	/* The pool parent: its own process group, so a terminal's ^C reaches only
	 * us, and we can kill the whole pool with one kill(-pgid). It dies with
	 * us, and so does its group (guard.c). */
	setpgid(0, 0);
	guard_bind_child(sv->self);
	guard_watch(sv->guard, getpid());
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	pool_run(&sv->cfg->pool);
}

static int supervisor_begin_run(struct supervisor *sv)
{
	const struct supervisor_config *cfg = sv->cfg;
	struct session_run run = {
		.source = "pool",
		.strategy = pool_run_name(&cfg->pool),
		.workers = cfg->pool.workers,
		.tasks = cfg->pool.tasks,
		.task_ms = cfg->pool.task_ms,
		.crash_worker = cfg->pool.crash_worker,
		.io_events = cfg->io_events,
		.supervisor_pid = sv->self,
	};

	return session_begin(cfg->db_path, &run, &sv->ss);
}

static int supervisor_finish(struct supervisor *sv, struct supervisor_result *res)
{
	struct session_end end = { .outcome = sv->outcome };
	uint64_t torn = 0;

	/* No writer is left: drain to the end, stepping over records whose
	 * writer was killed halfway (claimed, never completed). */
	for (;;) {
		if (supervisor_drain(sv) < 0) {
			session_fail(sv->ss);
			return -EIO;
		}
		supervisor_note_drops(sv);
		if (evlog_pending(sv->log) == 0)
			break;
		torn += evlog_skip_torn(sv->log);
	}
	end.dropped = res->dropped = sv->dropped_recorded;
	end.torn = res->torn = torn;
	progress_show(&sv->prog, true, "run: storing the trace (%llu events)", (unsigned long long)session_events(sv->ss));
	if (session_finish(sv->ss, &end) < 0)
		return -EIO;
	res->events = session_events(sv->ss);
	res->stored_seconds = supervisor_since(sv, now_ns());
	res->ingest_seconds = (double)sv->ingest_ns / 1e9;
	/* The run is stored: a count that cannot be read is reported, not fatal. */
	progress_show(&sv->prog, true, "run: counting leaked write ends and EOF blockers");
	session_counts(sv->ss, &res->leaked_write_ends, &res->eof_blockers, &supervisor_signal);
	res->counted_seconds = supervisor_since(sv, now_ns());
	return 0;
}

/* The RUNNING state: until every pool process is reaped. */
static int supervisor_loop(struct supervisor *sv)
{
	uint64_t last_head = sv->cfg->trace ? evlog_head(sv->log) : 0;
	uint64_t last_progress = now_ns(), hang_ns = (uint64_t)sv->cfg->hang_ms * 1000000ULL;

	for (;;) {
		long moved = supervisor_drain(sv);
		uint64_t head;

		if (moved < 0)
			return -EIO;
		supervisor_note_drops(sv);
		if (supervisor_signal && !sv->killing) {
			supervisor_set_outcome(sv, "interrupted");
			supervisor_kill_all(sv);
		}
		if (!supervisor_reap(sv, sv->killing))
			return 0;
		head = sv->cfg->trace ? evlog_head(sv->log) : 0;
		progress_show(&sv->prog, false, "run: %llu events stored; %ld of %d processes ended%s",
			      (unsigned long long)(sv->ss ? session_events(sv->ss) : 0), sv->reaped,
			      sv->cfg->pool.workers + 1, sv->killing ? "; killing the pool" : "");
		if (head != last_head) {
			last_head = head;
			last_progress = now_ns();
		} else if (now_ns() - last_progress >= hang_ns) {
			supervisor_check_hang(sv);
			last_progress = now_ns();
		}
		/* The drain stopped because the log was empty: let it fill for a
		 * millisecond rather than spin on a few records at a time. */
		sleep_ms(1);
	}
}

/* Kills and reaps whatever of the pool is left, after a failure. */
static void supervisor_abandon(struct supervisor *sv)
{
	supervisor_kill_all(sv);
	while (supervisor_reap(sv, true))
		;
}

int supervisor_run(const struct supervisor_config *cfg, struct supervisor_result *res)
{
	struct supervisor sv = { .cfg = cfg };
	sigset_t block, old;
	int ret = -EIO;

	memset(res, 0, sizeof(*res));
	res->run_id = -1;
	sv.self = getpid();
	progress_init(&sv.prog);
	if (cfg->trace) {
		struct store *probe;

		/* Validate (or create) the database now, for a clean error before
		 * anything runs; then close it so the pool cannot inherit its fd. */
		if ((ret = store_open(cfg->db_path, STORE_WRITE, &probe)) < 0)
			return ret;
		store_close(probe);
		sv.log = evlog_create(cfg->log_capacity, cfg->log_wait_ms);
		if (!sv.log)
			return error("cannot map the event log: %s", strerror(errno)), -EIO;
		sv.buf = xmalloc(SUPERVISOR_BATCH * sizeof(*sv.buf));
	}
	/* Before the pool exists, so that it never outlives us. */
	if (!(sv.guard = guard_start()))
		goto out;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		error("cannot become a child subreaper: %s", strerror(errno));
		goto out;
	}
	sigemptyset(&block);
	stop_signal_set(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(NULL);
	sv.t0 = now_ns();
	sv.pool_pid = supervisor_spawn(&sv, &old);
	if (sv.pool_pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		error("cannot fork the pool: %s", strerror(errno));
		goto out;
	}
	setpgid(sv.pool_pid, sv.pool_pid); /* also done by the child: whoever runs first */
	guard_watch(sv.guard, sv.pool_pid);
	supervisor_signal = 0;
	on_stop_signals(supervisor_on_signal);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, &old, NULL);

	if (cfg->trace && (ret = supervisor_begin_run(&sv)) < 0) {
		supervisor_abandon(&sv);
		goto out;
	}
	ret = -EIO;
	res->run_id = sv.ss ? session_run_id(sv.ss) : -1;
	/* Its error was said where it happened, in one line (a full disk: SQLite's words, with the file). */
	if (supervisor_loop(&sv) < 0) {
		session_fail(sv.ss);
		supervisor_abandon(&sv);
		goto out;
	}
	res->seconds = supervisor_since(&sv, now_ns());
	res->detect_seconds = supervisor_since(&sv, sv.t_detect);
	res->evidence_seconds = supervisor_since(&sv, sv.t_evidence);
	supervisor_set_outcome(&sv, supervisor_signal ? "interrupted" : "ok");
	res->outcome = sv.outcome;
	if (cfg->trace && supervisor_finish(&sv, res) < 0)
		goto out;
	ret = 0;
out:
	/* A signal that came while the trace was being committed is honoured
	 * now that it is: the caller exits 128+N. */
	res->signal = supervisor_signal;
	progress_done(&sv.prog);
	pin_release(&sv.pins);
	guard_stop(sv.guard);
	/* Closed while SIGXFSZ is still ignored (see tracer.c). */
	session_free(sv.ss);
	on_stop_signals(NULL);
	free(sv.buf);
	hang_seen_release(&sv.seen);
	evlog_texts_release(&sv.texts);
	evlog_destroy(sv.log);
	return ret;
}
