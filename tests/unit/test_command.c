/* Operator actions as JSON, for both the control socket and MQTT (daemon/alarm/command.c). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "hazmond.h"

struct pcase {
	const char *verb, *json, *actor;
	const char *code;		/* NULL: accepted */
	double seconds;
	int on;
	const char *want_actor;
};

static const struct pcase cases[] = {
	{ "ack", "{\"sensor\":\"ch4\"}", "root", NULL, 0, 0, "root" },
	{ "ack", "{\"sensor\":\"ch4\",\"actor\":\"li\"}", NULL, NULL, 0, 0, "li" },
	{ "ack", "{\"sensor\":\"ch4\",\"actor\":\"li\"}", "bureau", NULL, 0, 0, "bureau" },
	{ "ack", "{\"sensor\":\"ch4\",\"level\":1}", NULL, "bad_request", 0, 0, NULL },
	{ "ack", "{\"sensor\":5}", NULL, "bad_request", 0, 0, NULL },
	{ "ack", "[1]", NULL, "bad_request", 0, 0, NULL },
	{ "ack", "{\"sensor\":\"ch4\",\"actor\":7}", NULL, "bad_request", 0, 0, NULL },
	/* both spellings of a shelf's duration, once each */
	{ "shelve", "{\"sensor\":\"s\",\"seconds\":60,\"reason\":\"r\"}", "u", NULL, 60, 0, "u" },
	{ "shelve", "{\"sensor\":\"s\",\"duration\":3600,\"reason\":\"r\"}", "u", NULL, 3600, 0, "u" },
	{ "shelve", "{\"sensor\":\"s\",\"seconds\":60,\"duration\":60}", "u", "bad_request", 0, 0, NULL },
	{ "shelve", "{\"sensor\":\"s\",\"reason\":\"r\"}", "u", "invalid", 0, 0, NULL },
	{ "shelve", "{\"sensor\":\"s\",\"seconds\":\"60\"}", "u", "bad_request", 0, 0, NULL },
	{ "shelve", "{\"sensor\":\"s\",\"seconds\":1e-300}", "u", "invalid", 0, 0, NULL },
	{ "shelve", "{\"sensor\":\"s\",\"seconds\":0.5}", "u", "invalid", 0, 0, NULL },
	{ "shelve", "{\"sensor\":\"s\",\"seconds\":86401}", "u", "invalid", 0, 0, NULL },
	{ "shelve", "{\"sensor\":\"s\",\"duration\":-5}", "u", "invalid", 0, 0, NULL },
	{ "shelve", "{\"sensor\":\"s\",\"seconds\":123456789012345678901234567890}", "u",
	    "bad_request", 0, 0, NULL },	/* jansson refuses the integer */
	{ "shelve", "{\"sensor\":\"s\",\"seconds\":9223372036854775807}", "u", "invalid", 0, 0, NULL },
	{ "oos", "{\"sensor\":\"s\",\"on\":true}", "u", NULL, 0, 1, "u" },
	{ "oos", "{\"sensor\":\"s\",\"on\":false}", "u", NULL, 0, 0, "u" },
	{ "oos", "{\"sensor\":\"s\",\"on\":\"yes\"}", "u", "bad_request", 0, 0, NULL },
	{ "oos", "{\"sensor\":\"s\"}", "u", "bad_request", 0, 0, NULL },
	{ "ack", "{\"sensor\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
	    "u", "no_sensor", 0, 0, NULL },
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *t = &cases[i];
		json_t *o = json_loads(t->json, JSON_DECODE_ANY, NULL);
		struct hz_command c;
		struct cmd_refusal r = { 0 };
		const char *why = cmd_parse(t->verb, o, t->actor, &c, &r);

		json_decref(o);
		if ((why == NULL) != (t->code == NULL) ||
		    (why && strcmp(r.code, t->code) != 0)) {
			print_error("case %zu %s %s: got %s (%s), expected %s\n", i,
			    t->verb, t->json, why ? r.code : "accepted", why ? why : "",
			    t->code ? t->code : "accepted");
			fail();
		}
		if (why)
			continue;
		assert_string_equal(c.verb, t->verb);
		assert_true(fabs(c.seconds - t->seconds) < 1e-9);
		assert_int_equal(c.on, t->on);
		assert_string_equal(c.actor, t->want_actor);
	}
}

static void
test_numbers(void **state)
{
	json_t *v;
	double d = 7;

	(void)state;
	v = json_real(1e300);
	assert_int_equal(cmd_number(v, 0, 100, &d), -ERANGE);
	json_decref(v);
	v = json_string("5");
	assert_int_equal(cmd_number(v, 0, 100, &d), -EINVAL);
	json_decref(v);
	v = json_integer(INT64_MIN);
	assert_int_equal(cmd_number(v, -1, 1, &d), -ERANGE);
	json_decref(v);
	assert_true(d == 7);	/* untouched when refused */
	v = json_integer(42);
	assert_int_equal(cmd_number(v, 0, 100, &d), 0);
	json_decref(v);
	assert_true(d == 42);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
