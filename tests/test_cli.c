/* test_cli.c: bad input gets one clear line and exit 2, and never damages a database. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs pooltrace ARGS and expects exit 2 with exactly one stderr line containing `needle`. */
static void expect_usage_error(const char *args, const char *needle)
{
	struct t_result r;

	t_run(&r, "%s", args);
	cr_expect_eq(r.status, 2, "`%s` exit %d, stderr: %s", args, r.status, r.err);
	cr_expect_eq(t_lines(r.err), 1, "`%s` should print one line, printed: %s", args, r.err);
	cr_expect(strstr(r.err, needle) != NULL, "`%s`: '%s' not in: %s", args, needle, r.err);
}

Test(cli, an_unknown_strategy_is_named_with_the_valid_ones)
{
	expect_usage_error("run --db x.db -s bogus", "unknown strategy 'bogus' (expected naive, close-all");
}

Test(cli, worker_counts_must_be_positive_whole_numbers)
{
	expect_usage_error("run --db x.db -w 0", "--workers wants a whole number from 1");
	expect_usage_error("run --db x.db -w -3", "--workers");
	expect_usage_error("run --db x.db -w 4x", "'4x'");
	expect_usage_error("run --db x.db -t -1", "--tasks");
}

Test(cli, crash_worker_must_be_one_of_the_workers)
{
	expect_usage_error("run --db x.db -w 3 --crash-worker 3", "--crash-worker 3 is not one of the 3 workers");
}

Test(cli, unknown_options_and_commands_are_named)
{
	expect_usage_error("run --bogus", "unknown option '--bogus'");
	expect_usage_error("run --workers", "option '--workers' needs a value");
	expect_usage_error("frobnicate", "unknown command 'frobnicate'");
	expect_usage_error("run --db x.db extra", "unexpected argument 'extra'");
}

Test(cli, a_database_in_a_missing_directory_is_refused)
{
	expect_usage_error("run --db /nonexistent-dir/x.db", "/nonexistent-dir/x.db");
}

Test(cli, a_directory_is_not_a_database)
{
	expect_usage_error("run --db /tmp", "is a directory");
	expect_usage_error("query --db /tmp 'SELECT 1'", "is a directory");
}

Test(cli, a_text_file_is_refused_and_left_byte_for_byte_intact)
{
	struct t_result r;
	int64_t before;

	t_sh(&r, "printf 'not a database\\n%%.0s' $(seq 1 200) > notes.txt");
	before = t_file_hash(t_path("notes.txt"));
	expect_usage_error("run --db notes.txt -w 2", "not a pooltrace trace database");
	expect_usage_error("query --db notes.txt 'SELECT 1'", "not a pooltrace trace database");
	cr_expect_eq(t_file_hash(t_path("notes.txt")), before);
}

Test(cli, another_programs_sqlite_database_is_refused_and_left_intact)
{
	sqlite3 *db;
	int64_t before;

	cr_assert_eq(sqlite3_open(t_path("other.db"), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "CREATE TABLE notes(x); INSERT INTO notes VALUES (1)", NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	before = t_file_hash(t_path("other.db"));
	expect_usage_error("run --db other.db -w 2", "a SQLite database, but not a pooltrace trace");
	cr_expect_eq(t_file_hash(t_path("other.db")), before);
}

Test(cli, a_trace_from_a_newer_pooltrace_is_refused_and_left_intact)
{
	struct t_result r;
	sqlite3 *db;
	int64_t before;

	cr_assert_eq(t_run(&r, "run --db newer.db -w 2 -s child-close -q"), 0, "%s", r.err);
	cr_assert_eq(sqlite3_open(t_path("newer.db"), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	before = t_file_hash(t_path("newer.db"));
	expect_usage_error("run --db newer.db -w 2", "written by a newer pooltrace (schema 99");
	expect_usage_error("query --db newer.db 'SELECT 1'", "newer pooltrace");
	cr_expect_eq(t_file_hash(t_path("newer.db")), before);
}

Test(cli, an_empty_file_becomes_a_trace)
{
	struct t_result r;

	t_sh(&r, ": > empty.db");
	cr_assert_eq(t_run(&r, "run --db empty.db -w 2 -s child-close"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(t_path("empty.db"), "SELECT count(*) FROM runs"), 1);
}

Test(cli, query_reports_sqlites_message_for_bad_sql)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db q.db -w 2 -s child-close -q"), 0, "%s", r.err);
	expect_usage_error("query --db q.db 'SELEC * FROM runs'", "near \"SELEC\": syntax error");
	expect_usage_error("query --db q.db 'SELECT nope FROM runs'", "no such column: nope");
}

Test(cli, query_is_read_only)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db ro.db -w 2 -s child-close -q"), 0, "%s", r.err);
	expect_usage_error("query --db ro.db 'DELETE FROM runs'", "read-only");
	cr_expect_eq(t_sql_int(t_path("ro.db"), "SELECT count(*) FROM runs"), 1);
}

Test(cli, query_of_a_missing_database_does_not_create_one)
{
	struct t_result r;

	expect_usage_error("query --db missing.db 'SELECT 1'", "no such trace database");
	t_sh(&r, "test ! -e missing.db");
	cr_expect_eq(r.status, 0);
}

Test(cli, query_prints_an_aligned_table_and_csv)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -w 3 -s reverse-close -q"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "query --db t.db 'SELECT strategy, workers, leaked_write_ends FROM run_summary'"), 0);
	cr_expect_str_eq(r.out, "strategy       workers  leaked_write_ends\n"
				"-------------  -------  -----------------\n"
				"reverse-close        3                  3\n");
	cr_assert_eq(t_run(&r, "query --db t.db --csv \"SELECT 'a,b' AS x, NULL AS y, 'say \\\"hi\\\"' AS z\""), 0,
		     "%s", r.err);
	cr_expect_str_eq(r.out, "x,y,z\n\"a,b\",,\"say \"\"hi\"\"\"\n");
}

Test(cli, canned_queries_all_run)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db c.db -w 3 -s naive -q"), 0, "%s", r.err);
	cr_assert_eq(t_sh(&r, "for f in %s/traces/queries/*.sql; do \"$PT\" query --db c.db -f \"$f\" >/dev/null || "
			      "{ echo \"$f\"; exit 1; }; done", POOLTRACE_SRC), 0, "%s %s", r.out, r.err);
}

Test(cli, the_fd_limit_is_raised_or_the_run_refused)
{
	struct t_result r;

	t_sh(&r, "ulimit -n 256 && \"$PT\" run --db lim.db -w 1000 -s child-close");
	cr_expect_eq(r.status, 2, "%s", r.err);
	cr_expect(strstr(r.err, "hard limit is 256") != NULL, "%s", r.err);
	cr_expect_eq(t_lines(r.err), 1);
	/* With room below the hard limit the soft one is raised. */
	cr_assert_eq(t_sh(&r, "ulimit -Sn 64 && \"$PT\" run --db lim.db -w 100 -s child-close -q"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(t_path("lim.db"), "SELECT outcome = 'ok' FROM runs"), 1);
}

Test(cli, help_lists_every_option)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --help"), 0);
	for (const char *const *o = (const char *const[]){ "--strategy", "--workers", "--tasks", "--task-ms",
							    "--crash-worker", "--db", "--no-trace", "--no-io-events",
							    "--hang-ms", "--log-size", NULL }; *o; o++)
		cr_expect(strstr(r.out, *o) != NULL, "run --help lacks %s", *o);
	cr_assert_eq(t_run(&r, "--help"), 0);
	cr_expect(strstr(r.out, "query") != NULL);
}

Test(cli, stats_print_the_event_rate_and_when_each_phase_ended, .timeout = 60)
{
	struct t_result r;
	double t[5] = { 0 }, rate = 0;

	/* A deadlock goes through all five phases, in this order (ms resolution). */
	cr_assert_eq(t_run(&r, "run --db st.db -s naive -w 3 -t 6 -q --stats --hang-ms 300"), 0, "%s", r.err);
	cr_expect_eq(t_lines(r.err), 2, "%s", r.err);
	cr_expect(sscanf(r.err, "stats: %*u events stored in %*f s of database time: %lf events/s", &rate) == 1 &&
			  rate > 0, "%s", r.err);
	cr_assert_eq(sscanf(strchr(r.err, '\n') + 1,
			    "stats: deadlock confirmed at %lf s, evidence recorded at %lf s, all reaped at %lf s,"
			    " committed at %lf s, counted at %lf s", &t[0], &t[1], &t[2], &t[3], &t[4]),
		     5, "%s", r.err);
	cr_expect_geq(t[0], 0.3, "confirmed before --hang-ms had passed: %s", r.err);
	for (int i = 1; i < 5; i++)
		cr_expect_geq(t[i], t[i - 1], "phase %d ended before phase %d: %s", i, i - 1, r.err);
	/* A run that ends by itself has no detection or evidence phase. */
	cr_assert_eq(t_run(&r, "run --db st.db -s reverse-close -w 3 -t 6 -q --stats"), 0, "%s", r.err);
	cr_assert_eq(sscanf(strchr(r.err, '\n') + 1, "stats: all reaped at %lf s, committed at %lf s, counted at %lf s",
			    &t[0], &t[1], &t[2]),
		     3, "%s", r.err);
	cr_expect(t[0] <= t[1] && t[1] <= t[2], "%s", r.err);
}

Test(cli, an_in_memory_or_uri_database_is_refused_and_nothing_is_created)
{
	struct t_result r;

	expect_usage_error("run --db '' -w 2", "wants a file name");
	expect_usage_error("run --db :memory: -w 2", "not an in-memory database or a URI");
	expect_usage_error("run --db 'file:x.db?mode=memory' -w 2", "not an in-memory database or a URI");
	expect_usage_error("run --db 'FILE:x.db' -w 2", "not an in-memory database or a URI");
	expect_usage_error("query --db :memory: 'SELECT 1'", "not an in-memory database");
	cr_expect_eq(t_sh(&r, "ls | grep -c . || true"), 0);
	cr_expect_eq(atoi(r.out), 0, "files were created: %s", r.out);
}

Test(cli, a_short_file_that_is_not_sqlite_is_refused_and_left_intact)
{
	struct t_result r;
	int64_t before;

	t_sh(&r, "printf x > one.db && printf 'SQLite format' > almost.db");
	before = t_file_hash(t_path("one.db"));
	expect_usage_error("run --db one.db -w 2", "not a pooltrace trace database");
	expect_usage_error("run --db almost.db -w 2", "not a pooltrace trace database");
	expect_usage_error("query --db one.db 'SELECT 1'", "not a pooltrace trace database");
	cr_expect_eq(t_file_hash(t_path("one.db")), before);
	cr_expect_eq(t_sh(&r, "test $(stat -c %%s one.db) = 1 && test ! -e one.db-wal"), 0);
}

/* Another program's database with no tables yet is still that program's. */
Test(cli, a_sqlite_file_with_a_version_but_no_tables_is_not_taken_over)
{
	sqlite3 *db;
	int64_t before;

	cr_assert_eq(sqlite3_open(t_path("app.db"), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	before = t_file_hash(t_path("app.db"));
	expect_usage_error("run --db app.db -w 2", "a SQLite database, but not a pooltrace trace");
	cr_expect_eq(t_file_hash(t_path("app.db")), before);
}

/* Ids past what --run accepted made SQLite pick random ones: new ids follow the largest. */
Test(cli, run_ids_follow_the_largest_and_are_accepted_by_run_and_runs)
{
	struct t_result r;
	sqlite3 *db;

	cr_assert_eq(t_run(&r, "run --db ids.db -q -s child-close -w 2 -t 2"), 0, "%s", r.err);
	cr_assert_eq(sqlite3_open(t_path("ids.db"), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "UPDATE runs SET id = 4611686018427387904", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(t_run(&r, "run --db ids.db -s child-close -w 2 -t 2"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "run 4611686018427387905:") != NULL, "%s", r.out);
	cr_expect_eq(t_run(&r, "render --db ids.db --run 4611686018427387905 -o a.svg"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "compare --db ids.db --runs 4611686018427387905 -o c.svg"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "timeline --db ids.db -o t.svg"), 0, "%s", r.err);
	/* The largest id there can be: the next run is refused in one line. */
	cr_assert_eq(sqlite3_open(t_path("ids.db"), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "UPDATE runs SET id = 9223372036854775807 WHERE id = 4611686018427387905", NULL,
				  NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	t_run(&r, "run --db ids.db -q -s child-close -w 2 -t 2");
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_expect(strstr(r.err, "run ids are used up") != NULL, "%s", r.err);
}

Test(cli, runs_lists_with_an_empty_element_are_refused)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db e.db -q -s child-close -w 2 -t 2"), 0, "%s", r.err);
	expect_usage_error("compare --db e.db --runs 1,,1 -o c.svg", "has an empty element");
	expect_usage_error("compare --db e.db --runs 1, -o c.svg", "has an empty element");
	expect_usage_error("compare --db e.db --runs ,1 -o c.svg", "has an empty element");
	expect_usage_error("compare --db e.db --runs 1,x -o c.svg", "not 'x'");
}

Test(cli, a_value_given_to_an_option_that_takes_none_names_the_option)
{
	expect_usage_error("run --no-trace=1", "option '--no-trace' takes no value");
	expect_usage_error("run --no-tr=1", "option '--no-trace' takes no value");
	expect_usage_error("query --csv=yes 'SELECT 1'", "option '--csv' takes no value");
	expect_usage_error("render --help=x", "option '--help' takes no value");
	expect_usage_error("run --no", "option '--no' is ambiguous");
}

/*
 * Many writers racing to create the same new trace: the file must exist at
 * the end with every run in it (the loser of the schema race used to unlink
 * the file the winner was writing, in about half the trials).
 */
Test(cli, concurrent_runs_into_a_new_database_all_land_in_it, .timeout = 120)
{
	struct t_result r;

	for (int trial = 0; trial < 8; trial++) {
		t_sh(&r, "rm -f race.db*; pids=; for i in 1 2 3 4; do \"$PT\" run --db race.db -q -s child-close -w 2 -t 4 &"
			 " pids=\"$pids $!\"; done; s=0; for p in $pids; do wait $p || s=$?; done; exit $s");
		cr_expect_eq(r.status, 0, "trial %d: %s", trial, r.err);
		cr_expect_eq(t_sql_int(t_path("race.db"), "SELECT count(*) FROM runs WHERE outcome = 'ok'"), 4,
			     "trial %d", trial);
		cr_expect_eq(t_sql_int(t_path("race.db"), "SELECT count(DISTINCT id) FROM runs"), 4);
		cr_expect_eq(t_sh(&r, "ls | grep -c 'race.db.new-' || true"), 0);
		cr_expect_eq(atoi(r.out), 0, "temporary files were left: %s", r.out);
	}
}

/*
 * A reader in the middle of a long read while a run commits: the run must
 * not fail ("database is locked" after the busy timeout, outcome NULL, used
 * to happen with a rollback journal).
 */
Test(cli, a_long_reader_never_makes_a_run_fail, .timeout = 120)
{
	struct t_result r;
	sqlite3 *db;
	sqlite3_stmt *s;

	cr_assert_eq(t_run(&r, "run --db busy.db -q -s child-close -w 2 -t 4"), 0, "%s", r.err);
	cr_assert_eq(sqlite3_open_v2(t_path("busy.db"), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT * FROM events", -1, &s, NULL), SQLITE_OK);
	/* The read is open (its snapshot held) for the whole run below. */
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_expect_eq(t_run(&r, "run --db busy.db -s reverse-close -w 3 -t 20000"), 0, "%s", r.err);
	cr_expect_eq(sqlite3_step(s), SQLITE_ROW);
	sqlite3_finalize(s);
	sqlite3_close(db);
	cr_expect_eq(t_sql_int(t_path("busy.db"), "SELECT outcome = 'ok' AND events > 60000 FROM runs WHERE id = 2"), 1);
}

Test(cli, query_output_that_cannot_be_written_is_a_failure)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db w.db -q -s child-close -w 2 -t 2"), 0, "%s", r.err);
	t_run(&r, "query --db w.db --csv 'SELECT * FROM events' > /dev/full");
	cr_expect_eq(r.status, 1, "csv: exit %d", r.status);
	cr_expect(strstr(r.err, "cannot write the output: No space left on device") != NULL, "%s", r.err);
	t_run(&r, "query --db w.db 'SELECT * FROM events' > /dev/full");
	cr_expect_eq(r.status, 1, "table: exit %d", r.status);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
}

/* Read-only means no file changes: VACUUM INTO and ATTACH are refused by SQLite's authorizer and its own judgement. */
Test(cli, query_creates_and_changes_no_file)
{
	struct t_result r;
	int64_t before;

	cr_assert_eq(t_run(&r, "run --db v.db -q -s child-close -w 2 -t 2"), 0, "%s", r.err);
	before = t_file_hash(t_path("v.db"));
	expect_usage_error("query --db v.db \"VACUUM INTO 'copy.db'\"", "would change it");
	expect_usage_error("query --db v.db \"ATTACH 'other.db' AS o\"", "ATTACH and DETACH are refused");
	expect_usage_error("query --db v.db \"CREATE TEMP TABLE t(x)\"", "would change it");
	expect_usage_error("query --db v.db \"PRAGMA user_version = 9\"", "would change it");
	expect_usage_error("query --db v.db \"SELECT 1; DELETE FROM runs\"", "would change it");
	cr_expect_eq(t_sh(&r, "test ! -e copy.db && test ! -e other.db"), 0, "a file was created");
	cr_expect_eq(t_file_hash(t_path("v.db")), before);
	cr_expect_eq(t_sh(&r, "ls v.db* | wc -l | grep -qx 1"), 0, "query left -wal or -shm files");
}

Test(cli, counts_from_a_run_that_dropped_events_say_they_are_incomplete, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db d.db -s child-close -w 2 -t 20000 --log-size 64 --log-wait-ms 0"), 0, "%s",
		     r.err);
	cr_expect(strstr(r.out, "(incomplete: ") != NULL && strstr(r.out, " events were dropped)") != NULL, "%s",
		  r.out);
}

/* Asking for an extension is bad input (exit 2, said as such), not the file's fault. */
Test(cli, a_failing_statement_is_bad_input_not_a_damaged_file, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db q.db -q -s child-close -w 1 -t 1"), 0, "%s", r.err);
	expect_usage_error("query --db q.db \"SELECT load_extension('x')\"", "query loads no extension");
	cr_expect(strstr(r.err, "q.db") == NULL, "blames the file: %s", r.err);
	/* A directory opens for reading; only its read fails. */
	expect_usage_error("query --db q.db -f /tmp", "cannot read /tmp: Is a directory");
}

/* report has one format, so '-o -' (which its help offers) needs no --format. */
Test(cli, report_writes_to_stdout_with_dash, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db q.db -q -s child-close -w 1 -t 1"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "report --db q.db -o -"), 0, "%s", r.err);
	cr_expect(!strncmp(r.out, "<!DOCTYPE html>", 15), "%.80s", r.out);
	expect_usage_error("report --db q.db -o r.txt", "unknown format 'txt'");
}

/* `pooltrace help CMD` is CMD's --help; the man page is valid roff that names every command. */
Test(cli, help_command_and_man_page)
{
	struct t_result r;

	cr_expect_eq(t_run(&r, "help record"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "usage: pooltrace record") != NULL, "%s", r.out);
	cr_expect_eq(t_run(&r, "help nosuch"), 2);
	cr_expect(strstr(r.err, "unknown command 'nosuch'") != NULL, "%s", r.err);
	for (const char *const *c = (const char *const[]){ "record", "run", "query", "render", "compare", "timeline", "report", NULL };
	     *c; c++)
		cr_expect_eq(t_sh(&r, "grep -q '^\\.B pooltrace %s' %s/man/pooltrace.1", *c, POOLTRACE_SRC), 0,
			     "the man page does not show %s", *c);
	if (t_sh(&r, "command -v groff") == 0)
		cr_expect_eq(t_sh(&r, "groff -man -Tutf8 -ww %s/man/pooltrace.1 2>&1 >/dev/null | grep . && exit 1; exit 0",
				  POOLTRACE_SRC), 0, "groff warns: %s", r.out);
}

/*
 * On a terminal (script(1) gives the command a pty), run and render show
 * what they are doing on one line of stderr, redrawn in place, and erase it
 * before the summary, which comes out whole. Piped, or with
 * POOLTRACE_PROGRESS=0, stderr has no such line: a CI log gets only the
 * command's own lines. The picture is the same either way.
 */
Test(cli, a_terminal_sees_progress_and_a_pipe_does_not, .timeout = 120)
{
	struct t_result r;

	if (system("command -v script >/dev/null 2>&1") != 0)
		cr_skip_test("needs script(1) for a terminal");
	cr_assert_eq(t_sh(&r, "script -qfec '\"$PT\" run --workers 30 --db tty.db' tty.log >/dev/null && cat -v tty.log"), 0,
		     "%s", r.err);
	cr_expect(strstr(r.out, "^Mpooltrace: run: ") != NULL, "a progress line:\n%s", r.out);
	cr_expect(strstr(r.out, "^Mpooltrace: run: counting leaked write ends and EOF blockers^[[K^M^[[Krun 1: naive, 30 workers"),
		  "erased before the summary, which is whole:\n%s", r.out);
	cr_assert_eq(t_sh(&r, "script -qfec '\"$PT\" render --db tty.db --at hang -o tty.svg' tty2.log >/dev/null && cat -v tty2.log"),
		     0, "%s", r.err);
	cr_expect(strstr(r.out, "^Mpooltrace: render: laying out ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "(Graphviz dot)^[[K^M^[[K") != NULL, "%s", r.out);

	cr_assert_eq(t_sh(&r, "\"$PT\" run --workers 30 --db pipe.db 2>&1 | cat -v"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "^M") == NULL && strstr(r.out, "^[") == NULL, "piped: no progress:\n%s", r.out);
	cr_assert_eq(t_sh(&r, "POOLTRACE_PROGRESS=0 script -qfec '\"$PT\" run --workers 30 --db off.db' off.log >/dev/null"), 0,
		     "%s", r.err);
	t_sh(&r, "grep -c 'pooltrace: run: ' off.log; grep -c 'run 1: naive, 30 workers' off.log");
	cr_expect_str_eq(r.out, "0\n1\n", "no progress line, and the summary");
	cr_assert_eq(t_sh(&r, "\"$PT\" render --db tty.db --at hang -o pipe.svg && cmp tty.svg pipe.svg"), 0,
		     "the same picture: %s%s", r.out, r.err);
}
