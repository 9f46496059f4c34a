/*
 * fuzz_command.c - an operator action's JSON as the control socket and the
 * MQTT command topics receive it (daemon/alarm/command.c, cmd_parse).
 *
 * Input: byte 0 picks the verb (bits 0-1) and whether a fixed actor (the
 * control client's user, a destination's command_actor) answers for it
 * (bit 2); the rest is the payload.  What must hold: a refusal has one of
 * the documented codes and a reason; an accepted action has NUL-terminated
 * fields, a shelf within 1 s .. 24 h, and the fixed actor when one was
 * given.
 */
#include "config.h"

#include <string.h>
#include <jansson.h>

#include "fuzz.h"

static void
terminated(const char *field, const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		fz_fail("%s is not NUL-terminated", field);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const verbs[] = { "ack", "shelve", "unshelve", "oos" };
	static const char *const codes[] = { "bad_request", "invalid",
	    "no_sensor", "no_level" };
	static int inited;
	struct hz_command c;
	struct cmd_refusal r = { 0 };
	const char *verb, *actor, *why;
	json_t *o;
	size_t k;

	if (!inited++)
		fz_init(0);
	if (size < 1)
		return 0;
	verb = verbs[data[0] & 3];
	actor = data[0] & 4 ? "root" : NULL;
	o = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, NULL);
	why = cmd_parse(verb, o, actor, &c, &r);
	json_decref(o);
	if (why != NULL) {
		for (k = 0; k < sizeof(codes) / sizeof(codes[0]); k++)
			if (r.code && strcmp(r.code, codes[k]) == 0)
				break;
		if (k == sizeof(codes) / sizeof(codes[0]) || why[0] == '\0')
			fz_fail("a refusal without a documented code or a reason");
		terminated("the reason", r.why, sizeof(r.why));
		return 0;
	}
	terminated("verb", c.verb, sizeof(c.verb));
	terminated("sensor", c.sensor, sizeof(c.sensor));
	terminated("level", c.level, sizeof(c.level));
	terminated("actor", c.actor, sizeof(c.actor));
	terminated("reason", c.reason, sizeof(c.reason));
	if (strcmp(c.verb, verb) != 0)
		fz_fail("verb %s became %s", verb, c.verb);
	if (strcmp(verb, "shelve") == 0 &&
	    !(c.seconds >= HZ_SHELVE_MIN_S && c.seconds <= HZ_SHELVE_MAX_S))
		fz_fail("a shelf of %g s was accepted", c.seconds);
	if (actor && strcmp(c.actor, actor) != 0)
		fz_fail("the payload's actor won over the fixed one");
	return 0;
}
