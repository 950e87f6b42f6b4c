/* store.c: the SQLite trace database: opening and validating it, its schema, runs.
 *
 * A database is a trace when its PRAGMA application_id is 'ptrc'; its schema
 * version is PRAGMA user_version. Invariants:
 *   1. A file that is not a trace is never written to: a non-empty file must
 *      start with SQLite's header before SQLite opens it, and validation reads
 *      only pragmas and the schema's size before deciding.
 *   2. No file this process did not create is removed or replaced. A new
 *      trace is made whole under a temporary name (O_EXCL) and linked into
 *      place with link(2), which never replaces: a racing writer that lost
 *      finds a complete trace and appends to it.
 *   3. Adopting an empty file and upgrading an old trace happen inside one
 *      BEGIN IMMEDIATE transaction that re-reads the file's identity first,
 *      so concurrent writers cannot both do it.
 *   4. Writers use WAL, so a reader (query, render) never makes a commit fail.
 *   5. A SQLite connection never crosses a fork: the supervisor opens its
 *      connection after forking the pool.
 */
#include "store/store.h"

#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct store {
	sqlite3 *db;
	char *path;
};

sqlite3 *store_db(const struct store *st)
{
	assert(st && st->db);
	return st->db;
}

const char *store_path(const struct store *st)
{
	assert(st && st->path);
	return st->path;
}

const char *store_errmsg(const struct store *st)
{
	return sqlite3_errmsg(store_db(st));
}

/* A BEGIN's or COMMIT's result: 0, -EBUSY (another connection holds it off), or -EIO with SQLite's words. */
static int store_txn_result(struct store *st, int rc)
{
	if (rc == SQLITE_OK)
		return 0;
	if ((rc & 0xff) == SQLITE_BUSY)
		return -EBUSY;
	error("%s: %s", st->path, sqlite3_errmsg(st->db));
	return -EIO;
}

int store_txn_begin(struct store *st)
{
	int rc;

	/* No wait for the lock: the caller decides whether and how long to. */
	sqlite3_busy_timeout(st->db, 0);
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	return store_txn_result(st, rc);
}

int store_txn_commit(struct store *st)
{
	return store_txn_result(st, sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL));
}

void store_txn_rollback(struct store *st)
{
	/* Its result is not looked at: it runs on paths that failed already,
	 * where SQLite may have rolled back by itself (a full disk), and then
	 * answers "no transaction is active", which is the state wanted. A
	 * ROLLBACK that truly fails leaves nothing better to do: the
	 * connection's close discards the transaction. */
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static const char store_schema_sql[] =
#include "schema.inc"
	;

const char *store_default_path(const char *given)
{
	const char *env = getenv("POOLTRACE_DB");

	if (given)
		return given;
	return env && *env ? env : STORE_DEFAULT_PATH;
}

int store_exec(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		error("%s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

sqlite3_stmt *store_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return NULL;
	}
	return stmt;
}

sqlite3_stmt *store_preparef(struct store *st, const char *fmt, ...)
{
	sqlite3_stmt *stmt;
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (!sql)
		die("out of memory");
	stmt = store_prepare(st, sql);
	sqlite3_free(sql);
	return stmt;
}

int store_step(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	/* Stopped on purpose (a progress handler saw a signal): the caller says so. */
	if ((rc & 0xff) != SQLITE_INTERRUPT)
		error("%s: %s", st->path, sqlite3_errmsg(st->db));
	return -EIO;
}

int store_int(struct store *st, const char *sql, int64_t a, int64_t def, int64_t *out)
{
	sqlite3_stmt *stmt = store_prepare(st, sql);
	int rc;

	*out = def;
	if (!stmt)
		return -EIO;
	sqlite3_bind_int64(stmt, 1, a);
	rc = store_step(st, stmt);
	if (rc == 1 && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc < 0 ? -EIO : 0;
}

/*
 * What a failure of SQLite on the file is: -EIO for the system's or the
 * file's damage (an I/O error, a full disk, a malformed page, no fds or
 * memory: exit 1), -EINVAL for a file that is not one to use (exit 2).
 */
static int store_errno(sqlite3 *db)
{
	switch (sqlite3_errcode(db) & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* Reads the identifying pragmas. Returns 0, or -EIO when the file is not SQLite. */
static int store_identify(struct store *st, int64_t *app_id, int64_t *version, int64_t *objects)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db,
				"SELECT (SELECT application_id FROM pragma_application_id),"
				" (SELECT user_version FROM pragma_user_version),"
				" (SELECT count(*) FROM sqlite_schema)",
				-1, &stmt, NULL);
	if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
		*app_id = sqlite3_column_int64(stmt, 0);
		*version = sqlite3_column_int64(stmt, 1);
		*objects = sqlite3_column_int64(stmt, 2);
		sqlite3_finalize(stmt);
		return 0;
	}
	sqlite3_finalize(stmt);
	return -EIO;
}

/*
 * Brings a version 1 to 11 file to the current schema. Runs inside the
 * caller's transaction: on any error nothing has changed once it rolls back.
 * schema.sql's own header says what changed between versions. The steps:
 *   - our views are dropped: the view part creates them again at the end;
 *   - tables whose definition changed are renamed aside: the rowid
 *     event_rows (version 1's `events`) of versions 1 to 6, the rowid `holds`
 *     of versions 1 and 2, before version 5 `runs` and `processes`
 *     (their checks), and from version 5 `runs` (the checks of version 9,
 *     source 'snapshot', and 11, source 'attach' and outcome 'detached');
 *   - the table part creates the new ones (and io_chunks for version 1), and
 *     the old rows are copied over (event_rows and holds in key order);
 *   - holds get touched_seq (version 5), from how they ended;
 *   - pipes get kind and peer_id (version 6): every old row is a pipe;
 *   - and shut_seq (version 7): no old run saw a shutdown;
 *   - runs of versions 5 to 7 get incomplete NULL (version 8);
 *   - the table part's indexes (version 7, and version 10's holds_write_ends)
 *     are made from the rows there;
 *   - from 10 or 11: the table part adds version 12's tables stacks,
 *     stack_frames and event_stacks (empty); nothing else changes;
 *   - the view part recreates the views and sets the version.
 * The renames run with legacy_alter_table on, so that views the user added
 * keep naming `events`, `holds` and `runs`, and the other tables' references
 * to runs(id) stay as they are; all exist again afterwards.
 */
#define TOUCHED_FROM_END \
	"UPDATE holds SET touched_seq = to_seq WHERE to_kind IN ('close', 'close_range', 'dup2');\n"

static int store_upgrade(struct store *st, int64_t from, char **msg, int *code)
{
	const char *views = strstr(store_schema_sql, "-- Views ---");
	char *sql;
	int rc;

	*msg = NULL;
	if (!views) {
		*msg = sqlite3_mprintf("the schema text has no views part");
		return -EIO;
	}
	sql = sqlite3_mprintf(
		"DROP VIEW IF EXISTS fd_holds; DROP VIEW IF EXISTS leaked_write_ends;\n"
		"DROP VIEW IF EXISTS eof_blockers; DROP VIEW IF EXISTS eof_holders;\n"
		"DROP VIEW IF EXISTS run_summary; DROP VIEW IF EXISTS wait_for;\n"
		"%s%s%s"
		"%.*s\n"
		"%s%s%s%s%s%s%s%s%s"
		"%s",
		from == 1 ? "ALTER TABLE events RENAME TO event_rows_before_v7;\n"
		: from < 7 ? "DROP VIEW IF EXISTS events; ALTER TABLE event_rows RENAME TO event_rows_before_v7;\n"
			   : "DROP VIEW IF EXISTS events;\n",
		from < 3 ? "ALTER TABLE holds RENAME TO holds_before_v3;\n" : "",
		from < 5 ? "ALTER TABLE runs RENAME TO runs_before_v5;\n"
			   "ALTER TABLE processes RENAME TO processes_before_v5;\n"
		: from < 11 ? "ALTER TABLE runs RENAME TO runs_before_v11;\n"
			   : "",
		(int)(views - store_schema_sql), store_schema_sql,
		/* Every version before 7: event_rows gets its key (version 1: from `events`). */
		from < 7 ? "INSERT INTO event_rows (run_id, seq, ts_ns, pid, kind, fd, fd2, pipe_id, pipe_end, inode,"
			   " other_pid, result, arg, signal, is_foreign, detail)\n"
			   "  SELECT run_id, seq, ts_ns, pid, kind, fd, fd2, pipe_id, pipe_end, inode,"
			   " other_pid, result, arg, signal, is_foreign, detail\n"
			   "  FROM event_rows_before_v7 ORDER BY run_id, seq;\n"
			   "DROP TABLE event_rows_before_v7;\n"
			 : "",
		from < 3 ? "INSERT INTO holds (run_id, pid, fd, pipe_id, pipe_end, inode, is_foreign, detail,"
			   " from_seq, from_kind, to_seq, to_kind)\n"
			   "  SELECT run_id, pid, fd, pipe_id, pipe_end, inode, is_foreign, detail,"
			   " from_seq, from_kind, to_seq, to_kind\n"
			   "  FROM holds_before_v3 ORDER BY run_id, pid, fd, from_seq;\n"
			   "DROP TABLE holds_before_v3;\n"
			 : "",
		/* Versions before 5: runs and processes (new columns, looser checks). */
		from < 4 ? "INSERT INTO runs (id, strategy, workers, tasks, task_ms, crash_worker, io_events, outcome,"
			   " started_at, started_ns, ended_ns, supervisor_pid, events, events_dropped, events_torn)\n"
			   "  SELECT id, strategy, workers, tasks, task_ms, crash_worker, io_events, outcome,"
			   " started_at, started_ns, ended_ns, supervisor_pid, events, events_dropped, events_torn\n"
			   "  FROM runs_before_v5;\n"
			   "DROP TABLE runs_before_v5;\n"
		: from < 5 ? "INSERT INTO runs (id, strategy, workers, tasks, task_ms, crash_worker, io_events, outcome,"
			   " started_at, started_ns, ended_ns, supervisor_pid, events, events_dropped, events_torn, failure)\n"
			   "  SELECT id, strategy, workers, tasks, task_ms, crash_worker, io_events, outcome,"
			   " started_at, started_ns, ended_ns, supervisor_pid, events, events_dropped, events_torn, failure\n"
			   "  FROM runs_before_v5;\n"
			   "DROP TABLE runs_before_v5;\n"
			   : "",
		from < 5 ? "INSERT INTO processes (run_id, pid, role, worker_index, ppid, fork_seq, first_read_seq, exit_seq,"
			   " exit_code, term_signal, reap_seq, reaped_by)\n"
			   "  SELECT run_id, pid, role, worker_index, ppid, fork_seq, first_read_seq, exit_seq, exit_code,"
			   " term_signal, reap_seq, reaped_by FROM processes_before_v5;\n"
			   "DROP TABLE processes_before_v5;\n"
			 : "",
		/* Older traces recorded no reads or writes as touches; a hold
		 * its holder closed (or dup2'd over) was touched then. */
		from < 5 ? (from >= 3 ? "ALTER TABLE holds ADD COLUMN touched_seq INTEGER;\n" TOUCHED_FROM_END
				      : TOUCHED_FROM_END)
			 : "",
		from < 6 ? "ALTER TABLE pipes ADD COLUMN kind TEXT NOT NULL DEFAULT 'pipe' CHECK (kind IN ('pipe', 'socket'));\n"
			   "ALTER TABLE pipes ADD COLUMN peer_id INTEGER;\n"
			 : "",
		from < 7 ? "ALTER TABLE pipes ADD COLUMN shut_seq INTEGER;\n" : "",
		/* Versions 5 to 10: runs made anew (the CHECKs of versions 9 and 11), every old column copied; incomplete is version 8's. */
		from >= 5 && from < 11 ? "INSERT INTO runs (id, source, command, strategy, workers, tasks, task_ms, crash_worker, io_events,"
			    " outcome, started_at, started_ns, ended_ns, supervisor_pid, exit_status, events, events_dropped,"
			    " events_torn, failure, incomplete)\n"
			    "  SELECT id, source, command, strategy, workers, tasks, task_ms, crash_worker, io_events,"
			    " outcome, started_at, started_ns, ended_ns, supervisor_pid, exit_status, events, events_dropped,"
			    " events_torn, failure, "
			  : "",
		from >= 8 && from < 11 ? "incomplete FROM runs_before_v11;\nDROP TABLE runs_before_v11;\n"
		: from >= 5 && from < 8 ? "NULL FROM runs_before_v11;\nDROP TABLE runs_before_v11;\n"
			    : "",
		views);
	if (!sql)
		die("out of memory");
	rc = sqlite3_exec(st->db, "PRAGMA legacy_alter_table = ON", NULL, NULL, msg) == SQLITE_OK &&
		     sqlite3_exec(st->db, sql, NULL, NULL, msg) == SQLITE_OK
		     ? 0
		     : -1;
	/* Taken now: the next statement resets it. */
	*code = sqlite3_errcode(st->db) & 0xff;
	sqlite3_free(sql);
	sqlite3_exec(st->db, "PRAGMA legacy_alter_table = OFF", NULL, NULL, NULL);
	return rc;
}

/*
 * Decides what the file is, and for STORE_WRITE makes it a current trace
 * (adopting an empty file, upgrading an old trace). For STORE_WRITE this runs
 * inside BEGIN IMMEDIATE, so the identity read is still true when acted on.
 */
static int store_validate(struct store *st, enum store_mode mode)
{
	int64_t app_id, version, objects;
	char *msg = NULL;
	int code;

	if (store_identify(st, &app_id, &version, &objects) < 0) {
		if (store_errno(st->db) == -EINVAL)
			return error("%s: not a pooltrace trace database (%s)", st->path, sqlite3_errmsg(st->db)), -EINVAL;
		/* A truncated or overwritten trace, a full disk, no fd left. */
		return error("%s: cannot be read: %s", st->path, sqlite3_errmsg(st->db)), -EIO;
	}
	if (app_id == STORE_APPLICATION_ID) {
		if (version > STORE_SCHEMA_VERSION)
			return error("%s: written by a newer pooltrace (schema %lld; this one knows up to %d)",
				     st->path, (long long)version, STORE_SCHEMA_VERSION), -EINVAL;
		if (version < 1)
			return error("%s: damaged trace database (schema version %lld)", st->path,
				     (long long)version), -EIO;
		/* Readers take older files as they are: the tables and views have
		 * the same names and columns, only their storage differs. */
		if (version == STORE_SCHEMA_VERSION || mode == STORE_READ)
			return 0;
		if (store_upgrade(st, version, &msg, &code) == 0)
			return 0;
		error("%s: could not upgrade the trace from schema %lld to %d (%s); the file is unchanged", st->path,
		      (long long)version, STORE_SCHEMA_VERSION, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		/* Rows the new schema cannot take are the file's content (exit 2); a full disk is not. */
		return code == SQLITE_CONSTRAINT || code == SQLITE_ERROR ? -EINVAL : -EIO;
	}
	/* Only a file with nothing in it at all is taken over: another
	 * program's database with no tables may still have set a version. */
	if (app_id == 0 && version == 0 && objects == 0) {
		if (mode == STORE_READ)
			return error("%s: empty database, no runs recorded yet", st->path), -EINVAL;
		if (sqlite3_exec(st->db, store_schema_sql, NULL, NULL, &msg) == SQLITE_OK)
			return 0;
		error("%s: cannot create the trace schema: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return error("%s: a SQLite database, but not a pooltrace trace", st->path), -EINVAL;
}

/*
 * A trace database is a file. SQLite would also take "" (a temporary
 * database), ":memory:" and "file:" URIs (mode=memory...): a run into one of
 * those would report success and store nothing.
 */
static int store_check_name(const char *path)
{
	if (!*path)
		return error("--db wants a file name, not an empty string");
	if (!strcmp(path, ":memory:") || !strncasecmp(path, "file:", 5))
		return error("%s: a trace database is a file path, not an in-memory database or a URI (write ./%s "
			     "for a file of that name)", path, path);
	return 0;
}

/*
 * Before SQLite sees an existing file: it must be a regular file, and unless
 * it is empty it must start with SQLite's header. (SQLite itself takes a file
 * shorter than its header for an empty database and would write over it.)
 */
static int store_check_file(const char *path, const struct stat *sb)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	ssize_t n;
	int fd;

	if (S_ISDIR(sb->st_mode))
		return error("%s: is a directory, not a trace database", path);
	if (!S_ISREG(sb->st_mode))
		return error("%s: not a regular file", path);
	if (sb->st_size == 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return error("%s: cannot open: %s", path, strerror(errno));
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n != (ssize_t)sizeof(head) || memcmp(head, magic, sizeof(magic)))
		return error("%s: not a pooltrace trace database (not an SQLite file)", path);
	return 0;
}

/*
 * The authorizer of a reader's connection. query_only already refuses every
 * change to the database, but ATTACH can open (and VACUUM INTO, which SQLite
 * authorizes as an ATTACH, creates) another file: those are denied, so that no
 * statement a reader runs can create or change any file.
 */
static int store_reader_authorizer(void *ctx, int action, const char *a, const char *b, const char *c,
				   const char *d)
{
	(void)ctx, (void)a, (void)b, (void)c, (void)d;
	return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK;
}

static int store_connect(struct store *st, int flags)
{
	if (sqlite3_open_v2(st->path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return error("%s: cannot open: %s", st->path, st->db ? sqlite3_errmsg(st->db) : "out of memory"), -EIO;
	/* Another writer's transactions last at most ~50 ms; wait them out. */
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	return 0;
}

/*
 * Makes a new trace at path (which did not exist a moment ago): the schema is
 * created in a temporary file beside it, which is then linked to path. link()
 * fails with EEXIST rather than replace a file another process made first;
 * that is not an error, the caller then opens that file. The temporary name is
 * ours (O_EXCL) and is always removed. Returns 0 or -EIO (error printed).
 */
static int store_create(const char *path)
{
	struct store tmp = { NULL, NULL };
	char *msg = NULL;
	mode_t mask;
	int fd, ret = -1;

	tmp.path = xmalloc(strlen(path) + 16);
	sprintf(tmp.path, "%s.new-XXXXXX", path);
	fd = mkstemp(tmp.path);
	if (fd < 0) {
		int e = errno;

		free(tmp.path);
		/* The system's lack (space, fds) is not a bad path. */
		if (e == ENOSPC || e == EDQUOT || e == EMFILE || e == ENFILE || e == EIO || e == ENOMEM)
			return error("%s: cannot create: %s", path, strerror(e)), -EIO;
		return error("%s: cannot create: %s (is the directory there and writable?)", path, strerror(e)), -EINVAL;
	}
	/* mkstemp made it 0600; a trace gets what any new file would. */
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	close(fd);
	ret = -EIO;
	if (store_connect(&tmp, SQLITE_OPEN_READWRITE) < 0)
		goto out;
	/* One transaction: statement by statement, each CREATE was a commit of
	 * its own, with its journal and syncs (measured: 72 fdatasyncs, and
	 * `record -- true` into a new file took 26 ms, now 12 ms). WAL first:
	 * it cannot change inside a transaction. */
	if (sqlite3_exec(tmp.db, "PRAGMA journal_mode = WAL", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(tmp.db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(tmp.db, store_schema_sql, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(tmp.db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
		error("%s: cannot create the trace schema: %s", path, msg ? msg : sqlite3_errmsg(tmp.db));
		sqlite3_free(msg);
		goto out;
	}
	if (sqlite3_close(tmp.db) != SQLITE_OK) {
		error("%s: cannot create: %s", path, sqlite3_errmsg(tmp.db));
		goto out;
	}
	tmp.db = NULL;
	if (link(tmp.path, path) == 0 || errno == EEXIST)
		ret = 0;
	else if (renameat2(AT_FDCWD, tmp.path, AT_FDCWD, path, RENAME_NOREPLACE) == 0 || errno == EEXIST)
		ret = 0; /* a file system without hard links: the same, by rename */
	else
		error("%s: cannot create: %s", path, strerror(errno));
out:
	sqlite3_close(tmp.db);
	/* The temporary name is ours, and so are its WAL and shared-memory files,
	 * which a close that could not checkpoint (a full disk) leaves behind. */
	for (const char *const *suffix = (const char *const[]){ "", "-wal", "-shm", "-journal", NULL }; *suffix; suffix++) {
		char *side = xmalloc(strlen(tmp.path) + 16);

		sprintf(side, "%s%s", tmp.path, *suffix);
		unlink(side);
		free(side);
	}
	free(tmp.path);
	return ret;
}

int store_open(const char *path, enum store_mode mode, struct store **out)
{
	struct store *st;
	struct stat sb;
	int rc;

	*out = NULL;
	if (store_check_name(path) < 0)
		return -EINVAL;
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT)
			return error("%s: %s", path, strerror(errno)), -EINVAL;
		if (mode == STORE_READ)
			return error("%s: no such trace database", path), -EINVAL;
		if ((rc = store_create(path)) < 0)
			return rc;
		if (stat(path, &sb) < 0)
			return error("%s: %s", path, strerror(errno)), -EIO;
	}
	if (store_check_file(path, &sb) < 0)
		return -EINVAL;
	if (mode == STORE_WRITE && access(path, W_OK) < 0)
		return error("%s: not writable: %s", path, strerror(errno)), -EINVAL;

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	/* A reader opens read-write where it may, and is made query-only: a
	 * read-only connection to a WAL database leaves its -wal and -shm
	 * files behind, a read-write one removes them when it is the last. */
	rc = -EIO;
	if (store_connect(st, mode == STORE_WRITE || access(path, W_OK) == 0 ? SQLITE_OPEN_READWRITE
									     : SQLITE_OPEN_READONLY) < 0)
		goto fail;
	if (mode == STORE_READ) {
		if (store_exec(st, "PRAGMA query_only = 1") < 0 || (rc = store_validate(st, mode)) < 0)
			goto fail;
		sqlite3_set_authorizer(st->db, store_reader_authorizer, NULL);
	} else {
		if (sqlite3_db_readonly(st->db, "main") == 1) {
			error("%s: not writable", path);
			rc = -EINVAL;
			goto fail;
		}
		if (store_exec(st, "BEGIN IMMEDIATE") < 0)
			goto fail;
		if ((rc = store_validate(st, mode)) < 0 || (rc = store_exec(st, "COMMIT") < 0 ? -EIO : 0) < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
		/* Readers and the writer then proceed together. A file system
		 * without shared memory keeps its journal: commits then retry. */
		sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if (store_exec(st, "PRAGMA synchronous = NORMAL") < 0)
			goto fail;
	}
	/* The default 2 MB page cache thrashes on the index inserts of a large
	 * run (measured: 740k preads and 340k pwrites for 1000 workers); 64 MB
	 * keeps the working set in memory. */
	rc = -EIO;
	if (store_exec(st, "PRAGMA cache_size = -65536") < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

int store_check_run(struct store *st, int64_t run_id)
{
	int64_t found;

	if (store_int(st, "SELECT 1 FROM runs WHERE id = ?1", run_id, 0, &found) < 0)
		return -EIO;
	if (!found) {
		error("%s: no run %lld", st->path, (long long)run_id);
		return -EINVAL;
	}
	return 0;
}

int store_last_run(struct store *st, int64_t *out)
{
	if (store_int(st, "SELECT max(id) FROM runs WHERE outcome IS NOT 'failed' AND ?1", 1, -1, out) < 0)
		return -EIO;
	if (*out < 0) {
		error("%s: no runs recorded yet", st->path);
		return -EINVAL;
	}
	return 0;
}

int store_run_counts(struct store *st, int64_t run_id, int64_t *leaked, int64_t *blockers)
{
	if (store_int(st, "SELECT count(*) FROM leaked_write_ends WHERE run_id = ?1", run_id, -1, leaked) < 0 ||
	    store_int(st, "SELECT count(*) FROM eof_blockers WHERE run_id = ?1", run_id, -1, blockers) < 0) {
		*leaked = *blockers = -1;
		return -EIO;
	}
	return 0;
}

/* SQLite's progress handler: a non-zero return interrupts the statement. */
static int store_stop_asked(void *stop)
{
	return *(const volatile sig_atomic_t *)stop != 0;
}

int store_run_counts_until(struct store *st, int64_t run_id, int64_t *leaked, int64_t *blockers,
			   const volatile sig_atomic_t *stop)
{
	int rc = 0;

	sqlite3_progress_handler(st->db, 10000, store_stop_asked, (void *)stop);
	/*
	 * The counts take milliseconds since schema 10, too short for a test to
	 * send its signal in the middle of them; this test-only variable (as
	 * git's GIT_TEST_*) puts a statement before them that ends only when
	 * the signal stops it, under the same handler.
	 */
	if (getenv("POOLTRACE_TEST_ENDLESS_COUNT")) {
		int64_t n;

		rc = store_int(st, "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n)"
				   " SELECT count(*) FROM n", 1, -1, &n);
	}
	if (rc == 0)
		rc = store_run_counts(st, run_id, leaked, blockers);
	sqlite3_progress_handler(st->db, 0, NULL, NULL);
	return *stop ? -EINTR : rc;
}

int store_next_run_id(struct store *st, int64_t *out)
{
	int64_t last;

	if (store_int(st, "SELECT max(id) FROM runs WHERE ?1", 1, 0, &last) < 0)
		return -EIO;
	if (last >= INT64_MAX)
		return error("%s: run ids are used up (the largest is %lld)", st->path, (long long)last);
	*out = last + 1;
	return 0;
}
