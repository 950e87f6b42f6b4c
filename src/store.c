/* store.c: the SQLite trace database: opening and validating it, its schema, runs.
 *
 * A database is a trace when its PRAGMA application_id is 'ptrc'; its schema
 * version is PRAGMA user_version. Validation reads only those pragmas, so a
 * file that fails it is never written to. A SQLite connection never crosses a
 * fork: the supervisor opens its connection after forking the pool.
 */
#include "store.h"

#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		return -1;
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

int64_t store_int(struct store *st, const char *sql, int64_t a, int64_t def)
{
	sqlite3_stmt *stmt = store_prepare(st, sql);
	int64_t v = def;

	if (!stmt)
		return def;
	sqlite3_bind_int64(stmt, 1, a);
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* Reads the identifying pragmas. Returns 0, or -1 when the file is not SQLite. */
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
	return -1;
}

/*
 * Runs the statements of sql in one transaction: all of them, or none.
 * Returns 0, or -1 with SQLite's message in *msg (sqlite3_free it).
 */
static int store_apply(struct store *st, const char *sql, char **msg)
{
	*msg = NULL;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, msg) != SQLITE_OK)
		return -1;
	if (sqlite3_exec(st->db, sql, NULL, NULL, msg) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, msg) != SQLITE_OK) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/*
 * Brings a version 1 or 2 file to the current schema in one transaction; on
 * any error nothing has changed. schema.sql's own header says what changed
 * between versions. The steps:
 *   - our views are dropped: the view part creates them again at the end;
 *   - version 1's `events` table becomes event_rows;
 *   - the rowid `holds` of versions 1 and 2 (and its two indexes) is renamed
 *     aside, the table part creates the keyed one, and the rows are copied
 *     over in key order;
 *   - the table part also adds what else is missing (io_chunks for version 1);
 *   - the view part recreates the views and sets the version.
 * The renames run with legacy_alter_table on, so that views the user added
 * keep naming `events` and `holds`, which still exist afterwards.
 */
static int store_upgrade(struct store *st, int64_t from)
{
	const char *views = strstr(store_schema_sql, "-- Views ---");
	char *sql, *msg = NULL;
	int rc;

	if (!views)
		return error("%s: cannot upgrade: the schema text has no views part", st->path);
	sql = sqlite3_mprintf("DROP VIEW IF EXISTS fd_holds; DROP VIEW IF EXISTS leaked_write_ends;\n"
			      "DROP VIEW IF EXISTS eof_blockers; DROP VIEW IF EXISTS eof_holders;\n"
			      "DROP VIEW IF EXISTS run_summary;\n"
			      "%s"
			      "ALTER TABLE holds RENAME TO holds_before_v3;\n"
			      "%.*s\n"
			      "INSERT INTO holds (run_id, pid, fd, pipe_id, pipe_end, inode, is_foreign, detail,"
			      " from_seq, from_kind, to_seq, to_kind)\n"
			      "  SELECT run_id, pid, fd, pipe_id, pipe_end, inode, is_foreign, detail,"
			      " from_seq, from_kind, to_seq, to_kind\n"
			      "  FROM holds_before_v3 ORDER BY run_id, pid, fd, from_seq;\n"
			      "DROP TABLE holds_before_v3;\n"
			      "%s",
			      from == 1 ? "ALTER TABLE events RENAME TO event_rows;\n" : "DROP VIEW IF EXISTS events;\n",
			      (int)(views - store_schema_sql), store_schema_sql, views);
	if (!sql)
		die("out of memory");
	rc = sqlite3_exec(st->db, "PRAGMA legacy_alter_table = ON", NULL, NULL, &msg) == SQLITE_OK
		     ? store_apply(st, sql, &msg)
		     : -1;
	sqlite3_free(sql);
	sqlite3_exec(st->db, "PRAGMA legacy_alter_table = OFF", NULL, NULL, NULL);
	if (rc < 0) {
		error("%s: could not upgrade the trace from schema %lld to %d (%s); the file is unchanged", st->path,
		      (long long)from, STORE_SCHEMA_VERSION, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int store_validate(struct store *st, enum store_mode mode)
{
	int64_t app_id, version, objects;

	if (store_identify(st, &app_id, &version, &objects) < 0)
		return error("%s: not a pooltrace trace database (%s)", st->path,
			     sqlite3_errmsg(st->db));
	if (app_id == STORE_APPLICATION_ID) {
		if (version > STORE_SCHEMA_VERSION)
			return error("%s: written by a newer pooltrace (schema %lld; this one knows up to %d)",
				     st->path, (long long)version, STORE_SCHEMA_VERSION);
		if (version < 1)
			return error("%s: damaged trace database (schema version %lld)", st->path,
				     (long long)version);
		/* Readers take older files as they are: the tables and views have
		 * the same names and columns, only their storage differs. */
		if (version < STORE_SCHEMA_VERSION && mode == STORE_WRITE)
			return store_upgrade(st, version);
		return 0;
	}
	if (app_id == 0 && objects == 0 && mode == STORE_WRITE) {
		/* An empty SQLite file (or one we just created) becomes a trace. */
		char *msg;

		if (store_apply(st, store_schema_sql, &msg) == 0)
			return 0;
		error("%s: cannot create the trace schema: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	if (app_id == 0 && objects == 0)
		return error("%s: empty database, no runs recorded yet", st->path);
	return error("%s: a SQLite database, but not a pooltrace trace", st->path);
}

int store_open(const char *path, enum store_mode mode, struct store **out)
{
	struct store *st;
	struct stat sb;
	int exists, flags, created = 0;

	*out = NULL;
	exists = stat(path, &sb) == 0;
	if (exists && S_ISDIR(sb.st_mode))
		return error("%s: is a directory, not a trace database", path);
	if (exists && !S_ISREG(sb.st_mode))
		return error("%s: not a regular file", path);
	if (!exists && mode == STORE_READ)
		return error("%s: no such trace database", path);
	if (exists && mode == STORE_WRITE && access(path, W_OK) < 0)
		return error("%s: not writable: %s", path, strerror(errno));

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	/* One connection, one thread: no need for SQLite's per-call mutexes. */
	flags = (mode == STORE_READ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	if (!exists)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		error("%s: cannot open: %s%s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory",
		      exists ? "" : " (is the directory there and writable?)");
		goto fail;
	}
	created = !exists;
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_extended_result_codes(st->db, 1);
	if (mode == STORE_WRITE && sqlite3_db_readonly(st->db, "main") == 1) {
		error("%s: not writable", path);
		goto fail;
	}
	if (store_validate(st, mode) < 0)
		goto fail;
	/* The default 2 MB page cache thrashes on the index inserts of a large
	 * run (measured: 740k preads and 340k pwrites for 1000 workers); 64 MB
	 * keeps the working set in memory. */
	if (store_exec(st, "PRAGMA cache_size = -65536") < 0)
		goto fail;
	if (mode == STORE_WRITE && store_exec(st, "PRAGMA synchronous = NORMAL") < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	/* A file this call created and could not make a trace is not left behind. */
	if (created)
		unlink(path);
	return -1;
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
	if (store_int(st, "SELECT 1 FROM runs WHERE id = ?1", run_id, 0) != 1)
		return error("%s: no run %lld", st->path, (long long)run_id);
	return 0;
}

int64_t store_last_run(struct store *st)
{
	int64_t id = store_int(st, "SELECT max(id) FROM runs WHERE ?1", 1, -1);

	if (id < 0)
		error("%s: no runs recorded yet", st->path);
	return id;
}
