/* test_readers.c: every reader handles unfinished, empty and damaged runs: one line and an exit status, never a crash or a wrong picture. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every reader of run `run` in db: each exits with one of `allowed`... and never crashes. */
static void every_reader(const char *db, int run, int status_render, int status_timeline)
{
	static const char *const canned[] = { "summary", "leaks", "blockers", "hang", "fd_table" };
	struct t_result r;

	t_run(&r, "render --db %s --run %d --at end -o r.svg", db, run);
	cr_expect_eq(r.status, status_render, "render: exit %d: %s", r.status, r.err);
	cr_expect_leq(t_lines(r.err), 1, "render: %s", r.err);
	t_run(&r, "compare --db %s --runs %d --at end -o c.svg", db, run);
	cr_expect_eq(r.status, status_render, "compare: exit %d: %s", r.status, r.err);
	t_run(&r, "timeline --db %s --run %d -o t.svg", db, run);
	cr_expect_eq(r.status, status_timeline, "timeline: exit %d: %s", r.status, r.err);
	cr_expect_leq(t_lines(r.err), 1, "timeline: %s", r.err);
	for (size_t i = 0; i < sizeof(canned) / sizeof(canned[0]); i++) {
		t_run(&r, "query --db %s -f %s/traces/queries/%s.sql", db, POOLTRACE_SRC, canned[i]);
		cr_expect_eq(r.status, 0, "%s.sql: exit %d: %s", canned[i], r.status, r.err);
	}
}

/* pooltrace SIGKILLed mid-run: outcome NULL, what it committed is there. */
Test(readers, a_run_whose_pooltrace_was_killed_reads_as_unfinished, .timeout = 60)
{
	struct t_result r;

	/* Killed once some events are committed (the sanitizer build starts slowly). */
	cr_assert_eq(t_sh(&r, "\"$PT\" run --db k.db -s child-close -w 3 -t 1000000 --task-ms 1 >/dev/null & p=$!;"
			      " for i in $(seq 200); do n=$(\"$PT\" query --db k.db --csv"
			      " 'SELECT count(*) FROM events' 2>/dev/null | tail -1); [ \"${n:-0}\" -gt 20 ] && break;"
			      " sleep 0.05; done; kill -9 $p; wait $p; exit 0"), 0, "%s", r.err);
	cr_assert_eq(t_sql_int(t_path("k.db"), "SELECT outcome IS NULL FROM runs"), 1);
	cr_assert_gt(t_sql_int(t_path("k.db"), "SELECT count(*) FROM events"), 0);
	every_reader("k.db", 1, 0, 0);
	cr_expect_eq(t_sh(&r, "grep -c '>unfinished<' r.svg"), 0, "the caption does not say unfinished");
}

/* A run row with no process and no event (pooltrace killed at start-up, or a hand-made row). */
Test(readers, a_run_with_no_processes_is_one_line_and_exit_2, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db e.db -q -s child-close -w 2 -t 2"), 0, "%s", r.err);
	t_sql_exec(t_path("e.db"), "INSERT INTO runs (id, strategy, workers, tasks, task_ms, io_events, started_at,"
				   " started_ns, supervisor_pid) VALUES (2, 'naive', 4, 16, 0, 1, 'now', 0, 1)");
	every_reader("e.db", 2, 2, 2);
	t_run(&r, "timeline --db e.db -o t.svg");
	cr_expect(strstr(r.err, "recorded no events") != NULL, "%s", r.err);
}

/* A chunk of per-task events that is not valid JSON: a read error, not a segfault. */
Test(readers, a_malformed_event_chunk_is_a_read_error, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db m.db -q -s child-close -w 2 -t 20"), 0, "%s", r.err);
	t_sql_exec(t_path("m.db"), "UPDATE io_chunks SET events = '[[0,0,' WHERE rowid = (SELECT min(rowid) FROM io_chunks)");
	t_run(&r, "timeline --db m.db -o t.svg");
	cr_expect_eq(r.status, 1, "timeline: exit %d: %s", r.status, r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, "malformed JSON") != NULL, "%s", r.err);
	cr_expect_eq(t_sh(&r, "test ! -e t.svg"), 0, "a picture was written");
	t_run(&r, "query --db m.db 'SELECT count(*) FROM events'");
	cr_expect_eq(r.status, 1, "query: exit %d: %s", r.status, r.err);
}

/*
 * One page of `holds` overwritten with junk: SQLite reports the damage when
 * it reaches the page. The render used to stop there silently and draw a
 * picture with wrong counts (475 leaked write ends where there were 528).
 */
Test(readers, a_damaged_page_is_a_read_error_not_a_partial_picture, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("d.db");
	char junk[4096];
	int64_t page, size;
	int fd;

	cr_assert_eq(t_run(&r, "run --db d.db -q -s naive -w 40 -t 40"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db d.db --at hang -o before.svg"), 0, "%s", r.err);
	page = t_sql_int(db, "SELECT pageno FROM dbstat WHERE name = 'holds' AND pagetype = 'leaf'"
			     " ORDER BY pageno LIMIT 1 OFFSET 3");
	size = t_sql_int(db, "PRAGMA page_size");
	cr_assert_gt(page, 0, "no fourth leaf page of holds");
	memset(junk, 0xA5, sizeof(junk));
	fd = open(db, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, junk, (size_t)size, (page - 1) * size), size);
	close(fd);
	t_run(&r, "render --db d.db --at hang -o after.svg");
	cr_expect_eq(r.status, 1, "render: exit %d: %s", r.status, r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, "malformed") != NULL, "%s", r.err);
	cr_expect_eq(t_sh(&r, "test ! -e after.svg"), 0, "a picture was drawn from partial data");
	/* The timeline reads only the holds of the lanes it draws, and every event it draws: one of those. */
	page = t_sql_int(db, "SELECT pageno FROM dbstat WHERE name = 'event_rows' AND pagetype = 'leaf'"
			     " ORDER BY pageno LIMIT 1 OFFSET 3");
	cr_assert_gt(page, 0, "no fourth leaf page of event_rows");
	fd = open(db, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, junk, (size_t)size, (page - 1) * size), size);
	close(fd);
	t_run(&r, "timeline --db d.db -o after-t.svg");
	cr_expect_eq(r.status, 1, "timeline: exit %d: %s", r.status, r.err);
	t_run(&r, "query --db d.db 'SELECT count(*) FROM leaked_write_ends'");
	cr_expect_eq(r.status, 1, "query: exit %d: %s", r.status, r.err);
}
