/*
 * The alarm state machine (daemon/alarm/alarm.c): every transition, table-driven,
 * and a randomized run that checks the invariants over long sequences.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hazmond.h"

/*
 * One step: a reading (op 'r'), an acknowledgement of a level or of all
 * (op 'a', level -1), or the end of a suppression (op 'u'), and the
 * transitions it must cause: "+0" raised level 0, "-1" cleared level 1,
 * "a0" acknowledged level 0.  `sup` marks readings while shelved/OOS.
 */
struct step {
	char op;
	int64_t t;
	double v;
	int level;
	int sup;
	const char *expect;
};

static void
run(const struct hazmon_level *lv, unsigned n, const struct step *steps, size_t ns)
{
	struct hz_level_state st[8];
	struct hz_transition tr[16];

	memset(st, 0, sizeof(st));
	for (size_t i = 0; i < ns; i++) {
		const struct step *s = &steps[i];
		char got[64] = "";
		unsigned k;

		if (s->op == 'a')
			k = alarm_ack(lv, n, st, s->level, tr);
		else if (s->op == 'u')
			k = alarm_reconcile(lv, n, st, s->t, tr);
		else
			k = alarm_eval(lv, n, st, s->v, s->t, s->sup, tr);
		for (unsigned j = 0; j < k; j++) {
			char one[8];

			snprintf(one, sizeof(one), "%s%c%u", j ? " " : "",
			    "+-a"[tr[j].kind], tr[j].level);
			strcat(got, one);
		}
		if (strcmp(got, s->expect) != 0) {
			print_error("step %zu (%c t=%lld v=%g): got \"%s\", expected \"%s\"\n",
			    i, s->op, (long long)s->t, s->v, got, s->expect);
			fail();
		}
	}
}

#define R(t, v, e) { 'r', t, v, 0, 0, e }
#define RS(t, v, e) { 'r', t, v, 0, 1, e }	/* while suppressed */
#define A(l, e) { 'a', 0, 0, l, 0, e }
#define U(t, e) { 'u', t, 0, 0, 0, e }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct hazmon_level gas[] = {
	{ .name = "first", .dir = HAZMON_ABOVE, .setpoint = 20, .deadband = 2, .priority = "high" },
	{ .name = "second", .dir = HAZMON_ABOVE, .setpoint = 50, .deadband = 2,
	  .priority = "urgent", .latch = 1 },
};

static void
test_setpoint_deadband(void **state)
{
	static const struct step s[] = {
		R(0, 5, ""), R(1000, 19.99, ""), R(2000, 20, "+0"),
		R(3000, 25, ""), R(4000, 18.5, ""),	/* inside the deadband */
		R(5000, 17.99, "-0"), R(6000, 19, ""), R(7000, 21, "+0"),
	};
	(void)state;
	run(gas, 1, s, N(s));
}

static void
test_two_levels_order(void **state)
{
	static const struct step s[] = {
		R(0, 60, "+0 +1"),		/* lower level first */
		R(1000, 49, ""),		/* second held by deadband */
		R(2000, 10, "-0"),		/* second is latched: stays */
		A(-1, "a0 a1 -1"),		/* ack clears the latched one */
		R(3000, 55, "+0 +1"), A(1, "a1"), R(4000, 30, "-1"), R(5000, 30, ""),
	};
	(void)state;
	run(gas, 2, s, N(s));
}

static void
test_non_latched_ack_paths(void **state)
{
	static const struct step s[] = {
		R(0, 30, "+0"), R(1, 10, "-0"),	/* returned, unacknowledged */
		R(2, 30, "+0"),			/* comes back before the ack */
		A(0, "a0"), A(0, ""),		/* acknowledged once only */
		R(3, 10, "-0"), A(0, ""),	/* cleared after ack: nothing left */
		R(4, 30, "+0"), R(5, 10, "-0"), A(-1, "a0"), A(-1, ""),
	};
	(void)state;
	run(gas, 1, s, N(s));
}

static void
test_latched(void **state)
{
	static const struct hazmon_level smoke[] = {
		{ .name = "fire", .dir = HAZMON_ABOVE, .setpoint = 1, .latch = 1,
		  .priority = "urgent" },
	};
	static const struct step s[] = {
		R(0, 1, "+0"), R(1, 0, ""), R(2, 0, ""),	/* stays until ack */
		R(3, 1, ""),			/* already active: no second raise */
		A(0, "a0"), R(4, 0, "-0"),	/* acked while active: clears on return */
		R(5, 1, "+0"), R(6, 0, ""), A(-1, "a0 -0"),
	};
	(void)state;
	run(smoke, 1, s, N(s));
}

static void
test_below(void **state)
{
	static const struct hazmon_level o2[] = {
		{ .name = "low", .dir = HAZMON_BELOW, .setpoint = 19.5, .deadband = 0.5 },
		{ .name = "high", .dir = HAZMON_ABOVE, .setpoint = 23.5, .deadband = 0.5 },
	};
	static const struct step s[] = {
		R(0, 20.9, ""), R(1, 19.5, "+0"), R(2, 19.9, ""), R(3, 20.1, "-0"),
		R(4, 24, "+1"), R(5, 18, "-1 +0"),	/* clear before raise */
	};
	(void)state;
	run(o2, 2, s, N(s));
}

static void
test_delays(void **state)
{
	static const struct hazmon_level lv[] = {
		{ .name = "high", .dir = HAZMON_ABOVE, .setpoint = 10, .on_delay = 2.0,
		  .off_delay = 1.0 },
	};
	static const struct step s[] = {
		R(0, 11, ""), R(1000, 12, ""), R(1500, 9, ""),	/* dip restarts */
		R(2000, 11, ""), R(3999, 11, ""), R(4000, 11, "+0"),
		R(5000, 5, ""), R(5500, 11, ""), R(6000, 5, ""),
		R(6999, 5, ""), R(7000, 5, "-0"),
	};
	(void)state;
	run(lv, 1, s, N(s));
}

static void
test_suppressed(void **state)
{
	static const struct step s[] = {
		RS(0, 30, ""), RS(1, 60, ""),	/* shelved: conditions tracked only */
		U(2, "+0 +1"),			/* unshelved while still high */
		A(-1, "a0 a1"), RS(3, 5, ""),	/* back to normal while shelved */
		U(4, "-1 -0"),			/* acked: both clear at unshelve */
		R(5, 30, "+0"), RS(6, 5, ""), U(7, "-0"),
		RS(8, 30, ""), RS(9, 5, ""), U(10, ""),	/* came and went, unseen */
	};
	(void)state;
	run(gas, 2, s, N(s));
}

/* Rate of change, units per minute: a rise of 10/min raises, a fall watches falls. */
static void
test_rate(void **state)
{
	static const struct hazmon_level lv[] = {
		{ .name = "rising", .dir = HAZMON_RATE, .setpoint = 10, .deadband = 2 },
		{ .name = "falling", .dir = HAZMON_RATE, .setpoint = -20 },
	};
	static const struct step s[] = {
		R(0, 5, ""),			/* one reading gives no rate */
		R(6000, 5.5, ""),		/* +5/min */
		R(12000, 6.5, "+0"),		/* +10/min */
		R(18000, 7.4, ""),		/* +9/min: inside the deadband */
		R(24000, 8.0, "-0"),		/* +6/min */
		R(30000, 5.0, ""),		/* -30/min... */
		R(36000, 2.0, ""),		/* ...is -30/min: */
	};
	static const struct step f[] = {
		R(0, 50, ""), R(60000, 25, "+1"), R(120000, 24, "-1"),
	};
	(void)state;
	run(lv, 1, s, N(s));
	run(lv, 2, f, N(f));
}

static void
test_nan_ignored(void **state)
{
	static const struct step s[] = {
		R(0, 30, "+0"), R(1, NAN, ""), R(2, 30, ""), R(3, 0, "-0"),
	};
	(void)state;
	run(gas, 1, s, N(s));
}

static void
test_highest_active(void **state)
{
	struct hz_level_state st[2] = { { .state = HZ_A_ACTIVE_UNACK },
	    { .state = HZ_A_ACTIVE_ACK } };

	(void)state;
	assert_int_equal(alarm_highest_active(gas, 2, st), 1);
	st[1].state = HZ_A_RTN_UNACK;	/* returned is not active */
	assert_int_equal(alarm_highest_active(gas, 2, st), 0);
	st[0].state = HZ_A_NORMAL;
	assert_int_equal(alarm_highest_active(gas, 2, st), -1);
	assert_string_equal(alarm_state_name(HZ_A_RTN_UNACK), "returned_unacknowledged");
}

/*
 * Long random sequences of readings, acknowledgements and suppressions.
 * Per level: raised and cleared alternate (never cleared without raised);
 * a latched level never clears before it was acknowledged; an
 * acknowledgement only happens to an unacknowledged alarm.
 */
static void
test_random_invariants(void **state)
{
	static const struct hazmon_level lv[] = {
		{ .name = "first", .dir = HAZMON_ABOVE, .setpoint = 20, .deadband = 2,
		  .on_delay = 0.2, .priority = "high" },
		{ .name = "second", .dir = HAZMON_ABOVE, .setpoint = 50, .deadband = 3,
		  .off_delay = 0.5, .priority = "urgent", .latch = 1 },
		{ .name = "low", .dir = HAZMON_BELOW, .setpoint = 5, .deadband = 1 },
	};
	struct hz_level_state st[3];
	struct hz_transition tr[6];
	int raised[3] = { 0 }, acked[3] = { 0 }, sup = 0;
	unsigned long events = 0;
	int64_t t = 0;
	double v = 10;

	(void)state;
	srand(12345);
	memset(st, 0, sizeof(st));
	for (int i = 0; i < 200000; i++) {
		int r = rand() % 100;
		unsigned k;

		t += 50 + rand() % 200;
		if (r < 3) {
			k = alarm_ack(lv, 3, st, rand() % 4 - 1, tr);
		} else if (r < 5) {
			sup = !sup;
			k = sup ? 0 : alarm_reconcile(lv, 3, st, t, tr);
		} else {
			v += (rand() % 2001 - 1000) / 100.0;
			v = v < -5 ? -5 : v > 80 ? 80 : v;
			k = alarm_eval(lv, 3, st, v, t, sup, tr);
		}
		assert_true(k <= 6);
		for (unsigned j = 0; j < k; j++) {
			unsigned l = tr[j].level;

			events++;
			switch (tr[j].kind) {
			case HZ_T_RAISED:
				assert_false(raised[l]);
				raised[l] = 1;
				acked[l] = 0;
				break;
			case HZ_T_CLEARED:
				assert_true(raised[l]);
				if (lv[l].latch)
					assert_true(acked[l]);
				raised[l] = 0;
				break;
			case HZ_T_ACKED:
				assert_false(acked[l]);
				acked[l] = 1;
				break;
			}
		}
		for (unsigned l = 0; l < 3; l++) {
			/* the state agrees with the event history */
			int active = st[l].state == HZ_A_ACTIVE_UNACK ||
			    st[l].state == HZ_A_ACTIVE_ACK;

			assert_int_equal(active, raised[l]);
			if (st[l].state == HZ_A_ACTIVE_UNACK || st[l].state == HZ_A_RTN_UNACK)
				assert_false(acked[l]);
		}
	}
	assert_true(events > 1000);	/* the run did exercise the machine */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setpoint_deadband),
		cmocka_unit_test(test_two_levels_order),
		cmocka_unit_test(test_non_latched_ack_paths),
		cmocka_unit_test(test_latched),
		cmocka_unit_test(test_below),
		cmocka_unit_test(test_delays),
		cmocka_unit_test(test_suppressed),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_nan_ignored),
		cmocka_unit_test(test_highest_active),
		cmocka_unit_test(test_random_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
