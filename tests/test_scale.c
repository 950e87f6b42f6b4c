/* test_scale.c: a 1000-worker naive pool deadlocks, is explained, killed, reaped and committed, counts exact. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* No timing threshold here: speed is measured by `make bench`, not asserted. */
Test(scale, a_thousand_worker_naive_pool_is_detected_and_fully_reaped, .timeout = 600)
{
	struct t_result r;
	const char *db = t_path("big.db");
	const long n = 1000;

	cr_assert_eq(t_run(&r, "run --db big.db -s naive -w %ld -t %ld", n, 2 * n), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT events_dropped + events_torn FROM runs"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends"), n * (n - 1) / 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers"), n - 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE reap_seq IS NULL"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'hang'"), n + 1);
	cr_expect_not(t_pgrp_alive((pid_t)t_sql_int(db, "SELECT pid FROM processes WHERE role = 'parent'")));
}

/*
 * The summary's counts grow with the holds, not with their square: a
 * program that makes and closes N pipes (2N holds in one process, N
 * give-ups of a write end) costs eof_blockers about 4 times the work for 4
 * times the pipes, counted in SQLite's VM steps. (Before schema 10 the view
 * read every hold of the process for each give-up: 16 times the work, and
 * `record` of 16,000 such pipes spent 63 s on its summary line.)
 */
Test(scale, counting_a_programs_eof_blockers_grows_linearly_with_its_pipes, .timeout = 120)
{
	struct t_result r;
	const char *db = t_path("pipes.db");
	int64_t small, big;

	cr_assert_eq(t_run(&r, "record --db pipes.db -- %s/manypipes 1000 close", POOLTRACE_PROGRAMS), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "record --db pipes.db -- %s/manypipes 4000 close", POOLTRACE_PROGRAMS), 0, "%s", r.err);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM fd_holds WHERE run_id = 2"),
		     4 * t_sql_int(db, "SELECT count(*) FROM fd_holds WHERE run_id = 1"), "2N pipe holds in each");
	small = t_vm_steps(db, "SELECT count(*) FROM eof_blockers WHERE run_id = 1");
	big = t_vm_steps(db, "SELECT count(*) FROM eof_blockers WHERE run_id = 2");
	cr_expect_lt(big, 6 * small, "4 times the pipes: %lld VM steps against %lld", (long long)big, (long long)small);
	/* The size, within the test's timeout, its summary counted. */
	cr_assert_eq(t_run(&r, "record --db pipes.db -- %s/manypipes 16000 close", POOLTRACE_PROGRAMS), 0, "%s", r.err);
	cr_expect(strstr(r.err, "leaked write ends 0, EOF blockers 0;") != NULL, "%s", r.err);
}

/*
 * Depth, not width: a 300-deep fork chain in which each process keeps every
 * pipe above it (90k holds, no workers for --max-workers to cut) is drawn
 * by every reader within the test's timeout, and the caption says what was
 * left out. (Before, dot was given every process and hold: render of a
 * 60-deep chain ran for minutes, report of a 300-deep one past 30 s, and
 * a PNG of it took 1.9 GB before it was stopped.)
 */
Test(scale, a_300_deep_fork_chain_renders_and_reports_and_says_what_it_cut, .timeout = 120)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db chain.db -- %s/chain 300 keep", POOLTRACE_PROGRAMS), 0, "%s", r.err);
	cr_expect(strstr(r.err, "301 processes; leaked write ends 45150,") != NULL, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db chain.db --format dot -o -"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "cut: 294 of 301 processes and 276 pipes not drawn") != NULL, "caption: %.300s",
		  strstr(r.out, "cut") ? strstr(r.out, "cut") : r.out);
	cr_expect(strstr(r.out, "leaked write ends held:") != NULL);
	cr_assert_eq(t_run(&r, "render --db chain.db --format png -o chain.png"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "compare --db chain.db --runs 1,1 -o chain-compare.svg"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "timeline --db chain.db -o chain-timeline.svg"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "report --db chain.db -o chain.html"), 0, "%s", r.err);
	cr_assert_eq(t_sh(&r, "grep -o 'cut: [^<]*' chain.html"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "cut: 294 of 301 processes and 276 of 300 pipes not drawn") != NULL, "%s", r.out);
}

/* Occurrences of needle in s. */
static int scale_count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * --max-workers asks for full detail, never for a layout of minutes: the
 * 60-worker hang drawn whole (--max-workers 100) has 1770 leaked write ends,
 * whose edges took dot 90 s. Past 300 they are not drawn, the red rows still
 * name their pipes, and the caption says how many were left out; the default
 * picture (12 workers drawn) keeps its red edges.
 */
Test(scale, a_60_worker_hang_drawn_whole_leaves_out_its_leak_edges_and_says_so, .timeout = 120)
{
	static char dot[8 << 20];
	struct t_result r;
	FILE *f;
	size_t n;
	int rows;

	cr_assert_eq(t_run(&r, "run --db h.db -q -s naive -w 60 -t 120 --hang-ms 200"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db h.db --at hang --max-workers 100 --format dot -o h.dot"), 0, "%s", r.err);
	cr_assert_not_null(f = fopen(t_path("h.dot"), "r"));
	n = fread(dot, 1, sizeof(dot) - 1, f);
	dot[n] = '\0';
	fclose(f);
	cr_expect(strstr(dot, "1770 leaked write-end edges not drawn") != NULL, "the caption says what it left out");
	cr_expect_eq(scale_count(dot, "class=\"fd write-end leak\""), 0);
	rows = scale_count(dot, "(leaked)<");
	cr_expect_eq(rows, 1770, "every leaked row is still there, red: %d", rows);
	cr_assert_eq(t_run(&r, "render --db h.db --at hang --format dot -o h.dot"), 0, "%s", r.err);
	cr_assert_not_null(f = fopen(t_path("h.dot"), "r"));
	n = fread(dot, 1, sizeof(dot) - 1, f);
	dot[n] = '\0';
	fclose(f);
	cr_expect(strstr(dot, "edges not drawn") == NULL);
	cr_expect_gt(scale_count(dot, "class=\"fd write-end leak\""), 0, "the default picture draws its leaks");
}

/* The file at name in the test's directory, read whole into buf (NUL-terminated). */
static void scale_slurp(const char *name, char *buf, size_t len)
{
	FILE *f = fopen(t_path(name), "r");
	size_t n;

	cr_assert_not_null(f, "%s missing", name);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/*
 * One row of the leak matrix in DOT text at *p ("workers A–B", its cells,
 * how many it holds): false when there is none left. Moves *p past it.
 */
static bool scale_matrix_row(const char **p, int *first, int *last, int *cells, int *empty, long long *held)
{
	const char *row = strstr(*p, ">workers "), *end, *c, *num;

	if (!row || !(end = strstr(row, "</TR>")))
		return false;
	cr_assert_eq(sscanf(row, ">workers %d–%d<", first, last), 2, "a row names its workers: %.40s", row);
	*cells = *empty = 0;
	for (c = row; (c = strstr(c, "BGCOLOR=\"")) && c < end; c++) {
		(*cells)++;
		*empty += !strncmp(c, "BGCOLOR=\"#eeeeee\"", 17);
	}
	/* The last number of the row: what it holds. */
	for (num = end; num > row && num[-1] != '>'; num--)
		;
	while (num > row && !(num[0] >= '0' && num[0] <= '9'))
		num--;
	while (num > row && num[-1] >= '0' && num[-1] <= '9')
		num--;
	cr_assert_eq(sscanf(num, "%lld", held), 1, "%.60s", num);
	*p = end;
	return true;
}

/*
 * Past 300 leaked write ends the picture cannot draw them as edges, nor
 * show them through the collapsed workers: a leak matrix does (a row per
 * band of workers, a column per band of pipes), and what it says is the
 * trace's. Here a 60-worker naive hang's staircase (worker k holds the write
 * ends of workers 0..k-1's pipes): every row's count is the view's count for
 * its workers, they add up to the view's total, each row reaches further
 * right than the one above, and the last row is held in full. With the
 * whole pool drawn the matrix is there too, and the caption points to it.
 * A run of 25 workers (300 leaks) is drawn as before, without one.
 */
Test(scale, a_large_hang_draws_its_leaked_write_ends_as_a_matrix_true_to_the_trace, .timeout = 120)
{
	static char dot[8 << 20];
	struct t_result r;
	const char *db = t_path("m.db"), *p;
	long long total, sum = 0, held;
	int first, last, cells, empty, rows = 0, next = 1, reach = 0;

	cr_assert_eq(t_run(&r, "run --db m.db -q -s naive -w 60 -t 120 --hang-ms 200"), 0, "%s", r.err);
	total = t_sql_int(db, "SELECT count(*) FROM leaked_write_ends");
	cr_assert_eq(total, 1770);
	cr_assert_eq(t_run(&r, "render --db m.db --at hang --format dot -o m.dot"), 0, "%s", r.err);
	scale_slurp("m.dot", dot, sizeof(dot));
	cr_assert_eq(scale_count(dot, "class=\"leak-matrix\""), 1, "one leak matrix");
	cr_assert_not_null(p = strstr(dot, "<B>leak matrix</B>"));
	cr_expect(strstr(p, "1770 leaked write ends</FONT>: 59 workers hold them on 59 pipes") != NULL, "%.200s", p);
	while (scale_matrix_row(&p, &first, &last, &cells, &empty, &held)) {
		long long want = t_sql_int(db, "SELECT count(*) FROM leaked_write_ends l JOIN processes p"
					       " ON p.run_id = l.run_id AND p.pid = l.pid"
					       " WHERE p.worker_index BETWEEN %d AND %d", first, last);

		cr_expect_eq(first, next, "the rows follow each other: workers %d–%d after %d", first, last, next - 1);
		cr_expect_eq(held, want, "workers %d–%d hold %lld, the view says %lld", first, last, held, want);
		cr_expect_geq(cells - empty, reach, "workers %d–%d reach as far as the row above", first, last);
		cr_expect_leq(cells, 40, "at most 40 columns: slide-sized");
		reach = cells - empty;
		next = last + 1;
		sum += held;
		rows++;
	}
	cr_expect_eq(next, 60, "the rows end at the last worker");
	cr_expect_leq(rows, 16, "at most 16 rows: %d", rows);
	cr_expect_gt(rows, 1);
	cr_expect_eq(empty, 0, "the last workers hold a write end of every pipe band");
	cr_expect_eq(sum, total, "the rows add up to the view's %lld: %lld", total, sum);

	cr_assert_eq(t_run(&r, "render --db m.db --at hang --max-workers 100 --format dot -o whole.dot"), 0, "%s", r.err);
	scale_slurp("whole.dot", dot, sizeof(dot));
	cr_expect_eq(scale_count(dot, "class=\"leak-matrix\""), 1);
	cr_expect(strstr(dot, "1770 leaked write-end edges not drawn") != NULL);
	cr_expect(strstr(dot, "the leak matrix shows them all") != NULL);

	cr_assert_eq(t_run(&r, "run --db s.db -q -s naive -w 25 -t 50 --hang-ms 200"), 0, "%s", r.err);
	cr_assert_eq(t_sql_int(t_path("s.db"), "SELECT count(*) FROM leaked_write_ends"), 300);
	cr_assert_eq(t_run(&r, "render --db s.db --at hang --max-workers 100 --format dot -o s.dot"), 0, "%s", r.err);
	scale_slurp("s.dot", dot, sizeof(dot));
	cr_expect_eq(scale_count(dot, "leak-matrix"), 0, "300 leaks are drawn as edges, with no matrix");
	cr_expect_eq(scale_count(dot, "class=\"fd write-end leak\""), 300);
}

/*
 * --max-workers never asks for a layout of minutes: a 120-worker hang with
 * --max-workers 100000 is drawn as with 100 (the first and last 3 workers,
 * the rest one box), and stderr says so in one line; the same run with
 * --max-workers 120 says the same. A run of 100 or fewer is drawn whole, with
 * no word. (Before: every box laid out; 300 workers were not done in 10 min.)
 */
Test(scale, max_workers_past_a_layouts_budget_draws_what_it_can_and_says_so, .timeout = 120)
{
	static char dot[8 << 20];
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db w.db -q -s naive -w 120 -t 120 --hang-ms 200"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db w.db --at hang --max-workers 100000 --format dot -o w.dot"), 0, "%s", r.err);
	cr_expect(strstr(r.err, "pooltrace: --max-workers 100000: run 1 has 120 workers, more than the 100 a layout draws"
			       " in seconds") != NULL, "%s", r.err);
	cr_expect_eq(scale_count(r.err, "\n"), 1, "one line: %s", r.err);
	scale_slurp("w.dot", dot, sizeof(dot));
	cr_expect(strstr(dot, "workers 3 … 116 collapsed") != NULL, "the middle is one box");
	/* On a terminal the note is a line of its own: the progress line is erased before it. */
	if (system("command -v script >/dev/null 2>&1") == 0) {
		cr_assert_eq(t_sh(&r, "script -qfec '\"$PT\" render --db w.db --at hang --max-workers 100000 -o w.svg' w.log"
				      " >/dev/null && cat -v w.log"), 0, "%s", r.err);
		cr_expect(strstr(r.out, "^[[K^M^[[Kpooltrace: --max-workers 100000: run 1 has 120 workers") != NULL, "%s", r.out);
	}
	cr_assert_eq(t_run(&r, "compare --db w.db --runs 1,1 --max-workers 120 --format dot -o c.dot"), 0, "%s", r.err);
	cr_expect_eq(scale_count(r.err, "more than the 100 a layout draws"), 2, "once per panel: %s", r.err);
	cr_assert_eq(t_run(&r, "run --db s.db -q -s naive -w 8 --hang-ms 200"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db s.db --at hang --max-workers 100000 --format dot -o s.dot"), 0, "%s", r.err);
	cr_expect_str_eq(r.err, "");
}

/*
 * The waits of and for the workers not drawn are bundled into one box of the
 * wait-for panel ("workers 3–56, 54 not drawn"): one edge per drawn process
 * and way, exactly for the drawn processes that wait for one of them, or
 * that one of them waits for, in the wait_for view; on the cycle here. An
 * 8-worker picture, all drawn, has none. (Before: the collapsed workers'
 * waits were left out, and the cycle the panel drew had a hole.)
 */
Test(scale, the_waits_of_workers_not_drawn_are_one_bundle_each_way, .timeout = 120)
{
	static char dot[8 << 20];
	const char *db = t_path("b.db");
	static const char drawn[] = "(p.role = 'parent' OR p.worker_index < 3 OR p.worker_index >= 57)";
	struct t_result r;
	int64_t out, in;

	cr_assert_eq(t_run(&r, "run --db b.db -q -s naive -w 60 -t 120 --hang-ms 200"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db b.db --at hang --format dot -o b.dot"), 0, "%s", r.err);
	scale_slurp("b.dot", dot, sizeof(dot));
	cr_expect_eq(scale_count(dot, "class=\"waits-node waits-group cycle\""), 1, "one box for them, on the cycle");
	cr_expect(strstr(dot, "label=\"workers 3–56") != NULL && strstr(dot, "54 not drawn\"") != NULL, "its label");
	out = t_sql_int(db, "SELECT count(DISTINCT w.pid) FROM wait_for w JOIN processes p ON p.run_id = w.run_id"
			    " AND p.pid = w.pid JOIN processes q ON q.run_id = w.run_id AND q.pid = w.waits_for"
			    " WHERE %s AND q.worker_index BETWEEN 3 AND 56", drawn);
	in = t_sql_int(db, "SELECT count(DISTINCT w.waits_for) FROM wait_for w JOIN processes p ON p.run_id = w.run_id"
			   " AND p.pid = w.waits_for JOIN processes q ON q.run_id = w.run_id AND q.pid = w.pid"
			   " WHERE %s AND q.worker_index BETWEEN 3 AND 56", drawn);
	cr_expect_gt(out, 0);
	cr_expect_gt(in, 0);
	cr_expect_eq(scale_count(dot, " -> w0\t[class=\"waits-for bundle"), out, "a bundle from each that waits for them");
	cr_expect_eq(scale_count(dot, "class=\"waits-for bundle"), out + in, "and one to each they wait for");

	cr_assert_eq(t_run(&r, "run --db s.db -q -s naive -w 8 --hang-ms 200"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db s.db --at hang --format dot -o s.dot"), 0, "%s", r.err);
	scale_slurp("s.dot", dot, sizeof(dot));
	cr_expect_eq(scale_count(dot, "waits-group"), 0);
	cr_expect_eq(scale_count(dot, "bundle"), 0);
}
