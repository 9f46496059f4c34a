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

/*
 * The documents are written straight into a buffer, the way jansson's
 * json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(10)) would write them
 * (tests/unit/test_event.c holds the two byte for byte to each other):
 * building a jansson tree and dumping it cost most of an event's CPU.
 */
void
jw_put(struct jw *w, const char *s, size_t n)
{
	str_put(&w->b, s, n);
}

void
jw_key(struct jw *w, const char *key)
{
	if (w->items++)
		jw_put(w, ",", 1);
	jw_put(w, "\"", 1);
	jw_put(w, key, strlen(key));
	jw_put(w, "\":", 2);
}

/* A string value, escaped as JSON wants: quote, backslash, controls. */
void
jw_strval(struct jw *w, const char *s)
{
	const char *run = s;
	char esc[8];

	jw_put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e = NULL;

		if (c == '"')
			e = "\\\"";
		else if (c == '\\')
			e = "\\\\";
		else if (c < 0x20) {
			switch (c) {
			case '\b': e = "\\b"; break;
			case '\f': e = "\\f"; break;
			case '\n': e = "\\n"; break;
			case '\r': e = "\\r"; break;
			case '\t': e = "\\t"; break;
			default:
				snprintf(esc, sizeof(esc), "\\u%04X", c);
				e = esc;
			}
		} else
			continue;
		jw_put(w, run, (size_t)(s - run));
		jw_put(w, e, strlen(e));
		run = s + 1;
	}
	jw_put(w, run, (size_t)(s - run));
	jw_put(w, "\"", 1);
}

void
jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s)
		jw_strval(w, s);
	else
		jw_put(w, "null", 4);
}

void
jw_raw(struct jw *w, const char *key, const char *text)
{
	jw_key(w, key);
	jw_put(w, text, strlen(text));
}

static void
jw_int(struct jw *w, const char *key, long long v)
{
	char n[24];

	snprintf(n, sizeof(n), "%lld", v);
	jw_raw(w, key, n);
}

/* A real as jansson writes it: %.10g, always with '.' or 'e', no "e+0". */
void
jw_num(struct jw *w, const char *key, double v)
{
	char n[40], *e, *from;

	if (!isfinite(v)) {
		jw_raw(w, key, "null");
		return;
	}
	snprintf(n, sizeof(n), "%.10g", v);
	if (strchr(n, '.') == NULL && strchr(n, 'e') == NULL)
		strcat(n, ".0");
	if ((e = strchr(n, 'e')) != NULL) {
		e++;
		if (*e == '+')
			memmove(e, e + 1, strlen(e));
		else if (*e == '-')
			e++;
		for (from = e; *from == '0' && from[1]; from++)
			;
		memmove(e, from, strlen(from) + 1);
	}
	jw_raw(w, key, n);
}

static void
jw_ts(struct jw *w, const char *key, int64_t ms)
{
	char ts[32];

	if (ms == 0) {
		jw_raw(w, key, "null");
		return;
	}
	format_ts(ms, ts, sizeof(ts));
	jw_str(w, key, ts);
}

static void
jw_error(struct jw *w, int err, const char *reason)
{
	char text[128];
	int code = event_error(err, reason, text, sizeof(text));

	jw_str(w, "error", text[0] ? text : NULL);
	if (code)
		jw_int(w, "exception", code);
	else
		jw_raw(w, "exception", "null");
}

char *
event_json(const char *site, const char *cat, const struct hz_event *e)
{
	return event_seal(event_obj(site, cat, e), site, e->seq);
}

/*
 * An event's document without its seq and id (batch.c numbers a batch's
 * events only once it has put them in order): the members after them,
 * without the braces.  event_seal puts it together and frees it.
 */
char *
event_obj(const char *site, const char *cat, const struct hz_event *e)
{
	struct jw w = { 0 };
	char ts[32];

	w.items = 1;		/* seq and id come first */
	format_ts(e->ts_ms, ts, sizeof(ts));
	jw_str(&w, "ts", ts);
	jw_str(&w, "site", site);
	jw_str(&w, "sensor", e->sensor);
	jw_str(&w, "kind", e->kind);
	jw_str(&w, "event", e->event);
	jw_str(&w, "level", e->level);
	jw_str(&w, "priority", e->priority);
	jw_num(&w, "value", e->value);
	jw_str(&w, "unit", e->unit);
	jw_num(&w, "setpoint", e->setpoint);
	if (e->actor)
		jw_str(&w, "actor", e->actor);
	if (e->reason)
		jw_str(&w, "reason", e->reason);
	if (e->until_ms)
		jw_ts(&w, "until", e->until_ms);
	if (strcmp(e->kind, "fault") == 0)
		jw_error(&w, e->err, e->level);
	if (cat)		/* the catalogue in force; kept in the ledger */
		jw_str(&w, "catalogue", cat);
	jw_raw(&w, "replayed", "false");
	return w.b.s;
}

char *
event_seal(char *rest, const char *site, int64_t seq)
{
	struct jw w = { 0 };
	char id[HZ_ID_MAX + 24];

	if (rest == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%s-%lld", site, (long long)seq);
	jw_put(&w, "{", 1);
	jw_int(&w, "seq", seq);
	jw_str(&w, "id", id);
	jw_put(&w, rest, strlen(rest));
	jw_put(&w, "}", 1);
	free(rest);
	return w.b.s;
}

char *
state_json(const char *site, const char *cat, const struct hz_state_view *v)
{
	struct jw w = { 0 };

	jw_put(&w, "{", 1);
	jw_str(&w, "site", site);
	jw_str(&w, "sensor", v->sensor);
	jw_num(&w, "value", view_value(v));
	jw_str(&w, "unit", v->unit);
	jw_str(&w, "quality", view_quality(v));
	jw_str(&w, "fault", view_fault(v));
	jw_error(&w, v->err, view_fault(v));
	jw_raw(&w, "device_alarm", v->ts_ms && (v->r->flags &
	    HAZMON_F_DEVICE_ALARM) ? "true" : "false");
	jw_str(&w, "alarm", v->alarm);
	jw_str(&w, "alarm_state", v->alarm_state);
	jw_int(&w, "unacknowledged", v->unacknowledged);
	jw_ts(&w, "shelved_until", v->shelved_until);
	jw_ts(&w, "ts", v->ts_ms);	/* null: stale, never read */
	if (cat)
		jw_str(&w, "catalogue", cat);
	jw_put(&w, "}", 1);
	return w.b.s;
}
