/* test_base.c: the shared containers of src/base: ALLOC_GROW's growth rule, the string buffer, the pid map. */
#include "base/pidmap.h"
#include "base/sbuf.h"
#include "base/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(alloc, an_empty_array_gets_first_elements_and_then_doubles_when_full)
{
	int *v = NULL;
	size_t n = 0, cap = 0;

	ALLOC_GROW(v, n + 1, cap, 4);
	cr_assert_eq(cap, 4, "an empty array starts at first");
	for (int i = 0; i < 4; i++) {
		ALLOC_GROW(v, n + 1, cap, 4);
		v[n++] = i;
	}
	cr_expect_eq(cap, 4, "nothing grows while the next index fits");
	ALLOC_GROW(v, n + 1, cap, 4);
	v[n++] = 4;
	cr_expect_eq(cap, 8, "a full array doubles");
	for (int i = 0; i < 5; i++)
		cr_expect_eq(v[i], i, "growing keeps what was there");
	free(v);
}

Test(alloc, a_need_past_the_double_doubles_again_until_it_fits)
{
	char *buf = NULL;
	size_t cap = 0;

	ALLOC_GROW(buf, 100, cap, 16);
	cr_expect_eq(cap, 128, "16 doubled until 100 fits");
	memset(buf, 'x', 100); /* ASan: the room is really there */
	ALLOC_GROW(buf, 10, cap, 16);
	cr_expect_eq(cap, 128, "a smaller need never shrinks it");
	free(buf);
}

Test(alloc, alloc_nr_dies_rather_than_wrap_around, .exit_code = 1)
{
	alloc_nr(SIZE_MAX / 2 + 1, SIZE_MAX, 1);
	cr_assert_fail("alloc_nr returned");
}

Test(sbuf, an_empty_buffer_owns_nothing_and_any_append_makes_it_a_string)
{
	struct sbuf b = SBUF_INIT;

	cr_assert(sbuf_ok(&b));
	cr_expect_null(b.s, "nothing allocated before the first append");
	sbuf_printf(&b, "%s", "");
	cr_assert_not_null(b.s, "an empty append still makes s a string");
	cr_expect_str_eq(b.s, "");
	cr_expect_eq(b.len, 0);
	cr_expect(sbuf_ok(&b));
	sbuf_release(&b);
	cr_expect_null(b.s);
	cr_expect_eq(b.cap, 0, "released is empty again");
}

Test(sbuf, printf_appends_in_order_past_any_first_size)
{
	struct sbuf b = SBUF_INIT;
	char want[8192];
	size_t n = 0;

	for (int i = 0; i < 1000; i++) {
		sbuf_printf(&b, "%d,", i);
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%d,", i);
		cr_assert(sbuf_ok(&b), "after %d appends", i + 1);
	}
	cr_expect_eq(b.len, n);
	cr_expect_str_eq(b.s, want);
	sbuf_release(&b);
}

Test(sbuf, one_append_longer_than_the_room_is_written_whole)
{
	struct sbuf b = SBUF_INIT;
	char big[5000];

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sbuf_addstr(&b, "x");
	sbuf_printf(&b, "[%s]", big);
	cr_expect_eq(b.len, 1 + 2 + strlen(big));
	cr_expect_eq(b.s[0], 'x');
	cr_expect_eq(b.s[1], '[');
	cr_expect_eq(b.s[b.len - 1], ']');
	cr_expect_eq(strlen(b.s), b.len, "one string, NUL-terminated at len");
	sbuf_release(&b);
}

Test(sbuf, add_takes_bytes_and_addstr_a_string)
{
	struct sbuf b = SBUF_INIT;

	sbuf_add(&b, "abcdef", 3);
	sbuf_addstr(&b, "-");
	sbuf_add(&b, "", 0);
	sbuf_addstr(&b, "xyz");
	cr_expect_str_eq(b.s, "abc-xyz");
	cr_expect_eq(b.len, 7);
	/* A caller may cut it short, as explain_out's sentences do. */
	b.len = 3;
	b.s[3] = '\0';
	sbuf_printf(&b, "%c", '!');
	cr_expect_str_eq(b.s, "abc!");
	sbuf_release(&b);
}

Test(sbuf, grow_makes_the_room_it_promises)
{
	struct sbuf b = SBUF_INIT;

	sbuf_addstr(&b, "ab");
	sbuf_grow(&b, 126); /* 2 + 126 + 1: a size that a miscount of len or of the NUL would miss */
	cr_expect_geq(b.cap - b.len, 127, "126 bytes and the NUL after len");
	cr_expect_str_eq(b.s, "ab", "growing keeps the text");
	sbuf_release(&b);
}

struct t_proc {
	pid_t pid;
	int value;
};

Test(pidmap, put_makes_a_zeroed_entry_once_and_get_finds_it)
{
	struct pidmap m = PIDMAP_INIT(struct t_proc);
	struct t_proc *p;

	cr_expect_null(pidmap_get(&m, 7), "an empty map has nothing");
	p = pidmap_put(&m, 7);
	cr_assert_not_null(p);
	cr_expect_eq(p->pid, 7);
	cr_expect_eq(p->value, 0, "a new entry is zeroed");
	p->value = 42;
	cr_expect_eq(((struct t_proc *)pidmap_put(&m, 7))->value, 42, "a second put is the same entry");
	cr_expect_eq(m.len, 1);
	cr_expect_eq(((struct t_proc *)pidmap_get(&m, 7))->value, 42);
	cr_expect_null(pidmap_get(&m, 8));
	cr_expect_null(pidmap_get(&m, 0), "pid 0 is never a key");
	pidmap_release(&m);
	cr_expect_eq(m.cap, 0);
}

Test(pidmap, every_entry_survives_growth_and_iteration_sees_each_once)
{
	struct pidmap m = PIDMAP_INIT(struct t_proc);
	static int seen[5001];
	size_t n = 0;

	for (int pid = 1; pid <= 5000; pid++)
		((struct t_proc *)pidmap_put(&m, pid))->value = pid * 3;
	cr_expect_eq(m.len, 5000);
	cr_expect_leq(2 * m.len, m.cap, "at most half full");
	for (int pid = 1; pid <= 5000; pid++) {
		struct t_proc *p = pidmap_get(&m, pid);

		cr_assert_not_null(p, "pid %d lost", pid);
		cr_assert_eq(p->value, pid * 3, "pid %d", pid);
	}
	for (size_t i = 0; i < m.cap; i++) {
		struct t_proc *p = pidmap_at(&m, i);

		if (p) {
			cr_assert(p->pid >= 1 && p->pid <= 5000);
			cr_assert_eq(seen[p->pid]++, 0, "pid %d twice", p->pid);
			n++;
		}
	}
	cr_expect_eq(n, 5000);
	pidmap_release(&m);
}

Test(pidmap, del_keeps_every_other_entry_reachable)
{
	struct pidmap m = PIDMAP_INIT(struct t_proc);

	/* Dense pids, as a pool's are: many share probe chains. */
	for (int pid = 1; pid <= 1000; pid++)
		((struct t_proc *)pidmap_put(&m, pid))->value = pid;
	for (int pid = 1; pid <= 1000; pid += 3)
		pidmap_del(&m, pidmap_get(&m, pid));
	for (int pid = 1; pid <= 1000; pid++) {
		struct t_proc *p = pidmap_get(&m, pid);

		if (pid % 3 == 1)
			cr_assert_null(p, "pid %d was removed", pid);
		else {
			cr_assert_not_null(p, "pid %d lost by a removal", pid);
			cr_assert_eq(p->value, pid);
		}
	}
	cr_expect_eq(m.len, 1000 - 334);
	pidmap_release(&m);
}
