/*
 * view.c - what a reading and a sensor's state show, for the MQTT state
 * documents and hazmonctl alike (pure): a fault's reason, the value, the
 * quality.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "alarm.h"

/* The one rule: a value that cannot be trusted is never shown as one. */
double
event_value(const struct hazmon_reading *r)
{
	return r->quality == HAZMON_Q_FAULT ? NAN : r->value;
}

/* The state's quality: an operator's out of service first, then stale. */
const char *
view_quality(const struct hz_state_view *v)
{
	if (v->out_of_service)
		return "out_of_service";
	if (v->stale)
		return "stale";
	if (v->ts_ms == 0)
		return "unknown";	/* hazmonctl only: never published */
	switch (v->r->quality) {
	case HAZMON_Q_OK: return "ok";
	case HAZMON_Q_OUT_OF_SERVICE: return "out_of_service";
	default: return "fault";
	}
}

double
view_value(const struct hz_state_view *v)
{
	return v->stale || v->ts_ms == 0 ? NAN : event_value(v->r);
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

/* The reason the latest reading is not ok, or NULL. */
const char *
view_fault(const struct hz_state_view *v)
{
	if (v->ts_ms == 0 || v->r->quality == HAZMON_Q_OK)
		return NULL;
	return event_fault_reason(v->r->flags);
}
