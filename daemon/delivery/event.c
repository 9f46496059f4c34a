/*
 * event.c - the JSON documents of the MQTT contract (docs/mqtt.md):
 * alarm/fault events and retained sensor states.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <modbus.h>

#include "delivery.h"

static json_t *
number_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/*
 * What a failed read met (docs/mqtt.md, "error"): the text of a Modbus
 * exception with its code (returned), or of another error (returns 0).
 * Only for the reasons that come from a failed read; "" otherwise.
 */
static int
event_error(int err, const char *reason, char *buf, size_t len)
{
	static const char *const names[] = { NULL, "illegal function",
	    "illegal data address", "illegal data value", "server device failure",
	    "acknowledge", "server device busy", "negative acknowledge",
	    "memory parity error", NULL, "gateway path unavailable",
	    "gateway target device failed to respond" };
	int code = err - MODBUS_ENOBASE;

	buf[0] = '\0';
	if (err == 0 || reason == NULL || (strcmp(reason, "comm_loss") != 0 &&
	    strcmp(reason, "device_error") != 0))
		return 0;
	if (err >= EMBXILFUN && err <= EMBXGTAR) {
		snprintf(buf, len, "Modbus exception %d (%s)", code, names[code] ?
		    names[code] : "undefined");
		return code;
	}
	snprintf(buf, len, "%s", hz_strerror(err));
	return 0;
}

/* Adds "error" and "exception" (docs/mqtt.md): null when not known. */
void
event_set_error(json_t *o, int err, const char *reason)
{
	char text[128];
	int code = event_error(err, reason, text, sizeof(text));

	json_object_set_new(o, "error", text[0] ? json_string(text) : json_null());
	json_object_set_new(o, "exception", code ? json_integer(code) :
	    json_null());
}

char *
event_json(const char *site, const struct hz_event *e)
{
	return event_seal(event_obj(site, e), site, e->seq);
}

/*
 * An event's document before its seq is known (batch.c numbers a batch's
 * events only once it has put them in order); event_seal numbers it,
 * turns it into text and frees it.
 */
struct json_t *
event_obj(const char *site, const struct hz_event *e)
{
	json_t *o = json_object();
	char ts[32];

	format_ts(e->ts_ms, ts, sizeof(ts));
	/* Their place comes first; event_seal fills them in. */
	json_object_set_new(o, "seq", json_integer(0));
	json_object_set_new(o, "id", json_string(""));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "site", json_string(site));
	json_object_set_new(o, "sensor", json_string(e->sensor));
	json_object_set_new(o, "kind", json_string(e->kind));
	json_object_set_new(o, "event", json_string(e->event));
	json_object_set_new(o, "level", string_or_null(e->level));
	json_object_set_new(o, "priority", string_or_null(e->priority));
	json_object_set_new(o, "value", number_or_null(e->value));
	json_object_set_new(o, "unit", json_string(e->unit));
	json_object_set_new(o, "setpoint", number_or_null(e->setpoint));
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
	json_object_set_new(o, "replayed", json_false());
	return o;
}

char *
event_seal(struct json_t *o, const char *site, int64_t seq)
{
	char id[HZ_ID_MAX + 24];
	char *s;

	if (o == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%s-%lld", site, (long long)seq);
	json_object_set_new(o, "seq", json_integer(seq));
	json_object_set_new(o, "id", json_string(id));
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	return s;
}

char *
state_json(const char *site, const struct hz_state_view *v)
{
	json_t *o = json_object();
	char ts[32];
	char *s;

	json_object_set_new(o, "site", json_string(site));
	json_object_set_new(o, "sensor", json_string(v->sensor));
	json_object_set_new(o, "value", number_or_null(view_value(v)));
	json_object_set_new(o, "unit", json_string(v->unit));
	json_object_set_new(o, "quality", json_string(view_quality(v)));
	json_object_set_new(o, "fault", string_or_null(view_fault(v)));
	event_set_error(o, v->err, view_fault(v));
	json_object_set_new(o, "device_alarm", json_boolean(v->ts_ms &&
	    (v->r->flags & HAZMON_F_DEVICE_ALARM)));
	json_object_set_new(o, "alarm", string_or_null(v->alarm));
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
		json_object_set_new(o, "ts", json_null());	/* stale, never read */
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	return s;
}
