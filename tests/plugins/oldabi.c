/*
 * A plugin of ABI 1.2, built as one was before 1.3: it knows nothing of
 * gas or range.  The host must load it as before and leave both unknown.
 */
#include <stdint.h>
#include <stdio.h>

#include "hazmon-plugin.h"

#define OLD_ABI	((uint32_t)1 << 16 | 2)

static int
old_configure(const struct hazmon_host *h, struct hazmon_cfg *g,
    struct hazmon_sensor_setup *su)
{
	struct hazmon_register r;

	if (h->get_register(g, "register", &r) != 0)
		return -1;
	su->needs[0].table = r.table;
	su->needs[0].address = r.address;
	su->needs[0].count = 1;
	su->n_needs = 1;
	snprintf(su->unit, sizeof(su->unit), "ppm");
	return 0;
}

static void
old_decode(const struct hazmon_host *h, const void *ctx,
    const struct hazmon_slice *s, struct hazmon_reading *out)
{
	(void)h;
	(void)ctx;
	out->value = s[0].regs[0];
	out->quality = HAZMON_Q_OK;
}

static const struct hazmon_plugin old_plugin = {
	.abi = OLD_ABI,
	.struct_size = sizeof(struct hazmon_plugin),
	.name = "oldabi",
	.version = "1.2",
	.configure = old_configure,
	.decode = old_decode,
};

HAZMON_EXPORT uint32_t hazmon_plugin_abi(void);
HAZMON_EXPORT const struct hazmon_plugin *hazmon_plugin_describe(void);

uint32_t
hazmon_plugin_abi(void)
{
	return OLD_ABI;
}

const struct hazmon_plugin *
hazmon_plugin_describe(void)
{
	return &old_plugin;
}
