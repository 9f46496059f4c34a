/*
 * example-plugin.c - a hazmond plugin for the (imaginary) ACME GD-4 toxic
 * gas detector.  Holding register N holds the concentration in 0.1 ppm,
 * register N+1 a status word: bit 0 = fault, bit 1 = warming up.
 *
 * Build against the installed header only:
 *   cc -std=c11 -fPIC -shared $(pkg-config --cflags hazmon-plugin) \
 *       -o acme-gd4.so example-plugin.c
 * Use:
 *   { id = "h2s-1"; plugin = "acme-gd4"; bus = "line1"; slave = 4;
 *     address = 100; range = 50.0; }
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <hazmon-plugin.h>

struct gd4 {
	struct hazmon_register conc, status;
	double range;			/* full scale, ppm */
};

static int
gd4_configure(const struct hazmon_host *h, struct hazmon_cfg *g,
    struct hazmon_sensor_setup *su)
{
	long long addr = 0;		/* defaults first: absent keys leave them */
	double range = 100.0;
	struct gd4 *d;
	int rc = 0;

	/* Read every key even after an error, so all errors are reported. */
	if (h->get_int(g, "address", &addr) < 0)
		rc = -1;		/* wrong type: the core said so */
	else if (addr < 0 || addr > 65534) {
		h->error(g, "address", "%lld is outside 0..65534", addr);
		rc = -1;
	}
	if (h->get_number(g, "range", &range) < 0)
		rc = -1;
	else if (range <= 0) {
		h->error(g, "range", "must be above 0");
		rc = -1;
	}
	if (rc != 0)
		return -1;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		h->error(g, NULL, "out of memory");
		return -1;
	}
	d->conc = (struct hazmon_register){ .table = HAZMON_TABLE_HOLDING,
	    .address = (uint16_t)addr, .type = HAZMON_TYPE_UINT16,
	    .order = HAZMON_ORDER_ABCD, .scale = 0.1 };
	d->status = d->conc;
	d->status.address++;
	d->status.scale = 1.0;
	d->range = range;
	/* One block of two registers; the core reads it, we never do I/O. */
	su->needs[0] = (struct hazmon_need){ HAZMON_TABLE_HOLDING, d->conc.address, 2 };
	su->n_needs = 1;
	snprintf(su->unit, sizeof(su->unit), "ppm");
	/* A default level, used only when the config sets no `levels`. */
	snprintf(su->defaults[0].name, HAZMON_LEVEL_NAME_MAX, "high");
	snprintf(su->defaults[0].priority, HAZMON_PRIORITY_MAX, "high");
	su->defaults[0].dir = HAZMON_ABOVE;
	su->defaults[0].setpoint = 10.0;
	su->defaults[0].deadband = 0.5;
	su->n_defaults = 1;
	su->ctx = d;
	return 0;
}

static void
gd4_decode(const struct hazmon_host *h, const void *ctx,
    const struct hazmon_slice *sl, struct hazmon_reading *out)
{
	const struct gd4 *d = ctx;
	double ppm, st;

	out->value = NAN;
	/* h->decode refuses what the slice does not cover: never index it yourself. */
	if (h->decode(&d->conc, d->conc.address, &sl[0], &ppm) != 0 ||
	    h->decode(&d->status, d->conc.address, &sl[0], &st) != 0) {
		out->quality = HAZMON_Q_FAULT;
		out->flags |= HAZMON_F_BAD_VALUE;
		return;
	}
	out->value = ppm;
	if ((unsigned)st & 0x1) {
		out->quality = HAZMON_Q_FAULT;
		out->flags |= HAZMON_F_DEVICE_FAULT;
	} else if ((unsigned)st & 0x2) {
		out->quality = HAZMON_Q_OUT_OF_SERVICE;	/* not an alarm */
		out->flags |= HAZMON_F_WARMUP;
	}
	if (ppm > d->range) {
		out->quality = HAZMON_Q_FAULT;
		out->flags |= HAZMON_F_OVER_RANGE;
	}
}

static const struct hazmon_plugin gd4_plugin = {
	.abi = HAZMON_PLUGIN_ABI,
	.struct_size = sizeof(struct hazmon_plugin),
	.name = "acme-gd4",
	.version = "1.0",
	.configure = gd4_configure,
	.decode = gd4_decode,
	.free_ctx = free,		/* the core owns ctx and frees it */
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
	return &gd4_plugin;
}
