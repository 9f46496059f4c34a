/*
 * The publish-latency histogram (daemon/delivery/latency.c): bucket
 * bounds (an observation equal to a bound counts in that bucket, as in
 * Prometheus), cumulative counts, and where an event's time comes from:
 * the ring while it is fresh, its "ts" by the realtime clock after that.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "delivery.h"

static void
test_bucket(void **state)
{
	static const struct {
		int64_t us;
		unsigned bucket;
	} cases[] = {
		{ 0, 0 }, { 1000, 0 }, { 1001, 1 }, { 2500, 1 }, { 2501, 2 },
		{ 10000, 3 }, { 99999, 6 }, { 100000, 6 }, { 100001, 7 },
		{ 1000000, 9 }, { 9999999, 12 }, { 10000000, 12 },
		{ 10000001, LATENCY_BUCKETS }, { INT64_MAX, LATENCY_BUCKETS },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(latency_bucket(cases[i].us), cases[i].bucket);
	/* The bounds in seconds are those of docs/control.md, increasing. */
	assert_true(latency_le[0] == 0.001 && latency_le[LATENCY_BUCKETS - 1] == 10);
	for (unsigned i = 1; i < LATENCY_BUCKETS; i++)
		assert_true(latency_le[i] > latency_le[i - 1]);
}

static void
test_cumulative(void **state)
{
	static const int64_t obs[] = { 500, 1000, 3000, 3000, 70000, 2000000,
	    20000000, -5 };
	struct hz_latency h = { 0 };
	uint64_t prev = 0, sum = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++) {
		latency_add(&h, obs[i]);
		sum += obs[i] > 0 ? (uint64_t)obs[i] : 0;
	}
	assert_int_equal(h.count, 8);
	assert_int_equal(h.sum_us, sum);	/* the negative one counts as 0 */
	assert_int_equal(latency_cumulative(&h, 0), 3);	/* 500, 1000, -5 */
	assert_int_equal(latency_cumulative(&h, 2), 5);	/* + 3000 twice */
	assert_int_equal(latency_cumulative(&h, 5), 5);	/* 50 ms: not 70 */
	assert_int_equal(latency_cumulative(&h, 6), 6);	/* + 70 ms */
	assert_int_equal(latency_cumulative(&h, 10), 7);	/* + 2 s */
	assert_int_equal(latency_cumulative(&h, LATENCY_BUCKETS - 1), 7);
	for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
		assert_true(latency_cumulative(&h, i) >= prev);
		prev = latency_cumulative(&h, i);
	}
	assert_true(prev <= h.count);	/* 20 s is only in +Inf */
}

static void
test_origin(void **state)
{
	static struct hz_origins o;
	/* 2026-12-01T10:00:00.250Z */
	const int64_t ts = 1796119200250LL;
	const char *payload = "{\"seq\":7,\"id\":\"s-7\","
	    "\"ts\":\"2026-12-01T10:00:00.250Z\",\"site\":\"s\"}";

	(void)state;
	origins_note(&o, 7, 5000000);
	/* Fresh: the monotonic clock, whatever the realtime one says. */
	assert_int_equal(latency_of(&o, 7, payload, 5012345, 0), 12345);
	assert_int_equal(latency_of(&o, 7, payload, 4000000, 0), 0);
	/* Overwritten by a later event in the same slot: the realtime clock. */
	origins_note(&o, 7 + LATENCY_ORIGINS, 9000000);
	assert_int_equal(latency_of(&o, 7, payload, 9000001, ts + 1500), 1500000);
	/* Never in the ring (a backlog after a restart); clamped at 0. */
	assert_int_equal(latency_of(NULL, 7, payload, 1, ts + 20), 20000);
	assert_int_equal(latency_of(NULL, 7, payload, 1, ts - 1000), 0);
	assert_int_equal(latency_of(NULL, 7, "{\"seq\":7}", 1, ts), 0);
}

/*
 * A fresh event's way, stage by stage: they add up to its latency, each
 * has its sum and its longest; an event whose batch's stamps are not all
 * there, or gone, or that the ring no longer has, is not split.
 */
static void
test_stages(void **state)
{
	static struct hz_origins o;
	struct hz_latency h = { 0 };

	(void)state;
	/* polled at 1 s, taken 40 µs later, evaluated 10 µs after, committed
	 * 200 µs after that, handed over 30 µs later; a second event of the
	 * same batch polled 20 µs earlier */
	origins_batch(&o, 1000040, 1000050);
	origins_note(&o, 1, 1000000);
	origins_note(&o, 2, 999980);
	origins_committed(&o, 1000250);
	assert_int_equal(latency_of(&o, 1, "{}", 1000280, 0), 280);
	latency_stages(&h, &o, 1, 1000280);
	assert_int_equal(h.staged, 1);
	assert_int_equal(h.stage_sum_us[STAGE_QUEUE], 40);
	assert_int_equal(h.stage_sum_us[STAGE_EVALUATE], 10);
	assert_int_equal(h.stage_sum_us[STAGE_RECORD], 200);
	assert_int_equal(h.stage_sum_us[STAGE_HAND_OVER], 30);
	latency_stages(&h, &o, 2, 1000300);
	assert_int_equal(h.staged, 2);
	assert_int_equal(h.stage_sum_us[STAGE_QUEUE], 40 + 60);
	assert_int_equal(h.stage_sum_us[STAGE_HAND_OVER], 30 + 50);
	assert_int_equal(h.stage_max_us[STAGE_QUEUE], 60);
	/* An acknowledgement begins inside its batch, after it was taken:
	 * its queue is 0, never negative, and the sum is still its latency. */
	origins_batch(&o, 2000000, 2000150);
	origins_note(&o, 3, 2000100);
	origins_committed(&o, 2000400);
	latency_stages(&h, &o, 3, 2001400);
	assert_int_equal(h.staged, 3);
	assert_int_equal(h.stage_sum_us[STAGE_QUEUE], 100);
	assert_int_equal(h.stage_sum_us[STAGE_EVALUATE], 10 + 10 + 50);
	assert_int_equal(h.stage_sum_us[STAGE_RECORD], 200 + 200 + 250);
	assert_int_equal(h.stage_max_us[STAGE_RECORD], 250);
	assert_int_equal(h.stage_max_us[STAGE_HAND_OVER], 1000);
	/* Not committed yet; gone from the ring; no poll time: not split. */
	origins_batch(&o, 3000010, 3000020);
	origins_note(&o, 4, 3000000);
	latency_stages(&h, &o, 4, 3000500);
	origins_committed(&o, 3000030);
	latency_stages(&h, &o, 4 + LATENCY_ORIGINS, 3000500);
	origins_note(&o, 5, 0);
	latency_stages(&h, &o, 5, 3000500);
	latency_stages(&h, NULL, 1, 1000280);
	assert_int_equal(h.staged, 3);
	/* Its batch's stamps overwritten by LATENCY_BATCHES later batches. */
	for (unsigned i = 0; i < LATENCY_BATCHES; i++) {
		origins_batch(&o, 4000000, 4000000);
		origins_committed(&o, 4000000);
	}
	latency_stages(&h, &o, 4, 4000500);
	assert_int_equal(h.staged, 3);
	assert_string_equal(latency_stage[STAGE_QUEUE], "queue");
	assert_string_equal(latency_stage[STAGE_HAND_OVER], "hand_over");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_cumulative),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_stages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
