/* The gas plugin as a pure decoder: plain arrays in, readings out. */
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

static struct hz_plugin *plugins;
static const struct hazmon_plugin *gas;

/* Configures one sensor from libconfig text; returns the error count. */
static int
configure(const char *text, struct hazmon_sensor_setup *su)
{
	config_t lc;
	struct hazmon_cfg *g;
	int errors = 0;

	config_init(&lc);
	assert_int_equal(config_read_string(&lc, text), CONFIG_TRUE);
	g = hostapi_wrap(config_root_setting(&lc), "inline", &errors);
	memset(su, 0, sizeof(*su));
	su->id = "t";
	if (gas->configure(&hz_host, g, su) != 0 && errors == 0)
		errors = -100;	/* rejected without a message: a bug */
	hostapi_check_unknown(g, NULL);
	hostapi_free(g);
	config_destroy(&lc);
	return errors;
}

static struct hazmon_reading
decode(const struct hazmon_sensor_setup *su, const uint16_t *w, uint16_t n)
{
	struct hazmon_slice s = { .regs = w, .count = n };
	struct hazmon_reading r = { .value = NAN };

	gas->decode(&hz_host, su->ctx, &s, &r);
	return r;
}

static void
test_float_cdab(void **state)
{
	struct hazmon_sensor_setup su;
	uint16_t w[] = { 0x0000, 0x4248 };	/* 50.0 in CDAB */
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(configure("register = { table = \"input\"; address = 7; "
	    "type = \"float32\"; order = \"CDAB\"; }; unit = \"ppm\";", &su), 0);
	assert_int_equal(su.n_needs, 1);
	assert_int_equal(su.needs[0].table, HAZMON_TABLE_INPUT);
	assert_int_equal(su.needs[0].address, 7);
	assert_int_equal(su.needs[0].count, 2);
	assert_string_equal(su.unit, "ppm");
	r = decode(&su, w, 2);
	assert_int_equal(r.quality, HAZMON_Q_OK);
	assert_float_equal(r.value, 50.0, 1e-9);
	free(su.ctx);
}

static void
test_scale_range(void **state)
{
	struct hazmon_sensor_setup su;
	uint16_t ok[] = { 555 }, over[] = { 1001 };
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(configure("register = { table = \"holding\"; address = 0; "
	    "scale = 0.1; }; range = 100.0;", &su), 0);
	assert_string_equal(su.unit, "%LEL");
	r = decode(&su, ok, 1);
	assert_int_equal(r.quality, HAZMON_Q_OK);
	assert_float_equal(r.value, 55.5, 1e-9);
	r = decode(&su, over, 1);
	assert_int_equal(r.quality, HAZMON_Q_FAULT);
	assert_true(r.flags & HAZMON_F_OVER_RANGE);
	free(su.ctx);
}

static void
test_nan_inf(void **state)
{
	struct hazmon_sensor_setup su;
	uint16_t nan_w[] = { 0x7FC0, 0x0000 }, inf_w[] = { 0x7F80, 0x0000 };
	struct hazmon_reading r;

	(void)state;
	assert_int_equal(configure("register = { table = \"holding\"; address = 0; "
	    "type = \"float32\"; };", &su), 0);
	r = decode(&su, nan_w, 2);
	assert_int_equal(r.quality, HAZMON_Q_FAULT);
	assert_true(r.flags & HAZMON_F_BAD_VALUE);
	assert_true(isnan(r.value));
	r = decode(&su, inf_w, 2);
	assert_int_equal(r.quality, HAZMON_Q_FAULT);
	assert_true(r.flags & HAZMON_F_BAD_VALUE);
	/* A short slice (the core never sends one, but never trust) is a fault. */
	r = decode(&su, inf_w, 1);
	assert_int_equal(r.quality, HAZMON_Q_FAULT);
	free(su.ctx);
}

static void
test_bad_settings(void **state)
{
	struct hazmon_sensor_setup su;

	(void)state;
	assert_int_equal(configure("unit = \"%LEL\";", &su), 1);	/* no register */
	assert_int_equal(configure("register = { table = \"coil\"; address = 0; };", &su), 1);
	assert_int_equal(configure("register = { table = \"holding\"; address = 0; }; "
	    "range = -5;", &su), 1);
	assert_int_equal(configure("register = { table = \"holding\"; address = 0; "
	    "colour = 1; };", &su), 1);	/* unknown key inside register */
	assert_int_equal(configure("register = { table = \"holding\"; address = 0; }; "
	    "unit = 5;", &su), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_float_cdab),
		cmocka_unit_test(test_scale_range),
		cmocka_unit_test(test_nan_inf),
		cmocka_unit_test(test_bad_settings),
	};
	char dir[4200], err[512];
	struct hz_plugin *p;

	log_init("test", HZ_LOG_ERR);
	snprintf(dir, sizeof(dir), "%s/plugins/.libs", getenv("top_builddir") ?
	    getenv("top_builddir") : ".");
	p = plugin_get(&plugins, dir, "gas", err, sizeof(err));
	if (p == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	gas = p->desc;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
