/*
 * The MQTT documents (daemon/delivery/event.c) are written by hand for
 * speed; they must be byte for byte what jansson's json_dumps(JSON_COMPACT
 * | JSON_REAL_PRECISION(10)) makes of the same members, the way event.c
 * built them before (issue 15).  This test builds that reference with
 * jansson and compares, on fixed cases and 20,000 random ones: strings
 * with quotes, backslashes, control characters and UTF-8; reals of every
 * magnitude, integral ones, negative zero, NaN.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <modbus.h>

#include "hazmond.h"

static json_t *
num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static char *
dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));

	json_decref(o);
	return s;
}

/* The reference: event.c's event_json as it was built on jansson. */
static char *
ref_event(const char *site, const char *cat, const struct hz_event *e)
{
	json_t *o = json_object();
	char ts[32], id[HZ_ID_MAX + 24];

	format_ts(e->ts_ms, ts, sizeof(ts));
	snprintf(id, sizeof(id), "%s-%lld", site, (long long)e->seq);
	json_object_set_new(o, "seq", json_integer(e->seq));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "site", json_string(site));
	json_object_set_new(o, "sensor", json_string(e->sensor));
	json_object_set_new(o, "kind", json_string(e->kind));
	json_object_set_new(o, "event", json_string(e->event));
	json_object_set_new(o, "level", str(e->level));
	json_object_set_new(o, "priority", str(e->priority));
	json_object_set_new(o, "value", num(e->value));
	json_object_set_new(o, "unit", json_string(e->unit));
	json_object_set_new(o, "setpoint", num(e->setpoint));
	if (e->actor)
		json_object_set_new(o, "actor", json_string(e->actor));
	if (e->reason)
		json_object_set_new(o, "reason", json_string(e->reason));
	if (e->until_ms) {
		format_ts(e->until_ms, ts, sizeof(ts));
		json_object_set_new(o, "until", json_string(ts));
	}
	if (strcmp(e->kind, "fault") == 0)
		event_set_error(o, e->err, e->level);
	if (cat)
		json_object_set_new(o, "catalogue", json_string(cat));
	json_object_set_new(o, "replayed", json_false());
	return dump(o);
}

/* The reference: event.c's state_json as it was built on jansson. */
static char *
ref_state(const char *site, const char *cat, const struct hz_state_view *v)
{
	json_t *o = json_object();
	char ts[32];

	json_object_set_new(o, "site", json_string(site));
	json_object_set_new(o, "sensor", json_string(v->sensor));
	json_object_set_new(o, "value", num(view_value(v)));
	json_object_set_new(o, "unit", json_string(v->unit));
	json_object_set_new(o, "quality", json_string(view_quality(v)));
	json_object_set_new(o, "fault", str(view_fault(v)));
	event_set_error(o, v->err, view_fault(v));
	json_object_set_new(o, "device_alarm", json_boolean(v->ts_ms &&
	    (v->r->flags & HAZMON_F_DEVICE_ALARM)));
	json_object_set_new(o, "alarm", str(v->alarm));
	json_object_set_new(o, "alarm_state", json_string(v->alarm_state));
	json_object_set_new(o, "unacknowledged", json_integer(v->unacknowledged));
	if (v->shelved_until) {
		format_ts(v->shelved_until, ts, sizeof(ts));
		json_object_set_new(o, "shelved_until", json_string(ts));
	} else
		json_object_set_new(o, "shelved_until", json_null());
	if (v->ts_ms) {
		format_ts(v->ts_ms, ts, sizeof(ts));
		json_object_set_new(o, "ts", json_string(ts));
	} else
		json_object_set_new(o, "ts", json_null());
	if (cat)
		json_object_set_new(o, "catalogue", json_string(cat));
	return dump(o);
}

static void
same(char *got, char *want)
{
	assert_non_null(got);
	assert_non_null(want);
	if (strcmp(got, want) != 0)
		fail_msg("differs:\n got  %s\n want %s", got, want);
	free(got);
	free(want);
}

static uint64_t rng = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Valid UTF-8 with the characters JSON must escape, and some it must not. */
static void
rnd_text(char *buf, size_t len)
{
	static const char *const parts[] = { "a", "Z", "9", "-", "_", " ", "\"",
	    "\\", "/", "\n", "\t", "\r", "\b", "\f", "\x01", "\x1f", "\x7f",
	    "\xe7\x94\xb2\xe7\x83\xb7", "%LEL", "\xc2\xb0" "C", "ppm", "{", "}" };
	size_t o = 0;
	unsigned n = rnd(12);

	buf[0] = '\0';
	while (n-- > 0) {
		const char *p = parts[rnd(sizeof(parts) / sizeof(parts[0]))];

		if (o + strlen(p) + 1 >= len)
			break;
		memcpy(buf + o, p, strlen(p) + 1);
		o += strlen(p);
	}
}

static double
rnd_real(void)
{
	static const double fixed[] = { 0.0, -0.0, 1.0, 60.0, 25.5, -40.0,
	    0.1, 1e-7, 1.5e-300, 1e5, 1e10, 123456789012.0, 9.999999999e99,
	    1e100, -2.5e-5, 0.30000000000000004, 1e21, 65535.0 };

	switch (rnd(4)) {
	case 0: return fixed[rnd(sizeof(fixed) / sizeof(fixed[0]))];
	case 1: return NAN;
	case 2: return (double)rnd(100000) / (double)(1 + rnd(1000));
	default: return ldexp((double)rnd(1u << 30) - (1 << 29), (int)rnd(200) - 100);
	}
}

static void
test_events(void **state)
{
	static const char *const events[] = { "raised", "cleared", "acknowledged",
	    "shelved", "unshelved", "out_of_service", "in_service", "returned" };
	static const char *const prios[] = { "low", "medium", "high", "urgent", NULL };
	static const int errs[] = { 0, ETIMEDOUT, ECONNREFUSED, EMBXILADD,
	    EMBXSBUSY, EMBBADDATA, EIO };
	char sensor[64], level[64], unit[64], actor[64], reason[128], site[64];
	const char *cat;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		int fault = rnd(3) == 0;
		struct hz_event e = { .seq = (int64_t)rnd(1u << 31) * rnd(4),
		    .ts_ms = 1700000000000LL + rnd(1u << 31),
		    .kind = fault ? "fault" : "alarm",
		    .event = events[rnd(8)], .value = rnd_real(),
		    .setpoint = rnd_real(), .err = errs[rnd(7)] };

		rnd_text(sensor, sizeof(sensor));
		rnd_text(level, sizeof(level));
		rnd_text(unit, sizeof(unit));
		rnd_text(site, sizeof(site));
		e.sensor = sensor;
		e.unit = unit;
		e.level = fault ? (rnd(2) ? "comm_loss" : "device_error") :
		    rnd(5) ? level : NULL;
		e.priority = fault ? NULL : prios[rnd(5)];
		if (rnd(2)) {
			rnd_text(actor, sizeof(actor));
			e.actor = actor;
		}
		if (rnd(3) == 0) {
			rnd_text(reason, sizeof(reason));
			e.reason = reason;
			e.until_ms = e.ts_ms + rnd(86400000);
		}
		cat = rnd(2) ? "3f2a0c9d81b7e645" : NULL;
		same(event_json(site, cat, &e), ref_event(site, cat, &e));
	}
}

static void
test_states(void **state)
{
	static const char *const lvls[] = { "first", "second", NULL };
	static const char *const st[] = { "normal", "active_unacknowledged",
	    "active_acknowledged", "returned_unacknowledged" };
	static const uint32_t flags[] = { 0, HAZMON_F_COMM, HAZMON_F_DEVICE_ERROR,
	    HAZMON_F_OVER_RANGE, HAZMON_F_DEVICE_ALARM, HAZMON_F_FROZEN,
	    HAZMON_F_WARMUP | HAZMON_F_DEVICE_ALARM };
	char sensor[64], unit[64], site[64];
	const char *cat;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct hazmon_reading r = { .value = rnd_real(),
		    .quality = (enum hazmon_quality)rnd(3), .flags = flags[rnd(7)] };
		struct hz_state_view v = { .r = &r, .alarm = lvls[rnd(3)],
		    .alarm_state = st[rnd(4)], .unacknowledged = rnd(3),
		    .shelved_until = rnd(3) ? 0 : 1700000000000LL + rnd(1u << 30),
		    .out_of_service = rnd(4) == 0, .stale = rnd(5) == 0,
		    .err = rnd(2) ? 0 : EMBXILADD,
		    .ts_ms = rnd(6) ? 1700000000000LL + rnd(1u << 30) : 0 };

		rnd_text(sensor, sizeof(sensor));
		rnd_text(unit, sizeof(unit));
		rnd_text(site, sizeof(site));
		v.sensor = sensor;
		v.unit = unit;
		cat = rnd(2) ? "00ff00ff00ff00ff" : NULL;
		same(state_json(site, cat, &v), ref_state(site, cat, &v));
	}
}

/* The reference: the catalogue as jansson writes it, without fp and ts. */
static json_t *
ref_catalogue(const struct hz_config *c)
{
	static const char *const dirs[] = { "above", "below", "rate" };
	json_t *o = json_object(), *list = json_array();

	json_object_set_new(o, "site", json_string(c->site_id));
	json_object_set_new(o, "name", json_string(c->site_name));
	json_object_set_new(o, "count", json_integer(c->n_sensors));
	for (unsigned i = 0; i < c->n_sensors; i++) {
		const struct hz_sensor *s = &c->sensors[i];
		json_t *so = json_object(), *lv = json_array(), *range = json_null();

		if (!isnan(s->setup.range_low) || !isnan(s->setup.range_high))
			range = json_pack("{s:o, s:o}", "low",
			    num(s->setup.range_low), "high",
			    num(s->setup.range_high));
		json_object_set_new(so, "id", json_string(s->id));
		json_object_set_new(so, "name", json_string(s->name));
		json_object_set_new(so, "plugin", json_string(s->plugin->name));
		json_object_set_new(so, "gas", s->setup.gas[0] ?
		    json_string(s->setup.gas) : json_null());
		json_object_set_new(so, "unit", json_string(s->setup.unit));
		json_object_set_new(so, "range", range);
		json_object_set_new(so, "tag", str(s->tag));
		json_object_set_new(so, "point_code", str(s->point_code));
		json_object_set_new(so, "location", str(s->location));
		json_object_set_new(so, "bus", json_string(c->buses[s->bus].name));
		json_object_set_new(so, "interval", num(s->interval));
		for (unsigned j = 0; j < s->n_levels; j++) {
			const struct hazmon_level *l = &s->levels[j];

			json_array_append_new(lv, json_pack("{s:s, s:s, s:o, s:o, "
			    "s:o, s:o, s:s, s:b}", "name", l->name, "direction",
			    dirs[l->dir], "setpoint", num(l->setpoint), "deadband",
			    num(l->deadband), "on_delay", num(l->on_delay),
			    "off_delay", num(l->off_delay), "priority", l->priority,
			    "latch", l->latch));
		}
		json_object_set_new(so, "levels", lv);
		json_array_append_new(list, so);
	}
	json_object_set_new(o, "sensors", list);
	return o;
}

/* A random site: texts JSON must escape, labels absent or not, ranges. */
static struct hz_config *
rnd_config(struct hz_plugin *pl, struct hz_bus *bus, unsigned n)
{
	static const char *const prios[] = { "low", "medium", "high", "urgent" };
	struct hz_config *c = calloc(1, sizeof(*c));
	char t[64];

	rnd_text(t, sizeof(t));
	snprintf(c->site_id, sizeof(c->site_id), "site-%u", rnd(100));
	c->site_name = strdup(t);
	c->buses = bus;
	c->n_buses = 1;
	c->n_sensors = n;
	c->sensors = calloc(n, sizeof(*c->sensors));
	for (unsigned i = 0; i < n; i++) {
		struct hz_sensor *s = &c->sensors[i];

		snprintf(s->id, sizeof(s->id), "s-%u", i);
		rnd_text(t, sizeof(t));
		s->name = strdup(t);
		s->plugin = &pl[rnd(2)];
		rnd_text(s->setup.unit, sizeof(s->setup.unit));
		if (rnd(2))
			snprintf(s->setup.gas, sizeof(s->setup.gas), "CH4");
		s->setup.range_low = rnd(3) ? rnd_real() : NAN;
		s->setup.range_high = rnd(3) ? rnd_real() : NAN;
		rnd_text(t, sizeof(t));
		s->tag = rnd(2) ? strdup(t) : NULL;
		rnd_text(t, sizeof(t));
		s->point_code = rnd(2) ? strdup(t) : NULL;
		rnd_text(t, sizeof(t));
		s->location = rnd(2) ? strdup(t) : NULL;
		s->interval = rnd_real();
		s->n_levels = rnd(4);
		s->levels = calloc(s->n_levels + 1, sizeof(*s->levels));
		for (unsigned j = 0; j < s->n_levels; j++) {
			struct hazmon_level *l = &s->levels[j];

			rnd_text(l->name, sizeof(l->name));
			l->dir = (enum hazmon_dir)rnd(3);
			l->setpoint = rnd_real();
			l->deadband = rnd_real();
			l->on_delay = rnd_real();
			l->off_delay = rnd_real();
			snprintf(l->priority, sizeof(l->priority), "%s",
			    prios[rnd(4)]);
			l->latch = (int)rnd(2);
		}
	}
	return c;
}

static void
free_config(struct hz_config *c)
{
	for (unsigned i = 0; i < c->n_sensors; i++) {
		free(c->sensors[i].name);
		free(c->sensors[i].tag);
		free(c->sensors[i].point_code);
		free(c->sensors[i].location);
		free(c->sensors[i].levels);
	}
	free(c->sensors);
	free(c->site_name);
	free(c);
}

/*
 * The catalogue is what jansson would write, plus its fingerprint and
 * ts after the name; the fingerprint is of the content, not of the time.
 */
static void
test_catalogue(void **state)
{
	struct hz_plugin pl[2] = { { .name = "gas" }, { .name = "generic" } };
	struct hz_bus bus = { .name = "line-1" };

	(void)state;
	for (int i = 0; i < 300; i++) {
		struct hz_config *c = rnd_config(pl, &bus, rnd(20));
		struct hz_catalogue *a = catalogue_build(c, 1700000000000LL),
		    *b = catalogue_build(c, 1800000000000LL);
		json_t *got = json_loadb(a->json, a->len, 0, NULL);
		char ts[32], *want, *head;
		static char expect[1 << 16];

		assert_non_null(got);
		assert_int_equal(strlen(a->json), a->len);
		assert_int_equal(strspn(a->fp, "0123456789abcdef"), 16);
		assert_string_equal(a->fp, b->fp);	/* the time does not count */
		assert_string_not_equal(a->json, b->json);
		assert_string_equal(json_string_value(json_object_get(got,
		    "catalogue")), a->fp);
		format_ts(1700000000000LL, ts, sizeof(ts));
		assert_string_equal(json_string_value(json_object_get(got, "ts")),
		    ts);
		json_decref(got);
		/*
		 * Byte for byte what jansson writes, catalogue and ts put
		 * after the name (a `,"` in a string is escaped: `,\"`).
		 */
		want = dump(ref_catalogue(c));
		head = strstr(want, ",\"count\":");
		assert_non_null(head);
		snprintf(expect, sizeof(expect), "%.*s,\"catalogue\":\"%s\","
		    "\"ts\":\"%s\"%s", (int)(head - want), want, a->fp, ts, head);
		assert_string_equal(a->json, expect);
		free(want);
		/* Any change of content is a new fingerprint. */
		if (c->n_sensors > 0) {
			struct hz_catalogue *d;
			struct hz_sensor *s = &c->sensors[rnd(c->n_sensors)];

			s->interval = s->interval == 7.0 ? 8.0 : 7.0;
			d = catalogue_build(c, 1700000000000LL);
			assert_string_not_equal(a->fp, d->fp);
			catalogue_free(d);
		}
		catalogue_free(a);
		catalogue_free(b);
		free_config(c);
	}
}

/* 10,000 sensors: one pass, and every sensor is in it. */
static void
test_catalogue_large(void **state)
{
	struct hz_plugin pl[2] = { { .name = "gas" }, { .name = "generic" } };
	struct hz_bus bus = { .name = "line-1" };
	struct hz_config *c = rnd_config(pl, &bus, 10000);
	struct hz_catalogue *k = catalogue_build(c, 1700000000000LL);
	json_t *o = json_loadb(k->json, k->len, 0, NULL);

	(void)state;
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "sensors")), 10000);
	json_decref(o);
	catalogue_free(k);
	free_config(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_catalogue_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
