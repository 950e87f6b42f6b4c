/* test_evlog.c: the shared event log orders, drops and skips exactly as its invariants say. */
#include "evlog.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct evlog_record rec(int pid, int64_t arg)
{
	struct evlog_record r;

	memset(&r, 0, sizeof(r));
	r.kind = EV_TASK;
	r.pid = pid;
	r.arg = arg;
	r.has = HAS_ARG;
	return r;
}

Test(evlog, sequence_numbers_are_dense_and_each_writers_order_is_kept, .timeout = 30)
{
	enum { WRITERS = 4, EACH = 5000 };
	struct evlog *log = evlog_create(1 << 16, 1000);
	struct evlog_record *out = calloc(WRITERS * EACH, sizeof(*out));
	int64_t last[WRITERS];
	uint64_t last_ts[WRITERS] = { 0 };
	size_t got = 0;

	cr_assert_not_null(log);
	for (int w = 0; w < WRITERS; w++) {
		if (fork() == 0) {
			for (int i = 0; i < EACH; i++) {
				struct evlog_record r = rec(w, i);

				evlog_append(log, &r);
			}
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++)
		wait(NULL);
	while (got < WRITERS * EACH) {
		size_t n = evlog_drain(log, out + got, WRITERS * EACH - got);

		cr_assert_gt(n, 0, "a record never completed");
		got += n;
	}
	memset(last, -1, sizeof(last));
	for (size_t i = 0; i < got; i++) {
		cr_assert_eq(out[i].ready, i + 1, "seq %llu at %zu", (unsigned long long)out[i].ready, i);
		cr_assert_eq(out[i].arg, last[out[i].pid] + 1, "writer %d out of order", out[i].pid);
		last[out[i].pid] = out[i].arg;
		/* Across writers seq is the order (a writer may be preempted between
		 * claiming its seq and reading the clock); within one, time only grows. */
		cr_assert_geq(out[i].ts_ns, last_ts[out[i].pid], "writer %d's clock went backwards", out[i].pid);
		last_ts[out[i].pid] = out[i].ts_ns;
	}
	cr_expect_eq(evlog_dropped(log), 0);
	free(out);
	evlog_destroy(log);
}

Test(evlog, a_full_log_that_may_not_wait_drops_and_counts)
{
	struct evlog *log = evlog_create(64, 0);
	struct evlog_record r = rec(1, 0), out[128];

	for (int i = 0; i < 100; i++)
		evlog_append(log, &r);
	cr_expect_eq(evlog_capacity(log), 64);
	cr_expect_eq(evlog_head(log), 64);
	cr_expect_eq(evlog_dropped(log), 36);
	cr_expect_eq(evlog_drain(log, out, 128), 64);
	cr_expect_eq(evlog_append(log, &r), 65, "room again after the drain");
	evlog_destroy(log);
}

Test(evlog, a_waiting_writer_is_woken_when_the_reader_frees_room, .timeout = 30)
{
	struct evlog *log = evlog_create(64, 10000);
	struct evlog_record r = rec(1, 0), out[64];
	size_t got = 0;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 1000; i++)
			evlog_append(log, &r);
		_exit(0);
	}
	while (got < 1000) {
		size_t n = evlog_drain(log, out, 64);

		got += n;
		if (!n)
			usleep(100);
	}
	waitpid(pid, NULL, 0);
	cr_expect_eq(evlog_dropped(log), 0);
	evlog_destroy(log);
}

Test(evlog, a_reserved_slot_filled_by_another_process_keeps_its_place)
{
	struct evlog *log = evlog_create(64, 0);
	struct evlog_record r = rec(1, 7), out[4];
	uint64_t seq = evlog_reserve(log);

	evlog_append(log, &r);
	cr_expect_eq(evlog_drain(log, out, 4), 0, "the reader waits for the reserved slot");
	if (fork() == 0) {
		struct evlog_record c = rec(2, 1);

		evlog_fill(log, seq, &c);
		_exit(0);
	}
	wait(NULL);
	cr_assert_eq(evlog_drain(log, out, 4), 2);
	cr_expect_eq(out[0].pid, 2);
	cr_expect_eq(out[0].ready, 1);
	cr_expect_eq(out[1].arg, 7);
	evlog_destroy(log);
}

Test(evlog, a_slot_whose_writer_died_is_skipped_and_counted_once_no_writer_is_left)
{
	struct evlog *log = evlog_create(64, 0);
	struct evlog_record r = rec(1, 0), out[4];

	evlog_reserve(log); /* its writer "died" before filling it */
	evlog_append(log, &r);
	cr_expect_eq(evlog_drain(log, out, 4), 0);
	cr_expect_eq(evlog_pending(log), 2);
	cr_expect_eq(evlog_skip_torn(log), 1);
	cr_expect_eq(evlog_drain(log, out, 4), 1);
	cr_expect_eq(out[0].ready, 2);
	cr_expect_eq(evlog_pending(log), 0);
	evlog_destroy(log);
}
