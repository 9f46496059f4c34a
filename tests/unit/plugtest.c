/*
 * plugtest.c - the harness of the plugin unit tests (see plugtest.h).
 *
 * Plugins are loaded from the build tree exactly as the daemon loads
 * them, and configured through the core's own host API, so a test sees
 * the same file:line messages and unknown-key checks an operator does.
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

#include "plugtest.h"

const struct hazmon_plugin *pt;
char pt_log[16384];
static struct hz_plugin *plugins;
static char plugin_dir[4096];
static const char *plugin_name;

/* Sends stderr (where log_msg writes) to a temporary file until capture_end(). */
static int
capture_begin(int *saved)
{
	char tmp[] = "/tmp/hzplug-XXXXXX";
	int fd = mkstemp(tmp);

	assert_true(fd >= 0);
	unlink(tmp);
	*saved = dup(2);
	dup2(fd, 2);
	return fd;
}

static void
capture_end(int fd, int saved)
{
	ssize_t n;

	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, pt_log, 16383);
	pt_log[n > 0 ? n : 0] = '\0';
	close(fd);
}

int
pt_init(const char *name)
{
	const char *build = getenv("top_builddir");
	char err[512];
	struct hz_plugin *p;

	log_init("test", HZ_LOG_WARNING);
	snprintf(plugin_dir, sizeof(plugin_dir), "%s/plugins/.libs",
	    build ? build : ".");
	if ((p = plugin_get(&plugins, plugin_dir, name, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	plugin_name = name;
	pt = p->desc;
	return 0;
}

/* Alarm levels the simulated sensor config sets (the core passes this in). */
unsigned pt_config_levels = 1;

int
pt_configure(const char *text, struct hazmon_sensor_setup *su)
{
	config_t lc;
	struct hazmon_cfg *g;
	int errors = 0, saved, fd, rc;

	config_init(&lc);
	assert_int_equal(config_read_string(&lc, text), CONFIG_TRUE);
	g = hostapi_wrap(config_root_setting(&lc), "inline", &errors);
	memset(su, 0, sizeof(*su));
	su->id = "t";
	su->n_config_levels = pt_config_levels;
	fd = capture_begin(&saved);
	rc = pt->configure(&hz_host, g, su);
	if (rc != 0 && errors == 0)
		errors = -100;	/* rejected without a message: a bug */
	hostapi_check_unknown(g);
	capture_end(fd, saved);
	if (rc == 0)
		assert_non_null(su->ctx);
	else
		assert_null(su->ctx);	/* nothing leaks from a rejection */
	if (errors != 0 && su->ctx)	/* an unknown key: the core drops the sensor */
		pt_free(su);
	hostapi_free(g);
	config_destroy(&lc);
	return errors;
}

void
pt_free(struct hazmon_sensor_setup *su)
{
	pt->free_ctx(su->ctx);
	su->ctx = NULL;
}

struct hz_config *
pt_load(const char *sensor, int *errors)
{
	char path[] = "/tmp/hzplug-conf-XXXXXX";
	int cfd = mkstemp(path), saved, fd;
	struct hz_config *c;
	FILE *f;

	assert_true(cfd >= 0);
	assert_non_null(f = fdopen(cfd, "w"));
	fprintf(f, "site = { id = \"t\"; };\n"
	    "mqtt = ( { host = \"127.0.0.1\"; } );\n"
	    "buses = ( { name = \"line1\"; type = \"tcp\"; host = \"127.0.0.1\"; } );\n"
	    "sensors = ( { id = \"s1\"; plugin = \"%s\"; bus = \"line1\"; slave = 1;\n"
	    "%s\n} );\n", plugin_name, sensor);
	fclose(f);
	fd = capture_begin(&saved);
	c = config_load(path, plugin_dir, errors);
	capture_end(fd, saved);
	unlink(path);
	return c;
}

struct hazmon_reading
pt_decode(const struct hazmon_sensor_setup *su, const struct hazmon_slice *sl)
{
	struct hazmon_reading r = { .value = -12345.0 };

	pt->decode(&hz_host, su->ctx, sl, &r);
	assert_true(r.value != -12345.0);	/* always set */
	/* What cannot be decoded has no value, and every flag has a quality. */
	if (r.flags & HAZMON_F_BAD_VALUE)
		assert_true(isnan(r.value));
	if (r.flags & ~(uint32_t)HAZMON_F_DEVICE_ALARM)
		assert_int_not_equal(r.quality, HAZMON_Q_OK);
	return r;
}

struct hazmon_reading
pt_regs(const struct hazmon_sensor_setup *su, const uint16_t *w, uint16_t n)
{
	struct hazmon_slice s = { .regs = w, .count = n };

	assert_int_equal(su->n_needs, 1);
	return pt_decode(su, &s);
}

void
pt_expect(const char *text)
{
	if (strstr(pt_log, text) == NULL) {
		print_error("missing \"%s\" in:\n%s\n", text, pt_log);
		fail();
	}
}

void
pt_refuse(const struct pt_bad *bad, size_t n)
{
	struct hazmon_sensor_setup su;

	for (size_t i = 0; i < n; i++) {
		if (pt_configure(bad[i].text, &su) != 1) {
			print_error("not exactly one error for: %s\n%s\n",
			    bad[i].text, pt_log);
			fail();
		}
		pt_expect(bad[i].msg);
	}
}
