/* test_report.c: the HTML report, opened in headless Chromium, shows exactly the pipe fds held at each step. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s missing", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Opens report.html#seq=N in headless Chromium and returns the DOM after its script ran (free it). */
static char *dom_at(const char *report, long long seq)
{
	struct t_result r;

	/* Its own profile in the test's directory; --no-sandbox: CI runs as root. */
	cr_assert_eq(t_sh(&r, "timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir=\"$PWD/chromium\""
			      " --dump-dom 'file://%s#seq=%lld' > dom.html 2> chromium.err", report, seq), 0,
		     "chromium failed (exit %d); is the Debian package chromium installed? %s", r.status, r.err);
	return slurp(t_path("dom.html"));
}

/* How many elements have a class attribute that starts with prefix and holds the class live. */
static int count_live(const char *dom, const char *prefix)
{
	char needle[64];
	int n = 0;

	snprintf(needle, sizeof(needle), "class=\"%s", prefix);
	for (const char *p = dom; (p = strstr(p, needle)); p += strlen(needle)) {
		const char *end = strchr(p + strlen(needle), '"');
		const char *live = strstr(p + strlen(needle), " live");

		n += live && live < end && (live[5] == '"' || live[5] == ' ');
	}
	return n;
}

static void expect_steps_match_fd_holds(const char *db, int run, const char *name)
{
	struct t_result r;
	const char *moments[] = { "min(seq)", "min(seq) + 20", "(SELECT min(from_seq) + 1 FROM fd_holds WHERE run_id = %d)",
				  "max(seq) - 10", "max(seq)" };

	cr_assert_eq(t_run(&r, "report --db %s --run %d -o %s", db, run, name), 0, "%s", r.err);
	for (size_t i = 0; i < sizeof(moments) / sizeof(moments[0]); i++) {
		char sql[256], inner[128];
		long long seq;
		int64_t want;
		char *dom;

		snprintf(inner, sizeof(inner), moments[i], run);
		snprintf(sql, sizeof(sql), "SELECT %s FROM events WHERE run_id = %d AND kind NOT IN ('write', 'read', 'task')",
			 inner, run);
		seq = (long long)t_sql_int(db, "%s", sql);
		want = t_sql_int(db, "SELECT count(*) FROM fd_holds WHERE run_id = %d AND from_seq <= %lld"
				     " AND (to_seq IS NULL OR to_seq > %lld)", run, seq, seq);
		dom = dom_at(t_path(name), seq);
		cr_expect_eq(count_live(dom, "edge fd"), want, "run %d at #seq=%lld: %d live fd edges, fd_holds says %lld",
			     run, seq, count_live(dom, "edge fd"), (long long)want);
		/* The page says where it is, so the script did run. */
		{
			char where[64];

			snprintf(where, sizeof(where), "<body data-seq=\"%lld\"", seq);
			cr_expect(strstr(dom, where), "run %d: the page did not step to %lld", run, seq);
		}
		free(dom);
	}
}

Test(report, each_step_shows_exactly_the_fd_holds_alive_then, .timeout = 240)
{
	struct t_result r;
	const char *db = t_path("r.db");

	cr_assert_eq(t_run(&r, "run --db r.db -s naive -w 4 -t 8 --hang-ms 200 -q"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "run --db r.db -s child-close -w 3 -t 6 -q"), 0, "%s", r.err);
	expect_steps_match_fd_holds(db, 1, "naive.html");
	expect_steps_match_fd_holds(db, 2, "child-close.html");
}

Test(report, is_one_self_contained_file, .timeout = 60)
{
	struct t_result r;
	char *html;

	cr_assert_eq(t_run(&r, "run --db s.db -s naive -w 3 -t 6 --hang-ms 200 -q"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "report --db s.db"), 0, "%s", r.err);
	html = slurp(t_path("run1-report.html"));
	/* Nothing is fetched: no src=, no <link>, no URL but the SVG namespaces. */
	cr_expect_null(strstr(html, "src="));
	cr_expect_null(strstr(html, "<link"));
	for (const char *p = html; (p = strstr(p, "http")); p += 4)
		cr_expect(!strncmp(p, "http://www.w3.org/", 18), "a URL: %.60s", p);
	cr_expect(strstr(html, "<svg"));
	free(html);
	/* Only .html, and a bad option is one line and exit 2. */
	cr_expect_eq(t_run(&r, "report --db s.db -o r.svg"), 2);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect_eq(t_run(&r, "report --db s.db --at hang -o r.html"), 2);
	cr_expect_eq(t_run(&r, "report --db s.db --run 9 -o r.html"), 2);
}
