/* test_cli.c: bad input gets one clear line and exit 2, and never damages a database. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
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
