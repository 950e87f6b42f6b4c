/* test_docs.c: the front door holds: a short README whose links resolve, a man page and a bash completion in step with --help. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOC_MAX (1 << 20)

static const char *const doc_commands[] = { "record", "snapshot", "explain", "run", "query", "render", "compare", "timeline", "report", "export", NULL };

/* The whole of a file of the source tree, NUL-terminated, in a static buffer of its own per slot. */
static const char *doc_read(const char *path, int slot)
{
	static char buf[2][DOC_MAX];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert(f != NULL, "cannot open %s", path);
	n = fread(buf[slot], 1, DOC_MAX - 1, f);
	cr_assert(n < DOC_MAX - 1, "%s is larger than the test reads", path);
	buf[slot][n] = '\0';
	fclose(f);
	return buf[slot];
}

/*
 * GitHub's anchor for a heading: lower case, letters, digits, '-' and '_'
 * kept, spaces made '-', everything else (punctuation, backticks) dropped.
 */
static void doc_slug(const char *heading, char *out, size_t size)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)heading; *p && n + 1 < size; p++)
		if (isalnum(*p) || *p == '-' || *p == '_' || *p >= 0x80)
			out[n++] = (char)tolower(*p);
		else if (*p == ' ')
			out[n++] = '-';
	out[n] = '\0';
}

/* True when the markdown file at path has a heading whose anchor is `anchor`. */
static int doc_has_anchor(const char *path, const char *anchor)
{
	const char *text = doc_read(path, 1);
	int in_fence = 0;

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (!strncmp(line, "```", 3))
			in_fence = !in_fence;
		else if (!in_fence && line[0] == '#') {
			char heading[512], slug[512];
			const char *h = line + strspn(line, "#");

			h += strspn(h, " ");
			snprintf(heading, sizeof(heading), "%.*s", (int)(len - (size_t)(h - line)), h);
			doc_slug(heading, slug, sizeof(slug));
			if (!strcmp(slug, anchor))
				return 1;
		}
		line += len + (end != NULL);
	}
	return 0;
}

/*
 * Checks every relative link and image of one markdown file: the file it
 * names exists, and so does the heading its #anchor names. Returns the number
 * of links checked; each broken one fails the test with its file and target.
 */
static int doc_check_links(const char *dir, const char *name)
{
	char path[4096];
	const char *text;
	regex_t re;
	regmatch_t m[2];
	int checked = 0, in_fence = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = strdup(doc_read(path, 0));
	cr_assert(text != NULL);
	cr_assert_eq(regcomp(&re, "\\]\\(([^) ]+)\\)", REG_EXTENDED), 0);
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char copy[4096];

		snprintf(copy, sizeof(copy), "%.*s", (int)len, line);
		if (!strncmp(copy, "```", 3))
			in_fence = !in_fence;
		for (const char *p = copy; !in_fence && regexec(&re, p, 2, m, 0) == 0; p += m[0].rm_eo) {
			char target[1024], file[4096], *hash;
			struct stat st;

			snprintf(target, sizeof(target), "%.*s", (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so);
			if (strstr(target, "://") || !strncmp(target, "mailto:", 7))
				continue;
			hash = strchr(target, '#');
			if (hash)
				*hash++ = '\0';
			if (*target)
				snprintf(file, sizeof(file), "%s/%s", dir, target);
			else
				snprintf(file, sizeof(file), "%s", path);
			checked++;
			cr_expect_eq(stat(file, &st), 0, "%s: the link to '%s' names no file", name, target);
			if (hash && *hash && stat(file, &st) == 0)
				cr_expect(doc_has_anchor(file, hash), "%s: '%s' has no heading for #%s", name,
					  *target ? target : name, hash);
		}
		line += len + (end != NULL);
	}
	regfree(&re);
	free((void *)text);
	return checked;
}

Test(docs, the_readme_is_at_most_250_lines)
{
	int lines = t_lines(doc_read(POOLTRACE_SRC "/README.md", 0));

	cr_expect(lines <= 250, "README.md has %d lines; reference material goes in docs/", lines);
	cr_expect(lines > 50, "README.md has only %d lines", lines);
}

Test(docs, every_relative_link_in_the_readme_and_docs_resolves)
{
	DIR *d = opendir(POOLTRACE_SRC "/docs");
	struct dirent *e;
	int files = 0, links = doc_check_links(POOLTRACE_SRC, "README.md");

	cr_expect(links >= 15, "README.md: only %d links checked", links);
	cr_assert(d != NULL);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n > 3 && !strcmp(e->d_name + n - 3, ".md")) {
			links += doc_check_links(POOLTRACE_SRC "/docs", e->d_name);
			files++;
		}
	}
	closedir(d);
	cr_expect(files >= 8, "docs/ has only %d markdown files", files);
	cr_expect(links >= 40, "only %d links checked in all", links);
}

/* The link checker finds what it should: a missing file and a missing heading. */
Test(docs, a_broken_link_or_anchor_is_caught)
{
	FILE *f = fopen(t_path("a.md"), "w");

	cr_assert(f != NULL);
	fputs("# A `title`, here\n\n[ok](#a-title-here) [self](a.md#a-title-here)\n", f);
	fclose(f);
	cr_expect_eq(doc_check_links(t_tmpdir(), "a.md"), 2);
	cr_expect(doc_has_anchor(t_path("a.md"), "a-title-here"));
	cr_expect(!doc_has_anchor(t_path("a.md"), "a-title"));
}

/* Completions for a command line, one per line, as bash would offer them. */
static const char *doc_complete(struct t_result *r, const char *words)
{
	cr_assert_eq(t_sh(r, "%s/tests/scripts/complete.sh %s/completion/pooltrace.bash %s", POOLTRACE_SRC,
			  POOLTRACE_SRC, words),
		     0, "%s", r->err);
	return r->out;
}

Test(docs, bash_completes_commands_strategies_and_moments)
{
	struct t_result r;

	cr_expect_str_eq(doc_complete(&r, "pooltrace re"), "record\nrender\nreport\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace run --strategy ''"),
			 "naive\nclose-all\nreverse-close\nchild-close\nclose-range\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace run -s c"), "close-all\nchild-close\nclose-range\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace render --at = h"), "hang\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace help ti"), "timeline\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace --v"), "--version\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace sn"), "snapshot\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace snapshot --a"), "--all\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace ex"), "explain\nexport\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace export --format ''"), "perfetto\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace render --format ''"), "svg\npng\npdf\ndot\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace query --js"), "--json\n--jsonl\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace explain --j"), "--json\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace run --fail-on leak,d"), "leak,deadlock\n");
}

/* The values the completion offers are exactly those the binary's own error message names. */
Test(docs, completed_values_are_the_ones_the_binary_accepts)
{
	static const struct {
		const char *args, *words;
	} cases[] = {
		{ "run --db x.db -s bogus", "pooltrace run -s ''" },
		{ "run --db x.db --scenario bogus", "pooltrace run --scenario ''" },
		{ "render --db x.db --foreign bogus", "pooltrace render --foreign ''" },
		{ "export --db x.db --format bogus", "pooltrace export --format ''" },
	};
	struct t_result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char expected[1024];
		const char *list;
		size_t n = 0;

		t_run(&r, "%s", cases[i].args);
		list = strstr(r.err, "expected ");
		if (!list)
			list = strstr(r.err, "wants ");
		cr_assert(list != NULL, "%s: %s", cases[i].args, r.err);
		list = strchr(list, ' ') + 1;
		/* "a, b, c" or "a, b or c", up to the closing parenthesis or a comma before 'not'. */
		for (const char *p = list; *p && *p != ')' && strncmp(p, ", not", 5) && n + 1 < sizeof(expected); p++) {
			if (!strncmp(p, " or ", 4)) {
				expected[n++] = '\n';
				p += 3;
			} else if (*p == ',') {
				expected[n++] = '\n';
				p++;
			} else
				expected[n++] = *p;
		}
		expected[n++] = '\n';
		expected[n] = '\0';
		cr_expect_str_eq(doc_complete(&r, cases[i].words), expected, "%s", cases[i].words);
	}
}

/* --run completes the ids stored in the trace the line names. */
Test(docs, bash_completes_the_runs_of_the_trace_named)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db t.db -q -s child-close -w 2 -t 2 && \"$PT\" run --db t.db -q -s naive -w 1 -t 1"),
		     0, "%s", r.err);
	cr_expect_str_eq(doc_complete(&r, "\"$PT\" render --db t.db --run ''"), "1\n2\n");
	cr_expect_str_eq(doc_complete(&r, "\"$PT\" compare --db t.db --runs 1,"), "1,1\n1,2\n");
	cr_expect_str_eq(doc_complete(&r, "\"$PT\" render --db = t.db --run ''"), "1\n2\n", "--db=t.db, as bash splits it");
	cr_expect_str_eq(doc_complete(&r, "\"$PT\" render --db none.db --run ''"), "");
}

/* Values only where the command takes the option; a file name with a space is one candidate. */
Test(docs, bash_completes_only_what_the_command_takes)
{
	struct t_result r;

	cr_expect_str_eq(doc_complete(&r, "pooltrace timeline --at ''"), "");
	cr_expect_str_eq(doc_complete(&r, "pooltrace report --format ''"), "");
	cr_expect_str_eq(doc_complete(&r, "pooltrace run --foreign ''"), "");
	cr_expect(!strncmp(doc_complete(&r, "pooltrace record ''"), "--\n", 3), "%s", r.out);
	cr_assert_eq(t_sh(&r, "mkdir 'sub dir' && touch 'my trace.db'"), 0);
	cr_expect_str_eq(doc_complete(&r, "pooltrace render --db my"), "my trace.db\n");
	cr_expect_str_eq(doc_complete(&r, "pooltrace record -- ls su"), "sub dir\n");
}

/*
 * Every option `pooltrace help CMD` lists, short and long, is completed after
 * `pooltrace CMD -` and described in the man page's OPTIONS section.
 */
Test(docs, every_option_in_help_is_in_the_man_page_and_completed)
{
	struct t_result r;
	int options = 0;

	for (const char *const *c = doc_commands; *c; c++) {
		char *help, *completed, words[64], *save = NULL;

		cr_assert_eq(t_sh(&r,
				  "\"$PT\" help %s | sed -n '/^options:/,/^$/p' | grep -oE '^ +(-[A-Za-z], )?--[a-z-]+' |"
				  " grep -oE -- '-{1,2}[A-Za-z][a-z-]*'",
				  *c),
			     0, "%s", r.err);
		help = strdup(r.out);
		snprintf(words, sizeof(words), "pooltrace %s -", *c);
		cr_assert(asprintf(&completed, "\n%s", doc_complete(&r, words)) > 0 && help);
		for (char *opt = strtok_r(help, "\n", &save); opt; opt = strtok_r(NULL, "\n", &save)) {
			char line[128];

			snprintf(line, sizeof(line), "\n%s\n", opt);
			cr_expect(strstr(completed, line) != NULL, "pooltrace %s %s is not completed", *c, opt);
			cr_expect_eq(t_sh(&r,
					  "sed -n '/^\\.SH OPTIONS/,/^\\.SH FILES/p' %s/man/pooltrace.1 |"
					  " sed 's/\\\\-/-/g' | grep -qE -- '(^|[^a-z-])%s([^a-z-]|$)'",
					  POOLTRACE_SRC, opt),
				     0, "pooltrace %s %s is not in the man page's OPTIONS", *c, opt);
			options++;
		}
		free(help);
		free(completed);
	}
	cr_expect(options >= 60, "only %d options found in the help texts", options);
}

Test(docs, version_and_help_name_each_other)
{
	struct t_result r;

	cr_expect_eq(t_run(&r, "--version"), 0);
	cr_expect(!strncmp(r.out, "pooltrace ", 10), "%s", r.out);
	cr_expect_eq(t_run(&r, "-V"), 0);
	cr_expect(!strncmp(r.out, "pooltrace ", 10), "%s", r.out);
	cr_expect_eq(t_run(&r, "--help"), 0);
	cr_expect(strstr(r.out, "--version") != NULL, "%s", r.out);
}
