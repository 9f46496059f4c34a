/*
 * web-metrics.c - the picture in the Prometheus text exposition format
 * 0.0.4 (docs/web.md lists every family).  Pure: the model in, text out.
 *
 * While hazmond cannot be reached only hazmon_up 0 is written: a gauge
 * of the last value would look like a live one to an alert rule.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hazmon-web.h"

void
buf_printf(struct web_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
		    b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->p != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *p;

		while (cap - b->len <= (size_t)n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

void
buf_free(struct web_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* A label value, escaped as the format says: \\, \" and \n. */
void
metrics_label(struct web_buf *b, const char *v)
{
	buf_printf(b, "\"");
	for (; v && *v; v++) {
		if (*v == '\\')
			buf_printf(b, "\\\\");
		else if (*v == '"')
			buf_printf(b, "\\\"");
		else if (*v == '\n')
			buf_printf(b, "\\n");
		else
			buf_printf(b, "%c", *v);
	}
	buf_printf(b, "\"");
}

static void
number(struct web_buf *b, double v)
{
	if (isnan(v))
		buf_printf(b, "NaN");
	else if (isinf(v))
		buf_printf(b, v > 0 ? "+Inf" : "-Inf");
	else
		buf_printf(b, "%.15g", v);
}

static void
family(struct web_buf *b, const char *name, const char *type,
    const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k1="v1",k2="v2"} value: k2 may be NULL. */
static void
sample(struct web_buf *b, const char *name, const char *k1, const char *v1,
    const char *k2, const char *v2, double value)
{
	buf_printf(b, "%s", name);
	if (k1 != NULL) {
		buf_printf(b, "{%s=", k1);
		metrics_label(b, v1);
		if (k2 != NULL) {
			buf_printf(b, ",%s=", k2);
			metrics_label(b, v2);
		}
		buf_printf(b, "}");
	}
	buf_printf(b, " ");
	number(b, value);
	buf_printf(b, "\n");
}

/* "2026-11-25T08:01:02.345Z" in seconds since the epoch; -1 if not one. */
static double
iso_seconds(const char *s)
{
	struct tm tm;
	int ms = 0, n = 0;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	if (s[n] == '.' && sscanf(s + n, ".%3d", &ms) != 1)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + ms / 1000.0;
}

static double
num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *const priorities[] = { "low", "medium", "high", "urgent" };
static const char *const qualities[] = { "ok", "fault", "stale",
    "out_of_service", "unknown" };

static void
sensors_part(struct web_buf *b, json_t *sensors)
{
	json_t *e, *reasons;
	const char *reason;
	size_t i, q;

	family(b, "hazmon_sensor_value", "gauge",
	    "Latest trustworthy value of a sensor, in its unit (absent while "
	    "its quality is not ok or out_of_service).");
	json_array_foreach(sensors, i, e) {
		if (json_is_number(json_object_get(e, "value")))
			sample(b, "hazmon_sensor_value", "sensor",
			    json_string_value(json_object_get(e, "id")), "unit",
			    json_string_value(json_object_get(e, "unit")),
			    num(e, "value"));
	}
	family(b, "hazmon_sensor_quality", "gauge",
	    "1 for the quality a sensor is in, 0 for the others.");
	json_array_foreach(sensors, i, e) {
		const char *cur = json_string_value(json_object_get(e, "quality"));

		for (q = 0; q < sizeof(qualities) / sizeof(*qualities); q++)
			sample(b, "hazmon_sensor_quality", "sensor",
			    json_string_value(json_object_get(e, "id")),
			    "quality", qualities[q],
			    cur && strcmp(cur, qualities[q]) == 0);
	}
	/* faults by reason; stale is counted apart, it is not a fault */
	if ((reasons = json_object()) == NULL) {
		b->failed = 1;
		return;
	}
	json_array_foreach(sensors, i, e) {
		reason = json_string_value(json_object_get(e, "fault"));
		if (reason == NULL)
			continue;
		json_object_set_new(reasons, reason, json_integer(
		    json_integer_value(json_object_get(reasons, reason)) + 1));
	}
	family(b, "hazmon_faults", "gauge",
	    "Sensors whose latest reading is not trustworthy, by reason.");
	json_object_foreach(reasons, reason, e)
		sample(b, "hazmon_faults", "reason", reason, NULL, NULL,
		    (double)json_integer_value(e));
	json_decref(reasons);
}

static void
alarms_part(struct web_buf *b, json_t *alarms)
{
	static const struct {
		const char *name, *help, *suffix;
	} kinds[] = {
		{ "hazmon_alarms_active", "Alarm levels now active, by priority.",
		    NULL },
		{ "hazmon_alarms_unacknowledged",
		    "Alarm levels waiting for an acknowledgement, by priority.",
		    "_unacknowledged" },
	};
	json_t *a;
	size_t i, k, p;

	for (k = 0; k < 2; k++) {
		family(b, kinds[k].name, "gauge", kinds[k].help);
		for (p = 0; p < 4; p++) {
			int n = 0;

			json_array_foreach(alarms, i, a) {
				const char *st = json_string_value(
				    json_object_get(a, "state"));
				const char *pr = json_string_value(
				    json_object_get(a, "priority"));
				size_t sl, xl;

				if (st == NULL || pr == NULL ||
				    strcmp(pr, priorities[p]) != 0)
					continue;
				if (kinds[k].suffix == NULL) {
					n += strncmp(st, "active_", 7) == 0;
					continue;
				}
				sl = strlen(st);
				xl = strlen(kinds[k].suffix);
				n += sl >= xl &&
				    strcmp(st + sl - xl, kinds[k].suffix) == 0;
			}
			sample(b, kinds[k].name, "priority", priorities[p],
			    NULL, NULL, n);
		}
	}
}

/*
 * One family with a sample per element of items, labelled with the
 * element's "name": the element's number or boolean field.  An element
 * without it has no sample (rather than a made-up value).
 */
static void
by_name(struct web_buf *b, json_t *items, const char *label, const char *name,
    const char *type, const char *field, const char *help)
{
	json_t *it, *v;
	size_t i;

	family(b, name, type, help);
	json_array_foreach(items, i, it) {
		v = json_object_get(it, field);
		if (!json_is_number(v) && !json_is_boolean(v))
			continue;
		sample(b, name, label, json_string_value(json_object_get(it,
		    "name")), NULL, NULL, json_is_boolean(v) ? json_is_true(v) :
		    json_number_value(v));
	}
}

/* A family of one sample without labels. */
static void
single(struct web_buf *b, const char *name, const char *type,
    const char *help, json_t *v)
{
	if (!json_is_number(v) && !json_is_boolean(v))
		return;
	family(b, name, type, help);
	sample(b, name, NULL, NULL, NULL, NULL, json_is_boolean(v) ?
	    json_is_true(v) : json_number_value(v));
}

static void
buses_part(struct web_buf *b, json_t *buses)
{
	json_t *bus, *sl;
	size_t i, j;
	char slave[16];

	by_name(b, buses, "bus", "hazmon_bus_connected", "gauge", "connected",
	    "1 while the bus has its link (TCP connection or serial port).");
	by_name(b, buses, "bus", "hazmon_bus_requests_total", "counter",
	    "requests", "Modbus requests sent on the bus since hazmond "
	    "started.");
	by_name(b, buses, "bus", "hazmon_bus_request_failures_total",
	    "counter", "failed", "Modbus requests on the bus that failed.");
	family(b, "hazmon_slave_failing", "gauge",
	    "1 while the slave's last poll failed.");
	json_array_foreach(buses, i, bus) {
		json_array_foreach(json_object_get(bus, "slaves"), j, sl) {
			snprintf(slave, sizeof(slave), "%lld", (long long)
			    json_integer_value(json_object_get(sl, "slave")));
			sample(b, "hazmon_slave_failing", "bus",
			    json_string_value(json_object_get(bus, "name")),
			    "slave", slave,
			    json_is_true(json_object_get(sl, "failing")));
		}
	}
	family(b, "hazmon_slave_last_good_read_timestamp_seconds", "gauge",
	    "When the slave last answered a poll (absent: never since "
	    "hazmond started).");
	json_array_foreach(buses, i, bus) {
		json_array_foreach(json_object_get(bus, "slaves"), j, sl) {
			double t = iso_seconds(json_string_value(
			    json_object_get(sl, "last_ok")));

			if (t < 0)
				continue;
			snprintf(slave, sizeof(slave), "%lld", (long long)
			    json_integer_value(json_object_get(sl, "slave")));
			sample(b, "hazmon_slave_last_good_read_timestamp_seconds",
			    "bus", json_string_value(json_object_get(bus, "name")),
			    "slave", slave, t);
		}
	}
}

/* Where that time went, stage by stage (status's publish_latency.stages). */
static void
stages_part(struct web_buf *b, json_t *dests)
{
	json_t *d, *st, *sum, *v;
	const char *stage;
	size_t i;

	family(b, "hazmon_publish_stage_seconds", "summary", "The parts of "
	    "that time for fresh events: queue, evaluate, record (ledger "
	    "writes and commit), hand_over, per destination.");
	json_array_foreach(dests, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));

		st = json_object_get(json_object_get(d, "publish_latency"),
		    "stages");
		if (!json_is_object(sum = json_object_get(st, "sum")))
			continue;
		json_object_foreach(sum, stage, v) {
			sample(b, "hazmon_publish_stage_seconds_sum", "destination",
			    name, "stage", stage, json_number_value(v));
			sample(b, "hazmon_publish_stage_seconds_count",
			    "destination", name, "stage", stage, num(st, "count"));
		}
	}
}

static void
latency_part(struct web_buf *b, json_t *dests)
{
	const char *fam = "hazmon_publish_latency_seconds";
	json_t *d, *h, *le, *cnt;
	size_t i, k;

	family(b, fam, "histogram", "Time from a poll completing to its "
	    "event being handed to MQTT, per destination.");
	json_array_foreach(dests, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		char bound[32];

		h = json_object_get(d, "publish_latency");
		le = json_object_get(h, "le");
		cnt = json_object_get(h, "buckets");
		if (!json_is_array(le) || !json_is_array(cnt) ||
		    json_array_size(le) != json_array_size(cnt))
			continue;
		for (k = 0; k < json_array_size(le); k++) {
			snprintf(bound, sizeof(bound), "%.15g",
			    json_number_value(json_array_get(le, k)));
			sample(b, "hazmon_publish_latency_seconds_bucket",
			    "destination", name, "le", bound,
			    json_number_value(json_array_get(cnt, k)));
		}
		sample(b, "hazmon_publish_latency_seconds_bucket",
		    "destination", name, "le", "+Inf", num(h, "count"));
		sample(b, "hazmon_publish_latency_seconds_sum", "destination",
		    name, NULL, NULL, num(h, "sum"));
		sample(b, "hazmon_publish_latency_seconds_count", "destination",
		    name, NULL, NULL, num(h, "count"));
	}
	stages_part(b, dests);
}

static void
status_part(struct web_buf *b, json_t *st)
{
	json_t *dests = json_object_get(st, "destinations");
	json_t *health = json_object_get(st, "health");

	single(b, "hazmon_events_recorded_total", "counter", "Events recorded "
	    "in the ledger (its last sequence number).",
	    json_object_get(json_object_get(st, "ledger"), "last_seq"));
	single(b, "hazmon_uptime_seconds", "gauge", "Seconds since hazmond "
	    "started.", json_object_get(st, "uptime_s"));
	single(b, "hazmon_alarm_flood", "gauge", "1 while the alarm rate is a "
	    "flood (health.flood).", json_object_get(health, "flood"));
	single(b, "hazmon_alarms_chattering", "gauge", "Sensors whose alarms "
	    "chatter (health.chattering).", json_object_get(health,
	    "chattering"));
	single(b, "hazmon_sensors_stale", "gauge", "Sensors with no reading "
	    "for longer than their interval allows.", json_object_get(health,
	    "stale"));
	buses_part(b, json_object_get(st, "buses"));
	by_name(b, dests, "destination", "hazmon_destination_connected",
	    "gauge", "connected", "1 while the MQTT destination is connected.");
	by_name(b, dests, "destination",
	    "hazmon_destination_undelivered_events", "gauge", "undelivered",
	    "Ledger events the destination has not acknowledged yet.");
	latency_part(b, dests);
}

/*
 * The whole exposition.  hazmon_up is 1 only with a live watch and a
 * status answer: a half-known site is not "up".
 */
int
metrics_render(const struct web_model *m, struct web_buf *b)
{
	int up = m->up && m->synced && m->status != NULL;
	json_t *sensors;

	family(b, "hazmon_up", "gauge", "1 while hazmon-web has a live view of "
	    "hazmond (then the other families follow).");
	sample(b, "hazmon_up", NULL, NULL, NULL, NULL, up);
	if (up) {
		if ((sensors = model_sensors(m)) == NULL)
			return -ENOMEM;
		sensors_part(b, sensors);
		json_decref(sensors);
		alarms_part(b, m->alarms);
		status_part(b, m->status);
	}
	return b->failed ? -ENOMEM : 0;
}
