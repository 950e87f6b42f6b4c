/* test_explain.c: `pooltrace explain` says why a stored run hung or leaked, in order, grouped, with the fix that fits; --json says the same as data; the CI gate of run, record and snapshot. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG(name) POOLTRACE_PROGRAMS "/" name

/* Each needle is in text, each after the one before it. */
static void expect_in_order(const char *text, const char *const *needles)
{
	const char *at = text;

	for (const char *const *n = needles; *n; n++) {
		const char *hit = strstr(at, *n);

		cr_expect(hit != NULL, "'%s' not found (in order) in:\n%s", *n, text);
		if (!hit)
			return;
		at = hit + strlen(*n);
	}
}

static void explain(struct t_result *r, const char *args)
{
	cr_assert_eq(t_run(r, "explain --db t.db %s", args), 0, "explain %s: %s", args, r->err);
	cr_expect_str_eq(r->err, "", "explain %s wrote to stderr", args);
}

Test(explain, the_naive_pool_of_3_names_the_cycle_in_order_each_leaking_group_and_close_range)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -s naive -w 3 -t 6"), 0, "%s", r.err);
	explain(&r, "--run 1");
	expect_in_order(r.out, (const char *const[]){
		"run 1 (the built-in pool: naive, 3 workers, 6 tasks): deadlock",
		"why it hung: a cycle of 3 processes",
		"The parent (pid ", ") waits in wait4 for worker 0 (pid ",
		"Worker 0 (pid ", ") waits in read(fd 0) for EOF on pipe 1.",
		"Pipe 1's write end is still held by workers 1, 2 (pids ", "), on fd ", ", which inherited it at fork (seq ",
		") and never used it. They wait for EOF on their own pipes (2, 3), whose write ends the parent (pid ",
		") holds until wait4 returns.",
		"leaked write ends: 3, of 2 pipes",
		"pipe 1's write end (fd ", "), in workers 1, 2 (pids ", "made by the parent (pid ",
		"pipe 2's write end (fd ", "), in worker 2 (pid ",
		"workers 1, 2 (pids ", "each hold the write ends of all earlier pipes (pipes 1-2",
		"EOF blockers: 2, at 1 pipe",
		"pipe 1: worker 0 (pid ", "waited for EOF from seq ", "until the kill",
		"[close-inherited] children never close what they inherited", "close_range(3, ~0U, 0)", NULL });
}

Test(explain, the_naive_pool_of_5_groups_every_leaking_worker_by_pipe)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -s naive -w 5 -t 10"), 0, "%s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"The parent (pid ", "waits in wait4 for worker 0",
		"Worker 0 (pid ", "waits in read(fd 0) for EOF on pipe 1.",
		"Pipe 1's write end is still held by workers 1-4 (pids ", ", which inherited it at fork",
		"their own pipes (2-5), whose write ends the parent", "until wait4 returns",
		"leaked write ends: 10, of 4 pipes",
		"pipe 1's write end (fd ", "), in workers 1-4 (",
		"pipe 2's write end (fd ", "), in workers 2-4 (",
		"pipe 3's write end (fd ", "), in workers 3, 4 (",
		"pipe 4's write end (fd ", "), in worker 4 (",
		"workers 1-4 (pids ", "each hold the write ends of all earlier pipes (pipes 1-4", "10 leaked write ends",
		"close_range(3, ~0U, 0)", NULL });
	cr_expect_lt(t_lines(r.out), 25, "%s", r.out);
}

Test(explain, child_close_and_close_range_leak_nothing)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -s child-close -w 4 && \"$PT\" run --db t.db -q -s close-range -w 4"), 0,
		     "%s", r.err);
	for (int run = 1; run <= 2; run++) {
		char args[32];

		snprintf(args, sizeof(args), "--run %d", run);
		explain(&r, args);
		cr_expect(strstr(r.out, ": ok\n") != NULL, "%s", r.out);
		cr_expect(strstr(r.out, "leaked write ends: none") != NULL, "%s", r.out);
		cr_expect(strstr(r.out, "EOF blockers: none") != NULL, "%s", r.out);
		cr_expect(strstr(r.out, "nothing to fix") != NULL, "%s", r.out);
		cr_expect(strstr(r.out, "why it hung") == NULL, "%s", r.out);
	}
}

Test(explain, reverse_close_has_the_leak_harmless_and_says_why)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -s reverse-close -w 4"), 0, "%s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		": ok\n", "leaked write ends: 6, of 3 pipes", "EOF blockers: none",
		"[accidental-order] the leak is present but harmless", "The close order works by accident",
		"here: pipe 1's last leaked holder, worker ", "let go at seq ",
		"the parent (pid ", "closed its own write end only later, at seq ",
		"reverse order: the last worker, which holds every earlier write end, is closed and reaped first",
		"[close-inherited]", NULL });
	cr_expect(strstr(r.out, "why it hung") == NULL, "%s", r.out);
}

Test(explain, close_all_finishes_but_its_readers_waited_on_the_leaks)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -s close-all -w 3"), 0, "%s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"EOF blockers: 3, at 2 pipes", "pipe 1: worker 0 (pid ", "until the last blocker let go",
		"the run still finished", "[close-inherited]", NULL });
	cr_expect(strstr(r.out, "[accidental-order]") == NULL, "%s", r.out);
}

Test(explain, a_recorded_leakypool_is_explained_and_its_fixed_mode_is_clean, .timeout = 60)
{
	struct t_result r;

	t_run(&r, "record --db t.db -- %s 3", PROG("leakypool"));
	cr_assert_eq(r.status, 137, "%s", r.err);
	cr_expect(strstr(r.err, "; see: pooltrace explain --run 1 --db t.db\n") != NULL, "%s", r.err);
	explain(&r, "--run 1");
	expect_in_order(r.out, (const char *const[]){
		"run 1 (record: ", "leakypool 3): deadlock, status 137",
		"Process ", " (leakypool) waits in wait4 for process ",
		" (leakypool) waits in read(fd 0) for EOF on pipe 1.",
		"Pipe 1's write end is still held by processes ", "(leakypool), on fd ", ", which inherited it at fork",
		"until wait4 returns",
		"leaked write ends: 3, of 2 pipes", "recorded without --io",
		"[close-inherited]", "close_range(3, ~0U, 0)", NULL });
	cr_assert_eq(t_run(&r, "record --db t.db -- %s 3 fixed", PROG("leakypool")), 0, "%s", r.err);
	cr_expect(strstr(r.err, "see: pooltrace explain") == NULL, "nothing to explain: %s", r.err);
	explain(&r, "--run 2");
	cr_expect(strstr(r.out, "leaked write ends: none") != NULL, "%s", r.out);
}

/* The classic: wait() before reading a child's output, which fills the pipe. */
Test(explain, a_python_popen_wait_deadlock_says_the_child_writes_a_full_pipe_and_to_read_first, .timeout = 120)
{
	struct t_result r;

	t_run(&r, "record --db t.db --hang-ms 300 -- python3 -c "
		  "'import subprocess; subprocess.Popen([\"python3\",\"-c\",\"print(\\\"x\\\"*200000)\"], stdout=subprocess.PIPE).wait()'");
	cr_assert_eq(r.status, 137, "%s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"deadlock", "why it hung: a cycle of 2 processes",
		"waits in wait4 for process ",
		"waits in write(fd 1) for room in pipe ", "which is full (",
		"read end is held only by process ", "which waits in wait4 for it instead of reading",
		"[read-first] the parent waits for a child before it reads the child's output",
		"read first, as Python's communicate() does", NULL });
}

Test(explain, two_processes_writing_full_pipes_to_each_other_get_a_reader_thread, .timeout = 60)
{
	struct t_result r;

	t_run(&r, "record --db t.db -- %s", PROG("bothfull"));
	cr_assert_eq(r.status, 137, "%s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"why it hung: a cycle of 2 processes", "waits in write(fd ", "which is full",
		"waits in write(fd 1) for room in pipe ", "[reader-thread] both sides wait on full pipes",
		"a reader thread, or poll", NULL });
	cr_expect(strstr(r.out, "[read-first]") == NULL, "%s", r.out);
	cr_assert_eq(t_run(&r, "record --db t.db -- %s fixed", PROG("bothfull")), 0, "%s", r.err);
}

Test(explain, a_write_end_kept_across_exec_gets_cloexec, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db t.db -- %s", PROG("execleak")), 0, "%s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"leaked write ends: 1", "in process ", "(sleep): made by process ", "(execleak)",
		"kept across exec (seq ", "EOF blockers: 1", " (execleak) waited for EOF",
		"[cloexec]", "pipe2(O_CLOEXEC)", "posix_spawn", NULL });
	cr_expect(strstr(r.out, "[close-inherited]") == NULL, "%s", r.out);
	cr_assert_eq(t_run(&r, "record --db t.db -- %s fixed", PROG("execleak")), 0, "%s", r.err);
	explain(&r, "--run 2");
	cr_expect(strstr(r.out, "leaked write ends: none") != NULL, "%s", r.out);
}

/* A python3 one-liner that prints one JSON value of the parsed document: the test's view of the data. */
static int64_t json_value(const char *file, const char *expr)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "python3 -m json.tool %s >/dev/null && python3 -c 'import json,sys; d=json.load(open(\"%s\")); print(%s)'",
			  file, file, expr),
		     0, "%s: %s", expr, r.err);
	return strtoll(r.out, NULL, 10);
}

Test(explain, json_parses_and_its_counts_are_the_views, .timeout = 60)
{
	const char *db = t_path("t.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -s naive -w 5 && \"$PT\" run --db t.db -q -s close-all -w 4 &&"
			       " \"$PT\" run --db t.db -q -s child-close -w 3"), 0, "%s", r.err);
	for (int run = 1; run <= 3; run++) {
		char file[32];

		snprintf(file, sizeof(file), "run%d.json", run);
		cr_assert_eq(t_run(&r, "explain --db t.db --run %d --json > %s", run, file), 0, "%s", r.err);
		cr_expect_eq(json_value(file, "d[\"run\"]"), run);
		cr_expect_eq(json_value(file, "d[\"leaked_write_ends\"]"),
			     t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = %d", run));
		cr_expect_eq(json_value(file, "sum(g[\"count\"] for g in d[\"leak_groups\"])"),
			     t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = %d", run));
		cr_expect_eq(json_value(file, "sum(len(g[\"holders\"]) for g in d[\"leak_groups\"])"),
			     t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = %d", run));
		cr_expect_eq(json_value(file, "len(d[\"leak_groups\"])"),
			     t_sql_int(db, "SELECT count(DISTINCT pipe_id) FROM leaked_write_ends WHERE run_id = %d", run));
		cr_expect_eq(json_value(file, "d[\"eof_blockers\"]"),
			     t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = %d", run));
		cr_expect_eq(json_value(file, "sum(b[\"count\"] for b in d[\"blockers\"])"),
			     t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = %d", run));
	}
	cr_expect_eq(json_value("run1.json", "d[\"outcome\"] == \"deadlock\" and len(d[\"cycle\"]) == 3 and d[\"cycle\"][0][\"waits\"] == \"child\""
					     " and d[\"cycle\"][1][\"waits\"] == \"eof\" and d[\"cycle\"][1][\"pipe_id\"] == 1 and 1 or 0"), 1);
	cr_expect_eq(json_value("run1.json", "[f[\"rule\"] for f in d[\"fixes\"]] == [\"close-inherited\"] and 1 or 0"), 1);
	cr_expect_eq(json_value("run1.json", "d[\"patterns\"][0][\"count\"]"), 10);
	cr_expect_eq(json_value("run3.json", "len(d[\"fixes\"]) + len(d[\"cycle\"]) + len(d[\"leak_groups\"])"), 0);
}

/* A program whose name has a control character and a byte that is not UTF-8: JSON stays valid, words stay one line each. */
Test(explain, names_with_control_characters_and_bad_utf8_are_escaped, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "cp %s \"$(printf 'lea\\001ky\\377')\"", PROG("leakypool")), 0, "%s", r.err);
	t_run(&r, "record --db t.db -- \"./$(printf 'lea\\001ky\\377')\" 2");
	cr_assert_eq(r.status, 137, "%s", r.err);
	cr_assert_eq(t_run(&r, "explain --db t.db --json > e.json && python3 -m json.tool e.json > /dev/null"), 0, "%s", r.err);
	cr_assert_eq(t_sh(&r, "python3 -c 'import json; d=json.load(open(\"e.json\")); print(d[\"cycle\"][0][\"process\"][\"program\"].encode(\"unicode_escape\").decode())'"),
		     0, "%s", r.err);
	cr_expect_str_eq(r.out, "lea\\x01ky\\ufffd\n");
	cr_assert_eq(t_sh(&r, "grep -c 'u0001' e.json"), 0, "%s", r.out);
	explain(&r, "");
	cr_expect(strstr(r.out, "(lea\\x01ky\\xff)") != NULL, "%s", r.out);
	cr_expect(strchr(r.out, '\001') == NULL && strchr(r.out, '\377') == NULL, "%s", r.out);
}

Test(explain, a_full_disk_is_one_line_and_exit_1)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -w 3"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "explain --db t.db > /dev/full"), 1);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, "pooltrace explain: cannot write the diagnosis: No space left on device") != NULL, "%s", r.err);
	cr_expect_eq(t_run(&r, "explain --db t.db --json > /dev/full"), 1);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
}

Test(explain, bad_input_is_one_line_and_exit_2)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -w 2 -s child-close"), 0, "%s", r.err);
	static const char *const bad[] = { "explain --db t.db --run 9", "explain --db t.db --run x", "explain --db none.db",
					   "explain --db t.db --bogus", "explain --db t.db extra" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(t_run(&r, "%s", bad[i]), 2, "%s: %s", bad[i], r.err);
		cr_expect_eq(t_lines(r.err), 1, "%s: %s", bad[i], r.err);
		cr_expect_str_eq(r.out, "", "%s", bad[i]);
	}
	/* An older schema is named, not misread. */
	cr_assert_eq(t_sh(&r, "cp t.db old.db"), 0);
	t_sql_exec(t_path("old.db"), "PRAGMA user_version = 8;");
	cr_expect_eq(t_run(&r, "explain --db old.db"), 2, "%s", r.err);
	cr_expect(strstr(r.err, "written by an older pooltrace (schema 8)") != NULL && t_lines(r.err) == 1, "%s", r.err);
}

Test(explain, the_summary_line_ends_with_the_explain_command_when_there_is_something_to_explain)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -s naive -w 3"), 0, "%s", r.err);
	cr_expect(strstr(r.out, " s); see: pooltrace explain --run 1 --db t.db\n") != NULL, "%s", r.out);
	cr_assert_eq(t_run(&r, "run --db t.db -s child-close -w 3"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "see:") == NULL, "%s", r.out);
	cr_assert_eq(t_sh(&r, "POOLTRACE_DB=t.db \"$PT\" run -s reverse-close -w 3"), 0, "%s", r.err);
	cr_expect(strstr(r.out, " s); see: pooltrace explain --run 3\n") != NULL, "the default database is not named: %s", r.out);
	cr_assert_eq(t_sh(&r, "\"$PT\" run --db 'my trace.db' -s naive -w 2"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "; see: pooltrace explain --run 1 --db 'my trace.db'\n") != NULL, "%s", r.out);
}

/* --fail-on: exit 3 (or --error-exitcode) when the run has it, the summary says why; else the status as before. */
Test(explain, fail_on_leak_fails_the_leaky_pool_and_passes_a_fixed_one, .timeout = 60)
{
	struct t_result r;

	cr_expect_eq(t_run(&r, "run --db t.db -s naive -w 3 --fail-on leak"), 3, "%s", r.err);
	cr_expect(strstr(r.out, "; fails --fail-on: 3 leaked write ends; see:") != NULL, "%s", r.out);
	cr_expect_eq(t_run(&r, "run --db t.db -s close-range -w 3 --fail-on leak,deadlock,blocker"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "run --db t.db -s reverse-close -w 3 --fail-on deadlock,blocker"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "run --db t.db -q -s close-all -w 3 --fail-on blocker --error-exitcode 42"), 42, "%s", r.err);
	cr_expect(strstr(r.err, "fails --fail-on: 3 EOF blockers") != NULL, "-q still says why: %s", r.err);

	cr_expect_eq(t_run(&r, "record --db t.db --fail-on leak -- %s 3", PROG("leakypool")), 3, "%s", r.err);
	cr_expect(strstr(r.err, "; fails --fail-on: 3 leaked write ends; see: pooltrace explain") != NULL, "%s", r.err);
	cr_expect_eq(t_run(&r, "record --db t.db --fail-on leak -- %s 3 fixed", PROG("leakypool")), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "record --db t.db --fail-on leak -- sh -c 'exit 5'"), 5, "the program's status: %s", r.err);
	cr_expect_eq(t_run(&r, "record --db t.db --fail-on deadlock --error-exitcode 9 -- %s 2", PROG("leakypool")), 9, "%s",
		     r.err);
}

/*
 * The gate as a user puts it in CI: a small C project whose `make check`
 * runs its pool under record --fail-on leak. It fails on the leaky pool
 * (make exits non-zero, the output points to explain) and passes on the
 * fixed one.
 */
Test(explain, a_projects_make_check_fails_on_its_leaky_pool_and_passes_the_fixed_one, .timeout = 120)
{
	struct t_result r;

	if (system("command -v make >/dev/null 2>&1 && command -v cc >/dev/null 2>&1") != 0)
		cr_skip_test("no make or cc");
	cr_assert_eq(t_sh(&r, "mkdir proj && cp '%s/tests/programs/leakypool.c' proj/pool.c && cd proj &&"
			  " printf 'check: pool\\n\\t\"$$PT\" record --db t.db -q --fail-on leak -- ./pool 3 $(MODE)\\n"
			  "pool: pool.c\\n\\tcc -O2 -o pool pool.c\\n' > Makefile && cat Makefile", POOLTRACE_SRC),
		     0, "%s%s", r.out, r.err);
	cr_expect_neq(t_sh(&r, "cd proj && make -s check"), 0, "the leaky pool fails make check: %s%s", r.out, r.err);
	cr_expect(strstr(r.err, "fails --fail-on: ") != NULL && strstr(r.err, "see: pooltrace explain --run 1 --db t.db") != NULL,
		  "the failure points to explain: %s", r.err);
	cr_expect_eq(t_sh(&r, "cd proj && make -s check MODE=fixed"), 0, "the fixed one passes: %s%s", r.out, r.err);
}

Test(explain, bad_fail_on_values_are_one_line_and_exit_2)
{
	static const char *const bad[] = {
		"run --db x.db --fail-on bogus", "run --db x.db --fail-on leak,", "run --db x.db --fail-on ''",
		"record --db x.db --fail-on deadlocks -- true", "snapshot --db x.db --fail-on lea 1",
		"run --db x.db --error-exitcode 0", "record --db x.db --error-exitcode 256 -- true",
		"snapshot --db x.db --error-exitcode x 1",
	};
	struct t_result r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(t_run(&r, "%s", bad[i]), 2, "%s: %s", bad[i], r.err);
		cr_expect_eq(t_lines(r.err), 1, "%s: %s", bad[i], r.err);
		cr_expect(strstr(r.err, "--fail-on") || strstr(r.err, "--error-exitcode"), "%s: %s", bad[i], r.err);
	}
	cr_expect_eq(access(t_path("x.db"), F_OK), -1, "nothing was written");
}

/*
 * Two pools hung in one program, each on its own: two cycles of waits (two
 * strongly connected parts of wait_for), and each is told, in the order of
 * its earliest-forked process; --json has both, "cycle" still the first.
 */
Test(explain, two_pools_hung_in_one_program_are_two_cycles_each_told, .timeout = 60)
{
	const char *db = t_path("t.db");
	struct t_result r;

	t_run(&r, "record --db t.db -q --hang-ms 200 -- %s", PROG("twopools"));
	cr_assert_eq(r.status, 137, "%s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"deadlock", "why it hung: 2 separate cycles of waits, each a deadlock of its own:\n",
		"  the first, a cycle of 3 processes, each waiting for the next:\n",
		"    Process ", " (twopools) waits in wait4 for process ", "(twopools) waits in read(fd 0) for EOF on pipe ",
		"'s write end is still held by process ", "which inherited it at fork",
		"  the second, a cycle of 3 processes, each waiting for the next:\n",
		"    Process ", " (twopools) waits in wait4 for process ", "(twopools) waits in read(fd 0) for EOF on pipe ",
		"'s write end is still held by process ", "which inherited it at fork",
		"leaked write ends: 2, of 2 pipes", "EOF blockers: 2, at 2 pipes", "[close-inherited]", NULL });
	cr_expect(strstr(r.out, "why it hung: a cycle") == NULL, "not told as one cycle: %s", r.out);
	cr_assert_eq(t_run(&r, "explain --db t.db --json > e.json"), 0, "%s", r.err);
	cr_expect_eq(json_value("e.json", "len(d[\"cycles\"])"), 2);
	cr_expect_eq(json_value("e.json", "d[\"cycles\"][0] == d[\"cycle\"] and 1 or 0"), 1);
	/* Disjoint, each led by one of the two pool parents (the children of the first process), waiting for a child. */
	cr_expect_eq(json_value("e.json", "len({s[\"process\"][\"pid\"] for c in d[\"cycles\"] for s in c})"), 6);
	cr_expect_eq(json_value("e.json", "[c[0][\"waits\"] for c in d[\"cycles\"]] == [\"child\", \"child\"] and 1 or 0"), 1);
	cr_expect_eq(json_value("e.json", "d[\"cycles\"][0][0][\"process\"][\"pid\"]"),
		     t_sql_int(db, "SELECT pid FROM processes WHERE run_id = 1 AND ppid = (SELECT pid FROM processes WHERE run_id = 1"
				   " ORDER BY fork_seq, pid LIMIT 1) ORDER BY fork_seq LIMIT 1"),
		     "the first cycle is led by the earlier-forked pool parent");
	cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT pid) FROM wait_for WHERE run_id = 1"), 7,
		     "the first process waits too, on neither cycle");
	cr_assert_eq(t_run(&r, "record --db t.db -q -- %s 2 fixed", PROG("twopools")), 0, "%s", r.err);
	explain(&r, "--run 2");
	cr_expect(strstr(r.out, "why it hung") == NULL && strstr(r.out, "leaked write ends: none") != NULL, "%s", r.out);
}

/* Two hung trees in one snapshot: a cycle for each tree. */
Test(explain, a_snapshot_of_two_hung_trees_tells_both_cycles, .timeout = 60)
{
	struct t_result r;
	pid_t pid[2];

	for (int i = 0; i < 2; i++) {
		cr_assert_geq(pid[i] = fork(), 0);
		if (pid[i] == 0) {
			int null = open("/dev/null", O_RDWR);

			setpgid(0, 0);
			dup2(null, 0);
			dup2(null, 1);
			execl(PROG("leakypool"), "leakypool", "3", (char *)NULL);
			_exit(127);
		}
		setpgid(pid[i], pid[i]);
	}
	usleep(500 * 1000);
	t_run(&r, "snapshot --db t.db -q %d %d", (int)pid[0], (int)pid[1]);
	for (int i = 0; i < 2; i++) {
		kill(-pid[i], SIGKILL);
		while (waitpid(-pid[i], NULL, 0) > 0)
			;
	}
	cr_assert_eq(r.status, 3, "a deadlock found: %s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"run 1 (snapshot: ", "deadlock", "why it hung: 2 separate cycles of waits",
		"  the first, a cycle of ", "    Process ", " (leakypool) waits in wait4 for process ", "until wait4 returns",
		"  the second, a cycle of ", "    Process ", " (leakypool) waits in wait4 for process ", "until wait4 returns",
		"[close-inherited]", NULL });
	cr_assert_eq(t_run(&r, "explain --db t.db --json > e.json"), 0, "%s", r.err);
	cr_expect_eq(json_value("e.json", "len(d[\"cycles\"])"), 2);
	{
		char expr[160];

		snprintf(expr, sizeof(expr), "sorted(c[0][\"process\"][\"pid\"] for c in d[\"cycles\"]) == sorted([%d, %d]) and 1 or 0",
			 (int)pid[0], (int)pid[1]);
		cr_expect_eq(json_value("e.json", expr), 1, "each cycle is led by a tree's root");
	}
}

/* The hung programs a test started, each its own process group: its .fini kills them, whatever the test's end. */
static pid_t explain_groups[8];
static int explain_ngroups;

static void explain_kill_groups(void)
{
	for (int i = 0; i < explain_ngroups; i++) {
		kill(-explain_groups[i], SIGKILL);
		while (waitpid(-explain_groups[i], NULL, 0) > 0)
			;
	}
	explain_ngroups = 0;
}

/* Starts argv untraced in a process group of its own, stdio on /dev/null; returns its pid. */
static pid_t explain_start(const char *const *argv)
{
	pid_t pid;

	cr_assert_lt(explain_ngroups, 8);
	cr_assert_geq(pid = fork(), 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	setpgid(pid, pid);
	explain_groups[explain_ngroups++] = pid;
	return pid;
}

/*
 * Snapshots the trees of pids into t.db once all want of their processes are
 * deadlocked (asked of snapshot itself, into another database, every 100 ms).
 */
static void explain_snapshot_hung(const pid_t *pids, int n, int want)
{
	char list[256] = "", count[64];
	struct t_result r;
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, " %d", (int)pids[i]);
	snprintf(count, sizeof(count), "\"deadlocked\": %d,", want);
	for (int tries = 0; tries < 100; tries++) {
		if (t_run(&r, "snapshot --db probe.db --json%s", list) == 3 && strstr(r.out, count))
			break;
		usleep(100 * 1000);
	}
	cr_assert(strstr(r.out, count) != NULL, "the programs never hung: %s%s", r.out, r.err);
	cr_assert_eq(t_run(&r, "snapshot --db t.db -q%s", list), 3, "%s%s", r.out, r.err);
}

/* Past 6 separate cycles: the first 3 are told, then how many more and the process each starts from. */
Test(explain, past_six_cycles_the_first_three_are_told_and_the_rest_counted, .timeout = 60, .fini = explain_kill_groups)
{
	static const char *const pool[] = { PROG("leakypool"), "3", NULL };
	struct t_result r;
	pid_t pid[7];

	for (int i = 0; i < 7; i++)
		pid[i] = explain_start(pool);
	explain_snapshot_hung(pid, 7, 7 * 4);
	explain_kill_groups();
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"why it hung: 7 separate cycles of waits, each a deadlock of its own:\n",
		"  the first, a cycle of ", "  the second, a cycle of ", "  the third, a cycle of ",
		"\n  ... and 4 more cycles, through processes ", " (leakypool); --json has each\n", "leaked write ends: ", NULL });
	cr_expect(strstr(r.out, "the fourth") == NULL, "%s", r.out);
	cr_assert_eq(t_run(&r, "explain --db t.db --json > e.json"), 0, "%s", r.err);
	cr_expect_eq(json_value("e.json", "len(d[\"cycles\"])"), 7);
}

/*
 * A snapshot has no history, so close-inherited fits a reader waiting for
 * EOF on a cycle: with several cycles, the rule says on which (each, or one
 * of them beside Python's Popen().wait() on a full pipe, where no one reads).
 */
Test(explain, a_snapshots_close_inherited_rule_says_on_which_cycles_the_reader_waits, .timeout = 60,
     .fini = explain_kill_groups)
{
	static const char *const pool[] = { PROG("leakypool"), "3", NULL };
	static const char *const popen_wait[] = {
		"/usr/bin/env", "python3", "-c",
		"import subprocess, sys\n"
		"p = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdout.write(200000 * \"x\")'], stdout=subprocess.PIPE)\n"
		"p.wait()", NULL };
	struct t_result r;
	pid_t pid[2];

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		cr_skip_test("no python3");
	pid[0] = explain_start(pool);
	pid[1] = explain_start(pool);
	explain_snapshot_hung(pid, 2, 8);
	explain_kill_groups();
	explain(&r, "");
	cr_expect(strstr(r.out, "[close-inherited] on each cycle, a reader waits for EOF on a pipe whose write end other"
				" processes of the tree still hold") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "on the cycle") == NULL, "%s", r.out);
	pid[0] = explain_start(pool);
	pid[1] = explain_start(popen_wait);
	explain_snapshot_hung(pid, 2, 4 + 2);
	explain_kill_groups();
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"why it hung: 2 separate cycles of waits", "[read-first] ",
		"[close-inherited] on one of the cycles, a reader waits for EOF on a pipe whose write end other", NULL });
}

/*
 * A socketpair end is not a pipe: the socket pool's leaks, blockers and
 * cycle name socketpair ends and the end each is the way into, and the JSON
 * gives the kind and the peer.
 */
Test(explain, a_socketpair_pools_leaks_are_told_as_socketpair_ends, .timeout = 60)
{
	const char *db = t_path("t.db");
	struct t_result r;

	t_run(&r, "record --db t.db -q --io --hang-ms 200 -- %s 3", PROG("sockpool"));
	cr_assert_eq(r.status, 137, "%s", r.err);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM pipes WHERE kind = 'socket' AND peer_id = 2 AND pipe_id = 1"), 1);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"why it hung: a cycle of 3 processes", " (sockpool) waits in read(fd ", ") on a socketpair (end 2).",
		"Its other end, socketpair end 1, is still held by processes ", ", which inherited it at fork (seq ",
		"leaked write ends: 3, of 2 socketpair ends (", "each can keep the reader of its other end from EOF",
		"  socketpair end 1 (fd ", "), the way into end 2, in processes ", "made by process ",
		"  socketpair end 3 (fd ", "), the way into end 4, in process ",
		"EOF blockers: 2, at 1 socketpair end (",
		"  socketpair end 1: process ", " (sockpool) waited for EOF on end 2 from seq ", " let go of end 1, until the kill",
		"[close-inherited]", NULL });
	cr_expect(strstr(r.out, "pipe 1") == NULL && strstr(r.out, "pipe 3") == NULL && strstr(r.out, "of 2 pipes") == NULL,
		  "no socketpair end is called a pipe: %s", r.out);
	cr_assert_eq(t_run(&r, "explain --db t.db --json > e.json"), 0, "%s", r.err);
	cr_expect_eq(json_value("e.json", "[(g[\"pipe_id\"], g[\"kind\"], g[\"peer_id\"]) for g in d[\"leak_groups\"]]"
					  " == [(1, \"socket\", 2), (3, \"socket\", 4)] and 1 or 0"), 1);
	cr_expect_eq(json_value("e.json", "[(b[\"kind\"], b[\"peer_id\"], len(b[\"readers\"])) for b in d[\"blockers\"]]"
					  " == [(\"socket\", 2, 1)] and 1 or 0"), 1);
	cr_expect_eq(json_value("e.json", "d[\"cycle\"][1][\"waits\"] == \"socket\" and d[\"cycle\"][1][\"peer_id\"] == 1 and 1 or 0"), 1);
	/* A pipe pool's groups stay pipes. */
	cr_assert_eq(t_run(&r, "run --db t.db -q -s naive -w 3 && \"$PT\" explain --db t.db --run 2 --json > p.json"), 0, "%s", r.err);
	cr_expect_eq(json_value("p.json", "all(g[\"kind\"] == \"pipe\" and g[\"peer_id\"] is None for g in d[\"leak_groups\"]) and 1 or 0"), 1);
}

/* A hung tree read by snapshot: the gate and the hint there too, and explain reads the stored snapshot. */
Test(explain, snapshot_takes_the_gate_and_its_run_is_explained, .timeout = 60)
{
	struct t_result r;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		dup2(null, 0);
		dup2(null, 1);
		execl(PROG("leakypool"), "leakypool", "3", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	usleep(500 * 1000);
	t_run(&r, "snapshot --db t.db --fail-on deadlock --error-exitcode 7 %d", (int)pid);
	cr_expect_eq(r.status, 7, "%s", r.err);
	cr_expect(strstr(r.err, "; fails --fail-on: deadlock; see: pooltrace explain --run 1 --db t.db\n") != NULL, "%s", r.err);
	cr_expect_eq(t_run(&r, "snapshot --db t.db --fail-on leak %d", (int)pid), 3, "deadlock, but no leak asked: %s", r.err);
	kill(-pid, SIGKILL);
	while (waitpid(-pid, NULL, 0) > 0)
		;
	explain(&r, "--run 1");
	expect_in_order(r.out, (const char *const[]){
		"run 1 (snapshot: ", "deadlock", " (leakypool) waits in wait4 for process ",
		"waits in read(fd 0) for data or EOF on pipe ", "until wait4 returns", "[close-inherited]", NULL });
}

/* One process, no cycle between processes: its threads wait for each other. */
Test(explain, threads_joined_before_their_pipe_is_closed_get_close_before_join, .timeout = 60)
{
	struct t_result r;

	t_run(&r, "record --db t.db -- %s 3", PROG("threadpool"));
	cr_assert_eq(r.status, 137, "%s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"why it hung: process ", " (threadpool) is deadlocked by its own threads",
		"The main thread waits in pthread_join for thread ",
		"Thread ", "waits in read(fd ", "whose write end only its own process holds (fd ",
		"[close-before-join]", "close every write end first, then join", NULL });
	cr_assert_eq(t_run(&r, "explain --db t.db --json > j.json && python3 -m json.tool j.json > /dev/null"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "record --db t.db -- %s 3 fixed", PROG("threadpool")), 0, "%s", r.err);
	explain(&r, "");
	cr_expect(strstr(r.out, "nothing to fix") != NULL, "%s", r.out);
}

/* A writer waiting for a reader that waits for a "go": a cycle, no leak, and no rule pretends to fit. */
Test(explain, a_cycle_no_rule_fits_is_said_so)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q --scenario full-pipe-stuck"), 0, "%s", r.err);
	explain(&r, "");
	expect_in_order(r.out, (const char *const[]){
		"The parent (pid ", "waits in write(fd ", "for room in pipe 1, which is full (",
		"Pipe 1's read end is held only by worker 0 (pid ",
		"Worker 0 (pid ", "waits in read(fd ", "for data or EOF on pipe 2.",
		"Pipe 2's write end is still held by the parent (pid ",
		"fix: no rule of docs/explain.md fits this cycle", NULL });
	cr_expect(strstr(r.out, "[") == NULL, "no rule: %s", r.out);
}

/* A thousand workers: a screenful, in seconds (a per-row query took minutes). */
Test(explain, a_thousand_worker_run_is_a_screenful_in_seconds, .timeout = 600)
{
	struct t_result r;
	struct timespec t0, t1;
	double secs;

	cr_assert_eq(t_run(&r, "run --db t.db -q -s naive -w 1000 -t 2000 --no-io-events"), 0, "%s", r.err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	explain(&r, "");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_expect_lt(t_lines(r.out), 30, "%d lines:\n%s", t_lines(r.out), r.out);
	expect_in_order(r.out, (const char *const[]){
		"Pipe 1's write end is still held by workers 1-999 (pids ", "and 996 more) and never used it",
		"their own pipes (2-1000)",
		"leaked write ends: 499500, of 999 pipes",
		"workers 1-999 (pids ", "each hold the write ends of all earlier pipes (pipes 1-999",
		"499500 leaked write ends", "... and 996 more pipes' write ends",
		"EOF blockers: 999, at 1 pipe", NULL });
	/* Generous for the sanitizer build on a loaded machine; it takes about 1 s here. */
	cr_expect_lt(secs, 60.0, "explain took %.1f s", secs);
}

/*
 * A snapshot of a hung pool beside a process that waits for itself alone
 * (it reads a pipe whose only write end it holds): explain tells both, the
 * cycle and then the self-wait, as snapshot does, and --json names it in
 * self_deadlock. (Before: only the cycle; the other process was never named.)
 */
Test(explain, a_process_waiting_for_itself_beside_a_cycle_is_told_too, .timeout = 60, .fini = explain_kill_groups)
{
	static const char *const pool[] = { PROG("leakypool"), "2", NULL };
	static const char *const self[] = { "/usr/bin/env", "python3", "-c", "import os\nr, w = os.pipe()\nos.read(r, 1)", NULL };
	struct t_result r;
	pid_t pid[2];
	char want[64];

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		cr_skip_test("no python3");
	pid[0] = explain_start(pool);
	pid[1] = explain_start(self);
	explain_snapshot_hung(pid, 2, 3 + 1);
	explain_kill_groups();
	explain(&r, "");
	snprintf(want, sizeof(want), "and beside them: process %d (python3", (int)pid[1]);
	expect_in_order(r.out, (const char *const[]){ "why it hung: a cycle of ", want, NULL });
	explain(&r, "--json");
	snprintf(want, sizeof(want), "\"self_deadlock\": %d", (int)pid[1]);
	cr_expect(strstr(r.out, want) != NULL, "%s", r.out);
}
