/* The smoke plugin: alarm / fault / normal from bits or a status register. */
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

struct smoke_case {
	uint16_t in, fault;		/* bit or word; fault input bit */
	double value;
	enum hazmon_quality q;
	uint32_t flags;
};

#define ALARM HAZMON_F_DEVICE_ALARM
#define FAULT HAZMON_F_DEVICE_FAULT

static void
test_bits(void **state)
{
	static const struct smoke_case cases[] = {
		{ 0, 0, 0.0, HAZMON_Q_OK, 0 },
		{ 1, 0, 1.0, HAZMON_Q_OK, ALARM },
		{ 0, 1, 0.0, HAZMON_Q_FAULT, FAULT },
		{ 1, 1, 1.0, HAZMON_Q_FAULT, ALARM | FAULT },	/* the core decides */
	};
	struct hazmon_sensor_setup su;
	uint8_t in[3], fault[1];
	struct hazmon_slice sl[2] = { { .bits = in, .count = 1 },
	    { .bits = fault, .count = 1 } };
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(pt_configure("input = { table = \"discrete\"; address = 12; }; "
	    "fault_input = { table = \"coil\"; address = 3; };", &su), 0);
	assert_int_equal(su.n_needs, 2);
	assert_int_equal(su.needs[0].table, HAZMON_TABLE_DISCRETE);
	assert_int_equal(su.needs[0].address, 12);
	assert_int_equal(su.needs[0].count, 1);
	assert_int_equal(su.needs[1].table, HAZMON_TABLE_COIL);
	assert_string_equal(su.unit, "");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in[0] = (uint8_t)cases[i].in;
		fault[0] = (uint8_t)cases[i].fault;
		r = pt_decode(&su, sl);
		assert_float_equal(r.value, cases[i].value, 0);
		assert_int_equal(r.quality, cases[i].q);
		assert_int_equal(r.flags, cases[i].flags);
	}
	/* Never read what is not there: an empty slice, or words for bits. */
	sl[0].count = 0;
	assert_int_equal(pt_decode(&su, sl).flags, HAZMON_F_BAD_VALUE);
	sl[0] = (struct hazmon_slice){ .regs = (const uint16_t *)in, .count = 1 };
	assert_int_equal(pt_decode(&su, sl).flags, HAZMON_F_BAD_VALUE);
	sl[0] = (struct hazmon_slice){ .bits = in, .count = 1 };
	in[0] = 1;
	sl[1].count = 0;	/* the fault bit is missing: no state at all */
	r = pt_decode(&su, sl);
	assert_int_equal(r.quality, HAZMON_Q_FAULT);
	assert_int_equal(r.flags, HAZMON_F_BAD_VALUE);
	pt_free(&su);
}

static void
test_status_register(void **state)
{
	static const struct smoke_case cases[] = {
		{ 0x0000, 0, 0.0, HAZMON_Q_OK, 0 },
		{ 0x0008, 0, 0.0, HAZMON_Q_OK, 0 },	/* an unnamed bit */
		{ 0x0001, 0, 1.0, HAZMON_Q_OK, ALARM },
		{ 0x0002, 0, 0.0, HAZMON_Q_FAULT, FAULT },
		{ 0x0004, 0, 0.0, HAZMON_Q_FAULT, FAULT },
		{ 0x0003, 0, 1.0, HAZMON_Q_FAULT, ALARM | FAULT },
	};
	struct hazmon_sensor_setup su;
	struct hazmon_reading r;
	uint16_t w[1];

	(void)state;
	assert_int_equal(pt_configure("input = { table = \"input\"; address = 30; "
	    "alarm_mask = 0x0001; fault_mask = 0x0006; };", &su), 0);
	assert_int_equal(su.needs[0].table, HAZMON_TABLE_INPUT);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		w[0] = cases[i].in;
		r = pt_regs(&su, w, 1);
		assert_float_equal(r.value, cases[i].value, 0);
		assert_int_equal(r.quality, cases[i].q);
		assert_int_equal(r.flags, cases[i].flags);
	}
	assert_int_equal(pt_regs(&su, w, 0).flags, HAZMON_F_BAD_VALUE);
	pt_free(&su);
}

static void
test_bad_settings(void **state)
{
	static const struct pt_bad bad[] = {
		{ "fault_input = { table = \"coil\"; address = 1; };",
		  "smoke sensor needs 'input = {" },
		{ "input = { table = \"holding\"; address = 0; };",
		  "'input': a status register needs 'alarm_mask'" },
		{ "input = { table = \"holding\"; address = 0; fault_mask = 2; };",
		  "'input': a status register needs 'alarm_mask'" },
		{ "input = { table = \"coil\"; address = 0; alarm_mask = 1; };",
		  "'alarm_mask': needs 'input' to be a register" },
		{ "input = { table = \"holding\"; address = 0; type = \"float32\"; "
		  "alarm_mask = 1; };", "'input': must be a register of type int16" },
		{ "input = { table = \"holding\"; address = 0; }; alarm_mask = 1;",
		  "'alarm_mask': goes inside the input group" },
		{ "input = { table = \"coil\"; address = 0; }; "
		  "fault_input = { table = \"holding\"; address = 1; };",
		  "'fault_input': must be a coil or discrete input" },
		{ "input = { table = \"coil\"; address = 0; }; unit = \"\";",
		  "unknown key 'unit'" },
	};
	(void)state;
	PT_REFUSE(bad);
}

/* "fire": urgent and latching, raised by the value 1; configured levels win. */
static void
test_fire_level(void **state)
{
	struct hazmon_sensor_setup su;
	struct hz_config *c;
	int errors;

	(void)state;
	assert_int_equal(pt_configure("input = { table = \"coil\"; address = 0; };", &su), 0);
	assert_int_equal(su.n_defaults, 1);
	assert_string_equal(su.defaults[0].name, "fire");
	assert_int_equal(su.defaults[0].dir, HAZMON_ABOVE);
	assert_float_equal(su.defaults[0].setpoint, 1.0, 0);
	assert_float_equal(su.defaults[0].deadband, 0.0, 0);
	assert_string_equal(su.defaults[0].priority, "urgent");
	assert_int_equal(su.defaults[0].latch, 1);
	pt_free(&su);
	c = pt_load("input = { table = \"coil\"; address = 0; };", &errors);
	assert_non_null(c);
	assert_int_equal(c->sensors[0].n_levels, 1);
	assert_string_equal(c->sensors[0].levels[0].name, "fire");
	config_free(c);
	c = pt_load("input = { table = \"coil\"; address = 0; };\n"
	    "levels = ( { name = \"smoke\"; above = 1; priority = \"high\"; } );", &errors);
	assert_non_null(c);
	assert_int_equal(c->sensors[0].n_levels, 1);
	assert_string_equal(c->sensors[0].levels[0].name, "smoke");
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_status_register),
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_fire_level),
	};

	if (pt_init("smoke") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
