/*
 * command.c - operator actions as JSON (ack, shelve, unshelve, oos): one
 * parser for the control socket and the MQTT command topics.
 *
 * Pure: a JSON object in, a struct hz_command or the reason it is refused
 * out.  Every field has one type and every number a range, checked before
 * any conversion, whoever sent it.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "alarm.h"

/*
 * A number from outside, range-checked before any conversion: a cast of
 * 1e300 to an integer is undefined behaviour, and a huge JSON integer is
 * not a real.  0, -EINVAL (not a number) or -ERANGE (outside [lo, hi]).
 */
int
cmd_number(const json_t *v, double lo, double hi, double *out)
{
	double d;

	if (json_is_integer(v))
		d = (double)json_integer_value(v);	/* defined for any value */
	else if (json_is_real(v))
		d = json_real_value(v);
	else
		return -EINVAL;
	if (!(d >= lo && d <= hi))
		return -ERANGE;
	*out = d;
	return 0;
}

static const char *
refuse(struct cmd_refusal *r, const char *code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return r->why;
}

/*
 * Parses the fields of `verb` from o into c.  The duration of a shelf is
 * "seconds" or "duration" (the spelling of the MQTT topics); `actor`, when
 * not NULL, is who answers for the action (the control client's Unix user,
 * a destination's command_actor) and wins over the payload's "actor".
 * Returns NULL, or why it is refused (with r->code: bad_request for a
 * wrong type, invalid for a value out of range, no_sensor/no_level for a
 * name no sensor can have).
 */
const char *
cmd_parse(const char *verb, const json_t *o, const char *actor,
    struct hz_command *c, struct cmd_refusal *r)
{
	const char *sensor, *level = NULL, *who = NULL, *reason = NULL, *key;
	json_t *secs = NULL, *dur = NULL, *on = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	snprintf(c->verb, sizeof(c->verb), "%s", verb);
	if (o == NULL || !json_is_object(o))
		return refuse(r, "bad_request", "the payload is not a JSON object");
	if (json_unpack((json_t *)o, "{s:s, s?s, s?s, s?s, s?o, s?o, s?o}",
	    "sensor", &sensor, "level", &level, "actor", &who, "reason", &reason,
	    "seconds", &secs, "duration", &dur, "on", &on) != 0)
		return refuse(r, "bad_request", "\"sensor\" must be a string, and "
		    "\"level\", \"actor\" and \"reason\" strings when given");
	snprintf(c->sensor, sizeof(c->sensor), "%s", sensor);
	if (strlen(sensor) >= sizeof(c->sensor))
		return refuse(r, "no_sensor", "no sensor with an id that long");
	if (level && strlen(level) >= sizeof(c->level))
		return refuse(r, "no_level", "no level with a name that long");
	snprintf(c->level, sizeof(c->level), "%s", level ? level : "");
	snprintf(c->actor, sizeof(c->actor), "%s", actor ? actor : who ? who : "");
	snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "");
	if (strcmp(verb, "shelve") == 0) {
		if (secs && dur)
			return refuse(r, "bad_request", "give the duration once, as "
			    "\"seconds\" or as \"duration\"");
		key = secs ? "seconds" : "duration";
		if (secs == NULL && (secs = dur) == NULL)
			return refuse(r, "invalid", "shelve needs \"seconds\" (or "
			    "\"duration\"): %g to %g", HZ_SHELVE_MIN_S, HZ_SHELVE_MAX_S);
		if ((rc = cmd_number(secs, HZ_SHELVE_MIN_S, HZ_SHELVE_MAX_S,
		    &c->seconds)) != 0)
			return rc == -EINVAL ?
			    refuse(r, "bad_request", "\"%s\" must be a number", key) :
			    refuse(r, "invalid", "\"%s\" must be from %g to %g seconds",
			    key, HZ_SHELVE_MIN_S, HZ_SHELVE_MAX_S);
	}
	if (strcmp(verb, "oos") == 0) {
		if (!json_is_boolean(on))
			return refuse(r, "bad_request", "oos needs \"on\": true or false");
		c->on = json_is_true(on);
	}
	return NULL;
}
