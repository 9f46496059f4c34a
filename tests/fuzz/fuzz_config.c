/*
 * fuzz_config.c - a whole hazmond.conf from bytes, the way hazmond -t
 * reads one: config_load() parses it, loads the plugins the sensors name,
 * lets each plugin parse its settings through the host API, and validates
 * the whole.  Either it is refused with at least one error message, or
 * what it returns holds everything the rest of the daemon relies on.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init(1);
	return 0;
}

static void
check_level(const struct hz_sensor *s, const struct hazmon_level *lv)
{
	static const char *const prios[] = { "low", "medium", "high", "urgent" };
	int ok = 0;

	for (size_t i = 0; i < sizeof(prios) / sizeof(prios[0]); i++)
		ok |= strcmp(lv->priority, prios[i]) == 0;
	if (!ok || lv->name[0] == '\0')
		fz_fail("sensor %s: level without a name or priority", s->id);
	/* A set point that compares false with everything never alarms. */
	if (!isfinite(lv->setpoint) || !isfinite(lv->deadband) ||
	    !(lv->deadband >= 0) || !isfinite(lv->on_delay) ||
	    !isfinite(lv->off_delay))
		fz_fail("sensor %s level %s: set point %g deadband %g delays "
		    "%g/%g", s->id, lv->name, lv->setpoint, lv->deadband,
		    lv->on_delay, lv->off_delay);
}

/* What hz_config promises once config_load accepted it. */
static void
check_config(const struct hz_config *c)
{
	if (c->site_id[0] == '\0' || c->plugin_dir == NULL ||
	    c->state_dir == NULL || c->control_socket == NULL || c->fp == NULL)
		fz_fail("site or daemon settings missing");
	if (c->n_sensors == 0 || c->n_buses == 0)
		fz_fail("accepted without sensors or buses");
	for (unsigned i = 0; i < c->n_sensors; i++) {
		const struct hz_sensor *s = &c->sensors[i];
		const struct hz_bus *b;

		if (s->bus >= c->n_buses || s->plugin == NULL || s->fp == NULL)
			fz_fail("sensor %u: no bus or plugin", i);
		b = &c->buses[s->bus];
		if (s->slave < 1 || s->slave > (b->type == HZ_BUS_RTU ? 247 : 255))
			fz_fail("sensor %s: slave %d", s->id, s->slave);
		if (s->setup.n_needs < 1 || s->setup.n_needs > HAZMON_MAX_NEEDS)
			fz_fail("sensor %s: %u needs", s->id, s->setup.n_needs);
		for (unsigned k = 0; k < s->setup.n_needs; k++) {
			const struct hazmon_need *n = &s->setup.needs[k];
			int bits = n->table == HAZMON_TABLE_COIL ||
			    n->table == HAZMON_TABLE_DISCRETE;

			if ((unsigned)n->table > HAZMON_TABLE_INPUT || n->count == 0 ||
			    n->count > (bits ? b->plan.max_bits : b->plan.max_regs) ||
			    (unsigned)n->address + n->count > 65536)
				fz_fail("sensor %s: need %u out of range", s->id, k);
		}
		if (!(s->interval > 0))
			fz_fail("sensor %s: interval %g", s->id, s->interval);
		for (unsigned k = 0; k < s->n_levels; k++)
			check_level(s, &s->levels[k]);
	}
	for (unsigned i = 0; i < c->n_buses; i++) {
		const struct hz_bus *b = &c->buses[i];

		if (b->plan.max_regs < 1 || b->plan.max_regs > 125 ||
		    b->plan.max_bits < 1 || b->plan.max_bits > 2000)
			fz_fail("bus %s: request limits %u/%u", b->name,
			    b->plan.max_regs, b->plan.max_bits);
		if (b->type == HZ_BUS_TCP ? b->host == NULL : b->device == NULL)
			fz_fail("bus %s: no endpoint", b->name);
	}
	for (unsigned i = 0; i < c->n_dests; i++)
		if (c->dests[i].host == NULL || c->dests[i].prefix == NULL)
			fz_fail("mqtt %s: no host or prefix", c->dests[i].name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hz_config *c;
	char *msgs, path[128];
	int errors = -1;

	snprintf(path, sizeof(path), "%s/hazmond.conf", fz_scratch_begin());
	fz_write_file(path, data, size);
	fz_log_begin();
	c = config_load(path, fz_plugin_dir(), &errors);
	if (c != NULL) {
		if (errors != 0)
			fz_fail("accepted with %d errors", errors);
		check_config(c);
		config_dump(c);		/* hazmond -t -v */
		config_free(c);
	}
	msgs = fz_log_end();
	fz_scratch_end();
	if (c == NULL && (errors <= 0 || msgs == NULL))
		fz_fail("refused with %d errors and %s", errors,
		    msgs ? "messages" : "no message");
	free(msgs);
	return 0;
}
