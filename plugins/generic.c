/*
 * generic.c - one register or bit, for devices without a dedicated plugin.
 *
 * Settings (in the sensor's group; docs/plugins.md has the details):
 *   register = { table; address; type; order; scale; offset; }  required;
 *              a coil or discrete input reads as 0 or 1
 *   unit     = ""      engineering unit (default: none)
 *   min, max           measuring range (optional)
 *
 * NaN or Inf is a bad_value fault with no value; outside min..max is an
 * under- or over-range fault that keeps the value.  There are no default
 * alarm levels: only the config knows what the number means.
 */
#include <stdlib.h>

#include "common.h"

static int
generic_configure(const struct hazmon_host *h, struct hazmon_cfg *g,
    struct hazmon_sensor_setup *su)
{
	struct common_scalar *sc;

	if ((sc = common__alloc(h, g, sizeof(*sc))) == NULL)
		return -1;
	if (common__scalar_configure(h, g, su, sc, "generic", "", 1) != 0) {
		free(sc);
		return -1;
	}
	su->ctx = sc;
	return 0;
}

static void
generic_decode(const struct hazmon_host *h, const void *ctx,
    const struct hazmon_slice *sl, struct hazmon_reading *out)
{
	common__scalar_decode(h, ctx, sl, NULL, 0, out);
}

COMMON_PLUGIN(generic_plugin, "generic", "1.0", generic_configure,
    generic_decode, NULL)
