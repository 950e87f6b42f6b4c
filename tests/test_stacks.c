/* test_stacks.c: record --stacks: the stacks of the C++ pool's pipes and forks, with and without debug info, and none without the option. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG(name) POOLTRACE_PROGRAMS "/" name

/* The line of tests/programs/cxxpool.cpp that holds call, e.g. "fork()": read from the source, not written here. */
static int source_line(const char *call)
{
	FILE *f = fopen(POOLTRACE_SRC "/tests/programs/cxxpool.cpp", "r");
	char line[512];
	int n = 0, found = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, call) && !strstr(line, "//")) {
			cr_assert_eq(found, 0, "%s is on one line only", call);
			found = n;
		}
	}
	fclose(f);
	cr_assert_gt(found, 0, "%s is in cxxpool.cpp", call);
	return found;
}

/* The fork events of run 1 whose parent is the program's (not pooltrace's own fork of the first process). */
#define PROGRAM_FORKS "FROM events e JOIN runs r ON r.id = e.run_id WHERE e.kind = 'fork' AND e.other_pid != r.supervisor_pid"

/*
 * With -g, every fork's stack holds a frame at the fork() call's file:line,
 * in the constructor, and every pipe's one at the pipe() call's; each such
 * stack is stored once, whichever of the forks had it. explain says where.
 */
Test(stacks, every_fork_has_its_file_line_with_debug_info, .timeout = 60)
{
	const char *db = t_path("g.db");
	int fork_line = source_line("fork()"), pipe_line = source_line("pipe(p)");
	struct t_result r;
	char want[160], *at;

	cr_assert_eq(t_run(&r, "record --db g.db --stacks -q -- " PROG("cxxpool-g") " 3 fixed"), 0, "%s", r.err);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) " PROGRAM_FORKS), 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) " PROGRAM_FORKS " AND EXISTS (SELECT 1 FROM event_stacks s"
				   " JOIN stack_frames f USING (run_id, stack_id) WHERE s.run_id = e.run_id AND s.seq = e.seq"
				   " AND f.file LIKE '%%cxxpool.cpp' AND f.line = %d AND f.function LIKE 'ProcessPool::ProcessPool%%')",
				   fork_line),
		     3, "every fork's stack names cxxpool.cpp:%d in ProcessPool::ProcessPool", fork_line);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN event_stacks s USING (run_id, seq)"
				   " JOIN stacks k USING (run_id, stack_id) JOIN stack_frames f ON f.run_id = k.run_id"
				   " AND f.stack_id = k.stack_id AND f.frame = k.own_frame"
				   " WHERE e.kind = 'pipe' AND f.file LIKE '%%cxxpool.cpp' AND f.line = %d", pipe_line),
		     3, "every pipe's own frame is cxxpool.cpp:%d", pipe_line);
	cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT s.stack_id) FROM events e JOIN runs r ON r.id = e.run_id"
				   " JOIN event_stacks s ON s.run_id = e.run_id AND s.seq = e.seq"
				   " WHERE e.kind = 'fork' AND e.other_pid != r.supervisor_pid"),
		     1, "the three forks share one stack row");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM stacks"), t_sql_int(db, "SELECT count(DISTINCT stack_id) FROM event_stacks"),
		     "each distinct stack is stored once");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM stacks k WHERE depth != (SELECT count(*) FROM stack_frames f"
				   " WHERE f.run_id = k.run_id AND f.stack_id = k.stack_id)"), 0);
	/* Not at reads or writes: the 12 tasks' writes have no stack (and no --io: none are events). */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM event_stacks s JOIN events e USING (run_id, seq)"
				   " WHERE e.kind NOT IN ('pipe', 'socketpair', 'fork', 'dup', 'dup2', 'close', 'close_range', 'exec')"), 0);

	/* The naive pool deadlocks: explain says where the leaked end was handed on, and where its pipe was made. */
	cr_assert_eq(t_run(&r, "record --db g.db --stacks -q -- " PROG("cxxpool-g") " 3"), 128 + 9, "%s", r.err);
	t_run(&r, "explain --db g.db");
	/* (The fd is whatever the pool got: the test runner may have given it one more.) */
	snprintf(want, sizeof(want), "forked at cxxpool.cpp:%d in ProcessPool::ProcessPool while holding pipe 1's write end (fd ",
		 fork_line);
	cr_assert(at = strstr(r.out, want), "explain says '%s':\n%s%s", want, r.out, r.err);
	snprintf(want, sizeof(want), "), created at cxxpool.cpp:%d in ProcessPool::ProcessPool\n", pipe_line);
	cr_expect(strstr(at, want) && strstr(at, want) < strchr(at, '\n') + 1, "then '%s':\n%s", want, r.out);
	t_run(&r, "explain --db g.db --json");
	snprintf(want, sizeof(want), "\"forked_at\": \"cxxpool.cpp:%d in ProcessPool::ProcessPool\"", fork_line);
	cr_expect(strstr(r.out, want), "explain --json has %s:\n%s", want, r.out);
}

/* Without -g there is no file:line, but the symbol table still names the functions, and explain says them. */
Test(stacks, without_debug_info_the_function_names_still_appear, .timeout = 60)
{
	const char *db = t_path("nog.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db nog.db --stacks -q -- " PROG("cxxpool") " 3 fixed"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) " PROGRAM_FORKS " AND EXISTS (SELECT 1 FROM event_stacks s"
				   " JOIN stacks k USING (run_id, stack_id) JOIN stack_frames f ON f.run_id = k.run_id"
				   " AND f.stack_id = k.stack_id AND f.frame = k.own_frame"
				   " WHERE s.run_id = e.run_id AND s.seq = e.seq"
				   " AND f.module LIKE '%%/cxxpool' AND f.file IS NULL AND f.function = 'ProcessPool::ProcessPool(int, bool)')"),
		     3, "every fork's own frame is the constructor, by its symbol");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM stack_frames WHERE function = 'main' AND module LIKE '%%/cxxpool'"),
		     t_sql_int(db, "SELECT count(*) FROM stacks k WHERE EXISTS (SELECT 1 FROM stack_frames f"
				   " WHERE f.stack_id = k.stack_id AND f.module LIKE '%%/cxxpool')"),
		     "main is below every stack of the program's own code");
	cr_assert_eq(t_run(&r, "record --db nog.db --stacks -q -- " PROG("cxxpool") " 3"), 128 + 9, "%s", r.err);
	t_run(&r, "explain --db nog.db");
	cr_expect(strstr(r.out, "forked at ProcessPool::ProcessPool in cxxpool+0x"), "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "created at ProcessPool::ProcessPool in cxxpool+0x"), "%s%s", r.out, r.err);
}

/* Without --stacks nothing of it is recorded: no rows, and explain's words are as before. */
Test(stacks, without_the_option_there_are_no_stack_rows, .timeout = 60)
{
	const char *db = t_path("none.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db none.db -q -- " PROG("cxxpool-g") " 3"), 128 + 9, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT (SELECT count(*) FROM stacks) + (SELECT count(*) FROM stack_frames)"
				   " + (SELECT count(*) FROM event_stacks)"), 0);
	t_run(&r, "explain --db none.db");
	cr_expect(strstr(r.out, "handed on by fork"), "%s%s", r.out, r.err);
	cr_expect_null(strstr(r.out, "forked at"), "%s", r.out);
	t_run(&r, "explain --db none.db --json");
	cr_expect_null(strstr(r.out, "forked_at"), "%s", r.out);
}

/*
 * An exec's stack is where the old program called execve (the shell's
 * frames, none of the new program's), and the new program's own calls
 * after it are named from the new program (its session made anew).
 */
Test(stacks, an_exec_has_the_old_programs_stack_and_the_new_one_its_own, .timeout = 60)
{
	const char *db = t_path("exec.db");
	int fork_line = source_line("fork()");
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db exec.db --stacks -q -- sh -c '" PROG("cxxpool-g") " 2 fixed; true'"), 0, "%s",
		     r.err);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'exec' AND detail LIKE '%%/cxxpool-g'"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN event_stacks s USING (run_id, seq)"
				   " JOIN stacks k USING (run_id, stack_id) JOIN stack_frames f ON f.run_id = k.run_id"
				   " AND f.stack_id = k.stack_id AND f.frame = k.own_frame"
				   " WHERE e.kind = 'exec' AND e.detail LIKE '%%/cxxpool-g'"
				   " AND f.module = (SELECT detail FROM events WHERE kind = 'exec' ORDER BY seq LIMIT 1)"),
		     1, "the exec's own frame is in the shell that called it");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN event_stacks s USING (run_id, seq)"
				   " JOIN stack_frames f USING (run_id, stack_id)"
				   " WHERE e.kind = 'exec' AND f.module LIKE '%%/cxxpool-g'"),
		     0, "and none of its frames is the new program's");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN event_stacks s USING (run_id, seq)"
				   " JOIN stack_frames f USING (run_id, stack_id)"
				   " WHERE e.kind = 'fork' AND f.file LIKE '%%cxxpool.cpp' AND f.line = %d", fork_line),
		     2, "the pool's two forks after the exec are at cxxpool.cpp:%d", fork_line);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN runs r ON r.id = e.run_id"
				   " JOIN event_stacks s USING (run_id, seq)"
				   " WHERE e.kind = 'exec' AND e.pid = (SELECT min(pid) FROM processes)"
				   " AND e.seq = (SELECT min(seq) FROM events WHERE kind = 'exec')"),
		     0, "the first process's first exec is pooltrace's own: no stack");
}

/* The report carries each event's stack in its list item (shown for the current event only); a run without has none. */
Test(stacks, the_report_shows_the_current_events_stack, .timeout = 60)
{
	struct t_result r;
	char want[96], *html, *fork_item;
	FILE *f;
	long n;

	cr_assert_eq(t_run(&r, "record --db rep.db --stacks -q -- " PROG("cxxpool-g") " 2 fixed"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "record --db rep.db -q -- " PROG("cxxpool-g") " 2 fixed"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "report --db rep.db --run 1 -o with.html"), 0, "%s", r.err);
	cr_assert_not_null(f = fopen(t_path("with.html"), "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	html = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(html, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	cr_assert(strstr(html, "#events li.current .stack { display: block; }"), "the style shows the current one");
	/* The pool's first fork (not pooltrace's own, the first item): its item holds its stack. */
	cr_assert(fork_item = strstr(html, "class=\"fork\">cxxpool-g: fork"), "%s", html);
	snprintf(want, sizeof(want), "ProcessPool::ProcessPool(int, bool) at tests/programs/cxxpool.cpp:%d (cxxpool-g+0x",
		 source_line("fork()"));
	cr_expect(strstr(fork_item, "<pre class=\"stack\">#0 ") == strchr(fork_item, '<'), "the stack is in the item");
	cr_expect(strstr(fork_item, want) && strstr(fork_item, want) < strstr(fork_item, "</li>"), "%s in the fork's item", want);
	free(html);
	cr_assert_eq(t_run(&r, "report --db rep.db --run 2 -o without.html"), 0, "%s", r.err);
	cr_assert_eq(t_sh(&r, "grep -c 'class=\"stack\"' without.html"), 1, "no stack in a run without: %s", r.out);
}

/*
 * A libdwfl session holds a few fds (the files it mapped): a pool of 150
 * live workers under a limit of 256 fds gets every stack all the same,
 * because only a few sessions live at once (the least recently used ends).
 */
Test(stacks, many_live_processes_under_a_low_fd_limit_all_get_stacks, .timeout = 120)
{
	const char *db = t_path("many.db");
	struct t_result r;

	cr_assert_eq(t_sh(&r, "ulimit -n 256 && \"$PT\" record --db many.db --stacks -q -- " PROG("leakypool") " 150 fixed"), 0,
		     "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes"), 151);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN runs r ON r.id = e.run_id WHERE e.kind = 'fork'"
				   " AND e.other_pid != r.supervisor_pid AND NOT EXISTS (SELECT 1 FROM event_stacks s"
				   " WHERE s.run_id = e.run_id AND s.seq = e.seq)"),
		     0, "every fork has its stack");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e WHERE e.kind IN ('close', 'dup2') AND e.pipe_id IS NOT NULL"
				   " AND NOT EXISTS (SELECT 1 FROM event_stacks s WHERE s.run_id = e.run_id AND s.seq = e.seq)"),
		     0, "and every close and dup2 of a pipe end");
}

/*
 * Code mapped after the process's first stack (dlopen, which no tracer
 * stops at) is found: its module is read from the maps again and the stack
 * unwound anew, so the library's frame and main's below it are both there.
 */
Test(stacks, code_dlopened_after_the_first_stack_is_named, .timeout = 60)
{
	const char *db = t_path("dl.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db dl.db --stacks -q -- " PROG("dlpipe")), 0, "%s", r.err);
	cr_assert_str_eq(r.out, "two pipes\n");
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN event_stacks s USING (run_id, seq) WHERE kind = 'pipe'"), 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN event_stacks s USING (run_id, seq)"
				   " JOIN stack_frames f1 ON f1.run_id = s.run_id AND f1.stack_id = s.stack_id AND f1.frame = 1"
				   " JOIN stack_frames f2 ON f2.run_id = s.run_id AND f2.stack_id = s.stack_id AND f2.frame = 2"
				   " WHERE e.kind = 'pipe' AND f1.module LIKE '%%/libdlpipe.so' AND f1.function = 'dlpipe_make'"
				   " AND f2.module LIKE '%%/dlpipe' AND f2.function = 'main'"),
		     1, "the second pipe: dlpipe_make in libdlpipe.so, called by main");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM stack_frames WHERE module IS NULL"), 0, "no frame without its module");
}

/*
 * At the deadlock, each blocked thread is unwound where it waits (it is
 * interrupted just before the kill): every hang event has its stack, the
 * parent's own frame is the waitpid() line in the destructor and each
 * worker's the read() line in work(). explain says so in the cycle, in
 * words and in JSON, and render --at hang under each blocked call. The
 * program still ends as before, killed at the deadlock. (Before: hang events
 * had no stack; the cycle said what each waits in, not where.)
 */
Test(stacks, each_blocked_call_of_a_deadlock_has_its_line, .timeout = 60)
{
	const char *db = t_path("h.db");
	int wait_line = source_line("waitpid("), read_line = source_line("read(0, &task");
	struct t_result r;
	char want[160];

	cr_assert_eq(t_run(&r, "record --db h.db --stacks -q -- " PROG("cxxpool-g") " 3"), 128 + 9, "%s", r.err);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'hang'"), 4);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN event_stacks s USING (run_id, seq)"
				   " JOIN stacks k USING (run_id, stack_id) JOIN stack_frames f ON f.run_id = k.run_id"
				   " AND f.stack_id = k.stack_id AND f.frame = k.own_frame WHERE e.kind = 'hang'"
				   " AND f.file LIKE '%%cxxpool.cpp' AND f.line = %d AND f.function LIKE 'ProcessPool::~ProcessPool%%'"
				   " AND e.pid = (SELECT pid FROM processes ORDER BY fork_seq LIMIT 1)", wait_line),
		     1, "the parent waits at cxxpool.cpp:%d", wait_line);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN event_stacks s USING (run_id, seq)"
				   " JOIN stacks k USING (run_id, stack_id) JOIN stack_frames f ON f.run_id = k.run_id"
				   " AND f.stack_id = k.stack_id AND f.frame = k.own_frame WHERE e.kind = 'hang'"
				   " AND f.file LIKE '%%cxxpool.cpp' AND f.line = %d AND f.function LIKE 'ProcessPool::work%%'",
				   read_line),
		     3, "each worker reads at cxxpool.cpp:%d", read_line);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'kill'"), 4, "then each process is killed");

	t_run(&r, "explain --db h.db");
	snprintf(want, sizeof(want), " for process %d (cxxpool-g), at cxxpool.cpp:%d in ProcessPool::~ProcessPool.\n",
		 (int)t_sql_int(db, "SELECT pid FROM processes ORDER BY fork_seq LIMIT 1 OFFSET 1"), wait_line);
	cr_expect(strstr(r.out, want), "explain says '%s':\n%s%s", want, r.out, r.err);
	snprintf(want, sizeof(want), "for EOF on pipe 1, at cxxpool.cpp:%d in ProcessPool::work.\n", read_line);
	cr_expect(strstr(r.out, want), "explain says '%s':\n%s", want, r.out);
	snprintf(want, sizeof(want), "their own pipes (2, 3), all at cxxpool.cpp:%d in ProcessPool::work, whose", read_line);
	cr_expect(strstr(r.out, want), "explain says '%s':\n%s", want, r.out);
	t_run(&r, "explain --db h.db --json");
	snprintf(want, sizeof(want), "\"at\": \"cxxpool.cpp:%d in ProcessPool::~ProcessPool\"", wait_line);
	cr_expect(strstr(r.out, want), "explain --json has %s:\n%s", want, r.out);

	cr_assert_eq(t_run(&r, "render --db h.db --at hang --format dot -o -"), 0, "%s", r.err);
	snprintf(want, sizeof(want), "at cxxpool.cpp:%d in ProcessPool::work", read_line);
	cr_expect(strstr(r.out, want), "the picture has '%s'", want);
}
