/*
 * gas.c - gas detector plugin: one concentration channel, with an optional
 * device status word, decimal-point register or 4-20 mA loop input.
 *
 * Settings (in the sensor's group; docs/plugins.md has the details):
 *   gas         = "CH4"     the gas; gives the unit and default levels
 *   register    = { ... }   the concentration, or instead:
 *   current     = { ... }   a 4-20 mA loop current, with
 *   current_unit = "mA"     or "uA"
 *   unit        = "%LEL"    default by the gas: %LEL, ppm, %VOL
 *   range       = 100.0     full scale: above it is an over-range fault
 *   drift_limit = -10.0     below it is an under-range fault (-10 % range)
 *   decimals    = { ... }   a register holding the decimal places, 0..6
 *   status      = { ... }   a device status word: its register keys and
 *                           fault_mask, alarm_mask, warmup_mask,
 *                           calibration_mask (ABI 1.1 get_group)
 *
 * A reading that cannot be trusted is a fault, never a value: NaN/Inf, a
 * bad decimal-point code, a loop current in the NAMUR NE43 failure bands,
 * a device fault bit.  Warm-up and calibration put the sensor out of
 * service; they are not alarms.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "gas-table.h"

/* Status bits and what each does to a reading. */
static const struct {
	const char *key;
	uint32_t flag;
} status_bits[] = {
	{ "fault_mask", HAZMON_F_DEVICE_FAULT },
	{ "alarm_mask", HAZMON_F_DEVICE_ALARM },
	{ "warmup_mask", HAZMON_F_WARMUP },
	{ "calibration_mask", HAZMON_F_CALIBRATION },
};
#define N_STATUS_BITS (sizeof(status_bits) / sizeof(status_bits[0]))

struct gas {
	struct hazmon_register reg;	/* concentration, or loop current */
	int slice;
	double ma_per_raw;		/* 0: reg is a concentration */
	double range;			/* full scale; NAN: none */
	double drift;			/* under-range below this; NAN: none */
	struct hazmon_register dec;
	int dec_slice;			/* -1: no decimal-point register */
	struct hazmon_register status;
	int status_slice;		/* -1: no status word */
	uint32_t masks[N_STATUS_BITS];
	double max_first, max_any;	/* the standard's maxima; NAN: none */
	int oxygen;			/* the standard's oxygen levels apply */
	const char *gas;		/* formula, or NULL */
	char unit[24];
};

/* Which register holds the reading: `register`, or `current` in mA or uA. */
static int
gas_channel(const struct hazmon_host *h, struct hazmon_cfg *g, struct gas *gs)
{
	struct hazmon_register cur;
	const char *cu = NULL;
	int r_reg = h->get_register(g, "register", &gs->reg);
	int r_cur = h->get_register(g, "current", &cur);
	int r_cu = h->get_string(g, "current_unit", &cu);

	if (r_reg == 1 && r_cur == 1) {
		h->error(g, NULL, "gas sensor needs 'register = { table = \"holding\"; "
		    "address = 0; }' (the concentration) or 'current = { ... }' "
		    "(a 4-20 mA loop)");
		return -1;
	}
	if (r_reg != 1 && r_cur != 1) {
		h->error(g, "current", "'register' and 'current' exclude each other");
		return -1;
	}
	if (r_reg < 0 || r_cur < 0 || r_cu < 0)
		return -1;
	if (r_cur == 0)
		gs->reg = cur;
	if (gs->reg.type == HAZMON_TYPE_BIT) {
		h->error(g, r_cur == 0 ? "current" : "register",
		    "a gas reading cannot be a bit");
		return -1;
	}
	if (r_cur == 1 && r_cu == 0) {
		h->error(g, "current_unit", "applies to 'current', which is not set");
		return -1;
	}
	if (r_cur == 1)
		return 0;
	if (r_cu == 1 || (strcmp(cu, "mA") != 0 && strcmp(cu, "uA") != 0)) {
		h->error(g, r_cu == 1 ? "current" : "current_unit",
		    "the loop current needs 'current_unit = \"mA\";' or \"uA\"");
		return -1;
	}
	gs->ma_per_raw = strcmp(cu, "mA") == 0 ? 1.0 : 0.001;
	return 0;
}

/* Measuring range, drift limit and decimal-point register. */
static int
gas_range(const struct hazmon_host *h, struct hazmon_cfg *g, struct gas *gs)
{
	int rc = 0, r_dec;

	switch (h->get_number(g, "range", &gs->range)) {
	case 0:
		if (gs->range > 0)
			break;
		h->error(g, "range", "full scale must be above 0");
		/* FALLTHROUGH */
	case -1:
		rc = -1;
	}
	if (gs->ma_per_raw > 0 && isnan(gs->range) && rc == 0) {
		h->error(g, "current", "a 4-20 mA input needs 'range' (the "
		    "concentration at 20 mA)");
		rc = -1;
	}
	if (!isnan(gs->range))
		gs->drift = -0.1 * gs->range;
	switch (h->get_number(g, "drift_limit", &gs->drift)) {
	case 0:
		if (gs->drift <= 0)
			break;
		h->error(g, "drift_limit", "must be 0 or below: readings under it "
		    "are an under-range fault");
		/* FALLTHROUGH */
	case -1:
		rc = -1;
	}
	r_dec = common__code_register(h, g, "decimals", &gs->dec);
	if (r_dec == 0 && gs->ma_per_raw > 0) {
		h->error(g, "decimals", "applies to 'register', not to 'current'");
		r_dec = -1;
	}
	if (r_dec < 0)
		rc = -1;
	gs->dec_slice = r_dec == 0 ? 0 : -1;	/* the index comes later */
	return rc;
}

/*
 * status = { table; address; [type;] fault_mask; alarm_mask; warmup_mask;
 * calibration_mask; }: the word and what its bits mean, in one group.
 */
static int
gas_status(const struct hazmon_host *h, struct hazmon_cfg *g, struct gas *gs)
{
	struct hazmon_cfg *sg;
	int rc = h->get_group(g, "status", &sg), bad = rc < 0;
	uint32_t any = 0;
	long long v;

	gs->status_slice = -1;
	for (size_t i = 0; i < N_STATUS_BITS; i++)	/* the shape before 0.2 */
		if (h->get_int(g, status_bits[i].key, &v) != 1) {
			h->error(g, status_bits[i].key, "goes inside the status group: "
			    "status = { table = ...; address = ...; %s = ...; }",
			    status_bits[i].key);
			bad = 1;
		}
	if (rc != 0)
		return bad ? -1 : 0;
	if (h->get_register(sg, NULL, &gs->status) != 0 ||
	    common__code_check(h, g, "status", &gs->status) != 0) {
		for (size_t i = 0; i < N_STATUS_BITS; i++)	/* no follow-on errors */
			(void)h->get_int(sg, status_bits[i].key, &v);
		return -1;
	}
	for (size_t i = 0; i < N_STATUS_BITS; i++) {
		if (common__mask(h, sg, status_bits[i].key, &gs->status, "status",
		    &gs->masks[i]) != 0)
			bad = 1;
		any |= gs->masks[i];
	}
	if (!bad && any == 0) {
		h->error(g, "status", "set at least one of fault_mask, alarm_mask, "
		    "warmup_mask, calibration_mask in it");
		bad = 1;
	}
	gs->status_slice = bad ? -1 : 0;
	return bad ? -1 : 0;
}

static int
gas_unit(const struct hazmon_host *h, struct hazmon_cfg *g,
    const struct gas_info *gi, struct hazmon_sensor_setup *su)
{
	if (common__unit(h, g, gi ? gas_table__default_unit(gi->cls) : "%LEL",
	    su) != 0)
		return -1;
	if (gi && !gas_table__unit_ok(gi, su->unit)) {
		h->error(g, "unit", "%s reads in %s, the unit of its default levels; "
		    "for a reading in \"%s\" leave out 'gas' and set 'levels'",
		    gi->formula, gas_table__units(gi->cls), su->unit);
		return -1;
	}
	return 0;
}

static int
gas_configure(const struct hazmon_host *h, struct hazmon_cfg *g,
    struct hazmon_sensor_setup *su)
{
	const struct gas_info *gi = NULL;
	const char *name = NULL;
	char names[256];
	struct gas *gs;
	int rc = 0;

	if ((gs = common__alloc(h, g, sizeof(*gs))) == NULL)
		return -1;
	gs->range = gs->drift = NAN;
	/*
	 * Without levels from the config, the gas decides the levels: a
	 * missing gas must not leave a detector without alarms.  An unknown
	 * one is a typo or a gas whose limits nobody checks, levels or not:
	 * "methane2" must not silently escape the standard's checks.
	 */
	switch (h->get_string(g, "gas", &name)) {
	case 0:
		if ((gi = gas_table__find(name)) != NULL)
			break;
		gas_table__names(names, sizeof(names));
		h->error(g, "gas", "unknown gas \"%s\" (known: %s; for another gas "
		    "leave out 'gas' and set 'unit' and 'levels')", name, names);
		/* FALLTHROUGH */
	case -1:
		rc = -1;
		break;
	case 1:
		if (su->n_config_levels > 0)
			break;
		h->error(g, NULL, "gas sensor needs 'gas' (for the default levels "
		    "of GB/T 50493) or 'levels'");
		rc = -1;
	}
	if (gas_unit(h, g, gi, su) != 0)
		rc = -1;
	if (gas_channel(h, g, gs) != 0)
		rc = -1;
	if (gas_range(h, g, gs) != 0)
		rc = -1;
	if (gas_status(h, g, gs) != 0)
		rc = -1;
	if (rc != 0) {
		free(gs);
		return -1;
	}
	gs->slice = common__need(h, su, &gs->reg);
	if (gs->dec_slice >= 0)
		gs->dec_slice = common__need(h, su, &gs->dec);
	if (gs->status_slice >= 0)
		gs->status_slice = common__need(h, su, &gs->status);
	if (gi)
		su->n_defaults = gas_table__defaults(gi, su->unit, su->defaults);
	if (gas_table__limits(gi, su->unit, &gs->max_first, &gs->max_any) != 0)
		gs->max_first = gs->max_any = NAN;
	gs->oxygen = gi != NULL && gi->cls == GAS_OXYGEN;
	gs->gas = gi ? gi->formula : NULL;
	/* ABI 1.3: what the catalogue tells a consumer of this detector. */
	if (gi)
		snprintf(su->gas, sizeof(su->gas), "%s", gi->formula);
	if (!isnan(gs->range)) {
		su->range_low = 0;
		su->range_high = gs->range;
	}
	snprintf(gs->unit, sizeof(gs->unit), "%s", su->unit);
	su->ctx = gs;
	return 0;
}

/*
 * Oxygen: the first deficiency alarm (the highest `below` level) at 19.5
 * %VOL or above, the first enrichment alarm (the lowest `above` one) at
 * 23.5 or below.  Stages after the first may go further.
 */
static void
gas_check_oxygen(const struct hazmon_host *h, struct hazmon_cfg *g,
    const struct hazmon_level *lv, unsigned n)
{
	int lo = -1, hi = -1;

	for (unsigned i = 0; i < n; i++) {
		if (lv[i].dir == HAZMON_BELOW &&
		    (lo < 0 || lv[i].setpoint > lv[lo].setpoint))
			lo = (int)i;
		if (lv[i].dir == HAZMON_ABOVE &&
		    (hi < 0 || lv[i].setpoint < lv[hi].setpoint))
			hi = (int)i;
	}
	if (lo >= 0 && lv[lo].setpoint < GAS_O2_LOW)
		h->departs(g, &lv[lo], "at %g %%VOL is the first oxygen deficiency "
		    "alarm, below the %g %%VOL of GB/T 50493-2019", lv[lo].setpoint,
		    GAS_O2_LOW);
	if (hi >= 0 && lv[hi].setpoint > GAS_O2_HIGH)
		h->departs(g, &lv[hi], "at %g %%VOL is the first oxygen enrichment "
		    "alarm, above the %g %%VOL of GB/T 50493-2019", lv[hi].setpoint,
		    GAS_O2_HIGH);
}

/*
 * Levels above what GB/T 50493-2019 allows are refused by the core unless
 * the level gives a standard_override with its reason.
 */
static void
gas_check_levels(const struct hazmon_host *h, struct hazmon_cfg *g,
    const void *ctx, const struct hazmon_level *lv, unsigned n)
{
	const struct gas *gs = ctx;

	if (gs->oxygen) {
		gas_check_oxygen(h, g, lv, n);
		return;
	}
	if (isnan(gs->max_first))
		return;
	for (unsigned i = 0; i < n; i++) {
		int first = strcmp(lv[i].name, "first") == 0;
		double max = first ? gs->max_first : gs->max_any;

		if (lv[i].dir == HAZMON_ABOVE && lv[i].setpoint > max)
			h->departs(g, &lv[i], "at %g %s is above the %g %s that "
			    "GB/T 50493-2019 allows for %s level", lv[i].setpoint,
			    gs->unit, max, gs->unit, first ? "a first" : "any");
	}
}

/* Applies the status word; -1 when it cannot be read (then nothing is trusted). */
static int
gas_status_decode(const struct hazmon_host *h, const struct gas *gs,
    const struct hazmon_slice *s, struct hazmon_reading *out)
{
	uint32_t w;

	if (common__code(h, &gs->status, s, &w) != 0) {
		common__fault(out, HAZMON_F_BAD_VALUE);
		return -1;
	}
	for (size_t i = 0; i < N_STATUS_BITS; i++) {
		if ((w & gs->masks[i]) == 0)
			continue;
		switch (status_bits[i].flag) {
		case HAZMON_F_DEVICE_FAULT:
			common__fault(out, HAZMON_F_DEVICE_FAULT);
			break;
		case HAZMON_F_DEVICE_ALARM:	/* informative: levels decide */
			out->flags |= HAZMON_F_DEVICE_ALARM;
			break;
		default:
			common__service(out, status_bits[i].flag);
		}
	}
	return 0;
}

/* The concentration, or -1 after marking the reading faulty. */
static int
gas_value(const struct hazmon_host *h, const struct gas *gs,
    const struct hazmon_slice *sl, struct hazmon_reading *out, double *v)
{
	static const double pow10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };
	double n, ma;

	if (h->decode(&gs->reg, gs->reg.address, &sl[gs->slice], v) != 0 ||
	    !isfinite(*v)) {
		common__fault(out, HAZMON_F_BAD_VALUE);
		return -1;
	}
	if (gs->ma_per_raw > 0) {
		ma = *v * gs->ma_per_raw;
		/* NAMUR NE43: the transmitter signals a failure, or the loop is open or shorted. */
		if (ma < 3.6 || ma > 21.0) {
			common__fault(out, HAZMON_F_DEVICE_FAULT);
			return -1;
		}
		*v = (ma - 4.0) / 16.0 * gs->range;
	}
	if (gs->dec_slice >= 0) {
		if (h->decode(&gs->dec, gs->dec.address, &sl[gs->dec_slice], &n) != 0 ||
		    !(n >= 0 && n <= 6)) {
			common__fault(out, HAZMON_F_BAD_VALUE);
			return -1;
		}
		*v /= pow10[(int)n];
	}
	return 0;
}

static void
gas_decode(const struct hazmon_host *h, const void *ctx,
    const struct hazmon_slice *sl, struct hazmon_reading *out)
{
	const struct gas *gs = ctx;
	double v;

	out->value = NAN;
	if (gs->status_slice >= 0 &&
	    gas_status_decode(h, gs, &sl[gs->status_slice], out) != 0)
		return;
	if (gas_value(h, gs, sl, out, &v) != 0)
		return;
	out->value = v;
	common__limit(out, v, gs->drift, gs->range);
}

/* What configure() understood, for hazmond -t -v (ABI 1.2). */
static void
gas_describe(const struct hazmon_host *h, const void *ctx, char *buf,
    size_t len)
{
	const struct gas *gs = ctx;

	(void)h;
	buf[0] = '\0';
	common__describe(buf, len, "gas %s unit %s", gs->gas ? gs->gas :
	    "(none)", gs->unit);
	if (gs->oxygen)
		common__describe(buf, len, " standard: deficiency at %g, "
		    "enrichment at %g %%VOL", GAS_O2_LOW, GAS_O2_HIGH);
	else if (!isnan(gs->max_first))
		common__describe(buf, len, " standard: first <= %g, any <= %g %s",
		    gs->max_first, gs->max_any, gs->unit);
	common__describe(buf, len, "\n");
	common__describe_register(buf, len, gs->ma_per_raw > 0 ? "current" :
	    "register", &gs->reg);
	if (gs->ma_per_raw > 0)
		common__describe(buf, len, "current_unit %s: 4 mA reads 0, 20 mA "
		    "reads %g\n", gs->ma_per_raw == 1.0 ? "mA" : "uA", gs->range);
	if (isnan(gs->range))
		common__describe(buf, len, "range none (no over-range check)");
	else
		common__describe(buf, len, "range %g", gs->range);
	if (isnan(gs->drift))
		common__describe(buf, len, " drift_limit none\n");
	else
		common__describe(buf, len, " drift_limit %g\n", gs->drift);
	if (gs->dec_slice >= 0)
		common__describe_register(buf, len, "decimals", &gs->dec);
	if (gs->status_slice < 0)
		return;
	common__describe_register(buf, len, "status", &gs->status);
	for (size_t i = 0; i < N_STATUS_BITS; i++)
		if (gs->masks[i])
			common__describe(buf, len, "status %s 0x%04X\n",
			    status_bits[i].key,
			    (unsigned)gs->masks[i]);
}

COMMON_PLUGIN_DESCRIBED(gas_plugin, "gas", "1.2", gas_configure, gas_decode,
    gas_check_levels, gas_describe)
