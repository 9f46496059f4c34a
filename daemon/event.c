/*
 * event.c - the JSON documents of the MQTT contract (docs/mqtt.md):
 * alarm/fault events and retained sensor states.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>

#include "hazmond.h"

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

char *
event_json(const char *site, const struct hz_event *e)
{
	json_t *o = json_object();
	char ts[32], id[HZ_ID_MAX + 24];
	char *s;

	format_ts(e->ts_ms, ts, sizeof(ts));
	snprintf(id, sizeof(id), "%s-%lld", site, (long long)e->seq);
	json_object_set_new(o, "seq", json_integer(e->seq));
	json_object_set_new(o, "id", json_string(id));
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
	json_object_set_new(o, "replayed", json_false());
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	return s;
}

static const char *
quality_name(enum hazmon_quality q)
{
	switch (q) {
	case HAZMON_Q_OK: return "ok";
	case HAZMON_Q_OUT_OF_SERVICE: return "out_of_service";
	default: return "fault";
	}
}

/* The fault reason named in events and states, most specific first. */
const char *
event_fault_reason(uint32_t flags)
{
	static const struct { uint32_t flag; const char *name; } map[] = {
		{ HAZMON_F_COMM, "comm_loss" },
		{ HAZMON_F_DEVICE_ERROR, "device_error" },
		{ HAZMON_F_DEVICE_FAULT, "device_fault" },
		{ HAZMON_F_OVER_RANGE, "over_range" },
		{ HAZMON_F_UNDER_RANGE, "under_range" },
		{ HAZMON_F_BAD_VALUE, "bad_value" },
		{ HAZMON_F_WARMUP, "warmup" },
		{ HAZMON_F_CALIBRATION, "calibration" },
		{ HAZMON_F_FROZEN, "frozen" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (flags & map[i].flag)
			return map[i].name;
	return "fault";
}

char *
state_json(const char *site, const struct hz_state_view *v)
{
	const struct hazmon_reading *r = v->r;
	enum hazmon_quality q = v->out_of_service ? HAZMON_Q_OUT_OF_SERVICE :
	    r->quality;
	json_t *o = json_object();
	char ts[32];
	char *s;

	json_object_set_new(o, "site", json_string(site));
	json_object_set_new(o, "sensor", json_string(v->sensor));
	json_object_set_new(o, "value", r->quality == HAZMON_Q_FAULT ?
	    json_null() : number_or_null(r->value));
	json_object_set_new(o, "unit", json_string(v->unit));
	json_object_set_new(o, "quality", json_string(quality_name(q)));
	json_object_set_new(o, "fault", r->quality == HAZMON_Q_OK ? json_null() :
	    json_string(event_fault_reason(r->flags)));
	json_object_set_new(o, "alarm", string_or_null(v->alarm));
	json_object_set_new(o, "alarm_state", json_string(v->alarm_state));
	json_object_set_new(o, "unacknowledged", json_integer(v->unacknowledged));
	if (v->shelved_until) {
		format_ts(v->shelved_until, ts, sizeof(ts));
		json_object_set_new(o, "shelved_until", json_string(ts));
	} else
		json_object_set_new(o, "shelved_until", json_null());
	format_ts(v->ts_ms, ts, sizeof(ts));
	json_object_set_new(o, "ts", json_string(ts));
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	return s;
}
