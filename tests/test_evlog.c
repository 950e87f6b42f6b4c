/* test_evlog.c: the shared event log orders, drops and skips exactly as its invariants say. */
#include "core/evlog.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The drained records' long texts (none but in the arena tests). */
static struct evlog_texts texts;

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
		size_t n = evlog_drain(log, out + got, WRITERS * EACH - got, &texts);

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
	cr_expect_eq(evlog_drain(log, out, 128, &texts), 64);
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
		size_t n = evlog_drain(log, out, 64, &texts);

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
	cr_expect_eq(evlog_drain(log, out, 4, &texts), 0, "the reader waits for the reserved slot");
	if (fork() == 0) {
		struct evlog_record c = rec(2, 1);

		evlog_fill(log, seq, &c);
		_exit(0);
	}
	wait(NULL);
	cr_assert_eq(evlog_drain(log, out, 4, &texts), 2);
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
	cr_expect_eq(evlog_drain(log, out, 4, &texts), 0);
	cr_expect_eq(evlog_pending(log), 2);
	cr_expect_eq(evlog_skip_torn(log), 1);
	cr_expect_eq(evlog_drain(log, out, 4, &texts), 1);
	cr_expect_eq(out[0].ready, 2);
	cr_expect_eq(evlog_pending(log), 0);
	evlog_destroy(log);
}

/* A text as long as a path may be, made of its writer and index so it can be checked. */
static void long_text(char *buf, size_t len, int writer, int i)
{
	int n = snprintf(buf, len, "/w%d/i%d/", writer, i);

	memset(buf + n, 'a' + (i % 26), len - (size_t)n - 1);
	buf[len - 1] = '\0';
}

Test(evlog, long_texts_from_many_writers_come_back_whole_across_arena_generations, .timeout = 30)
{
	enum { WRITERS = 3, EACH = 600, LEN = 3000 };
	struct evlog *log = evlog_create(256, 10000);
	struct evlog_record out[256];
	char want[LEN];
	size_t got = 0, checked = 0;

	cr_assert_not_null(log);
	/* 3 x 600 x 3000 bytes: several times the arena, so it must be reused. */
	for (int w = 0; w < WRITERS; w++) {
		if (fork() == 0) {
			for (int i = 0; i < EACH; i++) {
				struct evlog_record r = rec(w, i);
				char text[LEN];

				long_text(text, sizeof(text), w, i);
				evlog_set_text(&r, text);
				evlog_append(log, &r);
			}
			_exit(0);
		}
	}
	while (got < WRITERS * EACH) {
		size_t n = evlog_drain(log, out, 256, &texts);

		for (size_t k = 0; k < n; k++) {
			long_text(want, sizeof(want), out[k].pid, (int)out[k].arg);
			cr_expect_str_eq(evlog_text(&out[k], &texts), want, "writer %d event %lld: %.20s (%zu)", out[k].pid,
					 (long long)out[k].arg, evlog_text(&out[k], &texts), strlen(evlog_text(&out[k], &texts)));
			checked++;
		}
		got += n;
		if (!n)
			usleep(100);
	}
	while (wait(NULL) > 0)
		;
	cr_expect_eq(checked, WRITERS * EACH);
	evlog_texts_release(&texts);
	evlog_destroy(log);
}

Test(evlog, a_full_arena_keeps_the_end_of_a_text_behind_an_ellipsis)
{
	struct evlog *log = evlog_create(4096, 0);
	struct evlog_record out[4096], r = rec(1, 0);
	char text[4000];
	size_t n;

	cr_assert_not_null(log);
	memset(text, 'x', sizeof(text));
	memcpy(text + sizeof(text) - 10, "/file.log", 10);
	/* Nothing drained: the arena fills up after EVLOG_ARENA_SIZE / 3999 texts. */
	for (unsigned i = 0; i <= EVLOG_ARENA_SIZE / (sizeof(text) - 1); i++) {
		evlog_set_text(&r, text);
		evlog_append(log, &r);
	}
	n = evlog_drain(log, out, 4096, &texts);
	cr_assert_gt(n, 1);
	cr_expect_str_eq(evlog_text(&out[0], &texts), text);
	cr_expect(!strncmp(evlog_text(&out[n - 1], &texts), "\xe2\x80\xa6", 3));
	cr_expect_eq(strlen(evlog_text(&out[n - 1], &texts)), EVLOG_TEXT_MAX - 1);
	cr_expect(strstr(evlog_text(&out[n - 1], &texts), "xxx/file.log") != NULL);
	evlog_texts_release(&texts);
	evlog_destroy(log);
}
