/*
 * temperature.c - temperature transmitter plugin.
 *
 * Settings (in the sensor's group; docs/plugins.md has the details):
 *   register      = { ... }  any numeric type, with scale and offset
 *   unit          = "degC"   the default
 *   open_circuit  = 0x7FFF   raw values the device sends for a broken or
 *   short_circuit = 0x8000   shorted probe (optional)
 *   sentinels     = [ ... ]  more such raw values, up to 8 (optional)
 *   min, max                 measuring range (optional)
 *
 * Sentinels are compared with the raw value, before scale and offset,
 * because that is how device manuals give them.  A sentinel, NaN or Inf
 * is a bad_value fault with no value; outside min..max is an under- or
 * over-range fault.  There are no default alarm levels: what is too hot
 * depends on what is measured.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "common.h"

static const char *const sentinel_keys[] = { "open_circuit", "short_circuit" };
#define N_NAMED (sizeof(sentinel_keys) / sizeof(sentinel_keys[0]))
#define N_LISTED 8			/* sentinels = [ ... ] */

struct temperature {
	struct common_scalar sc;
	double sentinels[N_NAMED + N_LISTED];
	unsigned n_sentinels;
};

/*
 * The raw value a sentinel becomes for the register's type: manuals write
 * the bit pattern, so 0x8000 in an int16 register is -32768 and -1 in a
 * uint16 one is 65535; a float32 sentinel is rounded to float.
 */
static int
raw_fit(enum hazmon_type t, double v, double *out)
{
	double span, lo, hi;
	int is_signed = 0;

	switch (t) {
	case HAZMON_TYPE_FLOAT32:
		*out = (float)v;
		return fabs(v) <= FLT_MAX ? 0 : -1;
	case HAZMON_TYPE_FLOAT64:
		*out = v;
		return 0;
	case HAZMON_TYPE_INT16:
		is_signed = 1;
		/* FALLTHROUGH */
	case HAZMON_TYPE_UINT16:
		span = 65536.0;
		break;
	case HAZMON_TYPE_INT32:
		is_signed = 1;
		/* FALLTHROUGH */
	case HAZMON_TYPE_UINT32:
		span = 4294967296.0;
		break;
	case HAZMON_TYPE_INT64:
		is_signed = 1;
		/* FALLTHROUGH */
	default:
		span = 18446744073709551616.0;
	}
	if (v != floor(v))
		return -1;
	lo = is_signed ? -span / 2 : 0;
	hi = lo + span - 1;
	if (is_signed && v > hi && v < span)
		v -= span;
	else if (!is_signed && v < 0 && v >= -span / 2)
		v += span;
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* rc: the register's own result; a sentinel is only checked against a good one. */
static int
add_sentinel(const struct hazmon_host *h, struct hazmon_cfg *g, const char *key,
    struct temperature *t, double v, int rc)
{
	double raw = 0;

	if (rc == 0 && raw_fit(t->sc.reg.type, v, &raw) != 0) {
		h->error(g, key, "%g is not a value the register's type can hold", v);
		return -1;
	}
	t->sentinels[t->n_sentinels++] = raw;
	return 0;
}

static int
temperature_configure(const struct hazmon_host *h, struct hazmon_cfg *g,
    struct hazmon_sensor_setup *su)
{
	struct temperature *t;
	double list[N_LISTED];
	unsigned n = 0;
	int rc;

	if ((t = common__alloc(h, g, sizeof(*t))) == NULL)
		return -1;
	rc = common__scalar_configure(h, g, su, &t->sc, "temperature", "degC", 0);
	for (size_t i = 0; i < N_NAMED; i++) {
		double v;

		switch (h->get_number(g, sentinel_keys[i], &v)) {
		case 0:
			if (add_sentinel(h, g, sentinel_keys[i], t, v, rc) != 0)
				rc = -1;
			break;
		case -1:
			rc = -1;
		}
	}
	if (h->get_numbers(g, "sentinels", list, N_LISTED, &n) < 0)
		rc = -1;
	for (unsigned i = 0; i < n; i++)
		if (add_sentinel(h, g, "sentinels", t, list[i], rc) != 0)
			rc = -1;
	if (rc != 0) {
		free(t);
		return -1;
	}
	su->ctx = t;
	return 0;
}

static void
temperature_decode(const struct hazmon_host *h, const void *ctx,
    const struct hazmon_slice *sl, struct hazmon_reading *out)
{
	const struct temperature *t = ctx;

	common__scalar_decode(h, &t->sc, sl, t->sentinels, t->n_sentinels, out);
}

COMMON_PLUGIN(temperature_plugin, "temperature", "1.0", temperature_configure,
    temperature_decode, NULL)
