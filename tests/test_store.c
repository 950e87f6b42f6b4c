/* test_store.c: the trace database's storage: chunked per-task events read back exactly, schema upgrades. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

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

/* tests/fixtures/views-vN.sql: the views of schema N, as pooltrace wrote them. */
static const char *old_views(int version)
{
	static char sql[32768];
	char path[PATH_MAX];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), POOLTRACE_SRC "/tests/fixtures/views-v%d.sql", version);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	n = fread(sql, 1, sizeof(sql) - 1, f);
	cr_assert_lt(n, sizeof(sql) - 1, "%s fits", path);
	sql[n] = '\0';
	fclose(f);
	return sql;
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
	int64_t events, holds, hash, runs_before;

	cr_assert_eq(t_run(&r, "run --db old.db -s close-all -w 3 -t 30"), 0, "%s", r.err);
	events = t_sql_int(db, "SELECT count(*) FROM events");
	holds = t_sql_int(db, "SELECT count(*) FROM holds");
	runs_before = t_sql_int(db, "SELECT sum(length(id || source || ifnull(command, '') || ifnull(strategy, '') ||"
				    " outcome || started_at || started_ns || ended_ns || events)) FROM runs");
	/* Version 11: no stacks tables (version 12's, record --stacks). */
	t_sql_exec(db, "DROP TABLE stacks; DROP TABLE stack_frames; DROP TABLE event_stacks; PRAGMA user_version = 11;");
	/* Version 10: runs.source without 'attach', outcome without 'detached', in their CHECKs. */
	if (version <= 10)
		t_sql_exec(db, "PRAGMA legacy_alter_table = ON;"
		       "CREATE TABLE runs_v10 (id INTEGER PRIMARY KEY,"
		       " source TEXT NOT NULL DEFAULT 'pool' CHECK (source IN ('pool', 'record', 'snapshot')), command TEXT,"
		       " strategy TEXT, workers INTEGER, tasks INTEGER, task_ms INTEGER, crash_worker INTEGER,"
		       " io_events INTEGER NOT NULL, outcome TEXT CHECK (outcome IN ('ok', 'deadlock', 'crashed', 'killed',"
		       " 'interrupted', 'failed')), started_at TEXT NOT NULL, started_ns INTEGER NOT NULL, ended_ns INTEGER,"
		       " supervisor_pid INTEGER NOT NULL, exit_status INTEGER, events INTEGER NOT NULL DEFAULT 0,"
		       " events_dropped INTEGER NOT NULL DEFAULT 0, events_torn INTEGER NOT NULL DEFAULT 0, failure TEXT,"
		       " incomplete TEXT);"
		       "INSERT INTO runs_v10 SELECT * FROM runs; DROP TABLE runs; ALTER TABLE runs_v10 RENAME TO runs;"
		       "PRAGMA legacy_alter_table = OFF; PRAGMA user_version = 10;");
	/* Before version 11's readers' indexes: no holds_used_write_ends, event_rows_blocked; eof_holders read
	 * every hold for its give-ups. */
	t_sql_exec(db, "DROP VIEW run_summary; DROP VIEW eof_blockers; DROP VIEW eof_holders;"
		       "DROP INDEX holds_used_write_ends; DROP INDEX event_rows_blocked;");
	t_sql_exec(db, old_views(10));
	/* Version 9: no holds_write_ends, eof_holders as it was then (it read every hold of the giver). */
	if (version <= 9)
		t_sql_exec(db, "DROP VIEW run_summary; DROP VIEW eof_blockers; DROP VIEW eof_holders;"
		       "DROP INDEX holds_write_ends;");
	if (version <= 9)
		t_sql_exec(db, old_views(9));
	if (version <= 9)
		t_sql_exec(db, "PRAGMA user_version = 9;");
	/* Version 8: runs.source without 'snapshot' in its CHECK. */
	if (version <= 8)
		t_sql_exec(db, "PRAGMA legacy_alter_table = ON;"
		       "CREATE TABLE runs_v8 (id INTEGER PRIMARY KEY,"
		       " source TEXT NOT NULL DEFAULT 'pool' CHECK (source IN ('pool', 'record')), command TEXT,"
		       " strategy TEXT, workers INTEGER, tasks INTEGER, task_ms INTEGER, crash_worker INTEGER,"
		       " io_events INTEGER NOT NULL, outcome TEXT CHECK (outcome IN ('ok', 'deadlock', 'crashed', 'killed',"
		       " 'interrupted', 'failed')), started_at TEXT NOT NULL, started_ns INTEGER NOT NULL, ended_ns INTEGER,"
		       " supervisor_pid INTEGER NOT NULL, exit_status INTEGER, events INTEGER NOT NULL DEFAULT 0,"
		       " events_dropped INTEGER NOT NULL DEFAULT 0, events_torn INTEGER NOT NULL DEFAULT 0, failure TEXT,"
		       " incomplete TEXT);"
		       "INSERT INTO runs_v8 SELECT * FROM runs; DROP TABLE runs; ALTER TABLE runs_v8 RENAME TO runs;"
		       "PRAGMA user_version = 8;");
	/* Version 7: runs without incomplete. */
	if (version <= 7)
		t_sql_exec(db, "ALTER TABLE runs DROP COLUMN incomplete; PRAGMA user_version = 7;");
	/* Version 6: event_rows a rowid table, no indexes but the keys, the views as they were then. */
	if (version <= 6)
		t_sql_exec(db, "PRAGMA journal_mode = DELETE;"
		       "DROP INDEX holds_read_ends; DROP INDEX holds_socket_ends; DROP INDEX hang_holders_by_run;"
		       "DROP INDEX io_chunks_by_run;"
		       "DROP VIEW fd_holds; DROP VIEW leaked_write_ends; DROP VIEW eof_blockers;"
		       "DROP VIEW eof_holders; DROP VIEW run_summary; DROP VIEW wait_for; DROP VIEW events;"
		       "CREATE TABLE er6 (run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL,"
		       " ts_ns INTEGER NOT NULL, pid INTEGER NOT NULL, kind TEXT NOT NULL, fd INTEGER, fd2 INTEGER,"
		       " pipe_id INTEGER, pipe_end TEXT, inode INTEGER, other_pid INTEGER, result INTEGER, arg INTEGER,"
		       " signal INTEGER, is_foreign INTEGER, detail TEXT);"
		       "INSERT INTO er6 SELECT * FROM event_rows; DROP TABLE event_rows;"
		       "ALTER TABLE er6 RENAME TO event_rows; ALTER TABLE pipes DROP COLUMN shut_seq;");
	if (version <= 6)
		t_sql_exec(db, old_views(6));
	if (version <= 6)
		t_sql_exec(db, "PRAGMA user_version = 6;");
	/* Version 5: pipes without kind and peer_id, the views as they were then. */
	if (version <= 5)
		t_sql_exec(db, "PRAGMA legacy_alter_table = ON;"
		       "DROP VIEW fd_holds; DROP VIEW leaked_write_ends; DROP VIEW eof_blockers;"
		       "DROP VIEW eof_holders; DROP VIEW run_summary; DROP VIEW wait_for; DROP VIEW events;"
		       "CREATE TABLE pipes_v5 (run_id INTEGER NOT NULL REFERENCES runs(id), pipe_id INTEGER NOT NULL,"
		       " inode INTEGER NOT NULL, channel INTEGER, created_by INTEGER NOT NULL,"
		       " created_seq INTEGER NOT NULL, read_fd INTEGER NOT NULL, write_fd INTEGER NOT NULL,"
		       " PRIMARY KEY (run_id, pipe_id)) WITHOUT ROWID;"
		       "INSERT INTO pipes_v5 SELECT run_id, pipe_id, inode, channel, created_by, created_seq,"
		       " read_fd, write_fd FROM pipes;"
		       "DROP TABLE pipes; ALTER TABLE pipes_v5 RENAME TO pipes;");
	if (version <= 5)
		t_sql_exec(db, old_views(5));
	t_sql_exec(db, "CREATE VIEW my_pipes AS SELECT count(*) AS n FROM pipes;");
	if (version <= 5)
		t_sql_exec(db, "PRAGMA user_version = 5;");
	/* Version 4: holds without touched_seq, the views as they were then. */
	if (version <= 4)
		t_sql_exec(db, "PRAGMA legacy_alter_table = ON;"
		       "DROP VIEW fd_holds; DROP VIEW leaked_write_ends; DROP VIEW eof_blockers;"
		       "DROP VIEW eof_holders; DROP VIEW run_summary; DROP VIEW wait_for;"
		       "CREATE TABLE holds_v4 (run_id INTEGER NOT NULL REFERENCES runs(id), pid INTEGER NOT NULL,"
		       " fd INTEGER NOT NULL, pipe_id INTEGER, pipe_end TEXT, inode INTEGER, is_foreign INTEGER NOT NULL,"
		       " detail TEXT, from_seq INTEGER NOT NULL, from_kind TEXT NOT NULL, to_seq INTEGER, to_kind TEXT,"
		       " PRIMARY KEY (run_id, pid, fd, from_seq)) WITHOUT ROWID;"
		       "INSERT INTO holds_v4 SELECT run_id, pid, fd, pipe_id, pipe_end, inode, is_foreign, detail,"
		       " from_seq, from_kind, to_seq, to_kind FROM holds;"
		       "DROP TABLE holds; ALTER TABLE holds_v4 RENAME TO holds;");
	if (version <= 4)
		t_sql_exec(db, old_views(4));
	t_sql_exec(db, "CREATE VIEW my_write_holds AS SELECT count(*) AS n FROM holds WHERE pipe_end = 'write';"
		       "CREATE VIEW my_runs AS SELECT count(*) AS n FROM runs;");
	if (version <= 4)
		t_sql_exec(db, "PRAGMA user_version = 4;");
	/* Version 3's runs: no 'failed' outcome, no failure column. */
	if (version <= 3)
		t_sql_exec(db, "PRAGMA legacy_alter_table = ON;"
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
		     version <= 2 ? 2 : version <= 6 ? 3 : 4,
		     "only processes and pipes (and from version 3 holds, from 7 event_rows) are keyed");
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('events', 'event_rows')"
				   " AND type = 'table' AND sql LIKE '%%WITHOUT ROWID%%'"), version >= 7);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'failure'"),
		     version >= 4);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM pragma_table_info('holds') WHERE name = 'touched_seq'"),
		     version >= 5);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM pragma_table_info('pipes') WHERE name = 'kind'"),
		     version >= 6);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL"),
		     version <= 2 ? 2 : version <= 6 ? 0 : version <= 9 ? 5 : 6,
		     "versions 1 and 2 had indexes of their own, from 7 five, from 10 six");
	hash = t_file_hash(db);

	/* Readers take it as it is, and leave it byte for byte alone. */
	cr_assert_eq(t_run(&r, "query --db old.db --csv \"SELECT count(*) AS n FROM events\""), 0, "%s", r.err);
	cr_expect_eq(atoll(r.out + 2), events, "%s", r.out);
	cr_assert_eq(t_run(&r, "render --db old.db -o old.svg"), 0, "%s", r.err);
	cr_expect_eq(t_file_hash(db), hash, "a reader changed the version %d file", version);

	/* A writer upgrades it in place: old runs unchanged, the new one chunked. */
	cr_assert_eq(t_run(&r, "run --db old.db -s close-all -w 3 -t 30"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "PRAGMA user_version"), 12);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
				   " ('stacks', 'stack_frames', 'event_stacks')"),
		     3, "version 12's stacks tables are made");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'runs' AND sql LIKE '%%''attach''%%'"
				   " AND sql LIKE '%%''detached''%%'"), 1,
		     "version 11's runs takes source 'attach' and outcome 'detached'");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'runs' AND sql LIKE '%%''snapshot''%%'"), 1,
		     "version 9's runs takes source 'snapshot'");
	cr_expect_eq(t_sql_int(db, "SELECT sum(length(id || source || ifnull(command, '') || ifnull(strategy, '') ||"
				   " outcome || started_at || started_ns || ended_ns || events)) FROM runs WHERE id = 1"),
		     runs_before, "the old run is as it was");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE incomplete IS NULL"),
		     t_sql_int(db, "SELECT count(*) FROM runs"), "version 8's runs.incomplete, NULL for the old runs");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN"
				   " ('holds_read_ends', 'holds_socket_ends', 'hang_holders_by_run', 'event_rows_hangs',"
				   " 'io_chunks_by_run', 'holds_write_ends', 'holds_used_write_ends', 'event_rows_blocked')"),
		     8, "version 7's indexes, version 10's and version 11's are made");
	cr_expect_eq(t_sql_int(db, "SELECT n FROM my_pipes"), 2 * 3, "a view of the user's on pipes survives");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pipes WHERE kind = 'pipe' AND peer_id IS NULL"
				   " AND shut_seq IS NULL"), 2 * 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'holds' AND sql LIKE "
				   "'%%WITHOUT ROWID%%'"), 1, "holds is keyed now");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'event_rows' AND sql LIKE "
				   "'%%WITHOUT ROWID%%'"), 1, "event_rows is keyed now");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE '%%before_v%%'"), 0,
		     "no table renamed aside is left");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'holds_%%'"
				   " AND name NOT IN ('holds_read_ends', 'holds_socket_ends', 'holds_write_ends',"
				   " 'holds_used_write_ends')"), 0,
		     "the old holds table and its indexes are gone");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE run_id = 1"), holds);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'runs_%%'"), 0,
		     "the old runs table is gone");
	cr_expect_eq(t_sql_int(db, "SELECT n FROM my_runs"), 2, "a view of the user's on runs survives");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE failure IS NULL AND outcome = 'ok'"), 2);
	/* Holds before version 5 got touched_seq from how they ended: the generic views read them as before. */
	if (version < 5)
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE run_id = 1 AND to_kind = 'close'"
					   " AND touched_seq IS NOT to_seq"), 0);
	else
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE run_id = 1 AND touched_seq > to_seq"), 0);
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

Test(store, version_4_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(4);
}

Test(store, version_5_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(5);
}

Test(store, version_6_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(6);
}

Test(store, version_7_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(7);
}

Test(store, version_8_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(8);
}

Test(store, version_9_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(9);
}

Test(store, version_10_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(10);
}

Test(store, version_11_file_is_read_as_is_and_upgraded_by_the_next_run, .timeout = 120)
{
	check_upgrade_from(11);
}

/*
 * A question about one run reads that run's rows only: the same work
 * whatever else the file holds. (Before schema 7 events, eof_holders and
 * wait_for read every run's rows: a run's summary line took 0.11 s, and its
 * picture 0.42 s, once the file also held a 1000-worker run.) Work is counted
 * in SQLite's VM steps, not timed.
 */
Test(store, a_question_about_one_run_reads_only_that_runs_rows, .timeout = 120)
{
	static const char *const views[] = { "events", "fd_holds", "leaked_write_ends", "eof_holders",
					      "eof_blockers", "wait_for" };
	struct t_result r;
	const char *db = t_path("many.db");
	int64_t before[sizeof(views) / sizeof(views[0])];

	cr_assert_eq(t_run(&r, "run --db many.db -s naive -w 3 -t 10"), 0, "%s", r.err);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = 1"), 2);
	cr_assert_gt(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = 1"), 0);
	/* A deadlocked run after it from the start: every search for run 1's
	 * rows then ends on a row of the next run, not at the end of the file. */
	cr_assert_eq(t_run(&r, "run --db many.db -s naive -w 2 -t 10"), 0, "%s", r.err);
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		char sql[128];

		snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE run_id = 1", views[i]);
		before[i] = t_vm_steps(db, sql);
	}
	/* Bigger runs after it, a deadlock among them, and one recorded from outside. */
	cr_assert_eq(t_run(&r, "run --db many.db -s naive -w 12 -t 10"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "run --db many.db -s close-all -w 12 -t 100"), 0, "%s", r.err);
	/* LeakSanitizer cannot run in a traced process: off for the traced pooltrace only. */
	cr_assert_eq(t_run(&r, "record --db many.db -q -- env ASAN_OPTIONS=detect_leaks=0 \"$PT\" run --no-trace -q"
			       " -s naive -w 8 -t 10"), 0, "%s", r.err);
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		char sql[128];

		snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE run_id = 1", views[i]);
		int64_t after = t_vm_steps(db, sql);

		cr_expect_eq(after, before[i], "%s for run 1: %lld VM steps with other runs in the file, %lld before",
			     views[i], (long long)after, (long long)before[i]);
	}
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
	cr_expect(strstr(r.err, "could not upgrade the trace from schema 2 to 12 (UNIQUE constraint failed") != NULL,
		  "%s", r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_file_hash(db), hash, "a failed upgrade changed the file");
}

/*
 * The views know no pool: holds written by hand for a shell pipeline
 * `a | b` (the shell makes the pipe, forks a and b, each dup2s its end and
 * closes both originals, the shell closes both) give no leak and no blocker;
 * let b forget to close the write end it inherited, and that fd is the one
 * leaked write end, and the one blocker when a exits.
 */
Test(store, the_views_answer_for_a_pipeline_with_no_pool_knowledge, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("pipe.db");
	/* run, pid, fd, pipe_id, end, from_seq, from_kind, to_seq, to_kind, touched_seq */
	static const char *const rows[] = {
		"(9, 10, 3, 1, 'read', 1, 'pipe', 6, 'close', 6)",  /* the shell */
		"(9, 10, 4, 1, 'write', 1, 'pipe', 6, 'close', 6)",
		"(9, 11, 3, 1, 'read', 2, 'inherit', 4, 'close', 4)", /* a: stdout is the pipe */
		"(9, 11, 4, 1, 'write', 2, 'inherit', 3, 'dup2', 3)",
		"(9, 11, 1, 1, 'write', 3, 'dup2', 10, 'exit', 8)",  /* a writes, then exits */
		"(9, 12, 3, 1, 'read', 5, 'inherit', 7, 'dup2', 7)", /* b: stdin is the pipe */
		"(9, 12, 0, 1, 'read', 7, 'dup2', 12, 'exit', 9)",
	};
	char sql[4096];
	size_t len;

	cr_assert_eq(t_run(&r, "run --db pipe.db -q -s child-close -w 2 -t 2"), 0, "%s", r.err);
	for (int leaky = 0; leaky <= 1; leaky++) {
		len = (size_t)snprintf(sql, sizeof(sql), "DELETE FROM holds WHERE run_id = 9; INSERT INTO holds (run_id, pid,"
					" fd, pipe_id, pipe_end, from_seq, from_kind, to_seq, to_kind, touched_seq, inode,"
					" is_foreign) SELECT column1, column2, column3, column4, column5, column6, column7,"
					" column8, column9, column10, 777, 0 FROM (VALUES ");
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s", i ? ", " : "", rows[i]);
		/* b closes the write end it inherited at once, or never touches it. */
		snprintf(sql + len, sizeof(sql) - len, ", %s)",
			 leaky ? "(9, 12, 4, 1, 'write', 5, 'inherit', 12, 'exit', NULL)"
			       : "(9, 12, 4, 1, 'write', 5, 'inherit', 8, 'close', 8)");
		t_sql_exec(db, sql);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = 9"), leaky);
		/* Two moments give up a used write end while b reads: the shell's
		 * close (seq 6) and a's exit (seq 10). When b leaks, its untouched
		 * fd 4 is the blocker at both. */
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = 9"), 2 * leaky);
		/* Held but used when the shell closes: a's fd 1, and b's fd 4 when b closes it later. */
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_holders WHERE run_id = 9 AND transient"), 2 - leaky);
		if (leaky)
			cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = 9 AND pid = 12"
						   " AND fd = 4 AND close_seq IN (6, 10)"), 2);
	}
}
