/*
 * test_track.c - hazmon-watch's seq bookkeeping (tools/hazmon-watch/
 * track.c): duplicates, gaps, late arrivals, giving up, restoring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "track.h"

static void
test_in_order(void **state)
{
	struct wt_track t;
	int64_t from, to;

	(void)state;
	track_init(&t);
	assert_int_equal(track_high(&t), -1);
	assert_int_equal(track_seen(&t, 1043), 1);	/* the start: no gap before */
	for (int64_t s = 1044; s <= 1100; s++)
		assert_int_equal(track_seen(&t, s), 1);
	assert_false(track_gap(&t, &from, &to));
	assert_int_equal(t.base, 1100);
	assert_int_equal(t.n_got, 0);
	assert_int_equal(track_seen(&t, 1100), 0);	/* duplicates */
	assert_int_equal(track_seen(&t, 1043), 0);
	assert_int_equal(track_seen(&t, 5), 0);		/* before the start */
	assert_int_equal(track_seen(&t, 0), -1);
	assert_int_equal(track_seen(&t, -3), -1);
	assert_int_equal(track_seen(&t, INT64_MAX), -1);
	assert_int_equal(track_high(&t), 1100);
	track_free(&t);
}

static void
test_gaps(void **state)
{
	struct wt_track t;
	int64_t from, to;

	(void)state;
	track_init(&t);
	track_seen(&t, 10);
	track_seen(&t, 15);
	track_seen(&t, 16);
	track_seen(&t, 20);
	assert_true(track_gap(&t, &from, &to));
	assert_true(from == 11 && to == 19);		/* one request for all */
	assert_int_equal(track_missing(&t, 11, 19), 7);	/* 11-14, 17-19 */
	assert_int_equal(track_missing(&t, 1, 100), 7 + 80);
	assert_int_equal(track_high(&t), 20);
	assert_int_equal(track_seen(&t, 16), 0);	/* duplicate in a range */
	/* The replay fills them, duplicates and all */
	for (int64_t s = 11; s <= 20; s++)
		(void)track_seen(&t, s);
	assert_false(track_gap(&t, &from, &to));
	assert_int_equal(t.base, 20);
	assert_int_equal(t.n_got, 0);
	assert_int_equal(t.lost, 0);
	track_free(&t);
}

static void
test_merge(void **state)
{
	struct wt_track t;

	(void)state;
	track_init(&t);
	track_seen(&t, 1);
	for (int64_t s = 3; s <= 99; s += 2)		/* 49 ranges apart */
		assert_int_equal(track_seen(&t, s), 1);
	assert_int_equal(t.n_got, 49);
	for (int64_t s = 98; s >= 4; s -= 2)		/* backwards, each joins two */
		assert_int_equal(track_seen(&t, s), 1);
	assert_int_equal(t.n_got, 1);
	assert_true(t.got[0].a == 3 && t.got[0].b == 99);
	assert_int_equal(track_seen(&t, 2), 1);
	assert_int_equal(t.base, 99);
	assert_int_equal(t.n_got, 0);
	track_free(&t);
}

static void
test_give_up(void **state)
{
	struct wt_track t;
	int64_t from, to;

	(void)state;
	track_init(&t);
	assert_int_equal(track_give_up(&t, 1, 5), 0);	/* nothing seen yet */
	track_seen(&t, 100);
	track_seen(&t, 150);
	track_seen(&t, 160);
	/* retention: 101 to 129 are gone, the rest is asked again */
	assert_int_equal(track_give_up(&t, 101, 129), 29);
	assert_int_equal(t.base, 129);
	assert_true(track_gap(&t, &from, &to) && from == 130 && to == 159);
	assert_int_equal(track_give_up(&t, 130, 159), 29);	/* 150 was in */
	assert_int_equal(t.lost, 58);
	assert_int_equal(t.base, 160);
	assert_false(track_gap(&t, &from, &to));
	assert_int_equal(track_give_up(&t, 100, 160), 0);	/* nothing new */
	assert_int_equal(t.lost, 58);
	track_free(&t);
}

/*
 * An event given up as lost that comes after all (a bridge that delivers
 * its backlog after newer events) is new: printed once, and no longer
 * counted as lost.  A second copy of it is a duplicate.
 */
static void
test_late_after_give_up(void **state)
{
	struct wt_track t;

	(void)state;
	track_init(&t);
	track_seen(&t, 100);
	track_seen(&t, 150);
	assert_int_equal(track_give_up(&t, 101, 149), 49);
	assert_int_equal(t.lost, 49);
	assert_int_equal(track_seen(&t, 120), 2);	/* late: a split */
	assert_int_equal(track_seen(&t, 120), 0);	/* and once only */
	assert_int_equal(track_seen(&t, 101), 2);	/* a range's ends */
	assert_int_equal(track_seen(&t, 149), 2);
	assert_int_equal(track_seen(&t, 119), 2);
	assert_int_equal(track_seen(&t, 121), 2);
	assert_int_equal(t.lost, 44);
	assert_int_equal(track_seen(&t, 100), 0);	/* arrived, never lost */
	assert_int_equal(track_seen(&t, 150), 0);
	for (int64_t s = 102; s <= 148; s++)
		if (s < 119 || s > 121)
			assert_int_equal(track_seen(&t, s), 2);
	assert_int_equal(t.lost, 0);
	assert_int_equal(t.n_gone, 0);
	assert_int_equal(track_seen(&t, 130), 0);
	track_free(&t);
}

static void
test_restore(void **state)
{
	struct wt_track t;
	struct wt_range r[] = { { 20, 25 }, { 30, 30 } }, bad[] = { { 9, 8 } };
	int64_t from, to;

	(void)state;
	track_init(&t);
	assert_int_equal(track_restore(&t, 10, r, 2), 0);
	assert_int_equal(track_seen(&t, 22), 0);
	assert_int_equal(track_seen(&t, 5), 0);
	assert_true(track_gap(&t, &from, &to) && from == 11 && to == 29);
	assert_int_equal(track_missing(&t, from, to), 9 + 4);
	assert_int_equal(track_restore(&t, 10, bad, 1), -22);
	/*
	 * A site known from its status only (no event yet) is saved with
	 * base -1, as track_init leaves it: that must load again.  Ranges
	 * cannot come without a base, nor a base below -1.
	 */
	assert_int_equal(track_restore(&t, -1, NULL, 0), 0);
	assert_int_equal(t.base, -1);
	assert_int_equal(track_high(&t), -1);
	assert_int_equal(track_seen(&t, 7), 1);	/* the first event sets the start */
	assert_int_equal(t.base, 7);
	assert_int_equal(track_restore(&t, -1, r, 1), -22);
	assert_int_equal(track_restore(&t, -2, NULL, 0), -22);
	track_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_give_up),
		cmocka_unit_test(test_late_after_give_up),
		cmocka_unit_test(test_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
