/* Threshold levels: setpoint, deadband, direction, delays (daemon/alarm.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hazmond.h"

/* One step of a scenario: a reading at time t and the transitions it must cause. */
struct step {
	int64_t t;
	double v;
	const char *expect;	/* e.g. "+0 +1" raised 0 and 1, "-1" cleared 1, "" none */
};

static void
run(const struct hazmon_level *lv, unsigned n, const struct step *steps, size_t ns)
{
	struct hz_level_state st[8];
	struct hz_transition tr[8];

	memset(st, 0, sizeof(st));
	for (size_t i = 0; i < ns; i++) {
		char got[64] = "";
		unsigned k = alarm_eval(lv, n, st, steps[i].v, steps[i].t, tr);

		for (unsigned j = 0; j < k; j++) {
			char one[8];

			snprintf(one, sizeof(one), "%s%c%u", j ? " " : "",
			    tr[j].kind == HZ_T_RAISED ? '+' : '-', tr[j].level);
			strcat(got, one);
		}
		if (strcmp(got, steps[i].expect) != 0) {
			print_error("step %zu (t=%lld v=%g): got \"%s\", expected \"%s\"\n",
			    i, (long long)steps[i].t, steps[i].v, got, steps[i].expect);
			fail();
		}
	}
}

static const struct hazmon_level gas[] = {
	{ .name = "first", .dir = HAZMON_ABOVE, .setpoint = 20, .deadband = 2, .priority = "high" },
	{ .name = "second", .dir = HAZMON_ABOVE, .setpoint = 50, .deadband = 2, .priority = "urgent" },
};

static void
test_above_deadband(void **state)
{
	static const struct step s[] = {
		{ 0, 5, "" }, { 1000, 19.99, "" }, { 2000, 20, "+0" },
		{ 3000, 25, "" }, { 4000, 18.5, "" },	/* inside deadband */
		{ 5000, 17.99, "-0" }, { 6000, 19, "" }, { 7000, 21, "+0" },
	};
	(void)state;
	run(gas, 2, s, sizeof(s) / sizeof(s[0]));
}

static void
test_two_levels_order(void **state)
{
	static const struct step s[] = {
		{ 0, 60, "+0 +1" },		/* lower level first */
		{ 1000, 49, "" },		/* second held by deadband */
		{ 2000, 10, "-1 -0" },		/* higher level clears first */
		{ 3000, 55, "+0 +1" }, { 4000, 30, "-1" }, { 5000, 30, "" },
	};
	(void)state;
	run(gas, 2, s, sizeof(s) / sizeof(s[0]));
}

static void
test_below(void **state)
{
	static const struct hazmon_level o2[] = {
		{ .name = "low", .dir = HAZMON_BELOW, .setpoint = 19.5, .deadband = 0.5 },
		{ .name = "high", .dir = HAZMON_ABOVE, .setpoint = 23.5, .deadband = 0.5 },
	};
	static const struct step s[] = {
		{ 0, 20.9, "" }, { 1, 19.5, "+0" }, { 2, 19.9, "" }, { 3, 20.1, "-0" },
		{ 4, 24, "+1" }, { 5, 18, "-1 +0" },	/* clear before raise */
	};
	(void)state;
	run(o2, 2, s, sizeof(s) / sizeof(s[0]));
}

static void
test_delays(void **state)
{
	static const struct hazmon_level lv[] = {
		{ .name = "high", .dir = HAZMON_ABOVE, .setpoint = 10, .on_delay = 2.0,
		  .off_delay = 1.0 },
	};
	static const struct step s[] = {
		{ 0, 11, "" }, { 1000, 12, "" }, { 1500, 9, "" },	/* dip restarts */
		{ 2000, 11, "" }, { 3999, 11, "" }, { 4000, 11, "+0" },
		{ 5000, 5, "" }, { 5500, 11, "" }, { 6000, 5, "" },
		{ 6999, 5, "" }, { 7000, 5, "-0" },
	};
	(void)state;
	run(lv, 1, s, sizeof(s) / sizeof(s[0]));
}

static void
test_nan_ignored(void **state)
{
	static const struct step s[] = {
		{ 0, 30, "+0" }, { 1, NAN, "" }, { 2, 30, "" }, { 3, 0, "-0" },
	};
	(void)state;
	run(gas, 1, s, sizeof(s) / sizeof(s[0]));
}

static void
test_highest_active(void **state)
{
	struct hz_level_state st[2] = { { .active = 1 }, { .active = 1 } };

	(void)state;
	assert_int_equal(alarm_highest_active(gas, 2, st), 1);
	st[1].active = 0;
	assert_int_equal(alarm_highest_active(gas, 2, st), 0);
	st[0].active = 0;
	assert_int_equal(alarm_highest_active(gas, 2, st), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_above_deadband),
		cmocka_unit_test(test_two_levels_order),
		cmocka_unit_test(test_below),
		cmocka_unit_test(test_delays),
		cmocka_unit_test(test_nan_ignored),
		cmocka_unit_test(test_highest_active),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
