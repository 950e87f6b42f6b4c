/* test_viz.c: render, compare and timeline draw what the trace says, in every format, and fail cleanly. */
#include "helpers.h"
#include "viz/leakmatrix.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Count of occurrences of needle in the file at path. */
static int count_in_file(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	static char buf[8 << 20];
	size_t n;
	int count = 0;

	cr_assert_not_null(f, "%s missing", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	for (char *p = buf; (p = strstr(p, needle)); p += strlen(needle))
		count++;
	return count;
}

static int starts_with(const char *path, const char *magic, size_t len)
{
	char head[16] = { 0 };
	FILE *f = fopen(path, "rb");

	cr_assert_not_null(f, "%s missing", path);
	cr_assert_eq(fread(head, 1, len, f), len, "%s too short", path);
	fclose(f);
	return memcmp(head, magic, len) == 0;
}

/* Runs the three strategies of the docs into v.db: runs 1, 2, 3. */
static void three_runs(void)
{
	struct t_result r;

	for (const char *const *s = (const char *const[]){ "naive", "reverse-close", "child-close", NULL }; *s; s++)
		cr_assert_eq(t_run(&r, "run --db v.db -s %s -w 4 -t 8 --shutdown-delay-ms 30 -q", *s), 0, "%s", r.err);
}

Test(viz, every_format_is_produced_with_its_signature, .timeout = 60)
{
	struct t_result r;

	three_runs();
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 -o a.svg"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 -o a.png"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 -o a.pdf"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 -o a.dot"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 --format svg -o a.picture"), 0, "%s", r.err);
	cr_expect(starts_with(t_path("a.svg"), "<?xml", 5) || starts_with(t_path("a.svg"), "<svg", 4));
	cr_expect(starts_with(t_path("a.png"), "\x89PNG\r\n\x1a\n", 8));
	cr_expect(starts_with(t_path("a.pdf"), "%PDF-", 5));
	cr_expect(starts_with(t_path("a.dot"), "digraph", 7));
	cr_expect(starts_with(t_path("a.picture"), "<?xml", 5));
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 -o - --format dot"), 0, "%s", r.err);
	cr_expect(strncmp(r.out, "digraph", 7) == 0, "stdout output");
}

Test(viz, red_edges_are_exactly_the_leaked_write_ends_held_and_one_cluster_per_live_process, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("v.db");

	three_runs();
	for (int run = 1; run <= 3; run++) {
		for (const char *const *at = (const char *const[]){ "spawned", "shutdown", "end", NULL }; *at; at++) {
			const char *svg = t_path("x.svg");
			int64_t seq, leaked, alive;

			cr_assert_eq(t_run(&r, "render --db v.db --run %d --at %s -o x.svg", run, *at), 0, "%s", r.err);
			cr_assert_eq(t_run(&r, "render --db v.db --run %d --at %s -o - --format dot | "
					       "grep -o 'seq [0-9]*' | head -1 | cut -d' ' -f2", run, *at), 0);
			seq = atoll(r.out);
			cr_assert_gt(seq, 0, "caption names the seq");
			leaked = t_sql_int(db, "SELECT count(*) FROM leaked_write_ends l JOIN holds h USING (run_id, pid, fd, pipe_id) "
					       "WHERE run_id = %d AND h.from_seq <= %lld AND (h.to_seq IS NULL OR h.to_seq > %lld) "
					       "AND h.pipe_end = 'write'", run, (long long)seq, (long long)seq);
			alive = t_sql_int(db, "SELECT count(*) FROM processes WHERE run_id = %d AND fork_seq <= %lld AND "
					      "(coalesce(exit_seq, reap_seq) IS NULL OR coalesce(exit_seq, reap_seq) > %lld)",
					  run, (long long)seq, (long long)seq);
			cr_expect_eq(count_in_file(svg, "class=\"edge fd write&#45;end leak\""), leaked,
				     "run %d at %s: red edges", run, *at);
			cr_expect_eq(count_in_file(svg, "class=\"cluster process\""), alive, "run %d at %s: live clusters",
				     run, *at);
			cr_expect_eq(count_in_file(svg, "class=\"node pipe\"") > 0 || !strcmp(*at, "end"), 1);
		}
	}
	/* The picture that matters: at shutdown naive shows N(N-1)/2 red edges, child-close none. */
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 -o n.svg"), 0);
	cr_expect_eq(count_in_file(t_path("n.svg"), "class=\"edge fd write&#45;end leak\""), 6);
	cr_assert_eq(t_run(&r, "render --db v.db --run 3 -o c.svg"), 0);
	cr_expect_eq(count_in_file(t_path("c.svg"), "class=\"edge fd write&#45;end leak\""), 0);
	cr_expect_gt(count_in_file(t_path("c.svg"), "class=\"edge fd read&#45;end\""), 0);
	cr_expect_eq(count_in_file(t_path("c.svg"), "class=\"node legend\""), 1);
	/* Foreign fds: one grey row per process by default, a row and an edge each with full, nothing with none. */
	cr_expect_eq(count_in_file(t_path("c.svg"), "class=\"edge fd foreign\""), 0);
	cr_expect_eq(count_in_file(t_path("c.svg"), "fds from outside"), count_in_file(t_path("c.svg"), "class=\"cluster process\""),
		     "one row per live process");
	cr_assert_eq(t_run(&r, "render --db v.db --run 3 --foreign full -o c.svg"), 0);
	cr_expect_gt(count_in_file(t_path("c.svg"), "class=\"edge fd foreign\""), 0);
	cr_expect_eq(count_in_file(t_path("c.svg"), "fds from outside"), 0);
	cr_assert_eq(t_run(&r, "render --db v.db --run 3 --foreign none -o c.svg"), 0);
	cr_expect_eq(count_in_file(t_path("c.svg"), "class=\"edge fd foreign\""), 0);
	cr_expect_eq(count_in_file(t_path("c.svg"), "from outside"), 0);
	cr_expect_eq(t_run(&r, "render --db v.db --run 3 --foreign some -o c.svg"), 2);
}

Test(viz, the_hang_moment_shows_the_blocked_pipes_holders, .timeout = 60)
{
	struct t_result r;

	three_runs();
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 --at hang -o h.dot"), 0, "%s", r.err);
	cr_expect_gt(count_in_file(t_path("h.dot"), "hang (seq"), 0);
	cr_expect_gt(count_in_file(t_path("h.dot"), "EOF blockers: 3 now"), 0);
}

Test(viz, compare_and_timeline_render_for_every_strategy, .timeout = 120)
{
	struct t_result r;

	for (const char *const *s = (const char *const[]){ "naive", "close-all", "reverse-close", "child-close",
							   "close-range", NULL }; *s; s++)
		cr_assert_eq(t_run(&r, "run --db all.db -s %s -w 3 -t 6 -q", *s), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "compare --db all.db --runs 1,2,3,4,5 -o cmp.svg"), 0, "%s", r.err);
	cr_expect_eq(count_in_file(t_path("cmp.svg"), "class=\"cluster panel\""), 5);
	for (int run = 1; run <= 5; run++) {
		char name[32];

		snprintf(name, sizeof(name), "t%d.svg", run);
		cr_assert_eq(t_run(&r, "timeline --db all.db --run %d -o %s", run, name), 0, "%s", r.err);
		cr_expect_eq(count_in_file(t_path(name), "class=\"node lane\""), 5, "run %d: parent, 3 workers, pooltrace",
			     run);
	}
	cr_expect_gt(count_in_file(t_path("t1.svg"), "class=\"node event hang pid"), 0);
	cr_expect_eq(count_in_file(t_path("t2.svg"), "class=\"node event hang pid"), 0);
	cr_expect_eq(count_in_file(t_path("t1.svg"), "class=\"edge fork\""), 4);
}

/* Sums the count given for kind over the timeline's folded nodes ("... (not drawn): 54 pipe, 54 fork"). */
static long folded_count(const char *path, const char *kind)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	long sum = 0;

	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "(not drawn):");
		long n;
		char k[16];
		int used;

		for (p = p ? p + 12 : NULL; p && sscanf(p, " %ld %15[a-z_]%n", &n, k, &used) == 2; p += used + (p[used] == ',')) {
			if (!strcmp(k, kind))
				sum += n;
		}
	}
	fclose(f);
	return sum;
}

Test(viz, a_large_pool_collapses_but_keeps_exact_counts, .timeout = 300)
{
	struct t_result r;
	const char *db = t_path("big.db");
	int64_t leaked, blockers;

	cr_assert_eq(t_run(&r, "run --db big.db -s naive -w 60 -t 60 -q"), 0, "%s", r.err);
	leaked = t_sql_int(db, "SELECT count(*) FROM leaked_write_ends");
	blockers = t_sql_int(db, "SELECT count(*) FROM eof_blockers");
	cr_assert_eq(leaked, 60 * 59 / 2);
	cr_assert_eq(t_run(&r, "render --db big.db --at hang -o big.dot"), 0, "%s", r.err);
	/* 3 + 3 workers and the parent drawn; the rest in one summary node. */
	cr_expect_eq(count_in_file(t_path("big.dot"), "cluster_p"), 7);
	cr_expect_eq(count_in_file(t_path("big.dot"), "class=summary"), 1);
	cr_expect_gt(count_in_file(t_path("big.dot"), "workers 3 … 56 collapsed"), 0);
	/* The caption's counts are the views' counts, not what is drawn. */
	{
		char want[96];

		snprintf(want, sizeof(want), "leaked write ends held: %lld", (long long)leaked);
		cr_expect_gt(count_in_file(t_path("big.dot"), want), 0, "%s", want);
		snprintf(want, sizeof(want), "%lld in the run", (long long)blockers);
		cr_expect_gt(count_in_file(t_path("big.dot"), want), 0, "%s", want);
	}
	/* Drawn in full on request. */
	cr_assert_eq(t_run(&r, "render --db big.db --at hang --max-workers 100 -o full.dot"), 0, "%s", r.err);
	cr_expect_eq(count_in_file(t_path("full.dot"), "cluster_p"), 61);
	cr_assert_eq(t_run(&r, "timeline --db big.db -o tl.svg"), 0, "%s", r.err);
	cr_expect_eq(count_in_file(t_path("tl.svg"), "class=\"node lane\""), 8);
	/* The parent's and pooltrace's events about workers not drawn are folded,
	 * with exact counts: one pipe, fork, kill and reap per such worker. */
	cr_assert_eq(t_run(&r, "timeline --db big.db -o tl.dot"), 0, "%s", r.err);
	for (const char *const *k = (const char *const[]){ "pipe", "fork", "kill", "reap", NULL }; *k; k++)
		cr_expect_eq(folded_count(t_path("tl.dot"), *k), 54, "%s", *k);
	cr_expect_eq(count_in_file(t_path("tl.dot"), "fork → worker 30"), 0);
	cr_expect_eq(count_in_file(t_path("tl.dot"), "fork → worker 57"), 1);
}

static void expect_viz_error(const char *args, const char *needle)
{
	struct t_result r;

	t_run(&r, "%s", args);
	cr_expect_eq(r.status, 2, "`%s` exit %d: %s", args, r.status, r.err);
	cr_expect_eq(t_lines(r.err), 1, "`%s`: %s", args, r.err);
	cr_expect(strstr(r.err, needle) != NULL, "`%s`: '%s' not in %s", args, needle, r.err);
}

Test(viz, bad_input_gets_one_line_and_exit_2, .timeout = 60)
{
	struct t_result r;

	three_runs();
	expect_viz_error("render --db v.db --run 99 -o x.svg", "no run 99");
	expect_viz_error("render --db v.db --run 2 --at hang -o x.svg", "run 2 has no hang moment");
	expect_viz_error("render --db v.db --run 1 --at 999999 -o x.svg", "moment '999999'");
	expect_viz_error("render --db v.db --run 1 --at noon -o x.svg", "moment 'noon'");
	expect_viz_error("render --db v.db --run 1 -o x.gif", "unknown format 'gif'");
	expect_viz_error("render --db v.db --run 1 --format jpeg -o x.svg", "unknown format 'jpeg'");
	expect_viz_error("render --db v.db --run 1 -o /nonexistent-dir/x.svg", "no such directory");
	expect_viz_error("render --db v.db --run 1 -o /tmp", "is a directory");
	expect_viz_error("render --db v.db --run x -o a.svg", "--run wants a run id");
	expect_viz_error("compare --db v.db --runs 1,zz -o c.svg", "not 'zz'");
	expect_viz_error("compare --db v.db --runs 1,2", "missing -o");
	expect_viz_error("timeline --db v.db --run 1 --at shutdown -o t.svg", "--at does not apply");
	t_sh(&r, "echo text > notes.txt");
	expect_viz_error("render --db notes.txt -o x.svg", "not a pooltrace trace database");
	/* A failed render leaves an existing output file as it was. */
	t_sh(&r, "echo keep > keep.svg");
	expect_viz_error("render --db v.db --run 2 --at hang -o keep.svg", "no hang moment");
	t_sh(&r, "grep -qx keep keep.svg && ! ls keep.svg.tmp-* 2>/dev/null");
	cr_expect_eq(r.status, 0, "keep.svg damaged or temp left");
}

Test(viz, html_labels_escape_what_they_show, .timeout = 60)
{
	struct t_result r;

	/* A foreign fd whose path needs escaping ends up in a label. */
	t_sh(&r, "touch 'a&b<c>\"d'");
	cr_assert_eq(t_sh(&r, "\"$PT\" run --db e.db -s child-close -w 2 -t 2 --shutdown-delay-ms 20 -q "
			      "5<'a&b<c>\"d'"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db e.db --foreign full -o e.svg"), 0, "%s", r.err);
	cr_expect_gt(count_in_file(t_path("e.svg"), "a&amp;b&lt;c&gt;&quot;d"), 0);
}

Test(viz, the_leak_suppressions_still_report_a_forgotten_render_buffer, .timeout = 60)
{
	struct t_result r;

	if (!t_sanitized())
		cr_skip_test("only meaningful in the sanitizer build");
	t_sh(&r, "'%s' free", POOLTRACE_PROBE);
	cr_expect_eq(r.status, 0, "graphviz's own leaks are suppressed: %s", r.err);
	t_sh(&r, "'%s' leak", POOLTRACE_PROBE);
	cr_expect_neq(r.status, 0, "the forgotten gvRenderData buffer must be reported");
	cr_expect(strstr(r.err, "gvRenderData") != NULL, "%s", r.err);
}

/* A PNG's width / height, from its IHDR chunk. */
static double png_aspect(const char *path)
{
	unsigned char h[24];
	FILE *f = fopen(path, "rb");
	double w, ht;

	cr_assert_not_null(f, "%s missing", path);
	cr_assert_eq(fread(h, 1, sizeof(h), f), sizeof(h), "%s too short", path);
	fclose(f);
	w = (double)((unsigned)h[16] << 24 | (unsigned)h[17] << 16 | (unsigned)h[18] << 8 | h[19]);
	ht = (double)((unsigned)h[20] << 24 | (unsigned)h[21] << 16 | (unsigned)h[22] << 8 | h[23]);
	cr_assert_gt(ht, 0);
	return w / ht;
}

/* Slide-shaped: between 1:1 and 2:1 for render of 4 and 8 workers (at shutdown and at the hang) and compare of three runs. */
Test(viz, pictures_fit_a_slide, .timeout = 120)
{
	struct t_result r;
	double a;

	three_runs();
	cr_assert_eq(t_run(&r, "run --db v.db -s naive -w 8 -t 16 --shutdown-delay-ms 30 --hang-ms 200 -q"), 0, "%s",
		     r.err);
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 -o r4.png"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db v.db --run 4 -o r8.png"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db v.db --run 1 --at hang -o h4.png"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db v.db --run 4 --at hang -o h8.png"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "compare --db v.db --runs 1,2,3 -o c3.png"), 0, "%s", r.err);
	for (const char *const *p = (const char *const[]){ "r4.png", "r8.png", "h4.png", "h8.png", "c3.png", NULL }; *p;
	     p++) {
		a = png_aspect(t_path(*p));
		cr_expect(a >= 1.0 && a <= 2.0, "%s: aspect %.2f is not between 1:1 and 2:1", *p, a);
	}
}

/* The x of node name in a laid-out DOT file (render -o x.dot). */
static double dot_x(const char *path, const char *name)
{
	static char buf[1 << 20];
	char key[64], *p;
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	snprintf(key, sizeof(key), "\t%s\t[", name);
	cr_assert_not_null(p = strstr(buf, key), "no node %s", name);
	cr_assert_not_null(p = strstr(p, "pos=\""), "node %s has no position", name);
	return atof(p + 5);
}

/* Nodes are named p<pid> and pipe<id>; workers stand left to right by index, at every moment. */
Test(viz, processes_keep_their_names_and_order, .timeout = 60)
{
	struct t_result r;
	char name[32];

	three_runs();
	for (const char *const *at = (const char *const[]){ "spawned", "shutdown", NULL }; *at; at++) {
		cr_assert_eq(t_run(&r, "render --db v.db --run 2 --at %s -o o.dot", *at), 0, "%s", r.err);
		for (int w = 0; w + 1 < 4; w++) {
			double x0, x1;

			snprintf(name, sizeof(name), "p%lld",
				 (long long)t_sql_int(t_path("v.db"), "SELECT pid FROM processes WHERE run_id = 2 AND worker_index = %d", w));
			x0 = dot_x(t_path("o.dot"), name);
			snprintf(name, sizeof(name), "p%lld",
				 (long long)t_sql_int(t_path("v.db"), "SELECT pid FROM processes WHERE run_id = 2 AND worker_index = %d", w + 1));
			x1 = dot_x(t_path("o.dot"), name);
			cr_expect_lt(x0, x1, "at %s, worker %d is not left of worker %d", *at, w, w + 1);
		}
		snprintf(name, sizeof(name), "p%lld",
			 (long long)t_sql_int(t_path("v.db"), "SELECT pid FROM processes WHERE run_id = 2 AND role = 'parent'"));
		dot_x(t_path("o.dot"), name);
		dot_x(t_path("o.dot"), "pipe1");
	}
}

/*
 * The hang picture draws the wait-for graph: for a naive pool of N workers,
 * N + N(N-1)/2 edges of class waits-for (the parent waits for worker 0;
 * worker k for the parent and for every later worker, the holders of its
 * pipe's write end), every one on the cycle, and N + 1 blocked processes.
 */
Test(viz, the_hang_picture_draws_the_wait_for_cycle, .timeout = 60)
{
	struct t_result r;
	int run = 0;

	for (int n = 3; n <= 5; n += 2) {
		cr_assert_eq(t_run(&r, "run --db w.db -s naive -w %d -t %d --hang-ms 200 -q", n, 2 * n), 0, "%s", r.err);
		run++;
		cr_assert_eq(t_run(&r, "render --db w.db --run %d --at hang -o w.svg", run), 0, "%s", r.err);
		cr_expect_eq(count_in_file(t_path("w.svg"), "class=\"edge waits&#45;for"), n + n * (n - 1) / 2,
			     "%d workers: waits-for edges", n);
		cr_expect_eq(count_in_file(t_path("w.svg"), "class=\"edge waits&#45;for cycle\""), n + n * (n - 1) / 2,
			     "%d workers: edges on the cycle", n);
		cr_expect_eq(count_in_file(t_path("w.svg"), "class=\"cluster process blocked\""), n + 1,
			     "%d workers: blocked processes", n);
		cr_expect_gt(count_in_file(t_path("w.svg"), "blocked: wait4(worker 0)"), 0);
		/* Before the deadlock was found, nothing is drawn as blocked. */
		cr_assert_eq(t_run(&r, "render --db w.db --run %d --at shutdown -o s.svg", run), 0, "%s", r.err);
		cr_expect_eq(count_in_file(t_path("s.svg"), "waits&#45;for"), 0);
	}
}

/*
 * The timeline is a sequence diagram: in its laid-out DOT, every event node
 * (ev<seq>, class pid-<pid>) stands exactly under its lane's header
 * (lane<pid>), and the deadlock's wait-for graph is drawn there too, with the
 * same edge count as the hang picture.
 */
Test(viz, timeline_lanes_are_straight_and_show_the_wait_for_graph, .timeout = 60)
{
	static char buf[1 << 20];
	struct t_result r;
	const int n = 4;
	int events = 0;
	FILE *f;
	size_t len;

	cr_assert_eq(t_run(&r, "run --db tl.db -s naive -w %d -t 8 --hang-ms 200 -q", n), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "run --db tl.db -s close-range -w %d -t 8 -q", n), 0, "%s", r.err);
	for (int run = 1; run <= 2; run++) {
		cr_assert_eq(t_run(&r, "timeline --db tl.db --run %d -o tl.dot", run), 0, "%s", r.err);
		cr_assert_not_null(f = fopen(t_path("tl.dot"), "r"));
		len = fread(buf, 1, sizeof(buf) - 1, f);
		buf[len] = '\0';
		fclose(f);
		for (char *p = buf; (p = strstr(p, "\n\tev")); p++) {
			char *end = strstr(p, "];"), *cls = strstr(p, "pid-");
			char lane[32];
			int pid;

			cr_assert_not_null(end);
			if (p[2 + strcspn(p + 2, "\t [")] == ' ')
				continue; /* "\tevA -> evB": an edge */
			cr_assert(cls && cls < end, "event without a pid- class: %.60s", p + 2);
			cr_assert(strstr(p, "pos=\"") < end);
			pid = atoi(cls + 4);
			snprintf(lane, sizeof(lane), "lane%d", pid);
			cr_expect_eq(atof(strstr(p, "pos=\"") + 5), dot_x(t_path("tl.dot"), lane), "run %d: %.40s is not under %s",
				     run, p + 2, lane);
			events++;
		}
		cr_expect_gt(events, 20, "run %d: %d events checked", run, events);
	}
	/* The naive run's wait-for graph: as in the hang picture, N + N(N-1)/2 edges, all on the cycle. */
	cr_assert_eq(t_run(&r, "timeline --db tl.db --run 1 -o tl.svg"), 0, "%s", r.err);
	cr_expect_eq(count_in_file(t_path("tl.svg"), "class=\"edge waits&#45;for cycle\""), n + n * (n - 1) / 2);
	cr_assert_eq(t_run(&r, "timeline --db tl.db --run 2 -o tl.svg"), 0, "%s", r.err);
	cr_expect_eq(count_in_file(t_path("tl.svg"), "waits&#45;for"), 0);
}

/* Each compare panel's caption says how its run shut down: the parent's close order and what it hung in. */
Test(viz, compare_captions_name_the_close_order, .timeout = 60)
{
	struct t_result r;

	three_runs();
	cr_assert_eq(t_run(&r, "compare --db v.db --runs 1,2,3 -o c.svg"), 0, "%s", r.err);
	cr_expect_eq(count_in_file(t_path("c.svg"), "parent closes pipe 1, hangs waiting for worker 0"), 1);
	cr_expect_eq(count_in_file(t_path("c.svg"), "parent closes pipe 4, reaps worker 3, closes pipe 3, reaps worker 2"), 1);
	cr_expect_eq(count_in_file(t_path("c.svg"), "parent closes pipe 1, reaps worker 0, closes pipe 2"), 1);
	/* child-close: 4 workers, each closing the write ends of every earlier worker's pipe. */
	cr_expect_eq(count_in_file(t_path("c.svg"), "workers close 6 write ends of other workers&#39; pipes"), 1);
}

/* A rectangle of the laid-out picture, in points. */
struct title_box {
	double x0, y0, x1, y1;
};

/* The title boxes of every process cluster in a laid-out DOT text (its label: lp, lwidth, lheight in inches). */
static size_t title_boxes(const char *dot, struct title_box *out, size_t max)
{
	size_t n = 0;

	for (const char *p = dot; n < max && (p = strstr(p, "subgraph cluster_p")); p++) {
		const char *end = strchr(p, ']'), *lp = strstr(p, "lp=\""), *w = strstr(p, "lwidth="), *h = strstr(p, "lheight=");
		double x, y, lw, lh;

		if (!end || !lp || !w || !h || lp > end || w > end || h > end)
			continue;
		x = atof(lp + 4);
		y = atof(strchr(lp, ',') + 1);
		lw = atof(w + 7) * 72;
		lh = atof(h + 8) * 72;
		out[n++] = (struct title_box){ x - lw / 2, y - lh / 2, x + lw / 2, y + lh / 2 };
	}
	return n;
}

/*
 * How many wait-for edges of a laid-out DOT text pass through a process's
 * title: each edge's B-spline (pos="e,x,y x0,y0 x1,y1 ...", cubic pieces)
 * is sampled every 1/40 of a piece.
 */
static int waits_through_titles(char *dot)
{
	struct title_box boxes[64];
	size_t nboxes;
	int crossing = 0;

	/* Long attribute values are continued with a backslash and a newline. */
	for (char *r = dot, *w = dot;; r++) {
		if (r[0] == '\\' && r[1] == '\n') {
			r++;
			continue;
		}
		if (!(*w++ = *r))
			break;
	}
	nboxes = title_boxes(dot, boxes, 64);
	cr_assert_gt(nboxes, 0, "no process clusters");
	for (char *p = dot; (p = strstr(p, "class=\"waits-for")); p++) {
		char *pos = strstr(p, "pos=\""), *end;
		double pt[256][2];
		int npt = 0;

		if (!pos || (strchr(p, ';') && pos > strchr(p, ';')))
			continue;
		pos += 5;
		end = strchr(pos, '"');
		for (char *q = pos; q < end && npt < 256;) {
			if (*q == 'e' || *q == 's') { /* the arrow's end point, not on the spline */
				q = strchr(q, ' ');
				if (!q || q > end)
					break;
				continue;
			}
			pt[npt][0] = strtod(q, &q);
			pt[npt][1] = strtod(q + 1, &q);
			npt++;
			while (*q == ' ')
				q++;
		}
		for (int i = 0; i + 3 < npt; i += 3)
			for (int k = 0; k <= 40; k++) {
				double t = k / 40.0, u = 1 - t, xy[2];

				for (int c = 0; c < 2; c++)
					xy[c] = u * u * u * pt[i][c] + 3 * u * u * t * pt[i + 1][c] + 3 * u * t * t * pt[i + 2][c] +
						t * t * t * pt[i + 3][c];
				for (size_t b = 0; b < nboxes; b++)
					if (xy[0] > boxes[b].x0 && xy[0] < boxes[b].x1 && xy[1] > boxes[b].y0 && xy[1] < boxes[b].y1) {
						crossing++;
						k = 41;
						i = npt;
						break;
					}
			}
	}
	return crossing;
}

/*
 * The hang picture one can read: the wait-for cycle is drawn in a panel of
 * its own, so in the laid-out picture of 4 and 8 workers no wait-for edge
 * passes through a process's title (drawn between the fd tables, 9 of the 10
 * edges of 4 workers did).
 */
Test(viz, no_wait_for_edge_crosses_a_process_title, .timeout = 60)
{
	static char dot[1 << 21];
	struct t_result r;

	for (int n = 4, run = 1; n <= 8; n += 4, run++) {
		FILE *f;
		size_t len;

		cr_assert_eq(t_run(&r, "run --db t.db -s naive -w %d -t %d --hang-ms 200 -q", n, 2 * n), 0, "%s", r.err);
		cr_assert_eq(t_run(&r, "render --db t.db --run %d --at hang --format dot -o t.dot", run), 0, "%s", r.err);
		cr_assert_not_null(f = fopen(t_path("t.dot"), "r"));
		len = fread(dot, 1, sizeof(dot) - 1, f);
		dot[len] = '\0';
		fclose(f);
		cr_expect_eq(count_in_file(t_path("t.dot"), "class=\"waits-for cycle\""), n + n * (n - 1) / 2);
		int through = waits_through_titles(dot);

		cr_expect_eq(through, 0, "%d workers: %d wait-for edges through a process's title", n, through);
	}
}

/* A pool's process for a hand-made model: worker `index` (-1: the parent) holding fds on pipe_ids[0..n), leaked. */
static void lm_proc(struct viz_model *m, int index, const int64_t *pipe_ids, size_t n)
{
	struct viz_proc *p = &m->procs[m->nprocs++];

	p->pid = 100 + index;
	p->parent = index < 0;
	p->worker_index = index;
	p->alive = true;
	p->fds = calloc(n + 1, sizeof(*p->fds));
	for (size_t i = 0; i < n; i++) {
		p->fds[i] = (struct viz_fd){ .fd = 4 + (int)i, .pipe_id = pipe_ids[i], .write_end = true, .leaked = true };
		m->leaked_now++;
	}
	p->nfds = n;
}

/*
 * The leak matrix's cells, exactly: workers that hold the same pipes are
 * one row, pipes held by the same workers one column, a dup'ed fd is two
 * holds of one pair, and a hold that is not leaked is not in it. Cut into
 * fewer bands than groups, its cells add up all the same.
 */
Test(viz, the_leak_matrix_bundles_alike_holders_and_pipes_and_counts_every_hold)
{
	static const int64_t w1[] = { 1 }, w2[] = { 2, 1 }, w3[] = { 1, 2 }, w4[] = { 1, 3, 1 };
	struct viz_model m = { .strategy = "naive", .workers = 5 };
	struct viz_leakmatrix x;
	int64_t want[3][3] = { { 1, 0, 0 }, { 2, 2, 0 }, { 2, 0, 1 } };

	m.procs = calloc(6, sizeof(*m.procs));
	m.pipes = calloc(5, sizeof(*m.pipes));
	/* In the model's order of channel then pipe_id, which is not pipe_id's: pipe 4 first. */
	for (int64_t id = 4, k = 0; k < 4; id = ++k) {
		m.pipes[m.npipes].pipe_id = id;
		m.pipes[m.npipes++].channel = (int)id - 1;
	}
	lm_proc(&m, -1, NULL, 0);
	lm_proc(&m, 0, NULL, 0);
	lm_proc(&m, 1, w1, 1);
	lm_proc(&m, 2, w2, 2);
	lm_proc(&m, 3, w3, 2);
	lm_proc(&m, 4, w4, 3);
	/* The parent's own write end of pipe 4: held, not leaked. */
	m.procs[0].fds = realloc(m.procs[0].fds, sizeof(*m.procs[0].fds));
	m.procs[0].fds[0] = (struct viz_fd){ .fd = 5, .pipe_id = 4, .write_end = true };
	m.procs[0].nfds = 1;

	viz_leakmatrix_init(&x, &m, 24, 40);
	cr_assert_eq(x.total, 8);
	cr_assert_eq(x.nholders, 4, "workers 1-4 hold leaks, the parent and worker 0 none");
	cr_assert_eq(x.npipes, 3, "pipe 4 is held by no one but its own");
	cr_assert_eq(x.nrows, 3, "workers 2 and 3 hold alike: one row");
	cr_assert_eq(x.ncols, 3);
	cr_expect_eq(x.rows[1].first, 1);
	cr_expect_eq(x.rows[1].count, 2);
	cr_expect(x.rows[1].same);
	for (size_t c = 0; c < 3; c++)
		cr_expect_eq(m.pipes[x.pipes[x.cols[c].first]].pipe_id, (int64_t)c + 1, "columns by pipe id");
	for (size_t r = 0; r < 3; r++)
		for (size_t c = 0; c < 3; c++)
			cr_expect_eq(x.holds[r * 3 + c], want[r][c], "cell %zu,%zu: %lld", r, c, (long long)x.holds[r * 3 + c]);
	cr_expect_eq(x.pairs[2 * 3 + 0], 1, "worker 4's two fds on pipe 1 are one pair");
	viz_leakmatrix_release(&x);

	/* Two rows at most: workers 1-2 and 3-4, no longer alike inside. */
	viz_leakmatrix_init(&x, &m, 2, 40);
	cr_assert_eq(x.nrows, 2);
	cr_expect_eq(x.rows[0].count, 2);
	cr_expect_not(x.rows[0].same);
	cr_expect_eq(x.holds[0 * 3 + 0] + x.holds[0 * 3 + 1], 3);
	cr_expect_eq(x.holds[1 * 3 + 0] + x.holds[1 * 3 + 1] + x.holds[1 * 3 + 2], 5);
	cr_expect_eq(x.pairs[0 * 3 + 0], 2, "workers 1 and 2 on pipe 1");
	viz_leakmatrix_release(&x);

	/* No leaks: an empty matrix. */
	for (size_t i = 0; i < m.nprocs; i++)
		for (size_t j = 0; j < m.procs[i].nfds; j++)
			m.procs[i].fds[j].leaked = false;
	viz_leakmatrix_init(&x, &m, 24, 40);
	cr_expect_eq(x.total, 0);
	cr_expect_eq(x.nrows, 0);
	cr_expect_eq(x.ncols, 0);
	viz_leakmatrix_release(&x);
	viz_model_release(&m);
}
