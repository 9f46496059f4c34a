/*
 * common.c - config and decoding helpers shared by the built-in plugins.
 *
 * Field data is untrusted: every value is decoded through the host, which
 * refuses a slice that does not cover it, and every number is checked for
 * NaN/Inf before it is compared with anything.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

void *
common__alloc(const struct hazmon_host *h, struct hazmon_cfg *g, size_t size)
{
	void *p = calloc(1, size);

	if (p == NULL)
		h->error(g, NULL, "out of memory");
	return p;
}

/* An empty unit is allowed only where the default is empty (generic). */
int
common__unit(const struct hazmon_host *h, struct hazmon_cfg *g, const char *def,
    struct hazmon_sensor_setup *su)
{
	const char *unit = def;

	switch (h->get_string(g, "unit", &unit)) {
	case -1:
		return -1;
	case 0:
		if (strlen(unit) >= sizeof(su->unit) ||
		    (unit[0] == '\0' && def[0] != '\0')) {
			h->error(g, "unit", "must be 1-%zu characters",
			    sizeof(su->unit) - 1);
			return -1;
		}
	}
	snprintf(su->unit, sizeof(su->unit), "%s", unit);
	return 0;
}

int
common__min_max(const struct hazmon_host *h, struct hazmon_cfg *g, double *lo,
    double *hi)
{
	int rc = 0;

	*lo = *hi = NAN;
	if (h->get_number(g, "min", lo) < 0)
		rc = -1;
	if (h->get_number(g, "max", hi) < 0)
		rc = -1;
	if (rc == 0 && !isnan(*lo) && !isnan(*hi) && *lo >= *hi) {
		h->error(g, "max", "must be above min (%g)", *lo);
		rc = -1;
	}
	return rc;
}

int
common__need(const struct hazmon_host *h, struct hazmon_sensor_setup *su,
    const struct hazmon_register *r)
{
	unsigned i = su->n_needs;

	/*
	 * One block too many is a plugin bug; declaring it makes the core
	 * reject the sensor with a message, and index 0 keeps decode() safe.
	 */
	if (i >= HAZMON_MAX_NEEDS) {
		su->n_needs = HAZMON_MAX_NEEDS + 1;
		return 0;
	}
	su->needs[i] = (struct hazmon_need){ r->table, r->address,
	    (uint16_t)h->register_words(r) };
	su->n_needs++;
	return (int)i;
}

int
common__code_check(const struct hazmon_host *h, struct hazmon_cfg *g,
    const char *key, const struct hazmon_register *r)
{
	switch (r->type) {
	case HAZMON_TYPE_INT16: case HAZMON_TYPE_UINT16:
	case HAZMON_TYPE_INT32: case HAZMON_TYPE_UINT32:
		break;
	default:
		h->error(g, key, "must be a register of type int16, uint16, "
		    "int32 or uint32 (it holds a code)");
		return -1;
	}
	if (r->scale != 1.0 || r->offset != 0.0) {
		h->error(g, key, "holds a code: scale and offset do not apply");
		return -1;
	}
	return 0;
}

int
common__code_register(const struct hazmon_host *h, struct hazmon_cfg *g,
    const char *key, struct hazmon_register *r)
{
	int rc = h->get_register(g, key, r);

	if (rc == 0 && common__code_check(h, g, key, r) != 0)
		rc = -1;
	return rc;
}

int
common__mask(const struct hazmon_host *h, struct hazmon_cfg *g, const char *key,
    const struct hazmon_register *r, const char *rkey, uint32_t *mask)
{
	long long v = 0, max;

	*mask = 0;
	switch (h->get_int(g, key, &v)) {
	case 1:
		return 0;
	case -1:
		return -1;
	}
	if (r == NULL) {
		h->error(g, key, "needs '%s' to be a register", rkey);
		return -1;
	}
	max = h->register_words(r) == 1 ? 0xFFFFLL : 0xFFFFFFFFLL;
	if (v < 0 || v > max) {
		h->error(g, key, "%lld does not fit the %u-bit '%s' register", v,
		    h->register_words(r) * 16, rkey);
		return -1;
	}
	*mask = (uint32_t)v;
	return 0;
}

int
common__code(const struct hazmon_host *h, const struct hazmon_register *r,
    const struct hazmon_slice *s, uint32_t *out)
{
	uint32_t width = h->register_words(r) == 1 ? 0xFFFFu : 0xFFFFFFFFu;
	double v;

	if (h->decode(r, r->address, s, &v) != 0 || !isfinite(v))
		return -1;
	/* Signed types give negative numbers; the bits are what matter. */
	*out = (uint32_t)(int64_t)v & width;
	return 0;
}

int
common__raw(const struct hazmon_host *h, const struct hazmon_register *r,
    const struct hazmon_slice *s, double *out)
{
	struct hazmon_register raw = *r;

	raw.scale = 1.0;
	raw.offset = 0.0;
	return h->decode(&raw, raw.address, s, out);
}

void
common__fault(struct hazmon_reading *out, uint32_t flag)
{
	out->quality = HAZMON_Q_FAULT;
	out->flags |= flag;
}

void
common__service(struct hazmon_reading *out, uint32_t flag)
{
	out->flags |= flag;
	if (out->quality == HAZMON_Q_OK)
		out->quality = HAZMON_Q_OUT_OF_SERVICE;
}

void
common__limit(struct hazmon_reading *out, double v, double lo, double hi)
{
	if (!isnan(hi) && v > hi)
		common__fault(out, HAZMON_F_OVER_RANGE);
	else if (!isnan(lo) && v < lo)
		common__fault(out, HAZMON_F_UNDER_RANGE);
}

int
common__scalar_configure(const struct hazmon_host *h, struct hazmon_cfg *g,
    struct hazmon_sensor_setup *su, struct common_scalar *sc, const char *plugin,
    const char *def_unit, int allow_bit)
{
	int rc = h->get_register(g, "register", &sc->reg);

	if (rc == 1)
		h->error(g, NULL, "%s sensor needs 'register = { table = \"holding\"; "
		    "address = 0; }'", plugin);
	else if (rc == 0 && !allow_bit && sc->reg.type == HAZMON_TYPE_BIT) {
		h->error(g, "register", "a %s reading cannot be a bit", plugin);
		rc = -1;
	}
	if (common__unit(h, g, def_unit, su) != 0)
		rc = -1;
	if (common__min_max(h, g, &sc->lo, &sc->hi) != 0)
		rc = -1;
	if (rc != 0)
		return -1;
	sc->slice = common__need(h, su, &sc->reg);
	su->range_low = sc->lo;		/* ABI 1.3: for the catalogue */
	su->range_high = sc->hi;
	return 0;
}

void
common__scalar_decode(const struct hazmon_host *h, const struct common_scalar *sc,
    const struct hazmon_slice *sl, const double *sentinels, unsigned n,
    struct hazmon_reading *out)
{
	double raw, v;

	out->value = NAN;
	if (common__raw(h, &sc->reg, &sl[sc->slice], &raw) != 0 || !isfinite(raw)) {
		common__fault(out, HAZMON_F_BAD_VALUE);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (raw == sentinels[i]) {
			common__fault(out, HAZMON_F_BAD_VALUE);
			return;
		}
	v = raw * sc->reg.scale + sc->reg.offset;
	if (!isfinite(v)) {		/* a huge float64 times the scale */
		common__fault(out, HAZMON_F_BAD_VALUE);
		return;
	}
	out->value = v;
	common__limit(out, v, sc->lo, sc->hi);
}

void
common__describe(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

void
common__describe_register(char *buf, size_t len, const char *what,
    const struct hazmon_register *r)
{
	static const char *const tables[] = { "coil", "discrete", "holding",
	    "input" };
	static const char *const types[] = { "int16", "uint16", "int32",
	    "uint32", "float32", "int64", "uint64", "float64", "bit" };
	static const char *const orders[] = { "ABCD", "CDAB", "BADC", "DCBA" };

	common__describe(buf, len, "%s %s %u %s", what,
	    (unsigned)r->table < 4 ? tables[r->table] : "?", r->address,
	    (unsigned)r->type < 9 ? types[r->type] : "?");
	if (r->type != HAZMON_TYPE_BIT)
		common__describe(buf, len, " %s scale %g offset %g",
		    (unsigned)r->order < 4 ? orders[r->order] : "?", r->scale,
		    r->offset);
	common__describe(buf, len, "\n");
}
