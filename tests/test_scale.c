/* test_scale.c: a 1000-worker naive pool deadlocks, is explained, killed, reaped and committed, counts exact. */
#include "helpers.h"

#include <criterion/criterion.h>

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
