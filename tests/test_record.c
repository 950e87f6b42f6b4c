/* test_record.c: `pooltrace record` traces other people's programs into the same trace, with the same counts. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG(name) POOLTRACE_PROGRAMS "/" name

/* The expected counts of the built-in pool, per strategy (DESIGN's table). */
static void expect_pool_counts(const char *db, int run, const char *strategy, long n)
{
	long all = n * (n - 1) / 2, leaked = !strcmp(strategy, "child-close") || !strcmp(strategy, "close-range") ? 0 : all;
	long blockers = !strcmp(strategy, "naive") ? n - 1 : !strcmp(strategy, "close-all") ? all : 0;

	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = %d", run), leaked,
		     "%s, %ld workers: leaked write ends", strategy, n);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = %d", run), blockers,
		     "%s, %ld workers: EOF blockers", strategy, n);
}

/* The pool recorded from outside, through ptrace, counts as it does from inside. */
Test(record, the_pool_recorded_from_outside_gives_the_same_counts_as_run, .timeout = 120)
{
	static const char *const strategies[] = { "naive", "close-all", "reverse-close", "child-close", "close-range" };
	const char *db = t_path("pool.db");
	struct t_result r;
	int run = 0;

	for (long n = 2; n <= 5; n += 3)
		for (size_t s = 0; s < 5; s++) {
			/* LeakSanitizer cannot run in a traced process: off for the traced pooltrace only. */
			cr_assert_eq(t_run(&r, "record --db pool.db -q -- env ASAN_OPTIONS=detect_leaks=0 \"$PT\" run"
					       " --no-trace -q -s %s -w %ld -t %ld", strategies[s], n, 3 * n), 0, "%s", r.err);
			expect_pool_counts(db, ++run, strategies[s], n);
			cr_assert_eq(t_run(&r, "run --db pool.db -q -s %s -w %ld -t %ld", strategies[s], n, 3 * n), 0,
				     "%s", r.err);
			expect_pool_counts(db, ++run, strategies[s], n);
		}
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE source = 'record' AND outcome = 'ok'"), 10);
}

/*
 * The textbook leaky pool, a plain C program: the deadlock is detected from
 * the kernel's evidence, recorded and killed, with the pool's counts; its
 * fixed version runs to the end with none.
 */
Test(record, a_leaky_c_pool_deadlocks_and_its_fix_does_not, .timeout = 60)
{
	const char *db = t_path("leaky.db");
	struct t_result r;
	int run = 0;

	for (long n = 3; n <= 5; n += 2) {
		t_run(&r, "record --db leaky.db --hang-ms 200 -- %s %ld", PROG("leakypool"), n);
		cr_expect_eq(r.status, 128 + SIGKILL, "exit %d: %s", r.status, r.err);
		run++;
		cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs WHERE id = %d", run), 1);
		expect_pool_counts(db, run, "naive", n);
		/* Found within a second of the last thing the program did. */
		cr_expect_lt(t_sql_int(db, "SELECT (SELECT min(ts_ns) FROM events WHERE run_id = %d AND kind = 'hang')"
					   " - (SELECT max(ts_ns) FROM events WHERE run_id = %d AND kind <> 'hang'"
					   " AND seq < (SELECT min(seq) FROM events WHERE run_id = %d AND kind = 'hang'))",
				       run, run, run), 1000000000LL);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = %d AND kind = 'hang'"
					   " AND detail LIKE '%%pipe_read%%'", run), n, "the workers blocked reading");
		cr_expect_eq(t_run(&r, "record --db leaky.db -- %s %ld fixed", PROG("leakypool"), n), 0, "%s", r.err);
		run++;
		cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs WHERE id = %d", run), 1);
		expect_pool_counts(db, run, "child-close", n);
	}
	cr_expect_eq(t_run(&r, "render --db leaky.db --run 1 --at hang -o hang.svg"), 0, "%s", r.err);
}

/* A shell pipeline: its output and status pass through, two pipes, no leak. */
Test(record, a_three_stage_shell_pipeline_is_recorded_and_its_status_passed_through, .timeout = 60)
{
	const char *db = t_path("sh.db");
	struct t_result r;

	t_run(&r, "record --db sh.db -- sh -c 'printf \"c\\nb\\na\\n\" | sort | head -2; exit 7'");
	cr_expect_eq(r.status, 7, "exit %d: %s", r.status, r.err);
	cr_expect_str_eq(r.out, "a\nb\n");
	cr_expect(strstr(r.err, "record") == NULL && strstr(r.err, ": ok, status 7;") != NULL, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pipes WHERE run_id = 1"), 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT exit_status FROM runs"), 7);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE role = 'process' AND program LIKE '%%/sort'"),
		     1);
	/* Each pipe ends up as one stage's stdout and the next one's stdin: one write end and one
	 * read end made by dup2, in two processes; every other copy was closed. */
	for (int pipe = 1; pipe <= 2; pipe++) {
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE pipe_id = %d AND from_kind = 'dup2'"
					   " AND pipe_end = 'write' AND fd = 1", pipe), 1, "pipe %d: writer", pipe);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE pipe_id = %d AND from_kind = 'dup2'"
					   " AND pipe_end = 'read' AND fd = 0", pipe), 1, "pipe %d: reader", pipe);
		cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT pid) FROM holds WHERE pipe_id = %d"
					   " AND from_kind = 'dup2'", pipe), 2, "pipe %d: processes", pipe);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE pipe_id = %d AND from_kind <> 'dup2'"
					   " AND touched_seq IS NULL", pipe), 0, "pipe %d: a copy left untouched", pipe);
	}
}

/* A writer killed by SIGPIPE once head has gone: recorded on the writer, not the run. */
Test(record, a_writer_killed_by_sigpipe_is_recorded_on_it_and_the_run_is_ok, .timeout = 60)
{
	const char *db = t_path("pipe.db");
	struct t_result r;

	cr_expect_eq(t_run(&r, "record --db pipe.db -- sh -c 'yes | head -1'"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "y\n");
	cr_expect_eq(t_sql_int(db, "SELECT term_signal FROM processes WHERE program LIKE '%%/yes'"), SIGPIPE);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs"), 1);
}

/* Blocked readers behind a sleeping writer are not a deadlock. */
Test(record, a_program_that_sleeps_is_not_killed, .timeout = 60)
{
	const char *db = t_path("sleep.db");
	struct t_result r;

	cr_expect_eq(t_run(&r, "record --db sleep.db --hang-ms 100 -- sh -c 'sleep 1 | cat; echo done'"), 0, "%s",
		     r.err);
	cr_expect_str_eq(r.out, "done\n");
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind IN ('hang', 'kill')"), 0);
	/* But cat was found blocked on the empty pipe, once: a `blocked` event with 0 bytes queued. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN processes p USING (run_id, pid)"
				   " WHERE e.kind = 'blocked' AND p.program LIKE '%%/cat' AND e.pipe_end = 'read' AND e.result = 0"),
		     1);
}

/*
 * A pipe from outside the program (the shell's `producer | pooltrace record
 * -- consumer`) may be written by a process pooltrace does not trace: a
 * reader blocked on it is not stuck, however long the writer takes.
 */
Test(record, a_reader_of_a_pipe_from_outside_is_not_killed, .timeout = 60)
{
	const char *db = t_path("outside.db");
	struct t_result r;

	cr_expect_eq(t_sh(&r, "(sleep 1; echo hi) | \"$PT\" record --db outside.db --hang-ms 100 -- cat"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "hi\n");
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind IN ('hang', 'kill')"), 0);
}

/*
 * A process is stuck only when all its threads are: the main thread blocked
 * on a pipe that its own other thread writes to a second later is not
 * killed. When that thread waits on a pipe nobody writes to instead, the
 * deadlock within the one process is found, one hang event per thread.
 */
Test(record, a_thread_that_will_write_keeps_its_process_alive, .timeout = 60)
{
	const char *db = t_path("late.db");
	struct t_result r;

	cr_expect_eq(t_run(&r, "record --db late.db --hang-ms 100 -- %s", PROG("latewrite")), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "x\n");
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs WHERE id = 1"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind IN ('hang', 'kill')"), 0);

	t_run(&r, "record --db late.db --hang-ms 100 -- %s stuck", PROG("latewrite"));
	cr_expect_eq(r.status, 128 + SIGKILL, "exit %d: %s", r.status, r.err);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs WHERE id = 2"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 2 AND kind = 'hang'"
				   " AND pipe_end = 'read' AND detail LIKE '%%syscall=read%%'"), 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT pipe_id) FROM events WHERE run_id = 2 AND kind = 'hang'"), 2);
}

/*
 * A thread pool fed through pipes whose main thread joins each worker before
 * closing its pipe: the worker never reads EOF, the join never returns. The
 * join is a futex wait on the word the kernel clears when that worker exits
 * (CLONE_CHILD_CLEARTID), so it is known whom it waits for, and every thread
 * being stuck, it is a deadlock. Fixed, or with a worker that is only slow
 * to exit, the program runs to its end.
 */
Test(record, a_thread_joined_before_its_pipe_is_closed_is_a_deadlock, .timeout = 60)
{
	const char *db = t_path("tpool.db");
	struct t_result r;

	t_run(&r, "record --db tpool.db --hang-ms 100 -- %s 3", PROG("threadpool"));
	cr_expect_eq(r.status, 128 + SIGKILL, "exit %d: %s", r.status, r.err);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs WHERE id = 1"), 1);
	/* The main thread joins the first worker; the three workers read their pipes. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 1 AND kind = 'hang'"
				   " AND detail LIKE 'state=S syscall=futex joins=%%'"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 1 AND kind = 'hang'"
				   " AND detail LIKE 'tid=%% syscall=read fd=%%' AND pipe_end = 'read'"), 3);
	/* The thread it joins is one of the readers, and the first pipe's. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events j JOIN events w ON w.run_id = j.run_id"
				   " AND w.kind = 'hang' AND w.detail LIKE 'tid=' || substr(j.detail, instr(j.detail, 'joins=') + 6,"
				   " instr(substr(j.detail, instr(j.detail, 'joins=')), ' ') - 7) || ' %%'"
				   " WHERE j.run_id = 1 AND j.kind = 'hang' AND j.detail LIKE '%%joins=%%' AND w.pipe_id = 1"), 1);
	cr_expect_eq(t_run(&r, "render --db tpool.db --run 1 --at hang -o tpool.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c 'blocked: join(thread [0-9]*)' tpool.svg"), 0, "%s", r.out);
	cr_expect_eq(t_sh(&r, "grep -c 'thread [0-9]*: read(fd [0-9]*) on pipe [123]' tpool.svg"), 0, "%s", r.out);
	cr_expect_str_eq(r.out, "3\n");

	cr_expect_eq(t_run(&r, "record --db tpool.db --hang-ms 100 -- %s 3 fixed", PROG("threadpool")), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "78\n");
	cr_expect_eq(t_run(&r, "record --db tpool.db --hang-ms 100 -- %s 3 slow", PROG("threadpool")), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "78\n");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE id > 1 AND outcome = 'ok'"), 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id > 1 AND kind IN ('hang', 'kill')"), 0);
}

/* Threads are not processes: their pipes and closes are their process's. */
Test(record, threads_calls_belong_to_their_process, .timeout = 60)
{
	const char *db = t_path("threads.db");
	struct t_result r;

	cr_expect_eq(t_run(&r, "record --db threads.db -- %s", PROG("threads")), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pipes"), 4);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE pipe_id IS NOT NULL AND to_kind = 'close'"), 8);
	cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT pid) FROM events WHERE pid <> (SELECT supervisor_pid FROM runs)"),
		     1);
	/* Each pipe's two holds end by a close, the pipe's own: no close landed on the wrong pipe. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds h JOIN pipes p USING (run_id, pipe_id)"
				   " WHERE h.from_kind = 'pipe' AND h.to_kind = 'close'"), 8);
}

/* The program starts with exactly the fds pooltrace was given (those of the shell that started it), and no more. */
Test(record, the_program_is_born_with_exactly_the_fds_pooltrace_was_given, .timeout = 60)
{
	struct t_result r;

	/* ls is started as pooltrace is, and lists its own fds but for the directory it reads. */
	t_sh(&r, "exec 7>seven.txt; dir=$(ls -l /proc/self/fd | sed -n 's|.* \\([0-9][0-9]*\\) -> /proc/[0-9]*/fd$|\\1|p');"
		 " want=$(ls /proc/self/fd | grep -vx \"$dir\" | sort -n | tr '\\n' ' ');"
		 " \"$PT\" record --db fds.db -q -- true || exit 9;"
		 " got=$(\"$PT\" query --db fds.db --csv \"SELECT fd FROM events WHERE kind = 'inherit' AND pid ="
		 " (SELECT pid FROM processes WHERE fork_seq = 1) ORDER BY fd\" | tail -n +2 | tr '\\n' ' ');"
		 " echo \"$want|$got\"; [ \"$want\" = \"$got\" ]");
	cr_expect_eq(r.status, 0, "the shell's fds | the program's at birth: %s %s", r.out, r.err);
	cr_expect(strstr(r.out, " 7 ") != NULL, "%s", r.out);
}

/*
 * CMD exits 0 and leaves a pool behind that deadlocks: the deadlock is found
 * and recorded, the summary says so, and the exit status is CMD's, not 137.
 */
Test(record, an_orphans_deadlock_after_cmd_exited_keeps_cmds_status, .timeout = 60)
{
	struct t_result r;

	t_run(&r, "record --db o.db -- sh -c '%s 3 </dev/null >/dev/null 2>&1 & exit 0'", PROG("leakypool"));
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.err, ": deadlock, status 0;") != NULL, "%s", r.err);
	cr_expect_eq(t_sql_int(t_path("o.db"), "SELECT count(*) FROM runs WHERE outcome = 'deadlock' AND exit_status = 0"), 1);
	cr_expect_eq(t_sql_int(t_path("o.db"), "SELECT count(*) FROM events WHERE kind = 'hang'"), 4);
}

/*
 * Reaps without a status pointer (waitpid(pid, NULL, 0), wait(NULL)) store
 * how each child really ended, as strace -ff saw it ("+++ exited with 3
 * +++", "+++ killed by SIGKILL +++"), not exit 0; and a child reported
 * stopped (WUNTRACED) or continued (waitid WCONTINUED) is not reaped then:
 * its write and close after the SIGCONT are its own, so no write end is
 * taken for leaked. (Before: exit 0 twice, three reaps of the stopped child,
 * 1 leaked write end, 1 EOF blocker.)
 */
Test(record, reaps_without_a_status_and_stop_reports_match_strace, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("nw.db");

	cr_assert_eq(t_sh(&r, "strace -ff -q -o st -- %s >/dev/null && cat st.* |"
			      " sed -n 's/^+++ exited with \\([0-9]*\\) +++$/exit \\1/p; s/^+++ killed by \\(SIG[A-Z]*\\).*/\\1/p' |"
			      " sort | tr '\\n' ' '",
			      PROG("nullwait")),
		     0, "%s", r.err);
	cr_expect_str_eq(r.out, "SIGKILL exit 0 exit 3 exit 5 ", "strace saw: %s", r.out);
	cr_assert_eq(t_run(&r, "record --io --db nw.db -q -- %s", PROG("nullwait")), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "query --db nw.db --csv \"SELECT group_concat(x, ' ') FROM (SELECT CASE WHEN term_signal = 9"
			       " THEN 'SIGKILL' ELSE 'exit ' || exit_code END AS x FROM processes ORDER BY x)\""),
		     0, "%s", r.err);
	cr_expect(strstr(r.out, "SIGKILL exit 0 exit 3 exit 5") != NULL, "pooltrace stored: %s", r.out);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'reap'"), 4, "one reap per process");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE reap_seq IS NULL"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN processes p ON p.pid = e.pid AND p.exit_code = 5"
				   " WHERE e.kind = 'write' AND e.seq < p.reap_seq"), 1, "the continued child's write");
}

/*
 * Calls the trace cannot follow mark the run incomplete, with why, in
 * runs.incomplete, the summary line and the picture's caption: a close
 * through int $0x80 (the write end looks held forever, though the program
 * read EOF), and an io_uring ring. (Before, the run looked whole.)
 */
Test(record, calls_it_cannot_follow_mark_the_run_incomplete, .timeout = 60)
{
	static const char *const modes[] = { "int80", "uring", "pidfd" },
			       *const why[] = { "i386 (32-bit) calls", "io_uring", "pidfd_getfd" };
	const char *db = t_path("b.db");
	struct t_result r;

	for (int i = 0; i < 3; i++) {
		cr_assert_eq(t_run(&r, "record --db b.db -- %s %s", PROG("blind"), modes[i]), 0, "%s", r.err);
		cr_expect(strstr(r.err, "(incomplete: ") && strstr(r.err, why[i]), "%s", r.err);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE id = %d AND incomplete LIKE '%%%s%%'", i + 1,
				       why[i]), 1, "%s", modes[i]);
		cr_assert_eq(t_run(&r, "render --db b.db --run %d --format dot -o -", i + 1), 0, "%s", r.err);
		cr_expect(strstr(r.out, "incomplete: ") != NULL, "the caption of %s", modes[i]);
		cr_assert_eq(t_run(&r, "timeline --db b.db --run %d --format dot -o -", i + 1), 0, "%s", r.err);
		cr_expect(strstr(r.out, "incomplete: ") != NULL, "the timeline of %s", modes[i]);
		cr_assert_eq(t_run(&r, "report --db b.db --run %d -o -", i + 1), 0, "%s", r.err);
		cr_expect(strstr(r.out, "incomplete: ") != NULL, "the report of %s", modes[i]);
	}
	/* A program that makes no such call: whole. */
	cr_assert_eq(t_run(&r, "record --db b.db -- %s pv2", PROG("blind")), 0, "%s", r.err);
	cr_expect(strstr(r.err, "incomplete") == NULL, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE id = 4 AND incomplete IS NULL"), 1);
}

/* --io sees preadv2 and pwritev2 on a pipe (offset -1), as strace -ff does. */
Test(record, io_sees_preadv2_and_pwritev2, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "strace -ff -qq -e trace=preadv2,pwritev2 -o st -- %s pv2 && cat st.* | grep -c 'v2('",
			  PROG("blind")), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "3\n", "strace saw: %s", r.out);
	cr_assert_eq(t_run(&r, "record --io --db p.db -q -- %s pv2", PROG("blind")), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(t_path("p.db"), "SELECT count(*) FROM events WHERE kind = 'write' AND result = 5"), 1);
	cr_expect_eq(t_sql_int(t_path("p.db"), "SELECT count(*) FROM events WHERE kind = 'read' AND result = 5"), 1);
	cr_expect_eq(t_sql_int(t_path("p.db"), "SELECT count(*) FROM events WHERE kind = 'read_zero'"), 1);
}

/*
 * A child made with CLONE_UNTRACED (clone, and clone3) stays traced, and the
 * program does what it does untraced: the same output, the same statuses,
 * its flags where it left them (rdi, clone_args, an i386 clone's ebx) in the parent right after
 * the call and in each child. (Before, the child ran with the filter
 * and no tracer: its close and execve failed with ENOSYS, and it exited 7.)
 */
Test(record, a_clone_untraced_child_stays_traced_and_runs_as_untraced, .timeout = 60)
{
	const char *expected = "child 1 kept\nchild 2 kept\nchild 3 kept\nexit 0 0 0, rdi kept, flags kept, ebx kept\n";
	struct t_result r;

	cr_assert_eq(t_sh(&r, "%s | sort", PROG("untraced")), 0, "%s", r.err);
	cr_expect_str_eq(r.out, expected, "untraced");
	cr_assert_eq(t_sh(&r, "\"$PT\" record --db u.db -q -- %s | sort", PROG("untraced")), 0, "%s", r.err);
	cr_expect_str_eq(r.out, expected, "traced");
	cr_expect_eq(t_sql_int(t_path("u.db"), "SELECT count(*) FROM processes WHERE program LIKE '%%sh'"), 3,
		     "every child traced up to its exec, the i386 clone's too");
}

/*
 * The summary line is text a terminal shows as it is: a word with bytes that
 * are not UTF-8 is quoted in $'...' with each such byte as \xNN, as a
 * control character already was; valid UTF-8 stays as it is. (The raw
 * bytes went to the terminal.)
 */
Test(record, the_summary_quotes_bytes_that_are_not_utf8, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "\"$PT\" record --db q.db -- printf '%%s' \"$(printf 'caf\\303\\251')\""
			      " \"$(printf 'bad\\377\\376')\" \"$(printf 'a\\nb')\" >/dev/null"),
		     0, "%s", r.err);
	cr_expect(strstr(r.err, " 'caf\xc3\xa9' $'bad\\xff\\xfe' $'a\\nb': ok") != NULL, "%s", r.err);
	for (const unsigned char *p = (const unsigned char *)r.err; *p; p++)
		cr_expect(*p != 0xff && *p != 0xfe, "a raw byte 0x%02x in: %s", *p, r.err);
}

/* If pooltrace dies, the kernel kills the program (PTRACE_O_EXITKILL). */
Test(record, sigkill_of_pooltrace_during_a_record_leaves_no_process, .timeout = 60)
{
	struct t_result r;
	char tag[96];

	snprintf(tag, sizeof(tag), "POOLTRACE_TEST_TAG=record-%d", (int)getpid());
	t_sh(&r, "%s \"$PT\" record --db k.db --hang-ms 60000 -- %s 4 & p=$!; sleep 0.5; kill -9 $p; wait $p; exit $?", tag,
	     PROG("leakypool"));
	cr_expect_eq(r.status, 128 + SIGKILL, "%s", r.err);
	for (int i = 0; i < 100 && t_tagged_alive(tag); i++)
		usleep(10000);
	cr_expect_eq(t_tagged_alive(tag), 0, "the program outlived pooltrace");
}

Test(record, a_missing_command_is_one_line_and_exit_127)
{
	struct t_result r;

	t_run(&r, "record --db m.db -- /no/such/program");
	cr_expect_eq(r.status, 127, "%s", r.err);
	cr_expect(strstr(r.err, "/no/such/program: No such file or directory") != NULL, "%s", r.err);
	t_run(&r, "record --db m.db");
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "missing the command") != NULL, "%s", r.err);
}

/*
 * The wait-for graph at the hang, from run and from record alike, is
 * DESIGN's: parent -> worker 0 (waitpid); worker 0 -> workers 1..N-1 (they
 * hold pipe 0's write end); worker k -> the parent and workers k+1..N-1.
 * That is N + N(N-1)/2 edges, and every blocked process lies on a cycle.
 */
static void expect_wait_for(const char *db, int run, long n)
{
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = %d", run), n + n * (n - 1) / 2,
		     "run %d (%ld workers): edges", run, n);
	cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT pid) FROM wait_for WHERE run_id = %d", run), n + 1,
		     "run %d: every process of the pool waits", run);
	cr_expect_eq(t_sql_int(db, "WITH RECURSIVE reach(start, node) AS ("
				   " SELECT pid, waits_for FROM wait_for WHERE run_id = %d"
				   " UNION SELECT r.start, w.waits_for FROM reach r JOIN wait_for w"
				   " ON w.run_id = %d AND w.pid = r.node)"
				   " SELECT count(DISTINCT pid) FROM wait_for WHERE run_id = %d"
				   " AND pid NOT IN (SELECT start FROM reach WHERE node = start)", run, run, run),
		     0, "run %d: a blocked process is on no cycle", run);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = %d AND reason = 'child'", run), 1);
}

Test(record, the_wait_for_graph_of_a_deadlock_is_the_same_from_run_and_from_record, .timeout = 60)
{
	const char *db = t_path("wait.db");
	struct t_result r;
	int run = 0;

	for (long n = 3; n <= 5; n += 2) {
		cr_assert_eq(t_run(&r, "run --db wait.db -q -s naive -w %ld -t %ld --hang-ms 100", n, 2 * n), 0, "%s",
			     r.err);
		expect_wait_for(db, ++run, n);
		t_run(&r, "record --db wait.db -q --hang-ms 200 -- %s %ld", PROG("leakypool"), n);
		cr_assert_eq(r.status, 128 + SIGKILL, "%s", r.err);
		expect_wait_for(db, ++run, n);
	}
}

/*
 * Truth: the same deterministic program run once under `strace -ff -yy` and
 * once under `record --io` makes the same pipe calls: every close, dup2,
 * read, read_zero and write of a pipe, with the same fds, pipes and results,
 * and nothing more. Pids and inodes differ between the two runs, so both
 * sides are numbered the same way (processes in fork order, pipes in
 * creation order) by tests/scripts/strace-pipe-calls.sh and this query.
 */
static void expect_same_pipe_calls_as_strace(const char *command)
{
	static const char sql[] =
		"WITH p AS (SELECT pid, row_number() OVER (ORDER BY fork_seq) - 1 AS who FROM processes"
		"           WHERE run_id = (SELECT max(id) FROM runs)),"
		"     k AS (SELECT inode, row_number() OVER (ORDER BY created_seq, pipe_id) AS n FROM pipes"
		"           WHERE run_id = (SELECT max(id) FROM runs))"
		" SELECT kind || ' ' || who || ' ' || fd || ' ' || n || ' ' || result"
		" FROM events JOIN p USING (pid) JOIN k USING (inode)"
		" WHERE run_id = (SELECT max(id) FROM runs) AND result >= 0"
		" AND kind IN ('close', 'dup2', 'read', 'read_zero', 'write')";
	struct t_result r;

	cr_assert_eq(t_sh(&r, "rm -f st.* && strace -ff -yy -qq -o st -e trace=pipe,pipe2,socketpair,close,dup2,dup3,"
			      "clone,clone3,fork,vfork,read,write %s > /dev/null && "
			      "%s/tests/scripts/strace-pipe-calls.sh st | sort > strace.txt",
		     command, POOLTRACE_SRC), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "record --db r.db -q --io -- %s", command), 0, "%s", r.err);
	cr_assert_eq(t_sh(&r, "\"$PT\" query --db r.db --csv \"%s\" | tail -n +2 | sort > record.txt", sql), 0,
		     "%s", r.err);
	cr_expect_eq(t_sh(&r, "diff strace.txt record.txt"), 0, "%s: strace (<) and record (>) differ:\n%s",
		     command, r.out);
	cr_expect_eq(t_sh(&r, "grep -c . strace.txt | awk '$1 < 20 { exit 1 }'"), 0, "%s: too few calls to compare",
		     command);
}

Test(record, pipe_calls_match_strace_ff_on_a_c_pool, .timeout = 60)
{
	expect_same_pipe_calls_as_strace(PROG("leakypool") " 4 fixed");
}

Test(record, socketpair_calls_match_strace_ff_on_a_socket_pool, .timeout = 60)
{
	expect_same_pipe_calls_as_strace(PROG("sockpool") " 3 fixed");
}

Test(record, pipe_calls_match_strace_ff_on_a_shell_pipeline, .timeout = 60)
{
	expect_same_pipe_calls_as_strace("sh -c 'seq 5 | cat | wc -l'");
}

/*
 * Truth for a process with threads: the same program run once under
 * `strace -ff -ttt -yy` (one file per thread) and once under `record --io`
 * makes the same pipe calls, the same close-on-exec closes and exits once,
 * with strace's status (tests/scripts/strace-thread-calls.sh and this query
 * number the pipes alike). Every fd event is its process's, and no hold of
 * a pipe ends at an exit: each ends at its own close or close-on-exec.
 */
static void expect_same_thread_calls_as_strace(const char *command, int status)
{
	static const char sql[] =
		"WITH r AS (SELECT max(id) AS id FROM runs),"
		"     k AS (SELECT pipe_id, row_number() OVER (ORDER BY created_seq, pipe_id) AS n FROM pipes"
		"           WHERE run_id = (SELECT id FROM r))"
		" SELECT 'pipe ' || fd || ' ' || fd2 || ' ' || n FROM events JOIN k USING (pipe_id)"
		"  WHERE run_id = (SELECT id FROM r) AND kind = 'pipe'"
		" UNION ALL SELECT kind || ' ' || fd || ' ' || n || ' ' || result FROM events JOIN k USING (pipe_id)"
		"  WHERE run_id = (SELECT id FROM r) AND result >= 0 AND kind IN ('close', 'read', 'read_zero', 'write')"
		" UNION ALL SELECT 'cloexec ' || fd || ' ' || n FROM holds JOIN k USING (pipe_id)"
		"  WHERE run_id = (SELECT id FROM r) AND to_kind = 'cloexec'"
		" UNION ALL SELECT 'exit ' || arg FROM events WHERE run_id = (SELECT id FROM r) AND kind = 'exit'";
	const char *db = t_path("thr.db");
	struct t_result r;

	cr_assert_eq(t_sh(&r, "rm -f st.* && strace -ff -ttt -yy -q -o st -e trace=pipe,pipe2,close,dup2,dup3,read,write,"
			      "execve,clone,clone3 %s > /dev/null; [ $? = %d ] && "
			      "%s/tests/scripts/strace-thread-calls.sh st | sort > strace.txt",
			  command, status, POOLTRACE_SRC), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "record --db thr.db -q --io -- %s > /dev/null", command), status, "%s", r.err);
	cr_assert_eq(t_sh(&r, "\"$PT\" query --db thr.db --csv \"%s\" | tail -n +2 | sort > record.txt", sql), 0,
		     "%s", r.err);
	cr_expect_eq(t_sh(&r, "diff strace.txt record.txt"), 0, "%s: strace (<) and record (>) differ:\n%s",
		     command, r.out);
	cr_expect_eq(t_sh(&r, "grep -c '^close' strace.txt | awk '$1 < 2 { exit 1 }'"), 0, "%s: too few calls to compare",
		     command);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE run_id = (SELECT max(id) FROM runs)"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT pid) FROM events WHERE run_id = (SELECT max(id) FROM runs)"
				   " AND pid <> (SELECT supervisor_pid FROM runs WHERE id = (SELECT max(id) FROM runs))"),
		     1, "a thread's events are its process's");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE run_id = (SELECT max(id) FROM runs)"
				   " AND pipe_id IS NOT NULL AND to_kind IS NOT 'close' AND to_kind IS NOT 'cloexec'"),
		     0, "a pipe's hold ended otherwise than by its close");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes p WHERE run_id = (SELECT max(id) FROM runs)"
				   " AND exit_code = %d AND exit_seq > (SELECT max(seq) FROM events e WHERE e.run_id = p.run_id"
				   " AND e.kind IN ('close', 'exec'))", status),
		     1, "the process exits once, after its last close");
}

/*
 * An execve from a thread other than the main one (tests/programs/threadexec.c):
 * the kernel ends the other threads, the main one too, and the execing
 * thread takes over the process's pid. The process does not exit there: its
 * O_CLOEXEC pipe is closed by the exec, the other by the new program, which
 * then exits 7. (Before: an exit 0 at the exec, ending every hold, and no
 * close-on-exec close.)
 */
Test(record, an_exec_from_a_thread_other_than_the_main_one_matches_strace_ff, .timeout = 60)
{
	expect_same_thread_calls_as_strace(PROG("threadexec"), 7);
	/* The same, its main thread gone by pthread_exit before the exec. */
	expect_same_thread_calls_as_strace(PROG("threadexec") " gone", 7);
}

/*
 * The main thread calls pthread_exit while another runs on
 * (tests/programs/threadexit.c): the process lives until that one exits 3,
 * its write, read and closes of the pipe are recorded on the pipe though
 * /proc/PID/fd shows nothing once the main thread is gone. (Before: an exit
 * 0 at the pthread_exit, ending every hold, the closes without their pipe,
 * no write or read, and no exit 3.)
 */
Test(record, a_main_thread_that_calls_pthread_exit_leaves_its_process_running_as_strace_ff_sees, .timeout = 60)
{
	expect_same_thread_calls_as_strace(PROG("threadexit"), 3);
}

/*
 * After its main thread's pthread_exit, the other thread reads a pipe whose
 * write end it holds itself: a deadlock, found through that live thread,
 * with the process itself as the write end's holder. (Before: /proc/PID/fd
 * was read, which is empty then: the read seemed on no pipe, the program
 * ran until killed.)
 */
Test(record, a_deadlock_after_the_main_thread_called_pthread_exit_is_found, .timeout = 60)
{
	const char *db = t_path("texit.db");
	struct t_result r;

	/* Outside timeout, so that no timer of the program says it may wake. */
	t_sh(&r, "timeout 20 \"$PT\" record --db texit.db --hang-ms 100 -- %s stuck", PROG("threadexit"));
	cr_expect_eq(r.status, 128 + SIGKILL, "exit %d: %s", r.status, r.err);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'hang' AND pipe_end = 'read'"
				   " AND pipe_id IS NOT NULL AND detail LIKE 'tid=%% syscall=read fd=%%'"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM hang_holders h JOIN events e ON e.run_id = h.run_id"
				   " AND e.seq = h.seq WHERE h.holder_pid = e.pid AND h.pipe_id = e.pipe_id"), 1,
		     "the process holds the write end it waits on");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'exit'"), 0, "it never exited by itself");
}

/* The Python interpreter itself (not a launcher script in front of it), in buf. */
static const char *python(char *buf, size_t len)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "python3 -c 'import sys; print(sys.executable)'"), 0,
		     "python3 is needed (Debian package python3): %s", r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	cr_assert_lt(strlen(r.out), len, "python3 lives at too long a path");
	memcpy(buf, r.out, strlen(r.out) + 1);
	return buf;
}

/* Python's subprocess, as its docs teach a pipeline: close_fds leaves no copy of a pipe end behind. */
Test(record, python_subprocess_pipeline_leaves_no_write_end_behind, .timeout = 60)
{
	const char *db = t_path("py.db");
	struct t_result r;
	char py[512];

	t_run(&r, "record --db py.db -- %s -c 'import subprocess\n"
		  "p1 = subprocess.Popen([\"seq\", \"100\"], stdout=subprocess.PIPE)\n"
		  "p2 = subprocess.Popen([\"wc\", \"-l\"], stdin=p1.stdout, stdout=subprocess.PIPE)\n"
		  "p1.stdout.close()\n"
		  "print(p2.communicate()[0].decode().strip())\n'", python(py, sizeof(py)));
	cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_expect_str_eq(r.out, "100\n");
	/* The summary is one line, the command's newlines escaped. */
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
	cr_expect(strstr(r.err, "$'import subprocess\\np1 = ") != NULL, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes"), 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE program LIKE '%%/seq' AND exit_code = 0"), 1);
	/* seq's stdout is wc's stdin: one write end dup2'd onto fd 1 in seq, read end onto fd 0 in wc. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds h JOIN processes p USING (run_id, pid)"
				   " WHERE p.program LIKE '%%/seq' AND h.fd = 1 AND h.pipe_end = 'write' AND h.from_kind = 'dup2'"),
		     1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers"), 0);
}

/*
 * multiprocessing.Pool (fork start method): the workers inherit the write
 * ends of the pool's queues and never close them, as the classic pool does;
 * the pool still ends, because it stops its workers with sentinel tasks, not
 * EOF. pooltrace records the leak, and no deadlock.
 */
Test(record, python_multiprocessing_pool_workers_inherit_the_queues_write_ends, .timeout = 60)
{
	const char *db = t_path("mp.db");
	struct t_result r;
	char py[512];

	t_run(&r, "record --db mp.db -- %s -c 'import multiprocessing as m\n"
		  "m.set_start_method(\"fork\")\n"
		  "with m.Pool(3) as p: print(sum(p.map(abs, range(-50, 50))))\n'", python(py, sizeof(py)));
	cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_expect_str_eq(r.out, "2500\n");
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes"), 4);
	/* Each of the 3 workers holds some, the parent none. */
	cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT pid) FROM leaked_write_ends"
				   " WHERE pid <> (SELECT pid FROM processes ORDER BY fork_seq LIMIT 1)"), 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends"
				   " WHERE pid = (SELECT pid FROM processes ORDER BY fork_seq LIMIT 1)"), 0);
}

/* make -j: three recipe shells at once, each running a pipeline, under make's jobserver pipe. */
Test(record, make_j3_runs_three_pipelines_each_reaching_eof, .timeout = 60)
{
	const char *db = t_path("make.db");
	struct t_result r;

	cr_assert_eq(t_sh(&r, "printf 'all: a b c\\na b c:\\n\\tseq 3 | cat > /dev/null\\n' > M.mk"), 0);
	cr_expect_eq(t_run(&r, "record --db make.db --io -q -- make -s -j3 -f M.mk"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs"), 1);
	/* One pipe per recipe, made by its shell; each cat reads its pipe to EOF. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pipes q JOIN processes p ON p.run_id = q.run_id"
				   " AND p.pid = q.created_by WHERE p.program NOT LIKE '%%/make'"), 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN processes p USING (run_id, pid)"
				   " WHERE e.kind = 'read_zero' AND p.program LIKE '%%/cat'"), 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE program LIKE '%%/seq' AND exit_code = 0"), 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE reap_seq IS NULL"), 0);
}

/* The textbook C++ pool (a class whose destructor closes and waits, in order) hangs as the C one does; its fix does not. */
Test(record, a_textbook_cpp_pool_deadlocks_and_its_fix_does_not, .timeout = 60)
{
	const char *db = t_path("cxx.db");
	struct t_result r;
	int run = 0;

	for (long n = 3; n <= 5; n += 2) {
		cr_expect_eq(t_run(&r, "record --db cxx.db -- " PROG("cxxpool") " %ld", n), 128 + 9, "%s", r.err);
		run++;
		cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs WHERE id = %d", run), 1);
		expect_pool_counts(db, run, "naive", n);
		/* The wait-for graph is the naive pool's: N + N(N-1)/2 edges, all on the cycle. */
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = %d", run), n + n * (n - 1) / 2);
		cr_expect_eq(t_run(&r, "record --db cxx.db -- " PROG("cxxpool") " %ld fixed", n), 0, "%s", r.err);
		run++;
		cr_expect_str_eq(r.out, "done\n");
		expect_pool_counts(db, run, "child-close", n);
	}
}

/* With --io, splice, tee, vmsplice and sendfile count as the reads and writes of pipes they are. */
Test(record, io_sees_splice_tee_vmsplice_and_sendfile, .timeout = 60)
{
	struct t_result r;
	char *order;

	cr_assert_eq(t_run(&r, "record --db sp.db --io -q -- " PROG("splicer")), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "moved\n");
	/* write 8 into a; splice: read 8 from a, write 8 into b; tee: write 8 into c (b keeps its 8);
	 * vmsplice: write 5 into a; sendfile: write 3 into c. */
	cr_assert_eq(t_sh(&r, "\"$PT\" query --db sp.db --csv \"SELECT group_concat(kind || pipe_id || ':' || result, ' ')"
			      " FROM (SELECT * FROM events WHERE kind IN ('read', 'write', 'read_zero') ORDER BY seq)\""),
		     0, "%s", r.err);
	order = strchr(r.out, '\n');
	cr_assert_not_null(order);
	cr_expect_str_eq(order + 1, "write1:8 read1:8 write2:8 write3:8 write1:5 write3:3\n");
	/* Without --io none of them stops the program. */
	cr_assert_eq(t_run(&r, "record --db sp.db -q -- " PROG("splicer")), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(t_path("sp.db"), "SELECT count(*) FROM events WHERE run_id = 2 AND kind IN ('read', 'write')"), 0);
}

/* Job control is the program's: a process that stops itself (^Z) stays stopped until SIGCONT. */
Test(record, a_stopped_program_stays_stopped_until_sigcont, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "\"$PT\" record --db j.db -q -- " PROG("stopper") " pidfile > out.txt & rec=$!\n"
			      "while [ ! -s pidfile ]; do sleep 0.05; done\n"
			      "pid=$(cat pidfile); sleep 0.5\n"
			      "state=$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)\n"
			      "kill -CONT $pid\n"
			      "wait $rec; echo \"status=$? state=$state\"; cat out.txt"), 0, "%s", r.err);
	/* Stopped ('T', or 't' as a tracee in its group-stop) half a second after it stopped itself. */
	cr_expect(strstr(r.out, "status=0 state=t") || strstr(r.out, "status=0 state=T"), "%s", r.out);
	{
		long ms = -1;
		const char *p = strstr(r.out, "resumed after ");

		cr_assert_not_null(p, "%s", r.out);
		sscanf(p, "resumed after %ld ms", &ms);
		cr_expect_geq(ms, 400, "it ran on after %ld ms: the stop was not kept", ms);
	}
	cr_expect_eq(t_sql_int(t_path("j.db"), "SELECT outcome = 'ok' FROM runs"), 1);
}

/*
 * The textbook pool over socketpairs: each end is a way in and a way out at
 * once. With --io (the reads and writes touch the ends in use) the counts
 * are the pipe pool's: N(N-1)/2 leaked sockets (the parent's, inherited by
 * the later workers) and N-1 EOF blockers; the hang is found from the
 * kernel's evidence (workers blocked reading a socket whose peer others
 * hold), with the wait-for graph of the pipe pool. Without --io the
 * deadlock is still found, and socket ends are not counted (an end in use
 * looks untouched without its reads); the summary says so.
 */
Test(record, a_socketpair_pool_deadlocks_like_the_pipe_pool, .timeout = 60)
{
	const char *db = t_path("sock.db");
	struct t_result r;
	int run = 0;

	for (long n = 3; n <= 4; n++) {
		t_run(&r, "record --db sock.db --io --hang-ms 200 -- %s %ld", PROG("sockpool"), n);
		cr_expect_eq(r.status, 128 + SIGKILL, "exit %d: %s", r.status, r.err);
		run++;
		cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs WHERE id = %d", run), 1);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pipes WHERE run_id = %d AND kind = 'socket'"
					   " AND peer_id = pipe_id + CASE pipe_id %% 2 WHEN 1 THEN 1 ELSE -1 END", run), 2 * n);
		expect_pool_counts(db, run, "naive", n);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = %d AND kind = 'hang'"
					   " AND pipe_end = 'socket' AND detail LIKE '%%syscall=read%%'", run), n,
			     "the workers blocked reading their sockets");
		/* Worker k waits for the later workers holding the parent's socket of k, and the parent for worker 0. */
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = %d AND reason = 'pipe'", run),
			     n - 1 + n * (n - 1) / 2);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = %d AND reason = 'child'", run), 1);
		cr_expect_eq(t_run(&r, "record --db sock.db --io -- %s %ld fixed", PROG("sockpool"), n), 0, "%s", r.err);
		run++;
		cr_expect_str_eq(r.out, n == 3 ? "sum 132\n" : "sum 240\n");
		expect_pool_counts(db, run, "child-close", n);
	}
	/* Without --io: found all the same; the counts leave socket ends out, and say so. */
	t_run(&r, "record --db sock.db --hang-ms 200 -- %s 3", PROG("sockpool"));
	cr_expect_eq(r.status, 128 + SIGKILL, "%s", r.err);
	cr_expect(strstr(r.err, "deadlock") && strstr(r.err, "socketpair ends are counted with --io"), "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = %d", run + 1), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = %d", run + 1), 2 + 3 + 1);
	cr_expect_eq(t_run(&r, "render --db sock.db --run 1 --at hang -o hang.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c 'class=\"edge fd socket&#45;end leak\"' hang.svg"), 0, "%s", r.err);
	cr_expect_eq(atoi(r.out), 3, "the 3 leaked sockets drawn red: %s", r.out);
	/* The timeline names the socket each wait is for: N-1 + N(N-1)/2 = 5 of them for N = 3. */
	cr_expect_eq(t_run(&r, "timeline --db sock.db --run 1 -o tl.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -o 'waits for (socket [0-9]*)' tl.svg | wc -l"), 0, "%s", r.err);
	cr_expect_eq(atoi(r.out), 5, "%s", r.out);
}

/*
 * multiprocessing.Pipe() is a socketpair (duplex). The child keeps the
 * parent's end it inherited at fork and never closes it: pooltrace counts it
 * (with --io); were the parent to die, the child's recv() would never see EOF.
 */
Test(record, python_multiprocessing_pipe_child_keeps_the_parents_end, .timeout = 60)
{
	const char *db = t_path("mpp.db");
	struct t_result r;
	char py[512];

	t_run(&r, "record --db mpp.db --io -- %s -c 'import multiprocessing as mp\n"
		  "def work(c):\n"
		  "    while (m := c.recv()) is not None:\n"
		  "        c.send(m * 2)\n"
		  "mp.set_start_method(\"fork\")\n"
		  "a, b = mp.Pipe()\n"
		  "p = mp.Process(target=work, args=(b,))\n"
		  "p.start()\n"
		  "b.close()\n"
		  "print(sum(a.send(i) or a.recv() for i in range(5)))\n"
		  "a.send(None)\n"
		  "p.join()\n'", python(py, sizeof(py)));
	cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_expect_str_eq(r.out, "20\n");
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pipes WHERE kind = 'socket'"), 2);
	/* The child's copy of a (the socket the parent made first), never touched. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends l JOIN pipes p USING (run_id, pipe_id)"
				   " JOIN processes c ON c.run_id = l.run_id AND c.pid = l.pid"
				   " WHERE p.kind = 'socket' AND p.pipe_id = (SELECT min(pipe_id) FROM pipes WHERE kind = 'socket')"
				   " AND c.ppid = (SELECT pid FROM processes WHERE ppid NOT IN (SELECT pid FROM processes))"), 1);
	/* Each way carried the six messages (length and body in one send, or two). */
	cr_expect_gt(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'write' AND pipe_end = 'socket'"), 10);
}

/*
 * render with no --at draws a recorded program too. Its shutdown is its
 * first process's (the top one's) first close of a write end, as the pool
 * parent's is: for the fixed textbook pool, after it forked all N workers,
 * each holding its read end. A run with no such close (one process) falls
 * back to its end, and a picture asked for at a moment the run lacks is one
 * line and exit 2.
 */
Test(record, render_draws_a_recorded_program_at_its_top_process_shutdown_by_default, .timeout = 60)
{
	const char *db = t_path("dflt.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db dflt.db -q -- %s 3 fixed", PROG("leakypool")), 0, "%s", r.err);
	int64_t shutdown = t_sql_int(db, "SELECT min(to_seq) - 1 FROM holds WHERE pid = (SELECT pid FROM processes"
					 " WHERE ppid = (SELECT supervisor_pid FROM runs)) AND pipe_end = 'write'"
					 " AND to_kind = 'close'");

	cr_assert_gt(shutdown, 0);
	cr_assert_eq(t_run(&r, "render --db dflt.db"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "test -s run1-shutdown.svg"), 0, "the default name says the moment");
	cr_expect_eq(t_sh(&r, "grep -c 'shutdown (seq %lld)' run1-shutdown.svg", (long long)shutdown), 0, "%s", r.out);
	/* By then the parent has forked all three workers. */
	cr_expect_eq(t_sh(&r, "grep -c '<title>cluster_p' run1-shutdown.svg"), 0, "%s", r.err);
	cr_expect_eq(atoi(r.out), 4, "the parent and 3 workers: %s", r.out);
	cr_assert_eq(t_run(&r, "record --db dflt.db -q -- true"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "render --db dflt.db -o t.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c '· busiest (seq [0-9]*)' t.svg"), 0, "%s", r.out);
	cr_expect_eq(t_run(&r, "render --db dflt.db --at shutdown -o t2.svg"), 2);
	cr_expect(strstr(r.err, "run 2 has no shutdown moment") != NULL, "%s", r.err);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
}

/*
 * A shell closes the first pipe's write end as soon as it has forked the
 * first stage: its "shutdown" shows a pipeline not yet built. With no --at a
 * recorded pipeline is drawn at its busiest moment: every stage up, each on
 * its own pipe ends, none of them closing its stdio on the way out yet.
 */
Test(record, render_draws_a_recorded_pipeline_with_every_stage_up_by_default, .timeout = 60)
{
	const char *db = t_path("busy.db");
	struct t_result r;

	/* sleep holds the first write end until every stage is up (seq could be gone before the third began). */
	cr_assert_eq(t_run(&r, "record --db busy.db -q -- sh -c 'sleep 1 | cat | cat >/dev/null'"), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db busy.db"), 0, "%s", r.err);
	cr_assert_eq(t_sh(&r, "grep -o 'busiest (seq [0-9]*)' run1-busiest.svg | tr -dc 0-9"), 0, "%s", r.err);
	long long at = atoll(r.out);

	cr_assert_gt(at, 0, "%s", r.out);
	/* The shell and its three stages, and no process gone yet. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE fork_seq <= %lld"
				   " AND coalesce(exit_seq, reap_seq) > %lld", at, at), 4);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes"), 4);
	/* Each stage holds its own ends on fd 0 and 1, and nothing else of the pipes; the shell holds none. */
	cr_expect_eq(t_sql_int(db, "SELECT group_concat(x, ' ') = 'sleep:1write cat:0read cat:1write cat:0read' FROM"
				   " (SELECT replace(p.program, rtrim(p.program, replace(p.program, '/', '')), '')"
				   " || ':' || h.fd || h.pipe_end AS x FROM holds h JOIN processes p USING (run_id, pid)"
				   " WHERE h.pipe_id IS NOT NULL AND h.from_seq <= %lld AND coalesce(h.to_seq, 1e18) > %lld"
				   " ORDER BY h.pipe_id, h.pipe_end DESC)", at, at),
		     1, "the holds at seq %lld are not the built pipeline", at);
}

/*
 * A runtime's self-pipes (both ends held by the one process that made them)
 * are one row of its fd table, not a row of pipes across the picture: a
 * process with four of them draws them as "4 pipes only it holds". One that
 * has made two so far still draws them as pipes.
 */
Test(record, a_process_with_pipes_of_its_own_draws_them_as_one_row, .timeout = 60)
{
	const char *db = t_path("own.db");
	struct t_result r;
	char py[512];

	cr_assert_eq(t_run(&r, "record --db own.db -q -- %s -c 'import os, subprocess\n"
			       "own = [os.pipe() for _ in range(4)]\n"
			       "p = subprocess.Popen([\"cat\"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)\n"
			       "p.communicate(b\"x\")\n'",
			 python(py, sizeof(py))),
		     0, "%s", r.err);
	/* The four are pipes 1-4, made before the fork (their copies in the child went at its exec: O_CLOEXEC). */
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM pipes WHERE pipe_id <= 4 AND created_seq <"
				   " (SELECT fork_seq FROM processes WHERE program LIKE '%%/cat')"), 4);
	cr_assert_eq(t_run(&r, "render --db own.db -o own.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c '4 pipes only it holds' own.svg"), 0, "%s", r.out);
	cr_expect_eq(t_sh(&r, "grep -c '<title>pipe[1-4]</title>' own.svg"), 1, "no node for any of the four: %s", r.out);
	/* cat's stdin is still a pipe between two processes. */
	cr_expect_eq(t_sh(&r, "grep -c 'class=\"node pipe\"' own.svg"), 0, "%s", r.out);
	/*
	 * Drawn at its shutdown: right before Python closes cat's stdin (cat
	 * reads it on fd 0). Not its first close of a write end: that was the
	 * exec-error pipe's, whose read end it kept, right after the fork.
	 */
	cr_assert_eq(t_sh(&r, "grep -o 'shutdown (seq [0-9]*)' own.svg | tr -dc 0-9"), 0, "%s", r.err);
	long long at = atoll(r.out);

	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events c JOIN holds h ON h.pipe_id = c.pipe_id"
				   " JOIN processes p ON p.pid = h.pid WHERE c.seq = %lld + 1 AND c.kind = 'close'"
				   " AND c.pid = (SELECT pid FROM processes WHERE fork_seq = 1) AND p.program LIKE '%%/cat'"
				   " AND h.fd = 0 AND h.pipe_end = 'read' AND h.from_seq <= %lld AND h.to_seq > %lld",
				   at, at, at),
		     1, "seq %lld", at);
	/* Right after the second pipe: two of its own are drawn as they are. */
	int64_t second = t_sql_int(db, "SELECT seq FROM events WHERE kind = 'pipe' ORDER BY seq LIMIT 1 OFFSET 1");

	cr_assert_eq(t_run(&r, "render --db own.db --at %lld -o two.svg", (long long)second), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c '<title>pipe[1-2]</title>' two.svg"), 0, "%s", r.out);
	cr_expect_eq(atoi(r.out), 2, "%s", r.out);
	cr_expect_neq(t_sh(&r, "grep -c 'only it holds' two.svg"), 0, "%s", r.out);
}

/*
 * A program closes files it opened itself (cat its input, every program its
 * locale files): those closes are stored, but the timeline and the report
 * leave them out. Closes of pipes and of fds from outside are drawn.
 */
Test(record, closes_of_files_the_program_opened_itself_are_not_drawn, .timeout = 60)
{
	const char *db = t_path("files.db");
	const char *untracked = "FROM events e WHERE kind = 'close' AND pipe_id IS NULL AND NOT EXISTS (SELECT 1 FROM"
				" holds h WHERE h.pid = e.pid AND h.fd = e.fd AND h.to_seq = e.seq)";
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db files.db -q -- sh -c 'cat /etc/hostname /etc/hostname | wc -c >/dev/null'"),
		     0, "%s", r.err);
	/* cat's two files at least. */
	int64_t hidden = t_sql_int(db, "SELECT count(*) %s", untracked);

	cr_assert_geq(hidden, 2);
	cr_assert_eq(t_run(&r, "report --db files.db -o files.html"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c '<li' files.html"), 0, "%s", r.err);
	cr_expect_eq(atoll(r.out), t_sql_int(db, "SELECT count(*) FROM events WHERE kind NOT IN ('read', 'write', 'task',"
						 " 'inherit')") - hidden, "%s", r.out);
	/* The pipe's closes and those of fds from outside (fd 2 of each stage) are there. */
	cr_expect_eq(t_sh(&r, "grep -c '<li[^>]*data-seq=\"%lld\"' files.html",
			  (long long)t_sql_int(db, "SELECT min(seq) FROM events WHERE kind = 'close' AND pipe_id IS NOT NULL")),
		     0, "%s", r.out);
	cr_expect_eq(t_sh(&r, "grep -c '<li[^>]*data-seq=\"%lld\"' files.html",
			  (long long)t_sql_int(db, "SELECT min(seq) FROM events WHERE kind = 'close' AND fd = 2")),
		     0, "%s", r.out);
	cr_expect_neq(t_sh(&r, "grep -c '<li[^>]*data-seq=\"%lld\"' files.html",
			   (long long)t_sql_int(db, "SELECT min(seq) %s", untracked)),
		      0, "%s", r.out);
	cr_assert_eq(t_run(&r, "timeline --db files.db -o files.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c '> close [0-9]*</text>' files.svg"), 0, "%s", r.out);
	cr_expect_eq(atoll(r.out), t_sql_int(db, "SELECT count(*) FROM events e WHERE kind = 'close' AND pipe_id IS NULL")
				   - hidden, "only the closes of fds from outside: %s", r.out);
}

/* The y of node name in a laid-out DOT file, from the shell: Graphviz's y grows upwards. */
static double dot_y(const char *dot, const char *name)
{
	struct t_result r;

	cr_assert_eq(t_sh(&r, "grep -A8 \"$(printf '\\t%s\\t\\\\[')\" %s | grep -o 'pos=\"[0-9.]*,[0-9.]*' | head -1"
			      " | cut -d, -f2", name, dot),
		     0, "%s", r.err);
	cr_assert_neq(r.out[0], '\0', "no position for %s", name);
	return atof(r.out);
}

/*
 * A recorded pool of 8 draws its workers in three rows, each row under the
 * pipes its workers read, as the built-in pool's: not every pipe in one row
 * over the top (the leaky pool of 8 at its shutdown: 2903 px wide before,
 * 2211 now).
 */
Test(record, a_recorded_programs_pipes_stand_above_the_row_of_their_readers, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db rows.db -q -- %s 8 fixed", PROG("leakypool")), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "render --db rows.db --at shutdown -o rows.dot"), 0, "%s", r.err);
	const char *dot = t_path("rows.dot");
	double first = dot_y(dot, "pipe1"), last = dot_y(dot, "pipe8");

	cr_expect_lt(last, first, "pipe 8 (read by the last worker, in the last row) at y %g, pipe 1 at %g", last, first);
	cr_expect_eq(dot_y(dot, "pipe2"), first, "pipes 1-3 are the first row's");
}

/*
 * A parent that polls forty answer pipes before it closes its child's task
 * pipe: the same deadlock as pollpair's, over more fds than the 32 that
 * deadlock detection used to read (it took such a wait for one that may wake).
 */
Test(record, a_deadlock_in_poll_on_forty_pipes_is_found, .timeout = 60)
{
	const char *db = t_path("poll40.db");
	struct t_result r;
	char py[512];

	t_run(&r, "record --db poll40.db --hang-ms 100 -- %s -c 'import os, select\n"
		  "task_r, task_w = os.pipe()\n"
		  "answers = [os.pipe() for _ in range(40)]\n"
		  "pid = os.fork()\n"
		  "if pid == 0:\n"
		  "    os.close(task_w)\n"
		  "    while os.read(task_r, 100):\n"
		  "        pass\n"
		  "    os._exit(0)\n"
		  "os.close(task_r)\n"
		  "p = select.poll()\n"
		  "for r, w in answers:\n"
		  "    os.close(w)\n"
		  "    p.register(r, select.POLLIN)\n"
		  "p.poll()\n"
		  "os.close(task_w)\n"
		  "os.waitpid(pid, 0)\n'", python(py, sizeof(py)));
	cr_expect_eq(r.status, 128 + SIGKILL, "exit %d: %s", r.status, r.err);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'hang' AND detail LIKE '%%syscall=poll fds=%%'"
				   " AND length(detail) - length(replace(detail, ',', '')) = 39"), 1);
	/* The parent waits for the child (it holds the forty write ends), the child for the parent. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for"), 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(DISTINCT pipe_id) FROM hang_holders"), 41);
}

/*
 * shutdown(SHUT_WR) shuts a socket's sending side for every holder: the
 * child, which inherited both ends and keeps the parent's, still sees EOF
 * once the parent shuts its end down. So the parent's close of that end
 * has no EOF blocker (before shutdown was seen: the child's copy, 1), and
 * the run ends (without the shutdown the child would wait forever).
 */
Test(record, shutdown_of_a_socketpair_end_leaves_no_eof_blocker, .timeout = 60)
{
	const char *db = t_path("shut.db");
	struct t_result r;
	char py[512];

	t_run(&r, "record --db shut.db --io -- %s -c 'import os, socket\n"
		  "a, b = socket.socketpair()\n"
		  "pid = os.fork()\n"
		  "if pid == 0:\n"
		  "    n = 0\n"
		  "    while (m := b.recv(100)):\n"
		  "        n += len(m)\n"
		  "    print(n)\n"
		  "    os._exit(0)\n"
		  "a.send(b\"abc\")\n"
		  "a.shutdown(socket.SHUT_WR)\n"
		  "a.close()\n"
		  "os.waitpid(pid, 0)\n'", python(py, sizeof(py)));
	cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_expect_str_eq(r.out, "3\n");
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'shutdown' AND arg = 1"
				   " AND pipe_end = 'socket'"), 1);
	/* On the end the parent made first (a), at that event. */
	cr_expect_eq(t_sql_int(db, "SELECT shut_seq FROM pipes WHERE pipe_id = (SELECT min(pipe_id) FROM pipes)"),
		     t_sql_int(db, "SELECT seq FROM events WHERE kind = 'shutdown'"));
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pipes WHERE shut_seq IS NOT NULL"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers"), 0);
	/* The child's copy of a is still an inherited end it never touched. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends"), 1);
}

/*
 * A parent that waits for its child's answer in poll, select or epoll_wait
 * before closing the child's task pipe: a deadlock of the two, found from
 * the fds the parent polls. With a timeout the same wait is only slow.
 */
Test(record, a_deadlock_in_poll_select_or_epoll_is_found, .timeout = 60)
{
	static const char *const modes[] = { "poll", "ppoll", "select", "pselect", "epoll" };
	static const char *const calls[] = { "poll", "ppoll", "pselect6", "pselect6", "epoll_wait" };
	const char *db = t_path("poll.db");
	struct t_result r;
	int run = 0;

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		t_run(&r, "record --db poll.db --hang-ms 100 -- %s %s", PROG("pollpair"), modes[m]);
		run++;
		cr_expect_eq(r.status, 128 + SIGKILL, "%s: exit %d: %s", modes[m], r.status, r.err);
		cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs WHERE id = %d", run), 1, "%s", modes[m]);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = %d AND kind = 'hang'"
					   " AND detail LIKE '%%syscall=%s fds=%%'", run, calls[m]),
			     1, "%s", modes[m]);
		/* The parent waits for the child (the answer pipe's writer), the child for the parent (the task pipe's). */
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for w JOIN processes p ON p.run_id = w.run_id"
					   " AND p.pid = w.pid WHERE w.run_id = %d AND w.reason = 'pipe'"
					   " AND w.waits_for = (SELECT pid FROM processes WHERE run_id = %d AND ppid = p.pid)",
					   run, run),
			     1, "%s", modes[m]);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for WHERE run_id = %d", run), 2, "%s", modes[m]);
	}
	cr_expect_eq(t_run(&r, "record --db poll.db --hang-ms 100 -- %s timeout", PROG("pollpair")), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "4\n");
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'ok' FROM runs WHERE id = %d", run + 1), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = %d AND kind IN ('hang', 'kill')", run + 1),
		     0);
}

/*
 * Python's subprocess, a classic mistake: cat's stdin is a pipe whose write
 * end the script keeps, so cat never ends, and communicate() polls cat's
 * stdout and stderr forever. Found as the deadlock of the two.
 */
Test(record, python_communicate_with_a_write_end_kept_is_a_deadlock, .timeout = 60)
{
	const char *db = t_path("comm.db");
	struct t_result r;
	char py[512];

	t_run(&r, "record --db comm.db --hang-ms 200 -- %s -c 'import os, subprocess\n"
		  "r, w = os.pipe()\n"
		  "p = subprocess.Popen([\"cat\"], stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
		  "os.close(r)\n"
		  "os.write(w, b\"hello\")\n"
		  "print(p.communicate())\n'", python(py, sizeof(py)));
	cr_expect_eq(r.status, 128 + SIGKILL, "exit %d: %s", r.status, r.err);
	cr_expect_eq(t_sql_int(db, "SELECT outcome = 'deadlock' FROM runs"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN processes p USING (run_id, pid)"
				   " WHERE e.kind = 'hang' AND p.program LIKE '%%python%%' AND e.detail LIKE '%%syscall=poll fds=%%,%%'"),
		     1);
	/* python waits for cat (cat's stdout and stderr), cat for python (the kept write end). */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for w JOIN processes a ON a.pid = w.pid"
				   " JOIN processes b ON b.pid = w.waits_for WHERE a.program LIKE '%%python%%'"
				   " AND b.program LIKE '%%/cat'"),
		     1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for w JOIN processes a ON a.pid = w.pid"
				   " JOIN processes b ON b.pid = w.waits_for WHERE a.program LIKE '%%/cat'"
				   " AND b.program LIKE '%%python%%'"),
		     1);
}

/*
 * Python's subprocess.run waits in poll on the child's stdout and stderr
 * while the child sleeps: blocked, not stuck. It gets one `blocked` event
 * naming the call and its fds (drawn at --at blocked), and is not killed.
 */
Test(record, a_process_waiting_in_poll_is_recorded_as_blocked_once, .timeout = 60)
{
	const char *db = t_path("pollb.db");
	struct t_result r;
	char py[512];

	cr_expect_eq(t_run(&r, "record --db pollb.db --hang-ms 100 -- %s -c 'import subprocess\n"
			       "print(subprocess.run([\"sh\", \"-c\", \"sleep 1; echo hi\"], capture_output=True).stdout)\n'",
			   python(py, sizeof(py))), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "b'hi\\n'\n");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind IN ('hang', 'kill')"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN processes p USING (run_id, pid)"
				   " WHERE e.kind = 'blocked' AND p.program LIKE '%%python%%'"
				   " AND e.detail LIKE 'state=S syscall=poll fds=%%,%%'"), 1);
	cr_expect_eq(t_run(&r, "render --db pollb.db --at blocked -o pollb.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c 'blocked: poll(fd [0-9]*,[0-9]*)' pollb.svg"), 0, "%s", r.out);
}

/*
 * A shell loop starts a process per command: the picture of its end shows
 * the ones gone and holding nothing as one box that counts them and names
 * their programs (a fork that did not exec runs its parent's, up the tree).
 * Six or fewer stay boxes of their own.
 */
Test(record, many_gone_processes_are_drawn_as_one_box, .timeout = 60)
{
	const char *db = t_path("loop.db");
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db loop.db -q -- sh -c 'for i in 1 2 3 4 5 6 7 8; do (echo $i) | cat >/dev/null; done'"),
		     0, "%s", r.err);
	cr_assert_eq(t_sql_int(db, "SELECT count(*) FROM processes"), 17);
	cr_expect_eq(t_run(&r, "render --db loop.db --at end -o loop.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c 'class=\"node gone&#45;summary\"' loop.svg"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "1\n");
	cr_expect_eq(t_sh(&r, "grep -c '16 processes gone' loop.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c 'sh ×8 · cat ×8\\|cat ×8 · sh ×8' loop.svg"), 0, "%s", r.err);
	/* Only the first process keeps a box of its own. */
	cr_expect_eq(t_sh(&r, "grep -c 'class=\"cluster process' loop.svg"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "1\n");

	cr_assert_eq(t_run(&r, "record --db few.db -q -- sh -c '(echo 1) | cat >/dev/null'"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "render --db few.db --at end -o few.svg"), 0, "%s", r.err);
	cr_expect_neq(t_sh(&r, "grep -c 'gone&#45;summary' few.svg"), 0, "%s", r.out);
	cr_expect_eq(t_sh(&r, "grep -c 'class=\"cluster process' few.svg"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "3\n");
}

/*
 * The picture's caption names a recorded program by its command line as a
 * reader would type it: the program without its directory, then as much of
 * the arguments as fits, cut at the end; and "1 process", not "1 processes".
 */
Test(record, the_caption_starts_with_the_program_and_cuts_the_arguments_at_the_end, .timeout = 60)
{
	struct t_result r;

	cr_assert_eq(t_run(&r, "record --db cap.db -- /bin/sh -c 'exit 0; %s'",
			   "this argument is far too long to fit on one line of a slide"), 0, "%s", r.err);
	cr_expect_neq(strstr(r.err, "; 1 process; "), NULL, "%s", r.err);
	cr_expect_eq(t_run(&r, "render --db cap.db --at end -o cap.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c '>sh &#45;c &#39;exit 0; this argument is far[^<]*…</text>' cap.svg"), 0,
		     "the caption: %s", r.out);
	cr_expect_neq(t_sh(&r, "grep -c '/bin/sh' cap.svg"), 0, "the program's directory is drawn");
	cr_expect_eq(t_sh(&r, "grep -c '> · run 1 · 1 process · end' cap.svg"), 0, "%s", r.out);
	/* The timeline's and the report's titles name it the same way. */
	cr_expect_eq(t_run(&r, "timeline --db cap.db -o capt.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c 'run 1 · sh &#45;c &#39;exit 0' capt.svg"), 0, "%s", r.out);
	cr_expect_eq(t_run(&r, "report --db cap.db -o cap.html"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c '<h1>pooltrace report · run 1 · sh -c .exit 0' cap.html"), 0, "%s", r.out);
}

/*
 * An fd passed over a unix socket (SCM_RIGHTS) is a new fd of the receiver:
 * a `receive` event and a hold from it, with or without --io. Kept, it is
 * the hold that keeps the parent from EOF at the deadlock, and drawn so.
 * Two at once, in the two messages one recvmmsg took, are two holds.
 */
Test(record, an_fd_received_over_a_socket_is_held_by_the_receiver, .timeout = 60)
{
	const char *db = t_path("passfd.db");
	struct t_result r;

	for (int io = 0; io < 2; io++) {
		int run = io + 1;

		cr_expect_eq(t_run(&r, "record --db passfd.db -q %s -- %s", io ? "--io" : "", PROG("passfd")), 0, "%s", r.err);
		cr_expect_str_eq(r.out, "hi\n");
		/* The child got the pipe's write end as its fd 3 and closed it. */
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds h JOIN pipes p USING (run_id, pipe_id)"
					   " JOIN processes c ON c.run_id = h.run_id AND c.pid = h.pid"
					   " WHERE h.run_id = %d AND p.kind = 'pipe' AND c.ppid = p.created_by AND h.fd = 3"
					   " AND h.pipe_end = 'write' AND h.from_kind = 'receive' AND h.to_kind = 'close'", run),
			     1, "io %d", io);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = %d AND kind = 'receive'", run), 1);
	}
	t_run(&r, "record --db passfd.db --hang-ms 100 -- %s keep", PROG("passfd"));
	cr_expect_eq(r.status, 128 + SIGKILL, "exit %d: %s", r.status, r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE run_id = 3 AND from_kind = 'receive'"
				   " AND pipe_end = 'write' AND to_kind = 'reap'"), 1);
	cr_expect_eq(t_run(&r, "render --db passfd.db --run 3 --at hang -o keep.svg"), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "grep -c 'pipe 3 write' keep.svg"), 0, "%s", r.err);
	cr_expect_eq(t_run(&r, "record --db passfd.db -q -- %s mmsg", PROG("passfd")), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "one\ntwo\n");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = 4 AND kind = 'receive'"), 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds h JOIN processes c USING (run_id, pid)"
				   " WHERE h.run_id = 4 AND c.ppid = (SELECT created_by FROM pipes WHERE run_id = 4"
				   " AND pipe_id = h.pipe_id) AND h.pipe_end = 'write' AND h.from_kind = 'receive'"
				   " AND h.to_kind = 'close'"), 2);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = 4"), 0);
}

/* waitid(P_PID, pid) waits for that child: its wait-for edge goes to it (it named the idtype before). */
Test(record, waitid_for_one_child_waits_for_that_child, .timeout = 60)
{
	const char *db = t_path("waitid.db");
	struct t_result r;
	char py[512];

	t_run(&r, "record --db waitid.db --hang-ms 200 -- %s -c 'import os\n"
		  "r, w = os.pipe()\n"
		  "pid = os.fork()\n"
		  "if pid == 0:\n"
		  "    os.close(w)\n"
		  "    os.read(r, 1)\n"
		  "    os._exit(0)\n"
		  "os.close(r)\n"
		  "os.waitid(os.P_PID, pid, os.WEXITED)\n'", python(py, sizeof(py)));
	cr_expect_eq(r.status, 128 + SIGKILL, "exit %d: %s", r.status, r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM wait_for w JOIN processes c ON c.run_id = w.run_id"
				   " AND c.pid = w.waits_for WHERE w.reason = 'child' AND c.ppid = w.pid"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'hang' AND detail LIKE '%%syscall=waitid%%'"
				   " AND other_pid = (SELECT pid FROM processes WHERE ppid = events.pid)"), 1);
}

/*
 * Every thread is blocked on the program's own pipe, but a timer whose
 * signal the program catches will wake it (alarm, setitimer, a POSIX
 * timer): record lets it run, and it does what it does untraced, exit 0
 * with no deadlock. A timer whose signal would only end the process (its
 * default action), or one whose signal is blocked, wakes no one: those are
 * still deadlocks. (Before: each caught timer was a deadlock at 0.5 s, and
 * the program was killed.)
 */
Test(record, a_timer_that_will_wake_the_program_is_not_a_deadlock, .timeout = 90)
{
	static const char *const wakes[] = { "alarm", "itimer", "posix" }, *const stuck[] = { "default", "blocked" };
	const char *db = t_path("t.db");
	struct t_result r;
	int run = 0;

	for (int i = 0; i < 3; i++) {
		cr_assert_eq(t_sh(&r, "%s %s", PROG("alarmwake"), wakes[i]), 0, "%s untraced", wakes[i]);
		cr_expect_eq(t_run(&r, "record --db t.db -q -- %s %s", PROG("alarmwake"), wakes[i]), 0, "%s: %s",
			     wakes[i], r.err);
		run++;
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE id = %d AND outcome = 'ok'", run), 1, "%s",
			     wakes[i]);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = %d AND kind = 'kill'", run), 0,
			     "%s: nothing killed", wakes[i]);
	}
	for (int i = 0; i < 2; i++) {
		cr_expect_neq(t_run(&r, "record --db t.db -q -- %s %s", PROG("alarmwake"), stuck[i]), 0, "%s", stuck[i]);
		run++;
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM runs WHERE id = %d AND outcome = 'deadlock'", run), 1,
			     "%s: %s", stuck[i], r.err);
	}
}

/*
 * A setuid program keeps its privileges where pooltrace can let it: traced
 * by root, a setuid copy of id owned by daemon prints daemon's uid, as it
 * does untraced (the filter is installed without no-new-privileges, which
 * root's CAP_SYS_ADMIN allows). Traced by a user, the kernel execs it
 * without them (ptrace): it prints the user's uid, and the summary and
 * runs.incomplete say so. (Before: uid 0 as root, and no word of it.)
 */
Test(record, a_setuid_program_keeps_its_privileges_or_the_run_says_it_lost_them, .timeout = 60)
{
	struct t_result r;

	if (getuid() != 0 || system("command -v setpriv >/dev/null 2>&1") != 0)
		cr_skip_test("needs root and setpriv to make a setuid program and run it as another user");
	/* nobody must reach w/ in this test's own directory (mkdtemp's 0700). */
	cr_assert_eq(t_sh(&r, "chmod 711 . && mkdir -m 1777 w && cp /usr/bin/id w/idcopy && chown daemon w/idcopy && chmod 4755 w/idcopy"
			      " && w/idcopy -u && setpriv --reuid=65534 --regid=65534 --clear-groups w/idcopy -u"),
		     0, "%s", r.err);
	cr_assert_str_eq(r.out, "1\n1\n", "untraced, as root and as nobody: daemon's uid");
	cr_assert_eq(t_sh(&r, "\"$PT\" record --db w/r.db -- w/idcopy -u"), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "1\n", "traced by root: %s", r.err);
	cr_expect(strstr(r.err, "incomplete") == NULL, "%s", r.err);
	cr_assert_eq(t_sh(&r, "setpriv --reuid=65534 --regid=65534 --clear-groups"
			      " \"$PT\" record --db w/n.db -- w/idcopy -u"),
		     0, "%s", r.err);
	cr_expect_str_eq(r.out, "65534\n", "traced by nobody, the kernel drops the privileges: %s", r.err);
	cr_expect(strstr(r.err, "idcopy ran without its setuid privileges") != NULL, "%s", r.err);
	cr_expect_eq(t_sql_int(t_path("w/n.db"), "SELECT count(*) FROM runs WHERE incomplete LIKE '%%without its setuid%%'"), 1);
}

/*
 * A program that makes a pid namespace reaps its children by their pids
 * there: each reap is stored against the real process, every process is
 * reaped, with the exit strace saw. (Before: reaps of pids 2, 3, 4, which
 * are other processes or none, and the real children left unreaped.)
 */
Test(record, reaps_in_a_pid_namespace_name_the_real_processes, .timeout = 60)
{
	const char *db = t_path("ns.db"), *cmd = "unshare --pid --fork sh -c 'seq 3 | cat | wc -l'";
	struct t_result r;

	if (t_sh(&r, "%s", cmd) != 0)
		cr_skip_test("cannot make a pid namespace here: %s", r.err);
	cr_assert_str_eq(r.out, "3\n");
	cr_assert_eq(t_sh(&r, "strace -ff -qq -o st -- %s >/dev/null && ls st.* | wc -l", cmd), 0, "%s", r.err);
	int64_t processes = strtol(r.out, NULL, 10);
	cr_assert_eq(t_sh(&r, "\"$PT\" record --db ns.db -q -- %s", cmd), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "3\n");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes"), processes, "as many processes as strace saw");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE reap_seq IS NULL"), 0, "every one reaped");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e WHERE kind = 'reap' AND NOT EXISTS"
				   " (SELECT 1 FROM processes p WHERE p.pid = e.other_pid AND p.run_id = e.run_id)"), 0,
		     "every reap names a process of the run");
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE exit_code <> 0 OR term_signal IS NOT NULL"), 0);
}

/*
 * Truth for fds made by calls pooltrace does not stop at (open of
 * /dev/fd/N, /proc/self/fd/N, /dev/stderr): the same program run once under
 * `strace -ff -yy` and once under `record` (with and without --io): every
 * close of a pipe strace saw ends a hold of that pipe in the trace, with
 * the same process, fd and pipe (numbered as in expect_same_pipe_calls_as_strace),
 * and no hold ends at a close strace did not see. (Before: a reopened fd
 * had no hold, so its close ended none.)
 */
static void expect_closes_end_holds_as_strace(const char *command, const char *io)
{
	static const char sql[] =
		"WITH p AS (SELECT pid, row_number() OVER (ORDER BY fork_seq) - 1 AS who FROM processes"
		"           WHERE run_id = (SELECT max(id) FROM runs)),"
		"     k AS (SELECT pipe_id, row_number() OVER (ORDER BY created_seq, pipe_id) AS n FROM pipes"
		"           WHERE run_id = (SELECT max(id) FROM runs))"
		" SELECT 'close ' || who || ' ' || fd || ' ' || n || ' 0' FROM holds JOIN p USING (pid) JOIN k USING (pipe_id)"
		" WHERE run_id = (SELECT max(id) FROM runs) AND to_kind = 'close'";
	struct t_result r;

	cr_assert_eq(t_sh(&r, "rm -f st.* && strace -ff -yy -qq -o st -e trace=pipe,pipe2,socketpair,close,dup2,dup3,"
			      "clone,clone3,fork,vfork %s > /dev/null 2>&1 && "
			      "%s/tests/scripts/strace-pipe-calls.sh st | grep '^close' | sort > strace.txt",
		     command, POOLTRACE_SRC), 0, "%s", r.err);
	cr_assert_eq(t_run(&r, "record --db u.db -q %s -- %s > /dev/null 2>&1", io, command), 0, "%s", r.err);
	cr_assert_eq(t_sh(&r, "\"$PT\" query --db u.db --csv \"%s\" | tail -n +2 | sort > record.txt", sql), 0,
		     "%s", r.err);
	cr_expect_eq(t_sh(&r, "diff strace.txt record.txt"), 0, "%s %s: strace's closes (<) and the holds (>) differ:\n%s",
		     command, io, r.out);
	cr_expect_eq(t_sh(&r, "grep -c . strace.txt | awk '$1 < 4 { exit 1 }'"), 0, "%s: too few closes to compare",
		     command);
}

/*
 * tests/programs/reopen.c: the parent opens its pipe's write end again as
 * /proc/self/fd/W and /dev/fd/W, closes W, forks a sleeper that inherits
 * both, and gives them up 1 s later, while the sleeper holds the reader off
 * EOF for another second. Both reopened fds are held by the parent from
 * before the sleeper's fork (found there) to their closes, and eof_blockers
 * counts the sleeper's two. (Before: no hold for them, no give-up, 0.)
 */
Test(record, an_fd_reopened_through_proc_is_held_by_its_maker, .timeout = 90)
{
	const char *db = t_path("reopen.db");
	struct t_result r;

	for (int io = 0; io < 2; io++) {
		int run = io + 1;

		cr_assert_eq(t_run(&r, "record --db reopen.db -q %s -- %s", io ? "--io" : "", PROG("reopen")), 0, "%s",
			     r.err);
		cr_expect_str_eq(r.out, "read 2\n");
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds h WHERE run_id = %d"
					   " AND pid = (SELECT pid FROM processes WHERE run_id = %d ORDER BY fork_seq LIMIT 1)"
					   " AND pipe_id = 1 AND pipe_end = 'write' AND from_kind = 'found' AND to_kind = 'close'"
					   " AND from_seq < (SELECT max(fork_seq) FROM processes WHERE run_id = %d)", run, run, run),
			     2, "io %d: the parent's reopened fds, held from before the sleeper's fork", io);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE run_id = %d AND kind = 'found' AND arg = 1"
					   " AND pipe_id = 1", run), 2, "io %d", io);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers b JOIN processes c USING (run_id, pid)"
					   " WHERE b.run_id = %d AND c.exit_seq > b.close_seq AND b.fd IN (SELECT fd FROM holds"
					   "  WHERE run_id = b.run_id AND from_kind = 'found')"
					   " AND c.ppid = (SELECT pid FROM processes WHERE run_id = %d ORDER BY fork_seq LIMIT 1)",
					   run, run), 2, "io %d: the sleeper's two, at the parent's give-up", io);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = %d", run), 2, "io %d", io);
		/* A pipe reached again is the same pipe: one pipes row. */
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM pipes WHERE run_id = %d", run), 1);
	}
	expect_closes_end_holds_as_strace(PROG("reopen"), "");
	expect_closes_end_holds_as_strace(PROG("reopen"), "--io");
}

/*
 * The shell's shapes: a process substitution read through /dev/fd/63, tee
 * writing to /dev/stderr, a pipe; and a pidfd_getfd copy of a pipe end
 * (tests/programs/blind.c), whose run stays marked incomplete.
 */
Test(record, closes_of_fds_opened_through_dev_fd_end_holds_as_strace_sees, .timeout = 90)
{
	char cmd[512];

	expect_closes_end_holds_as_strace("bash -c 'cat <(echo x) <(echo y)'", "");
	expect_closes_end_holds_as_strace("sh -c 'echo x | tee /dev/stderr 2>&1 >/dev/null | cat'", "");
	expect_closes_end_holds_as_strace("sh -c 'echo x | tee /dev/stderr 2>&1 >/dev/null | cat'", "--io");
	snprintf(cmd, sizeof(cmd), "sh -c '%s pidfd | cat'", PROG("blind"));
	expect_closes_end_holds_as_strace(cmd, "");
}

/*
 * reopen hang: the parent reopens its pipe's write end after its last fork
 * and calls nothing on it before the deadlock it causes. At the deadlock
 * every table is read again: the parent holds the reopened fd at the hang
 * (found before the first hang event, ended by the reap), as the evidence
 * says. (Before: no hold of it at all.)
 */
Test(record, a_reopened_fd_no_call_names_is_held_at_the_deadlock, .timeout = 60)
{
	const char *db = t_path("rhang.db");
	struct t_result r;

	t_run(&r, "record --db rhang.db -q --hang-ms 200 -- %s hang", PROG("reopen"));
	cr_assert_eq(r.status, 128 + 9, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM holds WHERE from_kind = 'found' AND pipe_id = 1"
				   " AND pipe_end = 'write' AND to_kind = 'reap' AND pid = (SELECT pid FROM processes"
				   " ORDER BY fork_seq LIMIT 1) AND from_seq < (SELECT min(seq) FROM events WHERE kind = 'hang')"),
		     1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM hang_holders h WHERE holder_pid = (SELECT pid FROM processes"
				   " ORDER BY fork_seq LIMIT 1) AND EXISTS (SELECT 1 FROM holds o WHERE o.pid = h.holder_pid"
				   " AND o.fd = h.holder_fd AND o.from_kind = 'found')"), 1, "the evidence's holder fd is the found one");
}
