/* test_scenarios.c: each pipe lesson (run --scenario) is recorded as the kernel did it. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Runs scenario NAME (and extra options) into s.db as the next run; returns the run id. */
static int scenario(const char *name, const char *extra)
{
	static int run;
	struct t_result r;

	cr_assert_eq(t_run(&r, "run --db s.db -q --scenario %s %s", name, extra), 0, "%s: %s", name, r.err);
	return ++run;
}

#define SQL(...) t_sql_int(t_path("s.db"), __VA_ARGS__)

/* Every reader found blocked on its empty pipe, 0 bytes queued; not a deadlock. */
Test(scenarios, empty_read_blocks_each_reader_and_is_not_a_deadlock, .timeout = 60)
{
	int run = scenario("empty-read", "");

	cr_expect_eq(SQL("SELECT outcome = 'ok' FROM runs WHERE id = %d", run), 1);
	cr_expect_eq(SQL("SELECT count(*) FROM events e JOIN processes p USING (run_id, pid) WHERE e.run_id = %d"
			 " AND e.kind = 'blocked' AND p.role = 'worker' AND e.pipe_end = 'read' AND e.fd = 0 AND e.result = 0"
			 " AND e.detail LIKE '%%syscall=read%%'", run), 3);
	cr_expect_eq(SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'hang'", run), 0);
	/* Then each got its tasks and read to EOF. */
	cr_expect_eq(SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'read_zero'", run), 3);
}

/* The writer blocked on a full pipe: bytes queued equal the capacity; it resumes, no deadlock. */
Test(scenarios, full_pipe_blocks_the_writer_with_the_pipe_full, .timeout = 60)
{
	int run = scenario("full-pipe", "");

	cr_expect_eq(SQL("SELECT outcome = 'ok' FROM runs WHERE id = %d", run), 1);
	cr_expect_eq(SQL("SELECT count(*) FROM events e JOIN processes p USING (run_id, pid) WHERE e.run_id = %d"
			 " AND e.kind = 'blocked' AND p.role = 'parent' AND e.pipe_end = 'write' AND e.result = e.arg"
			 " AND e.arg > 0", run), 1);
	cr_expect_eq(SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'hang'", run), 0);
	/* Every code written was read: 32768 of them. */
	cr_expect_eq(SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'task'", run), 32768);
}

/* Writer waits for the reader (read end), reader for the writer (write end of the go pipe): a deadlock. */
Test(scenarios, full_pipe_stuck_is_a_writer_reader_deadlock, .timeout = 60)
{
	int run = scenario("full-pipe-stuck", "");
	int64_t parent = SQL("SELECT pid FROM processes WHERE run_id = %d AND role = 'parent'", run);
	int64_t worker = SQL("SELECT pid FROM processes WHERE run_id = %d AND role = 'worker'", run);

	cr_expect_eq(SQL("SELECT outcome = 'deadlock' FROM runs WHERE id = %d", run), 1);
	cr_expect_eq(SQL("SELECT count(*) FROM wait_for WHERE run_id = %d", run), 2);
	cr_expect_eq(SQL("SELECT count(*) FROM wait_for WHERE run_id = %d AND pid = %lld AND waits_for = %lld"
			 " AND reason = 'pipe'", run, (long long)parent, (long long)worker), 1);
	cr_expect_eq(SQL("SELECT count(*) FROM wait_for WHERE run_id = %d AND pid = %lld AND waits_for = %lld",
			 run, (long long)worker, (long long)parent), 1);
	/* The writer's evidence: the pipe full, and the reader holding its read end. */
	cr_expect_eq(SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'hang' AND pid = %lld"
			 " AND pipe_end = 'write' AND result = arg", run, (long long)parent), 1);
	cr_expect_eq(SQL("SELECT count(*) FROM hang_holders WHERE run_id = %d AND blocked_pid = %lld"
			 " AND holder_pid = %lld AND holder_fd = 0", run, (long long)parent, (long long)worker), 1);
}

/* Every write end closed: each worker's read returns 0. */
Test(scenarios, eof_gives_each_reader_read_zero, .timeout = 60)
{
	int run = scenario("eof", "-w 4");

	cr_expect_eq(SQL("SELECT count(*) FROM events e JOIN processes p USING (run_id, pid) WHERE e.run_id = %d"
			 " AND e.kind = 'read_zero' AND p.role = 'worker' AND e.fd = 0", run), 4);
	cr_expect_eq(SQL("SELECT count(*) FROM processes WHERE run_id = %d AND role = 'worker' AND exit_code = 0", run), 4);
}

/* No reader: SIGPIPE kills the writer; ignored, the write fails with EPIPE and the pool goes on. */
Test(scenarios, sigpipe_kills_the_writer_or_fails_its_write, .timeout = 60)
{
	int run = scenario("sigpipe", "");

	cr_expect_eq(SQL("SELECT term_signal FROM processes WHERE run_id = %d AND role = 'parent'", run), SIGPIPE);
	cr_expect_eq(SQL("SELECT outcome = 'killed' FROM runs WHERE id = %d", run), 1);
	run = scenario("sigpipe-ignored", "");
	cr_expect_eq(SQL("SELECT outcome = 'ok' FROM runs WHERE id = %d", run), 1);
	cr_expect_eq(SQL("SELECT count(*) FROM events e JOIN processes p USING (run_id, pid) WHERE e.run_id = %d"
			 " AND e.kind = 'write' AND p.role = 'parent' AND e.result = -32", run), 1);
	cr_expect_eq(SQL("SELECT term_signal IS NULL FROM processes WHERE run_id = %d AND role = 'parent'", run), 1);
	/* Worker 1 got every task but worker 0's one. */
	cr_expect_eq(SQL("SELECT count(*) FROM events e JOIN processes p USING (run_id, pid) WHERE e.run_id = %d"
			 " AND e.kind = 'task' AND p.worker_index = 1", run), 5);
}

/* 4-byte writes arrive as longer reads; the codes a one-read-one-code reader lost are what the reads show. */
Test(scenarios, coalesce_merges_writes_and_the_fix_gets_every_code, .timeout = 60)
{
	int run = scenario("coalesce", "");
	int64_t writes = SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'write'", run);
	int64_t tasks = SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'task'", run);

	cr_expect_eq(writes, 40);
	cr_expect_gt(SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'read' AND result > 4", run), 0);
	cr_expect_eq(writes - tasks, SQL("SELECT sum(result / 4 - 1) FROM events WHERE run_id = %d AND kind = 'read'",
					 run), "lost codes");
	cr_expect_gt(writes - tasks, 0);
	run = scenario("coalesce-fixed", "");
	cr_expect_eq(SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'task'", run), 40);
}

/*
 * Records of PIPE_BUF bytes are never torn; of 4 * PIPE_BUF, some are. 3
 * writers x 300 records. The reader takes PIPE_BUF at a time, so the pipe
 * stays full and a large write is cut wherever it had to wait. Measured on
 * this 2-core machine, 20 runs each: atomic-big tore 470 to 730 of the 900
 * records (mean 610; one run under load, 313), atomic none. A run of
 * atomic-big that tears nothing is not something these numbers leave room for.
 */
Test(scenarios, atomic_writes_up_to_pipe_buf_are_never_torn, .timeout = 120)
{
	int run = scenario("atomic", "");

	cr_expect_eq(SQL("SELECT arg FROM events WHERE run_id = %d AND kind = 'check'", run), 900);
	cr_expect_eq(SQL("SELECT result FROM events WHERE run_id = %d AND kind = 'check'", run), 0);
	cr_expect_eq(SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'write' AND result = 4096", run), 900);
	run = scenario("atomic-big", "");
	cr_expect_gt(SQL("SELECT result FROM events WHERE run_id = %d AND kind = 'check'", run), 0);
	cr_expect_eq(SQL("SELECT count(*) FROM events WHERE run_id = %d AND kind = 'write' AND result = 16384", run), 900);
}

/* Bad combinations are one line and exit 2. */
Test(scenarios, bad_options_are_refused)
{
	struct t_result r;

	cr_expect_eq(t_run(&r, "run --db s.db --scenario nosuch"), 2);
	cr_expect(strstr(r.err, "unknown scenario 'nosuch'") != NULL, "%s", r.err);
	cr_expect_eq(t_run(&r, "run --db s.db --scenario eof -s naive"), 2);
	cr_expect_eq(t_run(&r, "run --db s.db --pause-ms 10"), 2);
	cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
}

/* The pictures mark each lesson: what a process is blocked in and how full the pipe is; the SIGPIPE death. */
Test(scenarios, the_pictures_mark_the_lesson, .timeout = 60)
{
	struct t_result r;
	int run = scenario("full-pipe", "");

	cr_assert_eq(t_run(&r, "render --db s.db --run %d --at blocked -o f.svg", run), 0, "%s", r.err);
	/* The capacity is the kernel's (F_GETPIPE_SZ): 65536 by default, less once a user's pipes use up
	 * fs/pipe-user-pages-soft, so the pictures are checked for "queued = capacity", not a number. */
	cr_expect(t_sh(&r, "grep -q 'blocked: write(fd [0-9]*) on pipe 1' f.svg && grep -Eq '>([0-9]+) of \\1 B queued' f.svg")
		  == 0);
	cr_expect(t_sh(&r, "grep -c 'class=\"cluster process blocked\"' f.svg") == 0, "%s", r.out);
	cr_expect(t_sh(&r, "grep -Eq 'full: ([0-9]+) of \\1 B' f.svg") == 0, "the pipe shows its fill level");
	run = scenario("empty-read", "");
	cr_assert_eq(t_run(&r, "render --db s.db --run %d --at blocked -o e.svg", run), 0, "%s", r.err);
	cr_expect_eq(t_sh(&r, "test $(grep -Ec '>0 of [0-9]+ B queued' e.svg) -eq 3"), 0,
		     "every reader, at the same moment");
	run = scenario("sigpipe", "");
	cr_assert_eq(t_run(&r, "render --db s.db --run %d --at end -o p.svg", run), 0, "%s", r.err);
	cr_expect(t_sh(&r, "grep -q 'killed by SIGPIPE (13)' p.svg") == 0);
	/* A run where nobody blocked has no such moment: one line, exit 2. */
	run = scenario("eof", "");
	cr_expect_eq(t_run(&r, "render --db s.db --run %d --at blocked -o x.svg", run), 2);
	cr_expect(strstr(r.err, "no blocked moment") != NULL, "%s", r.err);
}
