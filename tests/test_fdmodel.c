/* test_fdmodel.c: the fd model turns events into holds, with no SQLite and no process. */
#include "core/evlog.h"
#include "core/fdmodel.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Every hold the model hands back, in the order it did. */
struct got {
	struct fdmodel_hold *h[64];
	int n;
};

static void collect(void *ctx, struct fdmodel_hold *h)
{
	struct got *g = ctx;

	cr_assert_lt(g->n, 64);
	g->h[g->n++] = h;
}

static void release(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		fdmodel_hold_free(g->h[i]);
}

Test(fdmodel, an_inherited_fd_is_held_from_the_fork_and_untouched_until_its_process_exits)
{
	struct got g = { 0 };
	struct fdmodel *m = fdmodel_new(collect, &g);

	fdmodel_begin(m, 20, 5);
	fdmodel_inherit(m, 20, 4, 777, END_WRITE, 1, NULL, 9);
	fdmodel_end_process(m, 20, 30, "exit");
	cr_assert_eq(g.n, 1);
	cr_expect_eq(g.h[0]->from_seq, 5, "held since the fork, not since it was observed");
	cr_expect_str_eq(g.h[0]->from_kind, "inherit");
	cr_expect_eq(g.h[0]->to_seq, 30);
	cr_expect_str_eq(g.h[0]->to_kind, "exit");
	cr_expect_eq(g.h[0]->touched_seq, 0, "exiting is no call on the fd");
	release(&g);
	fdmodel_free(m);
}

Test(fdmodel, reads_writes_and_dups_touch_a_hold_without_ending_it)
{
	struct got g = { 0 };
	struct fdmodel *m = fdmodel_new(collect, &g);

	fdmodel_begin(m, 20, 1);
	fdmodel_inherit(m, 20, 3, 42, END_READ, 1, NULL, 2);
	fdmodel_touch(m, 20, 3, 7);   /* read */
	fdmodel_touch(m, 20, 3, 9);   /* read again: the first touch counts */
	cr_expect_eq(g.n, 0, "nothing ended");
	fdmodel_open(m, 20, 0, 42, END_READ, 1, NULL, 11, "dup2"); /* dup2(3, 0) */
	fdmodel_close(m, 20, 3, 12, "close");
	cr_assert_eq(g.n, 1);
	cr_expect_eq(g.h[0]->fd, 3);
	cr_expect_eq(g.h[0]->touched_seq, 7);
	cr_expect_eq(g.h[0]->to_seq, 12);
	fdmodel_finish(m);
	cr_assert_eq(g.n, 2);
	cr_expect_eq(g.h[1]->fd, 0);
	cr_expect_eq(g.h[1]->from_seq, 11);
	cr_expect_eq(g.h[1]->to_seq, 0, "still open when the trace ended");
	release(&g);
	fdmodel_free(m);
}

Test(fdmodel, dup2_onto_an_open_fd_ends_what_it_held_touched)
{
	struct got g = { 0 };
	struct fdmodel *m = fdmodel_new(collect, &g);

	fdmodel_begin(m, 20, 1);
	fdmodel_inherit(m, 20, 0, 0, END_NONE, 0, "/dev/pts/0", 1);
	fdmodel_open(m, 20, 5, 42, END_READ, 1, NULL, 3, "pipe");
	fdmodel_open(m, 20, 0, 42, END_READ, 1, NULL, 4, "dup2");
	cr_assert_eq(g.n, 1);
	cr_expect_str_eq(g.h[0]->detail, "/dev/pts/0");
	cr_expect_str_eq(g.h[0]->to_kind, "dup2");
	cr_expect_eq(g.h[0]->touched_seq, 4);
	release(&g);
	fdmodel_free(m);
}

Test(fdmodel, close_range_ends_exactly_the_fds_in_its_range)
{
	struct got g = { 0 };
	struct fdmodel *m = fdmodel_new(collect, &g);

	fdmodel_begin(m, 20, 1);
	for (int fd = 0; fd < 8; fd++)
		fdmodel_inherit(m, 20, fd, 100 + (uint64_t)fd, END_WRITE, fd, NULL, 2);
	fdmodel_close_range(m, 20, 3, 5, 10, "close_range");
	cr_assert_eq(g.n, 3);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(g.h[i]->fd, 3 + i);
		cr_expect_eq(g.h[i]->touched_seq, 10);
	}
	fdmodel_close_range(m, 20, 7, 2147483647, 11, "close_range");
	cr_expect_eq(g.n, 4, "up to ~0U: only fd 7 was open above 6");
	fdmodel_finish(m);
	cr_expect_eq(g.n, 8, "every hold handed back exactly once");
	release(&g);
	fdmodel_free(m);
}

Test(fdmodel, processes_keep_their_own_tables_and_unknown_ones_change_nothing)
{
	struct got g = { 0 };
	struct fdmodel *m = fdmodel_new(collect, &g);

	/* Enough processes to grow the table several times. */
	for (pid_t pid = 100; pid < 300; pid++) {
		fdmodel_begin(m, pid, (uint64_t)pid);
		fdmodel_inherit(m, pid, 4, 9, END_WRITE, 1, NULL, (uint64_t)pid);
	}
	fdmodel_close(m, 999, 4, 400, "close");
	fdmodel_touch(m, 999, 4, 400);
	fdmodel_end_process(m, 999, 400, "exit");
	cr_expect_eq(g.n, 0);
	fdmodel_close(m, 150, 4, 401, "close");
	cr_assert_eq(g.n, 1);
	cr_expect_eq(g.h[0]->pid, 150);
	cr_expect_eq(g.h[0]->from_seq, 150);
	release(&g);
	g.n = 0;
	fdmodel_free(m); /* frees the 199 holds still open */
}
