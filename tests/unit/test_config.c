/*
 * Config validation (daemon/config/: config.c, hostapi.c, plugin.c): a good file
 * loads with its defaults; each bad file yields its specific file:line
 * messages, all of them in one pass.
 */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hazmond.h"

static char plugin_dir[4096], data_dir[4096];
static char out[65536];

static void
path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", data_dir, name);
}

/* Loads a fixture, with the plugins of dir, stderr captured into `out`. */
static struct hz_config *
load_in(const char *name, const char *dir, int *errors)
{
	char path[4200], tmp[] = "/tmp/hztest-XXXXXX";
	int fd = mkstemp(tmp), saved = dup(2);
	struct hz_config *c;
	ssize_t n;

	assert_true(fd >= 0);
	path_of(path, sizeof(path), name);
	dup2(fd, 2);
	c = config_load(path, dir, errors);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(tmp);
	return c;
}

static struct hz_config *
load(const char *name, int *errors)
{
	return load_in(name, plugin_dir, errors);
}

static void
expect(const char *file, int line, const char *text)
{
	char want[8192];

	if (line)
		snprintf(want, sizeof(want), "%s/%s:%d: ", data_dir, file, line);
	else
		snprintf(want, sizeof(want), "%s/%s: ", data_dir, file);
	strncat(want, text, sizeof(want) - strlen(want) - 1);
	if (strstr(out, want) == NULL) {
		print_error("missing \"%s\" in:\n%s\n", want, out);
		fail();
	}
}

static void
test_good(void **state)
{
	int errors = -1;
	struct hz_config *c = load("good.conf", &errors);

	(void)state;
	assert_non_null(c);
	assert_int_equal(errors, 0);
	assert_string_equal(c->site_id, "test-site");
	assert_int_equal(c->n_sensors, 2);
	assert_int_equal(c->n_dests, 1);
	assert_string_equal(c->dests[0].prefix, "hazmon/test-site");
	assert_int_equal(c->dests[0].qos, 1);
	assert_int_equal(c->buses[0].fault_after, 3);
	assert_string_equal(c->sensors[0].setup.unit, "%LEL");
	assert_int_equal(c->sensors[0].setup.needs[0].count, 2);
	assert_int_equal(c->sensors[0].n_levels, 2);
	assert_float_equal(c->sensors[0].levels[1].setpoint, 50.0, 0);
	assert_float_equal(c->sensors[0].levels[1].off_delay, 5.0, 0);
	assert_float_equal(c->sensors[0].interval, 0.5, 0);
	assert_int_equal(c->sensors[1].levels[0].dir, HAZMON_BELOW);
	assert_float_equal(c->sensors[1].interval, 1.0, 0);
	assert_string_equal(c->sensors[1].levels[0].priority, "high");
	assert_int_equal(c->sensors[1].setup.needs[0].table, HAZMON_TABLE_INPUT);
	assert_int_equal(c->sensors[1].setup.needs[0].address, 3);
	config_free(c);
}

static void
test_syntax(void **state)
{
	int errors = 0;

	(void)state;
	assert_null(load("bad-syntax.conf", &errors));
	assert_int_equal(errors, 1);
	expect("bad-syntax.conf", 3, "syntax error");
	assert_null(strstr(out, "needs"));	/* nothing checked after a parse error */
}

static void
test_unknown_key(void **state)
{
	int errors = 0;

	(void)state;
	assert_null(load("bad-unknown-key.conf", &errors));
	assert_int_equal(errors, 1);
	expect("bad-unknown-key.conf", 8, "unknown key 'scal'");
}

/* Every error of the file is reported, each at its own line. */
static void
test_many(void **state)
{
	int errors = 0;

	(void)state;
	assert_null(load("bad-many.conf", &errors));
	expect("bad-many.conf", 1, "'id': \"Bad Site\" is not a valid id");
	expect("bad-many.conf", 2, "'qos': 0 is outside 1..2");
	expect("bad-many.conf", 3, "'port': 70000 is outside 1..65535");
	expect("bad-many.conf", 5, "'bus': no bus named \"nobus\"");
	expect("bad-many.conf", 8, "'plugin': cannot load plugin \"nosuchplugin\"");
	expect("bad-many.conf", 8, "'id': duplicate sensor id \"g1\" (first at line 5)");
	expect("bad-many.conf", 10, "'table': unknown table \"holdings\"");
	expect("bad-many.conf", 10, "'address': value of 2 words runs past address 65535");
	expect("bad-many.conf", 11, "level needs exactly one of 'above', 'below' or 'rate'");
	expect("bad-many.conf", 11, "'priority': \"extreme\" is not one of");
	expect("bad-many.conf", 5, "gas sensor needs 'gas' (for the default levels "
	    "of GB/T 50493) or 'levels'");
	assert_int_equal(errors, 11);
}

static void
test_structure(void **state)
{
	int errors = 0;

	(void)state;
	assert_null(load("bad-structure.conf", &errors));
	expect("bad-structure.conf", 2, "'mqtt': must be a list of groups");
	expect("bad-structure.conf", 0, "a 'buses = ( ... );' list is required");
	expect("bad-structure.conf", 3, "'sensors': a non-empty 'sensors = ( ... );' list is required");
}

static void
test_missing_file(void **state)
{
	int errors = 0;

	(void)state;
	assert_null(load("does-not-exist.conf", &errors));
	assert_non_null(strstr(out, "does-not-exist.conf: cannot read: No such file"));
}

/* Serial settings a line cannot have, and unit ids per bus type. */
static void
test_serial(void **state)
{
	int errors = 0;

	(void)state;
	assert_null(load("bad-serial.conf", &errors));
	expect("bad-serial.conf", 3, "'baud': 9601 is not a serial line rate "
	    "(one of 1200 2400 4800 9600 19200 38400 57600 115200 230400");
	expect("bad-serial.conf", 4, "'parity': \"X\" is not");
	expect("bad-serial.conf", 4, "'data_bits': 7: Modbus RTU sends 8 data bits");
	expect("bad-serial.conf", 4, "'stop_bits': 3 is outside 1..2");
	expect("bad-serial.conf", 8, "'slave': 250 is outside 1..247 (on an rtu bus");
	expect("bad-serial.conf", 10, "'slave': 248 is outside 1..247");
	expect("bad-serial.conf", 12, "'slave': 256 is outside 1..255");
	/* A wrongly typed slave is one error, not also a missing one. */
	expect("bad-serial.conf", 14, "'slave': must be a whole number");
	assert_null(strstr(out, "needs 'slave'"));
	/* 255 on tcp and 247 on rtu are fine. */
	assert_null(strstr(out, "bad-serial.conf:16:"));
	assert_null(strstr(out, "bad-serial.conf:18:"));
	assert_int_equal(errors, 8);
}

/* One mistake, one message: no follow-on errors, and a hint for a typo. */
static void
test_cascade(void **state)
{
	int errors = 0;

	(void)state;
	assert_null(load("bad-cascade.conf", &errors));
	expect("bad-cascade.conf", 3, "unknown key 'timout_ms'; did you mean "
	    "'timeout_ms'?");
	expect("bad-cascade.conf", 5, "'plugin': cannot load plugin \"gass\"");
	if (strstr(out, "gas generic smoke temperature (the sensor's other keys "
	    "are checked once it loads)") == NULL) {
		print_error("no list of the plugins found in:\n%s\n", out);
		fail();
	}
	/* The missing plugin's keys are not "unknown". */
	assert_null(strstr(out, "bad-cascade.conf:6:"));
	expect("bad-cascade.conf", 8, "unknown key 'scael'; did you mean 'scale'?");
	expect("bad-cascade.conf", 9, "unknown key 'rnage'; did you mean 'range'?");
	expect("bad-cascade.conf", 9, "unknown key 'intervall'; did you mean "
	    "'interval'?");
	expect("bad-cascade.conf", 11, "unknown key 'xyz'\n");	/* nothing close */
	assert_int_equal(errors, 6);
}

/* A plugin of another ABI major version is refused before it is called. */
static void
test_plugin_abi(void **state)
{
	struct hz_plugin *list = NULL;
	char dir[4200], err[512];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/plugins/.libs", getenv("top_builddir"));
	assert_null(plugin_get(&list, dir, "badabi", err, sizeof(err)));
	assert_non_null(strstr(err, "badabi.so: unsupported plugin ABI version "
	    "(got 2.0, expected 1.3"));
	assert_null(plugin_get(&list, dir, "../gas", err, sizeof(err)));
	assert_non_null(strstr(err, "invalid plugin name"));
	assert_non_null(plugin_get(&list, plugin_dir, "gas", err, sizeof(err)));
	assert_ptr_equal(plugin_get(&list, plugin_dir, "gas", err, sizeof(err)), list);
	plugin_unload_all(list);
}

/* A reload keeps what is unchanged: layout, comments and number notation
 * do not count, a changed setpoint does (config-fp.c). */
static void
test_fingerprints(void **state)
{
	struct hz_config *a, *b, *c;
	int errors;

	(void)state;
	a = load("fp-a.conf", &errors);
	b = load("fp-b.conf", &errors);
	c = load("fp-c.conf", &errors);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_string_equal(a->fp, b->fp);
	assert_string_equal(a->dests[0].fp, b->dests[0].fp);
	assert_string_equal(a->buses[0].fp, b->buses[0].fp);
	for (unsigned i = 0; i < 2; i++)
		assert_string_equal(a->sensors[i].fp, b->sensors[i].fp);
	assert_string_equal(a->buses[0].fp, c->buses[0].fp);
	assert_string_equal(a->sensors[0].fp, c->sensors[0].fp);
	assert_string_not_equal(a->sensors[1].fp, c->sensors[1].fp);
	assert_string_equal(a->control_socket, "");
	config_free(a);
	config_free(b);
	config_free(c);
}

/* The catalogue's labels, and gas and range from ABI 1.3 plugins. */
static void
test_catalogue(void **state)
{
	const struct hz_sensor *s;
	struct hz_config *c;
	int errors = -1;

	(void)state;
	c = load("catalogue.conf", &errors);
	assert_non_null(c);
	assert_int_equal(errors, 0);
	s = &c->sensors[0];
	assert_string_equal(s->tag, "GT-1101A");
	assert_string_equal(s->point_code, "310116-0001-GAS-01");
	assert_string_equal(s->location, "罐区 A, 泵房北侧");
	assert_string_equal(s->setup.gas, "CH4");
	assert_float_equal(s->setup.range_low, 0, 0);
	assert_float_equal(s->setup.range_high, 100, 0);
	s = &c->sensors[1];
	assert_null(s->tag);
	assert_null(s->point_code);
	assert_null(s->location);
	assert_string_equal(s->setup.gas, "");
	assert_float_equal(s->setup.range_low, -40, 0);
	assert_float_equal(s->setup.range_high, 125, 0);
	s = &c->sensors[2];
	assert_string_equal(s->setup.gas, "");
	assert_true(isnan(s->setup.range_low) && isnan(s->setup.range_high));
	config_free(c);
}

/* Labels are bounded, one line, valid UTF-8: each error at its line. */
static void
test_bad_labels(void **state)
{
	int errors = 0;

	(void)state;
	assert_null(load("bad-labels.conf", &errors));
	expect("bad-labels.conf", 7, "'tag': must be 1-64 bytes (UTF-8)");
	expect("bad-labels.conf", 8, "'point_code': must be 1-64 bytes (UTF-8)");
	expect("bad-labels.conf", 9, "'location': must be one line without "
	    "control characters");
	expect("bad-labels.conf", 13, "'location': is not valid UTF-8 (byte 4)");
	expect("bad-labels.conf", 14, "'tag': must be a string");
	assert_int_equal(errors, 5);
}

/*
 * Names and units go into every JSON message and onto screens: one line
 * of valid UTF-8 (a Latin-1 byte made every message of the sensor
 * invalid JSON), and good UTF-8 stays as written.
 */
static void
test_bad_names(void **state)
{
	int errors = 0;

	(void)state;
	assert_null(load("bad-names.conf", &errors));
	expect("bad-names.conf", 1, "'name': is not valid UTF-8 (byte 2)");
	expect("bad-names.conf", 7, "'name': must be one line without control "
	    "characters (byte 5)");
	expect("bad-names.conf", 8, "'unit': is not valid UTF-8 (byte 2)");
	expect("bad-names.conf", 9, "'name': must be 1-128 bytes (UTF-8)");
	expect("bad-names.conf", 10, "'name': is not valid UTF-8 (byte 2)");
	assert_int_equal(errors, 5);
}

/* A plugin of ABI 1.2 loads as before; it tells no gas and no range. */
static void
test_old_plugin(void **state)
{
	struct hz_config *c;
	char dir[4200];
	int errors = -1;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/plugins/.libs", getenv("top_builddir"));
	c = load_in("oldabi.conf", dir, &errors);
	if (c == NULL)
		print_error("%s", out);
	assert_non_null(c);
	assert_int_equal(errors, 0);
	assert_string_equal(c->sensors[0].setup.unit, "ppm");
	assert_string_equal(c->sensors[0].tag, "AT-7");
	assert_string_equal(c->sensors[0].setup.gas, "");
	assert_true(isnan(c->sensors[0].setup.range_low));
	assert_true(isnan(c->sensors[0].setup.range_high));
	config_free(c);
}

int
main(void)
{
	const char *src = getenv("top_srcdir"), *build = getenv("top_builddir");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_cascade),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_plugin_abi),
		cmocka_unit_test(test_fingerprints),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_bad_labels),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_old_plugin),
	};

	snprintf(data_dir, sizeof(data_dir), "%s/tests/data", src ? src : ".");
	snprintf(plugin_dir, sizeof(plugin_dir), "%s/plugins/.libs", build ? build : ".");
	log_init("test", HZ_LOG_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
