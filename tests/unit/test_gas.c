/* The gas plugin as a pure decoder: plain arrays in, readings out. */
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

#define REG_F32 "register = { table = \"holding\"; address = 0; type = \"float32\"; "

static void
test_float_word_order(void **state)
{
	struct hazmon_sensor_setup su;
	uint16_t w[] = { 0x0000, 0x4248 };	/* 50.0 in CDAB */
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(pt_configure("register = { table = \"input\"; address = 7; "
	    "type = \"float32\"; order = \"CDAB\"; }; unit = \"ppm\";", &su), 0);
	assert_int_equal(su.n_needs, 1);
	assert_int_equal(su.needs[0].table, HAZMON_TABLE_INPUT);
	assert_int_equal(su.needs[0].address, 7);
	assert_int_equal(su.needs[0].count, 2);
	assert_string_equal(su.unit, "ppm");
	assert_int_equal(su.n_defaults, 0);	/* no gas: no default levels */
	r = pt_regs(&su, w, 2);
	assert_int_equal(r.quality, HAZMON_Q_OK);
	assert_float_equal(r.value, 50.0, 1e-9);
	pt_free(&su);
	/* The same words read as the config says, ABCD: a tiny number, not 50. */
	assert_int_equal(pt_configure(REG_F32 "order = \"ABCD\"; };", &su), 0);
	r = pt_regs(&su, w, 2);
	assert_int_equal(r.quality, HAZMON_Q_OK);
	assert_true(fabs(r.value) < 1e-30);
	pt_free(&su);
}

static void
test_range_and_drift(void **state)
{
	static const struct { int16_t raw; uint32_t flags; } cases[] = {
		{ 555, 0 }, { 1000, 0 }, { 1001, HAZMON_F_OVER_RANGE },
		{ -99, 0 }, { -100, 0 }, { -101, HAZMON_F_UNDER_RANGE },
	};
	struct hazmon_sensor_setup su;
	struct hazmon_reading r;
	uint16_t w[1];

	(void)state;
	/* Full scale 100 %LEL: the drift limit defaults to -10 %LEL. */
	assert_int_equal(pt_configure("register = { table = \"holding\"; address = 0; "
	    "type = \"int16\"; scale = 0.1; }; range = 100.0;", &su), 0);
	assert_string_equal(su.unit, "%LEL");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		w[0] = (uint16_t)cases[i].raw;
		r = pt_regs(&su, w, 1);
		assert_int_equal(r.flags, cases[i].flags);
		assert_int_equal(r.quality, cases[i].flags ? HAZMON_Q_FAULT : HAZMON_Q_OK);
		assert_float_equal(r.value, cases[i].raw * 0.1, 1e-9);	/* kept */
	}
	pt_free(&su);
	assert_int_equal(pt_configure("register = { table = \"holding\"; address = 0; "
	    "type = \"int16\"; }; drift_limit = -2;", &su), 0);
	w[0] = (uint16_t)-3;
	assert_true(pt_regs(&su, w, 1).flags & HAZMON_F_UNDER_RANGE);
	w[0] = 30000;		/* no range: no over-range check */
	assert_int_equal(pt_regs(&su, w, 1).quality, HAZMON_Q_OK);
	pt_free(&su);
}

static void
test_nan_inf(void **state)
{
	struct hazmon_sensor_setup su;
	uint16_t nan_w[] = { 0x7FC0, 0x0000 }, inf_w[] = { 0xFF80, 0x0000 };
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(pt_configure(REG_F32 "}; range = 100.0;", &su), 0);
	r = pt_regs(&su, nan_w, 2);
	assert_int_equal(r.quality, HAZMON_Q_FAULT);
	assert_int_equal(r.flags, HAZMON_F_BAD_VALUE);
	r = pt_regs(&su, inf_w, 2);	/* -Inf: not an under-range value */
	assert_int_equal(r.quality, HAZMON_Q_FAULT);
	assert_int_equal(r.flags, HAZMON_F_BAD_VALUE);
	/* A short slice (the core never sends one, but never trust) is a fault. */
	r = pt_regs(&su, inf_w, 1);
	assert_int_equal(r.flags, HAZMON_F_BAD_VALUE);
	pt_free(&su);
}

static void
test_decimals(void **state)
{
	static const struct { uint16_t dp; double value; uint32_t flags; } cases[] = {
		{ 0, 1234, 0 }, { 1, 123.4, 0 }, { 2, 12.34, 0 }, { 6, 0.001234, 0 },
		{ 7, NAN, HAZMON_F_BAD_VALUE }, { 0xFFFF, NAN, HAZMON_F_BAD_VALUE },
	};
	struct hazmon_sensor_setup su;
	uint16_t conc[] = { 1234 }, dp[1];
	struct hazmon_slice sl[2] = { { .regs = conc, .count = 1 },
	    { .regs = dp, .count = 1 } };
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(pt_configure("register = { table = \"input\"; address = 0; }; "
	    "decimals = { table = \"input\"; address = 9; type = \"int16\"; };", &su), 0);
	assert_int_equal(su.n_needs, 2);
	assert_int_equal(su.needs[1].address, 9);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dp[0] = cases[i].dp;	/* 0xFFFF is -1 in an int16 */
		r = pt_decode(&su, sl);
		assert_int_equal(r.flags, cases[i].flags);
		if (!cases[i].flags)
			assert_float_equal(r.value, cases[i].value, 1e-9);
	}
	sl[1].count = 0;	/* the decimal-point register is missing */
	assert_int_equal(pt_decode(&su, sl).flags, HAZMON_F_BAD_VALUE);
	pt_free(&su);
}

static void
test_status_bits(void **state)
{
	static const struct { uint16_t word; enum hazmon_quality q; uint32_t flags; } cases[] = {
		{ 0x0000, HAZMON_Q_OK, 0 },
		{ 0x0010, HAZMON_Q_OK, 0 },	/* a bit no mask names */
		{ 0x0001, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT },
		{ 0x0002, HAZMON_Q_OK, HAZMON_F_DEVICE_ALARM },
		{ 0x0004, HAZMON_Q_OUT_OF_SERVICE, HAZMON_F_WARMUP },
		{ 0x0008, HAZMON_Q_OUT_OF_SERVICE, HAZMON_F_CALIBRATION },
		{ 0x0003, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT | HAZMON_F_DEVICE_ALARM },
		{ 0x0005, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT | HAZMON_F_WARMUP },
		{ 0x8000, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT },	/* int16 sign bit */
	};
	struct hazmon_sensor_setup su;
	uint16_t conc[] = { 0, 0x41A0 }, st[1];	/* 20.0 in CDAB */
	struct hazmon_slice sl[2] = { { .regs = conc, .count = 2 },
	    { .regs = st, .count = 1 } };
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(pt_configure(REG_F32 "order = \"CDAB\"; }; "
	    "status = { table = \"holding\"; address = 2; type = \"int16\"; "
	    "fault_mask = 0x8001; alarm_mask = 0x0002; warmup_mask = 0x0004; "
	    "calibration_mask = 0x0008; };", &su), 0);
	assert_int_equal(su.n_needs, 2);
	assert_int_equal(su.needs[1].address, 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st[0] = cases[i].word;
		r = pt_decode(&su, sl);
		assert_int_equal(r.quality, cases[i].q);
		assert_int_equal(r.flags, cases[i].flags);
		assert_float_equal(r.value, 20.0, 1e-9);	/* the device's value is kept */
	}
	sl[1].regs = NULL;	/* status not read: no trust in anything */
	assert_true(pt_decode(&su, sl).flags & HAZMON_F_BAD_VALUE);
	pt_free(&su);
}

static void
test_status_config(void **state)
{
	static const struct pt_bad bad[] = {
		{ REG_F32 "}; fault_mask = 1;",
		  "'fault_mask': goes inside the status group: status = {" },
		{ REG_F32 "}; status = { table = \"holding\"; address = 2; }; "
		  "alarm_mask = 1;",
		  "'alarm_mask': goes inside the status group" },
		{ REG_F32 "}; status = { table = \"holding\"; address = 2; };",
		  "'status': set at least one of fault_mask" },
		{ REG_F32 "}; status = { table = \"holding\"; address = 2; "
		  "alarm_mask = 0x10000; };",
		  "'alarm_mask': 65536 does not fit the 16-bit 'status' register" },
		{ REG_F32 "}; status = { table = \"coil\"; address = 2; alarm_mask = 1; };",
		  "'status': must be a register of type int16" },
		{ REG_F32 "}; status = { table = \"holding\"; address = 2; "
		  "type = \"float32\"; alarm_mask = 1; };",
		  "'status': must be a register of type int16" },
		{ REG_F32 "}; status = { table = \"holding\"; address = 2; "
		  "fault_mask = 1; faul_mask = 2; };",
		  "unknown key 'faul_mask'" },
		{ REG_F32 "}; status = 5;",
		  "'status': must be a group" },
		{ REG_F32 "}; decimals = { table = \"input\"; address = 9; scale = 0.1; };",
		  "'decimals': holds a code: scale and offset do not apply" },
		{ REG_F32 "}; decimals = { table = \"input\"; address = 9; "
		  "type = \"float32\"; };",
		  "'decimals': must be a register of type int16, uint16, int32 or uint32" },
	};
	struct hazmon_sensor_setup su;

	(void)state;
	PT_REFUSE(bad);
	/* A 32-bit status word takes 32-bit masks. */
	assert_int_equal(pt_configure(REG_F32 "}; "
	    "status = { table = \"holding\"; address = 2; type = \"uint32\"; "
	    "alarm_mask = 0x10000; };", &su), 0);
	assert_int_equal(su.needs[1].count, 2);
	pt_free(&su);
}

/* 4-20 mA over 0..100 %LEL, in uA; NAMUR NE43 failure bands are faults. */
static void
test_current_loop(void **state)
{
	static const struct { uint16_t ua; double value; uint32_t flags; } cases[] = {
		{ 4000, 0, 0 }, { 12000, 50, 0 }, { 20000, 100, 0 },
		{ 3600, -2.5, 0 },		/* NE43 under-range signal: a value */
		{ 3599, NAN, HAZMON_F_DEVICE_FAULT }, { 0, NAN, HAZMON_F_DEVICE_FAULT },
		{ 20500, 103.125, HAZMON_F_OVER_RANGE },
		{ 21000, 106.25, HAZMON_F_OVER_RANGE },
		{ 21001, NAN, HAZMON_F_DEVICE_FAULT },
	};
	struct hazmon_sensor_setup su;
	struct hazmon_reading r;
	uint16_t w[2];

	(void)state;
	assert_int_equal(pt_configure("current = { table = \"input\"; address = 4; }; "
	    "current_unit = \"uA\"; range = 100; gas = \"CH4\";", &su), 0);
	assert_int_equal(su.needs[0].address, 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		w[0] = cases[i].ua;
		r = pt_regs(&su, w, 1);
		assert_int_equal(r.flags, cases[i].flags);
		if (!isnan(cases[i].value))
			assert_float_equal(r.value, cases[i].value, 1e-9);
		else
			assert_true(isnan(r.value));
	}
	pt_free(&su);
	/* mA as a float: 12 mA is half of full scale 25 %VOL. */
	assert_int_equal(pt_configure("current = { table = \"input\"; address = 0; "
	    "type = \"float32\"; }; current_unit = \"mA\"; range = 25; gas = \"O2\";", &su), 0);
	w[0] = 0x4140;
	w[1] = 0x0000;
	assert_float_equal(pt_regs(&su, w, 2).value, 12.5, 1e-9);
	pt_free(&su);
}

static void
test_current_config(void **state)
{
	static const struct pt_bad bad[] = {
		{ "current = { table = \"input\"; address = 0; }; range = 100;",
		  "'current': the loop current needs 'current_unit = \"mA\";' or \"uA\"" },
		{ "current = { table = \"input\"; address = 0; }; current_unit = \"A\"; range = 1;",
		  "'current_unit': the loop current needs" },
		{ "current = { table = \"input\"; address = 0; }; current_unit = \"mA\";",
		  "'current': a 4-20 mA input needs 'range'" },
		{ "current = { table = \"input\"; address = 0; }; "
		  "register = { table = \"input\"; address = 1; };",
		  "'current': 'register' and 'current' exclude each other" },
		{ "register = { table = \"input\"; address = 0; }; current_unit = \"mA\";",
		  "'current_unit': applies to 'current', which is not set" },
		{ "current = { table = \"input\"; address = 0; }; current_unit = \"mA\"; "
		  "range = 100; decimals = { table = \"input\"; address = 1; };",
		  "'decimals': applies to 'register', not to 'current'" },
	};
	(void)state;
	PT_REFUSE(bad);
}

/* Defaults per class; toxic limits in mg/m3 become ppm at 24.45 l/mol. */
static void
test_default_levels(void **state)
{
	static const struct { const char *gas, *unit; double first; } toxic[] = {
		{ "H2S", "ppm", 7.1743 }, { "h2s", "mg/m3", 10 }, { "CO", "ppm", 17.4581 },
		{ "NH3", "ppm", 28.7140 }, { "Cl2", "ppm", 0.34485 },
		{ "HCN", "ppm", 0.90455 }, { "SO2", "ppm", 1.90807 },
		{ "benzene", "ppm", 1.87812 }, { "C6H6", "mg/m3", 6 },
	};
	struct hazmon_sensor_setup su;
	char text[256];

	(void)state;
	assert_int_equal(pt_configure(REG_F32 "}; gas = \"methane\";", &su), 0);
	assert_string_equal(su.unit, "%LEL");
	assert_int_equal(su.n_defaults, 2);
	assert_string_equal(su.defaults[0].name, "first");
	assert_int_equal(su.defaults[0].dir, HAZMON_ABOVE);
	assert_float_equal(su.defaults[0].setpoint, 20, 0);
	assert_float_equal(su.defaults[0].deadband, 2, 0);
	assert_string_equal(su.defaults[0].priority, "high");
	assert_int_equal(su.defaults[0].latch, 0);
	assert_string_equal(su.defaults[1].name, "second");
	assert_float_equal(su.defaults[1].setpoint, 50, 0);
	assert_string_equal(su.defaults[1].priority, "urgent");
	assert_int_equal(su.defaults[1].latch, 1);
	pt_free(&su);
	for (size_t i = 0; i < sizeof(toxic) / sizeof(toxic[0]); i++) {
		snprintf(text, sizeof(text), REG_F32 "}; gas = \"%s\"; unit = \"%s\";",
		    toxic[i].gas, toxic[i].unit);
		assert_int_equal(pt_configure(text, &su), 0);
		assert_int_equal(su.n_defaults, 2);
		assert_float_equal(su.defaults[0].setpoint, toxic[i].first, 1e-4);
		assert_float_equal(su.defaults[1].setpoint, 2 * toxic[i].first, 2e-4);
		assert_float_equal(su.defaults[0].deadband, 0.05 * toxic[i].first, 1e-4);
		assert_int_equal(su.defaults[1].latch, 1);
		pt_free(&su);
	}
	assert_int_equal(pt_configure(REG_F32 "}; gas = \"H2S\";", &su), 0);
	assert_string_equal(su.unit, "ppm");	/* the toxic default */
	pt_free(&su);
	assert_int_equal(pt_configure(REG_F32 "}; gas = \"O2\";", &su), 0);
	assert_string_equal(su.unit, "%VOL");
	assert_string_equal(su.defaults[0].name, "low");
	assert_int_equal(su.defaults[0].dir, HAZMON_BELOW);
	assert_float_equal(su.defaults[0].setpoint, 19.5, 0);
	assert_string_equal(su.defaults[1].name, "high");
	assert_float_equal(su.defaults[1].setpoint, 23.5, 0);
	pt_free(&su);
}

static void
test_gas_errors(void **state)
{
	static const struct pt_bad bad[] = {
		{ REG_F32 "}; gas = \"H2S\"; unit = \"%LEL\";",
		  "'unit': H2S reads in ppm or mg/m3, the unit of its default levels" },
		{ REG_F32 "}; gas = \"CH4\"; unit = \"ppm\";", "'unit': CH4 reads in %LEL" },
		{ "unit = \"%LEL\";", "gas sensor needs 'register" },
		{ "register = { table = \"coil\"; address = 0; };",
		  "'register': a gas reading cannot be a bit" },
		{ REG_F32 "}; range = -5;", "'range': full scale must be above 0" },
		{ REG_F32 "}; drift_limit = 1;", "'drift_limit': must be 0 or below" },
		{ REG_F32 "colour = 1; };", "unknown key 'colour'" },
		{ REG_F32 "}; unit = 5;", "'unit': must be a string" },
		{ REG_F32 "}; unit = \"\";", "'unit': must be 1-23 characters" },
	};
	struct hazmon_sensor_setup su;

	(void)state;
	PT_REFUSE(bad);
	/* Every error of a sensor is reported, not just the first. */
	pt_config_levels = 0;
	assert_int_equal(pt_configure(REG_F32 "}; gas = \"XYZ\"; range = 0; "
	    "fault_mask = 1;", &su), 3);
	pt_config_levels = 1;
}

/* Without configured levels the gas must bring its defaults. */
static void
test_gas_needs_levels(void **state)
{
	static const struct pt_bad bad[] = {
		{ REG_F32 "}; gas = \"XYZ\";",
		  "inline:1: 'gas': unknown gas \"XYZ\" (known: CH4 C3H8" },
		{ REG_F32 "}; unit = \"%LEL\";",
		  "gas sensor needs 'gas' (for the default levels of GB/T 50493) or 'levels'" },
	};
	static const struct pt_bad unknown[] = {
		{ REG_F32 "}; gas = \"methane2\"; unit = \"%LEL\";",
		  "'gas': unknown gas \"methane2\" (known: CH4 C3H8 C4H10 H2 C2H2 "
		  "C2H4 C2H6 LEL H2S CO NH3 Cl2 HCN SO2 C6H6 O2; for another gas "
		  "leave out 'gas' and set 'unit' and 'levels')" },
		{ REG_F32 "}; gas = \"XYZ\"; unit = \"ppm\";", "unknown gas \"XYZ\"" },
	};
	struct hazmon_sensor_setup su;

	(void)state;
	pt_config_levels = 0;
	PT_REFUSE(bad);
	assert_int_equal(pt_configure(REG_F32 "}; gas = \"CH4\";", &su), 0);
	assert_int_equal(su.n_defaults, 2);
	pt_free(&su);
	pt_config_levels = 1;
	/*
	 * With levels too: a misspelt gas must not silently drop the checks
	 * of the standard.
	 */
	PT_REFUSE(unknown);
	assert_int_equal(pt_configure(REG_F32 "}; unit = \"ppm\";", &su), 0);
	assert_int_equal(su.n_defaults, 0);	/* no gas: the config's levels */
	pt_free(&su);
}

/* Through the core: defaults apply without levels, configured ones are checked. */
static void
test_levels_in_config(void **state)
{
	struct hz_config *c;
	int errors;

	(void)state;
	c = pt_load(REG_F32 "}; gas = \"H2S\";", &errors);
	assert_non_null(c);
	assert_int_equal(c->sensors[0].n_levels, 2);
	assert_int_equal(c->sensors[0].levels[0].line, 0);	/* a default */
	assert_float_equal(c->sensors[0].levels[0].setpoint, 7.1743, 1e-4);
	assert_null(strstr(pt_log, "no alarm levels"));
	config_free(c);

	/* Above GB/T 50493-2019: an error at the level's line, each of them. */
	c = pt_load(REG_F32 "}; gas = \"CH4\";\n"
	    "levels = ( { name = \"first\"; above = 30; },\n"
	    "  { name = \"second\"; above = 50; },\n"
	    "  { name = \"high\"; above = 60; } );", &errors);
	assert_null(c);
	assert_int_equal(errors, 2);
	pt_expect(":6: level \"first\" at 30 %LEL is above the 25 %LEL that "
	    "GB/T 50493-2019 allows for a first level; to keep it, give the level "
	    "standard_override = \"the reason\";");
	pt_expect(":8: level \"high\" at 60 %LEL is above the 50 %LEL that "
	    "GB/T 50493-2019 allows for any level");
	assert_null(strstr(pt_log, "\"second\""));

	/* %LEL is combustible even without 'gas'; toxic limits are in its unit. */
	c = pt_load(REG_F32 "};\nlevels = ( { name = \"first\"; above = 26; } );", &errors);
	assert_null(c);
	pt_expect(":6: level \"first\" at 26 %LEL is above the 25 %LEL");
	c = pt_load(REG_F32 "}; gas = \"H2S\";\n"
	    "levels = ( { name = \"first\"; above = 8; } );", &errors);
	assert_null(c);
	pt_expect("at 8 ppm is above the 7.1743 ppm");
	c = pt_load(REG_F32 "}; gas = \"CH4\";\n"
	    "levels = ( { name = \"first\"; above = 25; }, { name = \"second\"; above = 50; } );",
	    &errors);
	assert_non_null(c);
	assert_null(strstr(pt_log, "GB/T"));
	config_free(c);
	c = pt_load(REG_F32 "}; unit = \"ppm\";\n"	/* no gas, no limit */
	    "levels = ( { name = \"first\"; above = 500; } );", &errors);
	assert_non_null(c);
	config_free(c);
}

/*
 * Oxygen: the first deficiency alarm at 19.5 %VOL or above, the first
 * enrichment alarm at 23.5 or below; a second stage may go further.
 */
static void
test_levels_oxygen(void **state)
{
	struct hz_config *c;
	int errors;

	(void)state;
	c = pt_load(REG_F32 "}; gas = \"O2\";\n"
	    "levels = ( { name = \"low\"; below = 18; },\n"
	    "  { name = \"high\"; above = 25; } );", &errors);
	assert_null(c);
	assert_int_equal(errors, 2);
	pt_expect(":6: level \"low\" at 18 %VOL is the first oxygen deficiency "
	    "alarm, below the 19.5 %VOL of GB/T 50493-2019");
	pt_expect(":7: level \"high\" at 25 %VOL is the first oxygen enrichment "
	    "alarm, above the 23.5 %VOL of GB/T 50493-2019");
	c = pt_load(REG_F32 "}; gas = \"O2\";\n"
	    "levels = ( { name = \"low\"; below = 19.5; },\n"
	    "  { name = \"low-low\"; below = 18; }, { name = \"high\"; above = 23.5; },\n"
	    "  { name = \"high-high\"; above = 25; } );", &errors);
	assert_non_null(c);
	assert_null(strstr(pt_log, "GB/T"));
	config_free(c);
}

/* standard_override = "reason" keeps a level above the standard, said aloud. */
static void
test_standard_override(void **state)
{
	static const char ch4[] = REG_F32 "}; gas = \"CH4\";\n";
	struct hz_config *c;
	char text[1024];
	int errors;

	(void)state;
	log_set_level(HZ_LOG_NOTICE);		/* the override is a notice */
	snprintf(text, sizeof(text), "%slevels = ( { name = \"first\"; above = 30; "
	    "standard_override = \"inerted tank, MOC-2026-031\"; },\n"
	    "  { name = \"second\"; above = 50; } );", ch4);
	c = pt_load(text, &errors);
	assert_non_null(c);
	assert_int_equal(errors, 0);
	assert_string_equal(c->sensors[0].levels[0].standard_override,
	    "inerted tank, MOC-2026-031");
	assert_null(c->sensors[0].levels[1].standard_override);
	pt_expect("notice: ");
	pt_expect(":6: level \"first\" at 30 %LEL is above the 25 %LEL that "
	    "GB/T 50493-2019 allows for a first level; kept by its "
	    "standard_override: inerted tank, MOC-2026-031");
	config_free(c);

	/* An override needs a reason. */
	snprintf(text, sizeof(text), "%slevels = ( { name = \"first\"; above = 30; "
	    "standard_override = \" \"; } );", ch4);
	assert_null(pt_load(text, &errors));
	pt_expect(":6: 'standard_override': needs a reason");
	assert_int_equal(errors, 2);	/* and then the level is above, unkept */
	snprintf(text, sizeof(text), "%slevels = ( { name = \"first\"; above = 30; "
	    "standard_override = \"a\\nb\"; } );", ch4);
	assert_null(pt_load(text, &errors));
	pt_expect("'standard_override': must be one line");
	snprintf(text, sizeof(text), "%slevels = ( { name = \"first\"; above = 30; "
	    "standard_override = true; } );", ch4);
	assert_null(pt_load(text, &errors));
	pt_expect("'standard_override': must be a string");

	/* An override where nothing departs is stale: a warning. */
	snprintf(text, sizeof(text), "%slevels = ( { name = \"first\"; above = 20; "
	    "standard_override = \"old\"; } );", ch4);
	c = pt_load(text, &errors);
	assert_non_null(c);
	pt_expect("warning: ");
	pt_expect("level \"first\" (line 6) has a standard_override but departs "
	    "from no standard plugin \"gas\" checks; remove it");
	config_free(c);
	log_set_level(HZ_LOG_WARNING);
}

/* What -t -v shows of a gas sensor: the plugin's own account (ABI 1.2). */
static void
test_describe(void **state)
{
	struct hazmon_sensor_setup su;
	char buf[1024];

	(void)state;
	assert_int_equal(pt_configure("gas = \"H2S\"; range = 50; "
	    "register = { table = \"input\"; address = 10; type = \"int32\"; "
	    "order = \"CDAB\"; scale = 0.01; }; status = { table = \"input\"; "
	    "address = 12; fault_mask = 0x0004; warmup_mask = 0x10; };", &su), 0);
	assert_non_null(pt->describe);
	pt->describe(&hz_host, su.ctx, buf, sizeof(buf));
	assert_string_equal(buf,
	    "gas H2S unit ppm standard: first <= 7.1743, any <= 14.3486 ppm\n"
	    "register input 10 int32 CDAB scale 0.01 offset 0\n"
	    "range 50 drift_limit -5\n"
	    "status input 12 uint16 ABCD scale 1 offset 0\n"
	    "status fault_mask 0x0004\n"
	    "status warmup_mask 0x0010\n");
	pt->describe(&hz_host, su.ctx, buf, 20);	/* cut, never overrun */
	assert_int_equal(strlen(buf), 19);
	pt_free(&su);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_float_word_order),
		cmocka_unit_test(test_range_and_drift),
		cmocka_unit_test(test_nan_inf),
		cmocka_unit_test(test_decimals),
		cmocka_unit_test(test_status_bits),
		cmocka_unit_test(test_status_config),
		cmocka_unit_test(test_current_loop),
		cmocka_unit_test(test_current_config),
		cmocka_unit_test(test_default_levels),
		cmocka_unit_test(test_gas_errors),
		cmocka_unit_test(test_gas_needs_levels),
		cmocka_unit_test(test_levels_in_config),
		cmocka_unit_test(test_levels_oxygen),
		cmocka_unit_test(test_standard_override),
		cmocka_unit_test(test_describe),
	};

	if (pt_init("gas") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
