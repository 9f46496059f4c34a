/* The temperature plugin: raw sentinels, scale/offset, measuring range. */
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

struct temp_case {
	uint16_t raw;
	double value;			/* NAN: none */
	uint32_t flags;
};

static void
run(const struct hazmon_sensor_setup *su, const struct temp_case *c, size_t n)
{
	struct hazmon_reading r;

	for (size_t i = 0; i < n; i++) {
		r = pt_regs(su, &c[i].raw, 1);
		assert_int_equal(r.flags, c[i].flags);
		assert_int_equal(r.quality, c[i].flags ? HAZMON_Q_FAULT : HAZMON_Q_OK);
		if (isnan(c[i].value))
			assert_true(isnan(r.value));
		else
			assert_float_equal(r.value, c[i].value, 1e-9);
	}
}

/* int16 in 0.1 degC; the manual's 0x7FFF/0x8000 for open and shorted probes. */
static void
test_int16_sentinels(void **state)
{
	static const struct temp_case cases[] = {
		{ 250, 25.0, 0 }, { (uint16_t)-400, -40.0, 0 },
		{ 0x7FFF, NAN, HAZMON_F_BAD_VALUE }, { 0x8000, NAN, HAZMON_F_BAD_VALUE },
		{ 0x7FFE, 3276.6, HAZMON_F_OVER_RANGE },
		{ 1500, 150.0, 0 }, { 1501, 150.1, HAZMON_F_OVER_RANGE },
		{ (uint16_t)-401, -40.1, HAZMON_F_UNDER_RANGE },
	};
	struct hazmon_sensor_setup su;

	(void)state;
	assert_int_equal(pt_configure("register = { table = \"input\"; address = 5; "
	    "type = \"int16\"; scale = 0.1; }; open_circuit = 0x7FFF; "
	    "short_circuit = 0x8000; min = -40; max = 150;", &su), 0);
	assert_string_equal(su.unit, "degC");
	assert_int_equal(su.n_defaults, 0);
	assert_int_equal(su.needs[0].address, 5);
	run(&su, cases, sizeof(cases) / sizeof(cases[0]));
	pt_free(&su);
}

/* Sentinels are raw: 700 is the fault code even though it scales to 20 degC. */
static void
test_raw_before_scale(void **state)
{
	static const struct temp_case cases[] = {
		{ 701, 20.1, 0 }, { 700, NAN, HAZMON_F_BAD_VALUE },
		{ 0xFFFF, NAN, HAZMON_F_BAD_VALUE },	/* -1 in a uint16 */
		{ 0, -50.0, 0 },
	};
	struct hazmon_sensor_setup su;

	(void)state;
	assert_int_equal(pt_configure("register = { table = \"holding\"; address = 0; "
	    "scale = 0.1; offset = -50; }; open_circuit = 700; short_circuit = -1; "
	    "unit = \"degF\";", &su), 0);
	assert_string_equal(su.unit, "degF");
	run(&su, cases, sizeof(cases) / sizeof(cases[0]));
	pt_free(&su);
}

static void
test_float_cdab(void **state)
{
	struct hazmon_sensor_setup su;
	uint16_t ok[] = { 0x0000, 0x41C8 };		/* 25.0 in CDAB */
	uint16_t sentinel[] = { 0x3C00, 0xC61C };	/* -9999.0 in CDAB */
	uint16_t nan_w[] = { 0x0000, 0x7FC0 }, inf_w[] = { 0x0000, 0x7F80 };
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(pt_configure("register = { table = \"input\"; address = 0; "
	    "type = \"float32\"; order = \"CDAB\"; }; open_circuit = -9999.0;", &su), 0);
	r = pt_regs(&su, ok, 2);
	assert_int_equal(r.quality, HAZMON_Q_OK);
	assert_float_equal(r.value, 25.0, 0);
	assert_int_equal(pt_regs(&su, sentinel, 2).flags, HAZMON_F_BAD_VALUE);
	assert_int_equal(pt_regs(&su, nan_w, 2).flags, HAZMON_F_BAD_VALUE);
	assert_int_equal(pt_regs(&su, inf_w, 2).flags, HAZMON_F_BAD_VALUE);
	assert_int_equal(pt_regs(&su, ok, 1).flags, HAZMON_F_BAD_VALUE);	/* short */
	pt_free(&su);
	/* The same words as ABCD, as a wrong config would have it: not 25. */
	assert_int_equal(pt_configure("register = { table = \"input\"; address = 0; "
	    "type = \"float32\"; };", &su), 0);
	r = pt_regs(&su, ok, 2);
	assert_true(fabs(r.value - 25.0) > 1.0);
	pt_free(&su);
	/* A float32 sentinel is matched as the float the device sends. */
	assert_int_equal(pt_configure("register = { table = \"input\"; address = 0; "
	    "type = \"float32\"; }; short_circuit = 0.1;", &su), 0);
	ok[0] = 0x3DCC;
	ok[1] = 0xCCCD;		/* 0.1f */
	assert_int_equal(pt_regs(&su, ok, 2).flags, HAZMON_F_BAD_VALUE);
	pt_free(&su);
	/* A list of more sentinels, in the type's bit patterns, with the named. */
	assert_int_equal(pt_configure("register = { table = \"input\"; address = 0; "
	    "type = \"int16\"; scale = 0.1; }; open_circuit = 0x7FFF; "
	    "sentinels = [ 0x7FFE, 0x8001, -2 ];", &su), 0);
	for (size_t i = 0; i < 4; i++) {
		uint16_t w[1] = { (uint16_t[]){ 0x7FFF, 0x7FFE, 0x8001, 0xFFFE }[i] };

		assert_int_equal(pt_regs(&su, w, 1).flags, HAZMON_F_BAD_VALUE);
	}
	{
		uint16_t w[1] = { 250 };	/* 25.0: a value again */

		assert_int_equal(pt_regs(&su, w, 1).quality, HAZMON_Q_OK);
	}
	pt_free(&su);
}

static void
test_bad_settings(void **state)
{
	static const struct pt_bad bad[] = {
		{ "unit = \"degC\";", "temperature sensor needs 'register = {" },
		{ "register = { table = \"coil\"; address = 0; };",
		  "'register': a temperature reading cannot be a bit" },
		{ "register = { table = \"input\"; address = 0; type = \"int16\"; }; "
		  "open_circuit = 0x10000;",
		  "'open_circuit': 65536 is not a value the register's type can hold" },
		{ "register = { table = \"input\"; address = 0; }; short_circuit = 1.5;",
		  "'short_circuit': 1.5 is not a value" },
		{ "register = { table = \"input\"; address = 0; type = \"float32\"; }; "
		  "open_circuit = 1e39;", "'open_circuit': 1e+39 is not a value" },
		{ "register = { table = \"input\"; address = 0; }; min = 10; max = 10;",
		  "'max': must be above min (10)" },
		{ "register = { table = \"input\"; address = 0; }; min = \"cold\";",
		  "'min': must be a number" },
		{ "register = { table = \"input\"; address = 0; }; unit = \"\";",
		  "'unit': must be 1-23 characters" },
		{ "register = { table = \"input\"; address = 0; }; sentinel = 1;",
		  "unknown key 'sentinel'" },
		{ "register = { table = \"input\"; address = 0; }; sentinels = 1;",
		  "'sentinels': must be a list of numbers" },
		{ "register = { table = \"input\"; address = 0; }; "
		  "sentinels = [ 1, 2, 3, 4, 5, 6, 7, 8, 9 ];",
		  "'sentinels': 9 values; at most 8" },
		{ "register = { table = \"input\"; address = 0; }; sentinels = ( 1, \"x\" );",
		  "'sentinels': value 2 is not a finite number" },
		{ "register = { table = \"input\"; address = 0; }; sentinels = [ 70000 ];",
		  "'sentinels': 70000 is not a value the register's type can hold" },
	};
	(void)state;
	PT_REFUSE(bad);
}

/* No default levels: the core says the sensor reports values and faults only. */
static void
test_no_default_levels(void **state)
{
	struct hz_config *c;
	int errors;

	(void)state;
	c = pt_load("register = { table = \"input\"; address = 0; };", &errors);
	assert_non_null(c);
	assert_int_equal(c->sensors[0].n_levels, 0);
	pt_expect("has no alarm levels");
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int16_sentinels),
		cmocka_unit_test(test_raw_before_scale),
		cmocka_unit_test(test_float_cdab),
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_no_default_levels),
	};

	if (pt_init("temperature") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
