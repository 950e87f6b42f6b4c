/* test_store.c: the trace database's storage: chunked per-task events read back exactly, schema upgrades. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>

/* Runs a script of statements against db, read-write (asserts on error). */
static void t_sql_exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	char *msg = NULL;

	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK, "open %s", db);
	cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
	sqlite3_close(h);
}

Test(store, chunked_io_events_read_back_one_row_each_and_exact, .timeout = 120)
{
	struct t_result r;
	const char *db = t_path("io.db");
	const int tasks = 20000; /* several chunks per process (4096 events at most each) */

	cr_assert_eq(t_run(&r, "run --db io.db -s reverse-close -w 3 -t %d", tasks), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'write' AND result = 4"), tasks);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'read' AND result = 4"), tasks);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'task'"), tasks);
	cr_expect_gt(t_sql_int(db, "SELECT count(*) FROM io_chunks"), 6);
	cr_expect_eq(t_sql_int(db, "SELECT sum(n) FROM io_chunks"),
		     t_sql_int(db, "SELECT count(*) FROM events WHERE kind IN ('write', 'read', 'task')"));
	/* One seq per event, dense from 1, across both tables. */
	cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT seq) = count(*) AND max(seq) = count(*) FROM events"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT max(seq) FROM events"), t_sql_int(db, "SELECT events FROM runs"));
	/* Pipes are FIFO: the codes written to channel k are the codes worker k
	 * read from it, in the same order. (Both sides hold `tasks` events, so
	 * `tasks` matching pairs leave none unmatched.) */
	cr_expect_eq(t_sql_int(db,
			       "WITH w AS MATERIALIZED (SELECT pipe_id, arg,"
			       "           row_number() OVER (PARTITION BY pipe_id ORDER BY seq) AS i"
			       "           FROM events WHERE kind = 'write'),"
			       "     rd AS MATERIALIZED (SELECT pipe_id, arg,"
			       "           row_number() OVER (PARTITION BY pipe_id ORDER BY seq) AS i"
			       "           FROM events WHERE kind = 'read' AND result = 4)"
			       " SELECT count(*) FROM w JOIN rd USING (pipe_id, i) WHERE w.arg = rd.arg"),
		     tasks);
	/* Each worker runs the tasks it read, in order. */
	cr_expect_eq(t_sql_int(db,
			       "WITH rd AS MATERIALIZED (SELECT pid, arg,"
			       "           row_number() OVER (PARTITION BY pid ORDER BY seq) AS i"
			       "           FROM events WHERE kind = 'read' AND result = 4),"
			       "     t AS MATERIALIZED (SELECT pid, arg, row_number() OVER (PARTITION BY pid ORDER BY seq) AS i"
			       "           FROM events WHERE kind = 'task')"
			       " SELECT count(*) FROM rd JOIN t USING (pid, i) WHERE rd.arg = t.arg"),
		     tasks);
	/* A process's clock never runs backwards along its own events. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM (SELECT ts_ns - lag(ts_ns) OVER (PARTITION BY pid ORDER BY seq)"
				   " AS d FROM events) WHERE d < 0"),
		     0);
	/* The read events carry the pipe and end of fd 0, as row events do. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN processes p USING (run_id, pid)"
				   " JOIN pipes c ON c.run_id = e.run_id AND c.pipe_id = e.pipe_id"
				   " WHERE e.kind = 'read' AND (e.fd <> 0 OR e.pipe_end <> 'read' OR c.inode <> e.inode"
				   " OR c.channel <> p.worker_index)"),
		     0);
}

/*
 * Makes an older version's file from a fresh trace of run 1, reads it, then
 * writes run 2 to it and checks the upgrade. Versions 1 and 2 kept holds in a
 * rowid table with two indexes; version 1 also kept every event in one
 * `events` table. A view of the user's own must survive the upgrade.
 */
static void check_upgrade_from(int version)
{
	struct t_result r;
	const char *db = t_path("old.db");
	int64_t events, holds, hash;

	cr_assert_eq(t_run(&r, "run --db old.db -s close-all -w 3 -t 30"), 0, "%s", r.err);
	events = t_sql_int(db, "SELECT count(*) FROM events");
	holds = t_sql_int(db, "SELECT count(*) FROM holds");
	/* Version 3's runs: no 'failed' outcome, no failure column. */
	t_sql_exec(db, "PRAGMA legacy_alter_table = ON; PRAGMA journal_mode = DELETE;"
		       "CREATE TABLE runs_v3 (id INTEGER PRIMARY KEY, strategy TEXT NOT NULL, workers INTEGER NOT NULL,"
		       " tasks INTEGER NOT NULL, task_ms INTEGER NOT NULL, crash_worker INTEGER,"
		       " io_events INTEGER NOT NULL, outcome TEXT CHECK (outcome IN ('ok', 'deadlock', 'crashed',"
		       " 'killed', 'interrupted')), started_at TEXT NOT NULL, started_ns INTEGER NOT NULL,"
		       " ended_ns INTEGER, supervisor_pid INTEGER NOT NULL, events INTEGER NOT NULL DEFAULT 0,"
		       " events_dropped INTEGER NOT NULL DEFAULT 0, events_torn INTEGER NOT NULL DEFAULT 0);"
		       "INSERT INTO runs_v3 SELECT id, strategy, workers, tasks, task_ms, crash_worker, io_events,"
		       " outcome, started_at, started_ns, ended_ns, supervisor_pid, events, events_dropped,"
		       " events_torn FROM runs;"
		       "DROP TABLE runs; ALTER TABLE runs_v3 RENAME TO runs;"
		       "CREATE VIEW my_write_holds AS SELECT count(*) AS n FROM holds WHERE pipe_end = 'write';"
		       "CREATE VIEW my_runs AS SELECT count(*) AS n FROM runs;"
		       "PRAGMA user_version = 3;");
	if (version <= 2)
		t_sql_exec(db, "PRAGMA legacy_alter_table = ON;"
			       "CREATE TABLE old_holds AS SELECT * FROM holds; DROP TABLE holds;"
			       "ALTER TABLE old_holds RENAME TO holds;"
			       "CREATE INDEX holds_by_pipe ON holds(run_id, pipe_id, pipe_end);"
			       "CREATE INDEX holds_by_pid ON holds(run_id, pid);"
			       "PRAGMA user_version = 2;");
	if (version == 1)
		t_sql_exec(db, "CREATE TABLE v1 AS SELECT * FROM events ORDER BY run_id, seq;"
			       "DROP VIEW events; DROP TABLE io_chunks; DROP TABLE event_rows;"
			       "ALTER TABLE v1 RENAME TO events; PRAGMA user_version = 1;");
	t_sql_exec(db, "VACUUM");
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%%WITHOUT ROWID%%'"),
		     version <= 2 ? 2 : 3, "only processes and pipes (and from version 3 holds) are keyed");
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'failure'"), 0);
	hash = t_file_hash(db);

	/* Readers take it as it is, and leave it byte for byte alone. */
	cr_assert_eq(t_run(&r, "query --db old.db --csv \"SELECT count(*) AS n FROM events\""), 0, "%s", r.err);
	cr_expect_eq(atoll(r.out + 2), events, "%s", r.out);
	cr_assert_eq(t_run(&r, "render --db old.db -o old.svg"), 0, "%s", r.err);
	cr_expect_eq(t_file_hash(db), hash, "a reader changed the version %d file", version);

	/* A writer upgrades it in place: old runs unchanged, the new one chunked. */
	cr_assert_eq(t_run(&r, "run --db old.db -s close-all -w 3 -t 30"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "PRAGMA user_version"), 4);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'holds' AND sql LIKE "
				   "'%%WITHOUT ROWID%%'"), 1, "holds is keyed now");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'holds_%%'"), 0,
		     "the old holds table and its indexes are gone");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE run_id = 1"), holds);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'runs_%%'"), 0,
		     "the old runs table is gone");
	cr_expect_eq(t_sql_int(db, "SELECT n FROM my_runs"), 2, "a view of the user's on runs survives");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE failure IS NULL AND outcome = 'ok'"), 2);
	/* The other tables still refer to runs itself, not to the table it was renamed from. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%%runs_before%%'"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT n FROM my_write_holds"),
		     t_sql_int(db, "SELECT count(*) FROM holds WHERE pipe_end = 'write'"));
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 1"), events);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM event_rows WHERE run_id = 1"),
		     version == 1 ? events : t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 1 AND "
							   "kind NOT IN ('write', 'read', 'task')"));
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 2 AND kind = 'task'"), 30);
	cr_expect_gt(t_sql_int(db, "SELECT count(*) FROM io_chunks WHERE run_id = 2"), 0);
	/* The views answer for both alike (close-all, N = 3: 3 and 3). */
	for (int run = 1; run <= 2; run++) {
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = %d", run), 3);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = %d", run), 3);
	}
}

Test(store, version_1_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(1);
}

Test(store, version_2_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(2);
}

Test(store, version_3_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(3);
}

Test(store, an_upgrade_that_fails_leaves_the_file_as_it_was, .timeout = 120)
{
	struct t_result r;
	const char *db = t_path("bad.db");
	int64_t hash;

	cr_assert_eq(t_run(&r, "run --db bad.db -s close-all -w 3 -t 3"), 0, "%s", r.err);
	/* A version 2 file whose holds cannot take the new key: one row twice. */
	t_sql_exec(db, "PRAGMA legacy_alter_table = ON;"
		       "CREATE TABLE old_holds AS SELECT * FROM holds; DROP TABLE holds;"
		       "ALTER TABLE old_holds RENAME TO holds;"
		       "INSERT INTO holds SELECT * FROM holds LIMIT 1;"
		       "PRAGMA user_version = 2; VACUUM;");
	hash = t_file_hash(db);
	cr_expect_eq(t_run(&r, "run --db bad.db -s close-all -w 3 -t 3"), 2);
	cr_expect(strstr(r.err, "could not upgrade the trace from schema 2 to 4 (UNIQUE constraint failed") != NULL,
		  "%s", r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_file_hash(db), hash, "a failed upgrade changed the file");
}
