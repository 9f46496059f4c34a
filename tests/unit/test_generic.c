/* The generic plugin: any register or bit, every word order, NaN/Inf, range. */
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

#include "plugtest.h"

/* 0x12345678 as each order puts it on the wire; each config reads it back. */
static void
test_word_orders(void **state)
{
	static const struct { const char *order; uint16_t w[2]; } cases[] = {
		{ "ABCD", { 0x1234, 0x5678 } }, { "CDAB", { 0x5678, 0x1234 } },
		{ "BADC", { 0x3412, 0x7856 } }, { "DCBA", { 0x7856, 0x3412 } },
	};
	struct hazmon_sensor_setup su;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "register = { table = \"holding\"; "
		    "address = 100; type = \"uint32\"; order = \"%s\"; }; "
		    "unit = \"Nm3/h\";", cases[i].order);
		assert_int_equal(pt_configure(text, &su), 0);
		assert_string_equal(su.unit, "Nm3/h");
		assert_int_equal(su.needs[0].count, 2);
		assert_float_equal(pt_regs(&su, cases[i].w, 2).value, 305419896.0, 0);
		/* The ABCD words under this order: another number, as configured. */
		if (i > 0)
			assert_float_not_equal(pt_regs(&su, cases[0].w, 2).value,
			    305419896.0, 0);
		pt_free(&su);
	}
}

static void
test_bits(void **state)
{
	struct hazmon_sensor_setup su;
	uint8_t bits[] = { 0, 1 };
	struct hazmon_slice s = { .bits = bits, .count = 2 };
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(pt_configure("register = { table = \"coil\"; address = 7; };", &su), 0);
	assert_string_equal(su.unit, "");
	assert_int_equal(su.needs[0].table, HAZMON_TABLE_COIL);
	assert_int_equal(su.needs[0].count, 1);
	r = pt_decode(&su, &s);
	assert_int_equal(r.quality, HAZMON_Q_OK);
	assert_float_equal(r.value, 0.0, 0);
	s.bits = bits + 1;
	assert_float_equal(pt_decode(&su, &s).value, 1.0, 0);
	s.count = 0;
	assert_int_equal(pt_decode(&su, &s).flags, HAZMON_F_BAD_VALUE);
	s = (struct hazmon_slice){ .regs = (const uint16_t *)bits, .count = 1 };
	assert_int_equal(pt_decode(&su, &s).flags, HAZMON_F_BAD_VALUE);
	pt_free(&su);
}

static void
test_float64_faults(void **state)
{
	static const struct { uint16_t w[4]; uint32_t flags; double value; } cases[] = {
		{ { 0x4059, 0, 0, 0 }, 0, 1001.0 },			/* 100.0 */
		{ { 0x7FF8, 0, 0, 0 }, HAZMON_F_BAD_VALUE, NAN },
		{ { 0x7FF0, 0, 0, 0 }, HAZMON_F_BAD_VALUE, NAN },	/* +Inf */
		{ { 0xFFF0, 0, 0, 0 }, HAZMON_F_BAD_VALUE, NAN },	/* -Inf */
		{ { 0x7FEF, 0xFFFF, 0xFFFF, 0xFFFF }, HAZMON_F_BAD_VALUE, NAN }, /* x10 = Inf */
		{ { 0x40C3, 0x8800, 0, 0 }, HAZMON_F_OVER_RANGE, 100001.0 },	/* 10000.0 */
		{ { 0xC024, 0, 0, 0 }, HAZMON_F_UNDER_RANGE, -99.0 },		/* -10.0 */
	};
	struct hazmon_sensor_setup su;
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(pt_configure("register = { table = \"input\"; address = 0; "
	    "type = \"float64\"; scale = 10; offset = 1; }; min = 0; max = 1e5;", &su), 0);
	assert_int_equal(su.needs[0].count, 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = pt_regs(&su, cases[i].w, 4);
		assert_int_equal(r.flags, cases[i].flags);
		if (isnan(cases[i].value))
			assert_true(isnan(r.value));
		else
			assert_float_equal(r.value, cases[i].value, 1e-9);
	}
	assert_int_equal(pt_regs(&su, cases[0].w, 3).flags, HAZMON_F_BAD_VALUE);
	pt_free(&su);
}

static void
test_bad_settings(void **state)
{
	static const struct pt_bad bad[] = {
		{ "unit = \"A\";", "generic sensor needs 'register = {" },
		{ "register = { table = \"input\"; address = 0; }; min = 5; max = 1;",
		  "'max': must be above min (5)" },
		{ "register = { table = \"input\"; address = 0; type = \"int128\"; };",
		  "'type': unknown type \"int128\"" },
		{ "register = { table = \"input\"; address = 0; }; range = 10;",
		  "unknown key 'range'" },
	};
	(void)state;
	PT_REFUSE(bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_word_orders),
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_float64_faults),
		cmocka_unit_test(test_bad_settings),
	};

	if (pt_init("generic") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
