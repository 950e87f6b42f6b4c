/* test_output.c: where -o points is never destroyed: devices and FIFOs are streamed into, the trace is refused, labels are sanitized. */
#include "helpers.h"
#include "viz/output.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <graphviz/cgraph.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* A small trace in the test's directory, made once per test. */
static void make_trace(const char *name)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db %s -q -s naive -w 3 -t 6", name), 0, "%s", r.err);
}

/* Exit 2 with one line containing needle; the database is byte for byte as it was. */
static void expect_refused(const char *args, const char *needle, const char *db)
{
	int64_t before = t_file_hash(t_path(db));
	struct t_result r;

	t_run(&r, "%s", args);
	cr_expect_eq(r.status, 2, "`%s`: exit %d: %s", args, r.status, r.err);
	cr_expect_eq(t_lines(r.err), 1, "`%s`: %s", args, r.err);
	cr_expect(strstr(r.err, needle) != NULL, "`%s`: '%s' not in %s", args, needle, r.err);
	cr_expect_eq(t_file_hash(t_path(db)), before, "`%s` changed the database", args);
}

Test(output, the_trace_database_itself_is_refused_by_name_link_and_side_file, .timeout = 60)
{
	struct t_result r;

	make_trace("t.db");
	cr_assert_eq(t_sh(&r, "ln t.db hard.db && ln -s t.db soft.svg && ln -s . here"), 0, "%s", r.err);
	expect_refused("render --db t.db -o t.db --format svg", "is the trace database", "t.db");
	expect_refused("render --db t.db -o here/t.db --format svg", "is the trace database", "t.db");
	expect_refused("render --db t.db -o hard.db --format svg", "is the trace database", "t.db");
	expect_refused("render --db t.db -o soft.svg", "is the trace database", "t.db");
	expect_refused("timeline --db t.db -o t.db-wal --format svg", "-wal", "t.db");
	expect_refused("timeline --db t.db -o t.db-journal --format svg", "-journal", "t.db");
	expect_refused("compare --db t.db --runs 1 -o t.db --format dot", "is the trace database", "t.db");
	cr_expect_eq(t_sql_int(t_path("t.db"), "SELECT count(*) FROM runs"), 1);
}

Test(output, a_character_device_is_written_into_never_replaced, .timeout = 60)
{
	const char *dev = t_path("null");
	struct t_result r;
	struct stat st;

	make_trace("t.db");
	/* A device node of our own (the null device, by number) where we may
	 * make one (root): a regression then destroys nothing of the machine's.
	 * Elsewhere /dev/null, which such a user cannot replace anyway. */
	if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) != 0)
		dev = "/dev/null";
	cr_expect_eq(t_run(&r, "render --db t.db -o %s --format svg", dev), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "timeline --db t.db -o %s --format svg", dev), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "compare --db t.db --runs 1 -o %s --format png", dev), 0, "%s", r.err);
	cr_expect_eq(stat(dev, &st), 0);
	cr_expect(S_ISCHR(st.st_mode), "%s was replaced by a file of mode %o", dev, st.st_mode);
}

Test(output, a_fifo_is_streamed_into_or_refused_without_a_reader, .timeout = 60)
{
	struct t_result r;
	struct stat st;
	char buf[1 << 16];
	ssize_t n, got = 0;
	int rd;

	make_trace("t.db");
	cr_assert_eq(mkfifo(t_path("pipe"), 0600), 0);
	expect_refused("render --db t.db -o pipe --format svg", "no process is reading the FIFO", "t.db");
	/* A reader that is already there: opened without waiting for a writer,
	 * with room for the whole picture, so nothing here depends on timing. */
	rd = open(t_path("pipe"), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(rd, 0);
	cr_assert_geq(fcntl(rd, F_SETPIPE_SZ, 1 << 20), 1 << 20);
	cr_expect_eq(t_run(&r, "render --db t.db -o pipe --format svg"), 0, "%s", r.err);
	while ((n = read(rd, buf, sizeof buf - 1)) > 0)
		got += n;
	close(rd);
	cr_expect_gt(got, 0, "the reader got nothing");
	/* A reader that opens the FIFO a moment after pooltrace starts. */
	cr_expect_eq(t_sh(&r, "(sleep 0.3; exec timeout 20 cat pipe > got.svg) & \"$PT\" render --db t.db -o pipe --format svg;"
			      " s=$?; wait; exit $s"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c '</svg>' got.svg"), 0, "the late reader did not get the picture");
	cr_expect_eq(stat(t_path("pipe"), &st), 0);
	cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced");
}

Test(output, a_symlink_is_written_through_and_stays_a_link, .timeout = 60)
{
	struct t_result r;
	struct stat st;

	make_trace("t.db");
	cr_assert_eq(t_sh(&r, "mkdir pics && echo old > pics/real.svg && ln -s pics/real.svg link.svg"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "render --db t.db -o link.svg"), 0, "%s", r.err);
	cr_expect_eq(lstat(t_path("link.svg"), &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "the symlink was replaced");
	cr_expect_eq(t_sh(&r, "grep -q '</svg>' pics/real.svg"), 0, "the file it points to was not written");
	cr_expect_eq(t_sh(&r, "ls pics | wc -l | grep -qx 1"), 0, "a temporary file was left beside the target");
	/* A link to nothing is not followed into creating a file somewhere. */
	t_sh(&r, "ln -s nowhere/x.svg dangling.svg");
	expect_refused("render --db t.db -o dangling.svg", "symlink to a file that does not exist", "t.db");
}

Test(output, a_directory_socket_or_missing_directory_is_refused, .timeout = 60)
{
	make_trace("t.db");
	expect_refused("render --db t.db -o . --format svg", "is a directory", "t.db");
	expect_refused("render --db t.db -o nodir/x.svg", "no such directory", "t.db");
	expect_refused("render --db t.db -o '' --format svg", "-o wants a file name", "t.db");
}

/*
 * File names with control characters and bytes that are not UTF-8, held by
 * pooltrace when it starts, reach the labels as foreign fds: the render
 * succeeds without a Graphviz complaint and shows them escaped. A strategy
 * edited by hand into markup is shown as text.
 */
Test(output, labels_show_control_characters_and_bad_bytes_escaped, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "exec 7>\"$(printf 'we\\033ird\\nname\\001<&>\\377.txt')\" && "
			      "\"$PT\" run --db t.db -q -s child-close -w 2 -t 2"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "render --db t.db --at spawned --foreign full -o odd.svg"), 0, "%s", r.err);
	cr_expect_eq(r.err[0], '\0', "graphviz complained: %s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c 'we\\\\eird\\\\nname\\\\x01&lt;&amp;&gt;\\\\xff.txt' odd.svg"), 0,
		     "the escaped name is not in the picture");
	cr_expect_eq(t_run(&r, "timeline --db t.db -o odd-timeline.svg"), 0, "%s", r.err);
	cr_expect_eq(r.err[0], '\0', "graphviz complained: %s", r.err);
}

/*
 * Graphviz reports some bad input as an error yet still renders: such a
 * picture is never written, and the file that was there stays.
 */
Test(output, a_render_graphviz_reports_errors_for_replaces_nothing, .timeout = 60)
{
	struct viz_target t;
	Agraph_t *g = agopen("bad", Agdirected, NULL);
	Agnode_t *n = agnode(g, "n", 1);
	FILE *f = fopen(t_path("keep.svg"), "w");
	int64_t before;

	cr_assert_not_null(f);
	fputs("precious\n", f);
	fclose(f);
	before = t_file_hash(t_path("keep.svg"));
	/* Not well-formed: an unclosed tag in an HTML-like label. */
	viz_set_html_label(n, "<B>unclosed");
	cr_assert_eq(viz_target_open(t_path("keep.svg"), NULL, &t), 0);
	cr_expect_lt(viz_output_render(g, "svg", &t), 0);
	viz_target_release(&t);
	agclose(g);
	cr_expect_eq(t_file_hash(t_path("keep.svg")), before, "a failed render replaced the file");
}

/* A long inherited path is stored whole (it used to be cut at 67 bytes, losing the file name) and drawn by its end. */
Test(output, a_long_inherited_path_is_stored_whole_and_drawn_by_its_end, .timeout = 60)
{
	char dir[256], sql[1024];
	struct t_result r;

	memset(dir, 'd', 200);
	dir[200] = '\0';
	cr_assert_eq(t_sh(&r, "mkdir %s && exec 7>%s/build-output.log && \"$PT\" run --db t.db -q -s child-close -w 2 -t 2",
			  dir, dir), 0, "%s", r.err);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM holds WHERE fd = 7 AND detail = '%s/%s/build-output.log'",
		 t_tmpdir(), dir);
	/* The pool parent and both workers hold it, whole. */
	cr_expect_eq(t_sql_int(t_path("t.db"), "%s", sql), 3, "the stored path is not whole");
	cr_expect_eq(t_run(&r, "render --db t.db --at spawned --foreign full -o long.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c '…dddd*/build&#45;output.log<' long.svg"), 0, "the picture does not end with the file name");
}
