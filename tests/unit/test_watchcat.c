/*
 * test_watchcat.c - hazmon-watch's catalogue fingerprints (tools/
 * hazmon-watch/catalogue.c): which is known, which events and states
 * name another.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "catalogue.h"

static void
test_valid(void **state)
{
	(void)state;
	assert_true(cat_valid("0123456789abcdef"));
	assert_false(cat_valid(NULL));
	assert_false(cat_valid(""));
	assert_false(cat_valid("0123456789abcde"));	/* 15 */
	assert_false(cat_valid("0123456789abcdef0"));	/* 17 */
	assert_false(cat_valid("0123456789ABCDEF"));	/* hazmond writes lower case */
	assert_false(cat_valid("0123456789abcdeg"));
	assert_false(cat_valid("0123456789abcd\n"));
}

/* Nothing is stale before a catalogue is known; then what differs is. */
static void
test_stale(void **state)
{
	struct wt_cat c;

	(void)state;
	cat_init(&c);
	assert_int_equal(cat_check(&c, "aaaaaaaaaaaaaaaa"), 0);
	assert_int_equal(c.stale, 0);
	assert_int_equal(cat_update(&c, "aaaaaaaaaaaaaaaa"), 1);
	assert_int_equal(cat_update(&c, "aaaaaaaaaaaaaaaa"), 0);	/* rebirth */
	assert_int_equal(c.changes, 1);
	assert_int_equal(cat_check(&c, "aaaaaaaaaaaaaaaa"), 0);
	assert_int_equal(cat_check(&c, NULL), 0);	/* an older hazmond's */
	assert_int_equal(cat_check(&c, "bbbbbbbbbbbbbbbb"), 1);
	assert_int_equal(c.stale, 1);
	assert_int_equal(cat_update(&c, "bbbbbbbbbbbbbbbb"), 1);	/* a reload */
	assert_int_equal(c.changes, 2);
	assert_string_equal(c.fp, "bbbbbbbbbbbbbbbb");
	assert_int_equal(cat_check(&c, "bbbbbbbbbbbbbbbb"), 0);
	assert_int_equal(cat_check(&c, "aaaaaaaaaaaaaaaa"), 1);	/* replayed */
	assert_int_equal(c.stale, 2);
}

/* A bad fingerprint changes nothing and is not counted as stale. */
static void
test_bad(void **state)
{
	struct wt_cat c;

	(void)state;
	cat_init(&c);
	assert_int_equal(cat_update(&c, "aaaaaaaaaaaaaaaa"), 1);
	assert_int_equal(cat_update(&c, "xyz"), -1);
	assert_string_equal(c.fp, "aaaaaaaaaaaaaaaa");
	assert_int_equal(cat_check(&c, "aaaaaaaaaaaaaaa\x01"), -1);
	assert_int_equal(c.stale, 0);
	assert_int_equal(c.changes, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
