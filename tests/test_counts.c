/* test_counts.c: each strategy produces the documented counts, outcome and reaps, for several N. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static const int sizes[] = { 1, 2, 3, 5, 8 };

struct expect {
	const char *strategy;
	int leaked_all;   /* 1: N(N-1)/2, 0: zero */
	int blockers;     /* 0: zero, 1: N-1, 2: N(N-1)/2 */
	int deadlocks;    /* for N >= 2 */
};

static void check_strategy(const struct expect *e)
{
	struct t_result r;
	const char *db = t_path("counts.db");

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		long n = sizes[i], pairs = n * (n - 1) / 2;
		long want_leaked = e->leaked_all ? pairs : 0;
		long want_blockers = e->blockers == 0 ? 0 : e->blockers == 1 ? n - 1 : pairs;
		const char *want_outcome = e->deadlocks && n >= 2 ? "deadlock" : "ok";
		int64_t run;

		cr_assert_eq(t_run(&r, "run --db counts.db -s %s -w %ld -t %ld --hang-ms 100", e->strategy, n, 3 * n), 0,
			     "%s N=%ld: %s", e->strategy, n, r.err);
		run = t_sql_int(db, "SELECT max(id) FROM runs");
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends WHERE run_id = %lld", (long long)run),
			     want_leaked, "%s N=%ld leaked_write_ends", e->strategy, n);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers WHERE run_id = %lld", (long long)run),
			     want_blockers, "%s N=%ld eof_blockers", e->strategy, n);
		cr_expect_eq(t_sql_int(db, "SELECT outcome = '%s' FROM runs WHERE id = %lld", want_outcome,
				       (long long)run), 1, "%s N=%ld outcome should be %s", e->strategy, n, want_outcome);
		/* Every pool process: exactly one reap. */
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes p WHERE run_id = %lld AND "
					   "(SELECT count(*) FROM events e WHERE e.run_id = p.run_id AND e.kind = 'reap'"
					   " AND e.other_pid = p.pid) <> 1", (long long)run), 0,
			     "%s N=%ld: a process without exactly one reap", e->strategy, n);
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes WHERE run_id = %lld", (long long)run), n + 1);
		/* Worker j is born holding j+2 pool pipe fds, in every strategy. */
		cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM processes p WHERE run_id = %lld AND role = 'worker' AND "
					   "(SELECT count(*) FROM events e WHERE e.run_id = p.run_id AND e.pid = p.pid AND "
					   "e.kind = 'inherit' AND e.pipe_id IS NOT NULL) <> worker_index + 2",
				       (long long)run), 0, "%s N=%ld: inherited pool pipes != j+2", e->strategy, n);
		/* Nothing of the pool is left: no zombie, no orphan. */
		cr_expect_not(t_pgrp_alive((pid_t)t_sql_int(db, "SELECT pid FROM processes WHERE run_id = %lld AND "
								"role = 'parent'", (long long)run)),
			      "%s N=%ld: pool processes left behind", e->strategy, n);
	}
}

Test(counts, naive_leaks_every_earlier_write_end_and_deadlocks, .timeout = 120)
{
	check_strategy(&(struct expect){ "naive", 1, 1, 1 });
}

Test(counts, close_all_finishes_but_every_close_has_blockers, .timeout = 120)
{
	check_strategy(&(struct expect){ "close-all", 1, 2, 0 });
}

Test(counts, reverse_close_leaks_but_nothing_blocks_eof, .timeout = 120)
{
	check_strategy(&(struct expect){ "reverse-close", 1, 0, 0 });
}

Test(counts, child_close_leaks_nothing, .timeout = 120)
{
	check_strategy(&(struct expect){ "child-close", 0, 0, 0 });
}

Test(counts, close_range_leaks_nothing, .timeout = 120)
{
	check_strategy(&(struct expect){ "close-range", 0, 0, 0 });
}

Test(counts, no_io_events_keeps_the_counts_and_drops_per_task_events, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("noio.db");

	cr_assert_eq(t_run(&r, "run --db noio.db -s close-all -w 4 -t 400 --no-io-events"), 0, "%s", r.err);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM leaked_write_ends"), 6);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM eof_blockers"), 6);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind IN ('write', 'task')"), 0);
	/* Only each worker's first read survives: it anchors leaked_write_ends. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'read'"), 4);
	cr_expect_eq(t_sql_int(db, "SELECT io_events FROM runs"), 0);
}

Test(counts, hang_evidence_names_the_blocked_reader_and_every_write_end_holder, .timeout = 60)
{
	struct t_result r;
	const char *db = t_path("hang.db");

	cr_assert_eq(t_run(&r, "run --db hang.db -s naive -w 4 -t 0"), 0, "%s", r.err);
	/* The parent waits for worker 0, every worker is blocked reading fd 0. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN processes p USING (run_id, pid) WHERE "
				   "e.kind = 'hang' AND p.role = 'parent' AND e.detail LIKE '%%syscall=wait4%%' AND "
				   "e.other_pid = (SELECT pid FROM processes WHERE worker_index = 0)"), 1);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events e JOIN processes p USING (run_id, pid) WHERE "
				   "e.kind = 'hang' AND p.role = 'worker' AND e.fd = 0 AND e.pipe_end = 'read' AND "
				   "e.detail LIKE '%%syscall=read fd=0%%'"), 4);
	/* Pipe of worker 0 is held open by workers 1..3; pipes of 1..3 by the parent too. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM hang_holders h JOIN pipes p USING (run_id, pipe_id) "
				   "WHERE p.channel = 0"), 3);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM hang_holders"), 3 + 3 + 2 + 1);
	/* The evidence agrees with the trace's own holds at that moment. */
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM hang_holders h WHERE NOT EXISTS (SELECT 1 FROM holds d "
				   "WHERE d.run_id = h.run_id AND d.pid = h.holder_pid AND d.fd = h.holder_fd AND "
				   "d.pipe_id = h.pipe_id AND d.pipe_end = 'write' AND d.from_seq < h.seq AND "
				   "(d.to_seq IS NULL OR d.to_seq > h.seq))"), 0);
	cr_expect_eq(t_sql_int(db, "SELECT count(*) FROM events WHERE kind = 'kill'"), 5);
}

Test(counts, no_trace_runs_the_same_pool_and_writes_no_database, .timeout = 60)
{
	struct t_result r;

	/* The untraced baseline still ends every strategy the same way, deadlock included. */
	cr_assert_eq(t_run(&r, "run --no-trace --db none.db -s naive -w 3 -t 6 --hang-ms 100"), 0, "%s", r.err);
	cr_expect(strstr(r.out, "untraced run: naive, 3 workers, 6 tasks: deadlock") != NULL, "%s", r.out);
	cr_assert_eq(t_run(&r, "run --no-trace --db none.db -s child-close -w 3 -t 6"), 0, "%s", r.err);
	cr_expect(strstr(r.out, ": ok") != NULL, "%s", r.out);
	cr_assert_eq(t_run(&r, "run --no-trace --db none.db -s reverse-close -w 3 -t 30 --crash-worker 1"), 0, "%s",
		     r.err);
	cr_expect(strstr(r.out, ": crashed") != NULL, "%s", r.out);
	t_sh(&r, "test ! -e none.db");
	cr_expect_eq(r.status, 0, "--no-trace must not create the database");
}
