/*
 * web-model.c - the picture of the site, from hazmond's watch stream and
 * its status and alarms answers (docs/control.md).  Pure: no I/O, the
 * time is passed in, so the unit test drives it line by line.
 *
 * The watch stream sends {"type":"snapshot"}, every sensor's state, then
 * {"type":"synced"}; after a reload it sends a new snapshot the same way.
 * State lines are applied as they come (the newest state always wins); at
 * synced, the sensors not named since snapshot are dropped: they are no
 * longer configured, and a sensor that is gone must not stay on the page
 * looking monitored.  (A hazmond that sends no snapshot line: named since
 * the previous synced.)  A reload's snapshot leaves the picture synced:
 * every sensor in it is still as hazmond last said.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hazmon-web.h"

static void
iso_time(double t, char *out, size_t len)
{
	time_t s = (time_t)floor(t);
	struct tm tm;
	char sec[24];
	int ms = (int)((t - floor(t)) * 1000);

	if (ms > 999)
		ms = 999;
	gmtime_r(&s, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%.19s.%03dZ", sec, ms);
}

int
model_init(struct web_model *m)
{
	memset(m, 0, sizeof(*m));
	m->sensors = json_object();
	m->order = json_array();
	m->pending = json_object();
	m->fault_since = json_object();
	m->events = json_array();
	if (!m->sensors || !m->order || !m->pending || !m->fault_since ||
	    !m->events) {
		model_free(m);
		return -ENOMEM;
	}
	return 0;
}

void
model_free(struct web_model *m)
{
	json_decref(m->sensors);
	json_decref(m->order);
	json_decref(m->pending);
	json_decref(m->fault_since);
	json_decref(m->status);
	json_decref(m->alarms);
	json_decref(m->events);
	memset(m, 0, sizeof(*m));
}

/*
 * The connection to hazmond is gone: keep the last picture (the page
 * shows it greyed as STALE, with its time), but say it is not live.
 */
void
model_down(struct web_model *m)
{
	m->up = 0;
	m->synced = 0;
}

/* A new watch answered ok: a snapshot follows. */
void
model_watch_started(struct web_model *m, double now)
{
	m->up = 1;
	m->synced = 0;
	m->updated = now;
	json_object_clear(m->pending);
}

static int
is_faulty(json_t *e)
{
	const char *q = json_string_value(json_object_get(e, "quality"));

	if (json_is_string(json_object_get(e, "fault")))
		return 1;
	return q != NULL && (strcmp(q, "fault") == 0 ||
	    strcmp(q, "stale") == 0);
}

/*
 * When a sensor's fault began, for its age on the page: the time the
 * change arrived, or for a fault already there when hazmon-web connected,
 * its last good reading (null: none since hazmond started).
 */
static void
track_fault(struct web_model *m, const char *id, json_t *old, json_t *e,
    double now)
{
	char t[48];
	json_t *since;

	if (!is_faulty(e)) {
		json_object_del(m->fault_since, id);
		return;
	}
	if (old != NULL && is_faulty(old) &&
	    json_equal(json_object_get(old, "fault"), json_object_get(e, "fault")) &&
	    json_equal(json_object_get(old, "quality"),
	    json_object_get(e, "quality")) &&
	    json_object_get(m->fault_since, id) != NULL)
		return;
	if (old == NULL || !m->synced) {
		since = json_object_get(e, "last_ok");
		json_object_set(m->fault_since, id,
		    json_is_string(since) ? since : json_null());
		return;
	}
	iso_time(now, t, sizeof(t));
	json_object_set_new(m->fault_since, id, json_string(t));
}

static int
apply_state(struct web_model *m, json_t *line, double now)
{
	json_t *id = json_object_get(line, "sensor"), *e, *old;
	const char *sid;

	if (!json_is_string(id) || (sid = json_string_value(id))[0] == '\0')
		return -EINVAL;
	if ((e = json_deep_copy(line)) == NULL)
		return -ENOMEM;
	json_object_del(e, "type");
	json_object_del(e, "sensor");
	if (json_object_set_new(e, "id", json_string(sid)) != 0) {
		json_decref(e);
		return -ENOMEM;
	}
	old = json_object_get(m->sensors, sid);
	if (old == NULL)
		json_array_append(m->order, id);
	json_incref(old);
	track_fault(m, sid, old, e, now);
	json_decref(old);
	json_object_set_new(m->sensors, sid, e);
	json_object_set_new(m->pending, sid, json_true());
	return MODEL_STATE;
}

/* Drop what the snapshot did not name. */
static int
apply_synced(struct web_model *m)
{
	json_t *order, *id;
	size_t i;

	if ((order = json_array()) == NULL)
		return -ENOMEM;
	json_array_foreach(m->order, i, id) {
		const char *sid = json_string_value(id);

		if (json_object_get(m->pending, sid) != NULL) {
			json_array_append(order, id);
		} else {
			json_object_del(m->sensors, sid);
			json_object_del(m->fault_since, sid);
		}
	}
	json_decref(m->order);
	m->order = order;
	json_object_clear(m->pending);
	m->synced = 1;
	return MODEL_SYNCED;
}

static int
apply_event(struct web_model *m, json_t *line)
{
	json_t *ev = json_object_get(line, "event");

	if (!json_is_object(ev))
		return -EINVAL;
	json_array_append(m->events, ev);
	while (json_array_size(m->events) > WEB_MAX_EVENTS)
		json_array_remove(m->events, 0);
	return MODEL_EVENT;
}

/*
 * One line of the watch stream (without its newline).  Returns what it
 * was (MODEL_*), or -EINVAL for a line that is not one of them (the
 * caller logs it and goes on: a newer hazmond may send more types).
 */
int
model_line(struct web_model *m, const char *line, size_t len, double now)
{
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	const char *type;
	int r = -EINVAL;

	if (!json_is_object(j)) {
		json_decref(j);
		return -EINVAL;
	}
	type = json_string_value(json_object_get(j, "type"));
	if (type == NULL)
		r = -EINVAL;
	else if (strcmp(type, "state") == 0)
		r = apply_state(m, j, now);
	else if (strcmp(type, "snapshot") == 0) {
		json_object_clear(m->pending);
		r = MODEL_SNAPSHOT;
	} else if (strcmp(type, "synced") == 0)
		r = apply_synced(m);
	else if (strcmp(type, "event") == 0)
		r = apply_event(m, j);
	else if (strcmp(type, "tick") == 0) {
		m->tick = now;
		r = MODEL_TICK;
	}
	if (r >= 0)
		m->updated = now;
	json_decref(j);
	return r;
}

static int
answer_ok(json_t *a)
{
	return json_is_object(a) && json_is_true(json_object_get(a, "ok"));
}

/* The status answer, as it came; the model takes a reference. */
int
model_set_status(struct web_model *m, json_t *answer, double now)
{
	if (!answer_ok(answer))
		return -EINVAL;
	json_incref(answer);
	json_decref(m->status);
	m->status = answer;
	m->updated = now;
	return 0;
}

int
model_set_alarms(struct web_model *m, json_t *answer, double now)
{
	json_t *a = json_object_get(answer, "alarms");

	if (!answer_ok(answer) || !json_is_array(a))
		return -EINVAL;
	json_incref(a);
	json_decref(m->alarms);
	m->alarms = a;
	m->updated = now;
	return 0;
}

/* The sensors, in snapshot order, each with its fault_since. */
json_t *
model_sensors(const struct web_model *m)
{
	json_t *out = json_array(), *id, *e, *c;
	size_t i;

	if (out == NULL)
		return NULL;
	json_array_foreach(m->order, i, id) {
		const char *sid = json_string_value(id);

		if ((e = json_object_get(m->sensors, sid)) == NULL ||
		    (c = json_copy(e)) == NULL)
			continue;
		if ((e = json_object_get(m->fault_since, sid)) != NULL)
			json_object_set(c, "fault_since", e);
		json_array_append_new(out, c);
	}
	return out;
}

/*
 * Everything the page draws, as one object: it is sent whole on every
 * change, so the page never has to merge (and never shows half of one).
 */
json_t *
model_picture(const struct web_model *m, double now)
{
	char t[48], u[48];
	json_t *p;

	iso_time(now, t, sizeof(t));
	iso_time(m->updated, u, sizeof(u));
	p = json_pack("{s:b, s:b, s:s, s:o, s:O, s:O, s:o, s:O}",
	    "up", m->up, "synced", m->synced, "now", t,
	    "updated", m->updated > 0 ? json_string(u) : json_null(),
	    "status", m->status ? m->status : json_null(),
	    "alarms", m->alarms ? m->alarms : json_null(),
	    "sensors", model_sensors(m),
	    "events", m->events);
	return p;
}
