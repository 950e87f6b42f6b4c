/* test_base.c: the shared containers of src/base: ALLOC_GROW's growth rule. */
#include "base/util.h"

#include <criterion/criterion.h>
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
