/*
 * test_replay.c - the check of a replay request, the queue of accepted
 * ones and the request rate limit (daemon/delivery/replay.c).
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "hazmond.h"

/* The ledger keeps seq 100 to 5000. */
static int
check(const char *payload, struct hz_replay *r, struct replay_answer *a)
{
	json_t *o = json_loads(payload, JSON_DECODE_ANY, NULL);
	int rc = replay_check(o, "site-a", 100, 5000, r, a);

	json_decref(o);
	return rc;
}

static void
assert_refused(const char *payload, const char *code, const char *why)
{
	struct hz_replay r;
	struct replay_answer a;

	assert_int_equal(check(payload, &r, &a), -EINVAL);
	assert_string_equal(a.code, code);
	if (why)
		assert_string_equal(a.why, why);
	assert_int_equal(a.oldest, 100);
	assert_int_equal(a.last, 5000);
}

static void
test_accepted(void **state)
{
	struct hz_replay r;
	struct replay_answer a;

	(void)state;
	assert_int_equal(check("{\"cmd\":\"replay\",\"from\":100,\"to\":600,"
	    "\"request_id\":\"w-1\",\"site\":\"site-a\"}", &r, &a), 0);
	assert_true(r.from == 100 && r.to == 600 && r.next == 100);
	assert_string_equal(r.request_id, "w-1");
	assert_string_equal(a.request_id, "w-1");
	/* Beyond the last seq: cut to it, and the answer says so. */
	assert_int_equal(check("{\"from\":4990,\"to\":6000}", &r, &a), 0);
	assert_true(r.to == 5000 && a.to == 5000 && a.from == 4990);
	assert_string_equal(r.request_id, "");
	/* One event; the largest range. */
	assert_int_equal(check("{\"from\":5000,\"to\":5000}", &r, &a), 0);
	assert_int_equal(check("{\"from\":100,\"to\":10099}", &r, &a), 0);
}

static void
test_refused(void **state)
{
	(void)state;
	assert_refused("[1,2]", "bad_request", "the payload is not a JSON object");
	assert_refused("\"replay\"", "bad_request", NULL);
	assert_refused("{\"from\":\"1\",\"to\":5}", "bad_request",
	    "\"from\" and \"to\" must be whole numbers (seq, inclusive)");
	assert_refused("{\"from\":1.5,\"to\":5}", "bad_request", NULL);
	assert_refused("{\"to\":5}", "bad_request", NULL);
	assert_refused("{\"from\":-5,\"to\":200}", "invalid",
	    "seq starts at 1; -5 to 200 is not a range of events");
	assert_refused("{\"from\":0,\"to\":200}", "invalid", NULL);
	assert_refused("{\"from\":300,\"to\":200}", "invalid",
	    "the range 300 to 200 is reversed");
	assert_refused("{\"from\":100,\"to\":10100}", "too_large",
	    "10001 events asked; at most 10000 per request");
	assert_refused("{\"from\":1,\"to\":9223372036854775807}", "too_large", NULL);
	assert_refused("{\"from\":200,\"to\":300,\"site\":\"site-b\"}",
	    "unknown_site", "this is site \"site-a\", not the site the request names");
	assert_refused("{\"from\":200,\"to\":300,\"site\":7}", "unknown_site", NULL);
	assert_refused("{\"from\":5001,\"to\":5002}", "not_yet",
	    "no event 5001 yet: the last seq is 5000");
	assert_refused("{\"from\":50,\"to\":300}", "retention",
	    "events before seq 100 are no longer kept (retention); the oldest "
	    "seq kept is 100");
	assert_refused("{\"from\":5,\"to\":6,\"request_id\":5}", "bad_request",
	    "\"request_id\" must be a string of 1 to 64 characters");
	assert_refused("{\"from\":5,\"to\":6,\"request_id\":\"\"}", "bad_request",
	    NULL);
}

static void
test_queue(void **state)
{
	struct hz_replayq q = { 0 };
	struct hz_replay r = { .from = 1, .to = 2 };
	struct replay_answer a;

	(void)state;
	assert_null(replay_head(&q));
	for (int i = 0; i < HZ_REPLAY_QUEUE; i++) {
		r.from = i + 1;
		assert_int_equal(replay_push(&q, &r, &a), 0);
	}
	assert_int_equal(replay_push(&q, &r, &a), -EINVAL);
	assert_string_equal(a.code, "busy");
	for (int i = 0; i < HZ_REPLAY_QUEUE; i++) {
		assert_int_equal(replay_head(&q)->from, i + 1);
		replay_pop(&q);
	}
	assert_null(replay_head(&q));
	replay_pop(&q);			/* empty: nothing happens */
	assert_int_equal(replay_push(&q, &r, &a), 0);
	assert_int_equal(replay_head(&q)->from, HZ_REPLAY_QUEUE);
}

static void
test_rate(void **state)
{
	struct hz_replayq q = { 0 };
	int64_t t = 1000000;

	(void)state;
	for (int i = 0; i < REPLAY_REQ_BURST; i++)
		assert_true(replay_req_allowed(&q, t));
	assert_false(replay_req_allowed(&q, t));
	assert_false(replay_req_allowed(&q, t + REPLAY_REQ_EVERY_MS - 1));
	assert_true(replay_req_allowed(&q, t + REPLAY_REQ_EVERY_MS));
	assert_false(replay_req_allowed(&q, t + REPLAY_REQ_EVERY_MS));
	/* A long pause gives a full burst again, not more. */
	t += 3600 * 1000;
	for (int i = 0; i < REPLAY_REQ_BURST; i++)
		assert_true(replay_req_allowed(&q, t));
	assert_false(replay_req_allowed(&q, t));
}

static void
test_reply(void **state)
{
	struct replay_answer a = { .code = "retention", .from = 5, .to = 6,
	    .oldest = 100, .last = 5000, .request_id = "w\"1" };
	json_t *o;
	char *s;

	(void)state;
	snprintf(a.why, sizeof(a.why), "old");
	s = replay_reply_json("site-a", "refused", &a, 0);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "request_id")),
	    "w\"1");
	assert_string_equal(json_string_value(json_object_get(o, "code")),
	    "retention");
	assert_int_equal(json_integer_value(json_object_get(o, "oldest")), 100);
	assert_null(json_object_get(o, "sent"));
	json_decref(o);
	free(s);
	a.request_id[0] = '\0';
	s = replay_reply_json("site-a", "done", &a, 2);
	o = json_loads(s, 0, NULL);
	assert_true(json_is_null(json_object_get(o, "request_id")));
	assert_int_equal(json_integer_value(json_object_get(o, "sent")), 2);
	assert_null(json_object_get(o, "code"));
	json_decref(o);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
