/* session.c: one run's life in the trace database, the same for every source (the pool, record, snapshot).
 *
 * States and the function behind each transition:
 *
 *   (none) --session_begin--> OPEN (the runs row committed, outcome NULL)
 *   OPEN --session_store--> IN_TXN --session_commit (50 ms old, or now)--> OPEN
 *   IN_TXN --session_commit, SQLITE_BUSY--> IN_TXN (retried by the next call)
 *   OPEN --session_store, another writer holds the lock--> QUEUED (the
 *     records kept in memory, up to SESSION_QUEUE_MAX) --session_store or
 *     session_commit, the lock free--> IN_TXN (the queue stored first)
 *   OPEN or IN_TXN --session_finish--> FINISHED (outcome and counts committed)
 *   any --a storage error, session_fail--> FAILED (rolled back; outcome 'failed')
 *
 * Invariants:
 *   1. Only this module writes the runs row of the run it began, and the
 *      outcome is written once: by session_finish, or as 'failed'.
 *   2. Whatever was stored is committed at most ~50 ms later (the sources
 *      call session_commit at least that often), so a SIGKILL of pooltrace
 *      loses at most that much, and the file stays whole.
 *   3. A failed session does nothing more to the file but mark the run.
 *   4. Records are stored in the order given: while any are queued, new
 *      ones join the queue.
 */
#include "core/session.h"

#include "core/evlog.h"
#include "core/ingest.h"
#include "core/stackrows.h"
#include "store/runs.h"
#include "store/store.h"
#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SESSION_COMMIT_NS (50 * 1000000ULL)
/* Only a reader of a file that could not be put in WAL mode holds the last commit off. */
#define SESSION_FINAL_WAIT_NS (60 * 1000000000ULL)
/*
 * Another writer holding the database's lock (a long transaction of the
 * user's) must not stall the program, nor make the run fail at once: up to
 * this many records (128 bytes each: 128 MiB) wait in memory for the lock,
 * and are stored as soon as it is free. Past it the run fails, as on a full
 * disk.
 */
#define SESSION_QUEUE_MAX (1u << 20)
/*
 * Room kept on the trace's file system for the run's failed mark: when the
 * disk fills, the write that failed may have left none behind it (it failed
 * at its first page: the commit before it had taken the last of the room),
 * and the mark then needs a new WAL frame too, and so did the checkpoint that
 * was to free the WAL (it grows the file first). So the mark failed and the
 * outcome stayed NULL (2 runs in 20 of the full-disk record test under
 * load). The room is an unlinked file (O_TMPFILE) of this size in the
 * trace's directory, allocated when the run begins and let go by
 * session_fail just before it writes the mark; it goes with pooltrace,
 * however that ends. The mark needs one or two frames of 4 KiB.
 */
#define SESSION_RESERVE (64 * 1024)

struct session {
	struct store *st;
	struct ingest *in;
	int64_t run_id;
	bool in_txn;
	bool failed;
	bool finished;
	uint64_t last_commit_ns;
	char *incomplete; /* session_mark_incomplete's reasons, '; ' between them */
	/* Records waiting for another writer to let go of the lock, with their long texts. */
	struct evlog_record *queue;
	size_t nqueue, queue_cap;
	struct evlog_texts queue_texts;
	int reserve; /* SESSION_RESERVE bytes of disk kept for the failed mark; -1: none */
	int filler;  /* POOLTRACE_TEST_FULL_AT_FINISH: the file that filled the disk; -1: none */
};

/* The directory of path, into dir. */
static void session_dir(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/*
 * An unlinked file in the trace's directory (O_TMPFILE: nothing is left
 * there, whatever the end), or -1 where the file system has none.
 */
static int session_unlinked_file(const struct session *s)
{
	char dir[PATH_MAX];

	session_dir(store_path(s->st), dir, sizeof(dir));
	return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* Takes SESSION_RESERVE bytes of the disk for the failed mark (s->reserve), if it can: best effort. */
static void session_reserve(struct session *s)
{
	int fd = session_unlinked_file(s);

	if (fd >= 0 && posix_fallocate(fd, 0, SESSION_RESERVE) != 0) {
		close(fd);
		fd = -1;
	}
	s->reserve = fd;
}

/*
 * POOLTRACE_TEST_FULL_AT_FINISH (a test hook, as git's GIT_TEST_*): fills
 * the disk up before the final commit and keeps it full, so that a test can
 * make exactly that commit fail as on a disk that filled there.
 */
static void session_fill_disk(struct session *s)
{
	static const char zeros[4096];

	if (s->filler >= 0 || (s->filler = session_unlinked_file(s)) < 0)
		return;
	while (write(s->filler, zeros, sizeof(zeros)) > 0)
		;
}

static int session_begin_txn(struct session *s);

static int session_insert_run(struct session *s, const struct session_run *run)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	struct store_run_start row = {
		.source = run->source,
		.command = run->command,
		.strategy = run->strategy,
		.workers = run->workers,
		.tasks = run->tasks,
		.task_ms = run->task_ms,
		.crash_worker = run->crash_worker,
		.io_events = run->io_events,
		.started_at = when,
		.supervisor_pid = run->supervisor_pid,
	};
	int64_t id;
	int rc;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* The id and the row in one write transaction: concurrent runs into
	 * one file each get the next id. Another writer's long transaction is
	 * waited for (the program has not started yet), as long as for the
	 * last commit. */
	for (uint64_t deadline = now_ns() + SESSION_FINAL_WAIT_NS; (rc = session_begin_txn(s)) == 0;) {
		if (now_ns() > deadline) {
			error("%s: the database stayed locked for a minute; the run could not begin", store_path(s->st));
			return -EIO;
		}
		sleep_ms(10);
	}
	if (rc < 0)
		return -EIO;
	s->in_txn = false; /* this transaction is the row's own: store_run_insert ends it */
	if (store_run_insert(s->st, &row, &id) < 0)
		return -EIO;
	s->run_id = id;
	return 0;
}

int session_begin(const char *db_path, const struct session_run *run, struct session **out)
{
	struct session *s = xcalloc(1, sizeof(*s));
	int rc;

	s->reserve = s->filler = -1;
	assert(run->source && (!strcmp(run->source, "pool") || !strcmp(run->source, "record") ||
			       !strcmp(run->source, "snapshot") || !strcmp(run->source, "attach")));
	*out = NULL;
	s->run_id = -1;
	if ((rc = store_open(db_path, STORE_WRITE, &s->st)) < 0) {
		free(s);
		return rc;
	}
	if ((rc = session_insert_run(s, run)) < 0) {
		session_free(s);
		return rc;
	}
	session_reserve(s);
	/* A recorded program has no pool roles: every process is a 'process'. */
	s->in = ingest_new(s->st, s->run_id, strcmp(run->source, "pool") != 0);
	s->last_commit_ns = now_ns();
	*out = s;
	return 0;
}

/*
 * Begins the write transaction, taking the lock now (BEGIN IMMEDIATE) so
 * that no statement of it can meet SQLITE_BUSY halfway through a batch.
 * Returns 1 when in the transaction, 0 when another writer holds the lock
 * (asked without waiting: the program must not wait with it), or -EIO.
 */
static int session_begin_txn(struct session *s)
{
	int rc;

	if (s->in_txn)
		return 1;
	if ((rc = store_txn_begin(s->st)) == -EBUSY)
		return 0;
	if (rc < 0)
		return -EIO;
	s->in_txn = true;
	return 1;
}

/* Keeps n records (and their long texts) until the lock is free; -EIO past SESSION_QUEUE_MAX. */
static int session_enqueue(struct session *s, const struct evlog_record *recs, size_t n, const struct evlog_texts *texts)
{
	if (s->nqueue + n > SESSION_QUEUE_MAX) {
		error("%s: another writer held the database locked while %zu events waited; the run cannot be stored",
		      store_path(s->st), s->nqueue + n);
		return -EIO;
	}
	if (s->nqueue + n > s->queue_cap) {
		s->queue_cap = (s->nqueue + n) * 2;
		s->queue = xrealloc(s->queue, s->queue_cap * sizeof(*s->queue));
	}
	for (size_t i = 0; i < n; i++) {
		struct evlog_record *q = &s->queue[s->nqueue++];

		*q = recs[i];
		if (recs[i].has & HAS_LONG_TEXT)
			evlog_texts_attach(&s->queue_texts, q, evlog_text(&recs[i], texts));
	}
	return 0;
}

/* Stores what waited, once the lock is free. Returns 1 when nothing waits any more, 0 when it still does, or -EIO. */
static int session_drain_queue(struct session *s)
{
	int rc;

	if (!s->nqueue)
		return 1;
	if ((rc = session_begin_txn(s)) <= 0)
		return rc;
	if (ingest_records(s->in, s->queue, s->nqueue, &s->queue_texts) < 0)
		return -EIO;
	s->nqueue = 0;
	evlog_texts_release(&s->queue_texts);
	return 1;
}

int session_store(struct session *s, const struct evlog_record *recs, size_t n, const struct evlog_texts *texts)
{
	int rc;

	assert(!s->failed && !s->finished);
	if (!n)
		return 0;
	if ((rc = session_drain_queue(s)) < 0)
		return rc;
	if (rc == 1 && (rc = session_begin_txn(s)) < 0)
		return rc;
	if (rc == 0)
		return session_enqueue(s, recs, n, texts);
	return ingest_records(s->in, recs, n, texts) < 0 ? -EIO : 0;
}

/* COMMIT; 0 also when a reader held it off (SQLITE_BUSY: still in the transaction). */
static int session_try_commit(struct session *s)
{
	int rc;

	if (!s->in_txn)
		return 0;
	/* Chunked events wait in memory until written: write them into this commit. */
	if (ingest_sync(s->in) < 0)
		return -EIO;
	rc = store_txn_commit(s->st);
	s->last_commit_ns = now_ns();
	if (rc == 0)
		s->in_txn = false;
	return rc == -EBUSY ? 0 : rc;
}

int session_commit(struct session *s, bool now)
{
	assert(!s->failed);
	if (!now && now_ns() - s->last_commit_ns < SESSION_COMMIT_NS)
		return 0;
	if (session_drain_queue(s) < 0)
		return -EIO;
	if (!s->in_txn)
		return 0;
	return session_try_commit(s);
}

void session_mark_incomplete(struct session *s, const char *why)
{
	size_t len = s->incomplete ? strlen(s->incomplete) : 0, n = strlen(why);
	char *p;

	assert(n > 0 && !strstr(why, "; "));
	/* Once each: a reason is a kind of call, seen at most a few kinds a run. */
	for (p = s->incomplete; p && (p = strstr(p, why)); p += n)
		if ((p == s->incomplete || !strncmp(p - 2, "; ", 2)) && (p[n] == '\0' || !strncmp(p + n, "; ", 2)))
			return;
	s->incomplete = xrealloc(s->incomplete, len + n + 3);
	snprintf(s->incomplete + len, n + 3, "%s%s", len ? "; " : "", why);
}

const char *session_incomplete(const struct session *s)
{
	return s->incomplete;
}

struct ingest *session_ingest(struct session *s)
{
	return s->in;
}

int64_t session_run_id(const struct session *s)
{
	return s->run_id;
}

uint64_t session_events(const struct session *s)
{
	return ingest_count(s->in);
}

static int session_write_end(struct session *s, const struct session_end *end)
{
	struct store_run_end row = {
		.outcome = end->outcome,
		.events_dropped = (int64_t)end->dropped,
		.events_torn = (int64_t)end->torn,
		.has_exit_status = end->has_exit_status,
		.exit_status = end->exit_status,
		.incomplete = s->incomplete,
	};
	int rc;

	/* What waited for the lock first, waiting for it as long as for the last commit. */
	for (uint64_t deadline = now_ns() + SESSION_FINAL_WAIT_NS;;) {
		if ((rc = session_drain_queue(s)) == 1)
			rc = session_begin_txn(s);
		if (rc < 0)
			return -EIO;
		if (rc == 1)
			break;
		if (now_ns() > deadline) {
			error("%s: the database stayed locked for a minute; the run was not stored", store_path(s->st));
			return -EIO;
		}
		sleep_ms(10);
	}
	if (ingest_finish(s->in) < 0 || stackrows_store(end->stacks, s->st, s->run_id) < 0)
		return -EIO;
	/* Counted now: ingest_finish may have stored the last of them. */
	row.events = (int64_t)ingest_count(s->in);
	if (store_run_set_end(s->st, s->run_id, &row) < 0)
		return -EIO;
	if (getenv("POOLTRACE_TEST_FULL_AT_FINISH"))
		session_fill_disk(s);
	for (uint64_t deadline = now_ns() + SESSION_FINAL_WAIT_NS;;) {
		if (session_try_commit(s) < 0)
			return -EIO;
		if (!s->in_txn)
			return 0;
		if (now_ns() > deadline) {
			error("%s: the database stayed locked for a minute; the run was not stored", store_path(s->st));
			return -EIO;
		}
		sleep_ms(10);
	}
}

int session_finish(struct session *s, const struct session_end *end)
{
	assert(end->outcome && strcmp(end->outcome, "failed") != 0);
	assert(!s->failed && !s->finished);
	if (session_write_end(s, end) < 0) {
		session_fail(s);
		return -EIO;
	}
	s->finished = true;
	return 0;
}

int session_counts(struct session *s, int64_t *leaked, int64_t *blockers, const volatile sig_atomic_t *stop)
{
	assert(s->finished);
	*leaked = *blockers = -1;
	if (*stop)
		return -EINTR;
	return store_run_counts_until(s->st, s->run_id, leaked, blockers, stop);
}

void session_fail(struct session *s)
{
	char *why;

	if (!s || s->failed)
		return;
	s->failed = true;
	/* SQLite's message of the failure, copied before ROLLBACK replaces it. */
	why = xstrdup(store_errmsg(s->st));
	if (s->in_txn)
		store_txn_rollback(s->st);
	s->in_txn = false;
	/* The room kept for this write. */
	if (s->reserve >= 0)
		close(s->reserve);
	s->reserve = -1;
	/* Best effort: a mark that could not be written is said by the store, and nothing more can be done. */
	(void)store_run_mark_failed(s->st, s->run_id, why);
	free(why);
}

bool session_failed(const struct session *s)
{
	return s->failed;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	if (s->in_txn)
		store_txn_rollback(s->st);
	ingest_free(s->in);
	store_close(s->st);
	if (s->reserve >= 0)
		close(s->reserve);
	if (s->filler >= 0)
		close(s->filler);
	free(s->incomplete);
	free(s->queue);
	evlog_texts_release(&s->queue_texts);
	free(s);
}
