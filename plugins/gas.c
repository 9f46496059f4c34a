/*
 * gas.c - gas detector plugin: one concentration channel.
 *
 * Settings (in the sensor's group):
 *   register = { table; address; type; order; scale; offset; }   required
 *   unit     = "%LEL"        engineering unit (default "%LEL")
 *   range    = 100.0         full scale; above it the reading is an
 *                            over-range fault, not a value (optional)
 *
 * A NaN or infinite value is a fault (bad_value), never a number.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hazmon-plugin.h"

struct gas {
	struct hazmon_register reg;
	double range;		/* NaN: no range check */
};

static int
gas_configure(const struct hazmon_host *h, struct hazmon_cfg *g,
    struct hazmon_sensor_setup *su)
{
	struct gas *gs;
	const char *unit = "%LEL";
	int rc;

	gs = calloc(1, sizeof(*gs));
	if (gs == NULL) {
		h->error(g, NULL, "out of memory");
		return -1;
	}
	gs->range = NAN;
	rc = h->get_register(g, "register", &gs->reg);
	if (rc == 1)
		h->error(g, NULL, "gas sensor needs 'register = { table = \"holding\"; "
		    "address = 0; type = \"float32\"; };'");
	if (rc == 0 && gs->reg.type == HAZMON_TYPE_BIT) {
		h->error(g, "register", "a gas concentration cannot be a bit");
		rc = -1;
	}
	switch (h->get_string(g, "unit", &unit)) {
	case 0:
		if (unit[0] != '\0' && strlen(unit) < sizeof(su->unit))
			break;
		h->error(g, "unit", "must be 1-%zu characters", sizeof(su->unit) - 1);
		/* FALLTHROUGH */
	case -1:
		rc = -1;
	}
	switch (h->get_number(g, "range", &gs->range)) {
	case 0:
		if (gs->range > 0)
			break;
		h->error(g, "range", "full scale must be above 0");
		/* FALLTHROUGH */
	case -1:
		rc = -1;
	}
	if (rc != 0) {
		free(gs);
		return -1;
	}
	snprintf(su->unit, sizeof(su->unit), "%s", unit);
	su->needs[0] = (struct hazmon_need){ gs->reg.table, gs->reg.address,
	    (uint16_t)h->register_words(&gs->reg) };
	su->n_needs = 1;
	su->ctx = gs;
	return 0;
}

static void
gas_decode(const struct hazmon_host *h, const void *ctx,
    const struct hazmon_slice *sl, struct hazmon_reading *out)
{
	const struct gas *gs = ctx;
	double v;

	if (h->decode(&gs->reg, gs->reg.address, &sl[0], &v) != 0 || !isfinite(v)) {
		out->value = NAN;
		out->quality = HAZMON_Q_FAULT;
		out->flags |= HAZMON_F_BAD_VALUE;
		return;
	}
	out->value = v;
	if (!isnan(gs->range) && v > gs->range) {
		out->quality = HAZMON_Q_FAULT;
		out->flags |= HAZMON_F_OVER_RANGE;
	}
}

static const struct hazmon_plugin gas_plugin = {
	.abi = HAZMON_PLUGIN_ABI,
	.struct_size = sizeof(struct hazmon_plugin),
	.name = "gas",
	.version = "1.0",
	.configure = gas_configure,
	.decode = gas_decode,
	.free_ctx = free,
};

HAZMON_EXPORT uint32_t hazmon_plugin_abi(void);
HAZMON_EXPORT const struct hazmon_plugin *hazmon_plugin_describe(void);

uint32_t
hazmon_plugin_abi(void)
{
	return HAZMON_PLUGIN_ABI;
}

const struct hazmon_plugin *
hazmon_plugin_describe(void)
{
	return &gas_plugin;
}
