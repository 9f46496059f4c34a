/*
 * smoke.c - smoke (and other on/off fire) detector plugin.
 *
 * Settings (in the sensor's group; docs/plugins.md has the details):
 *   input       = { table; address; }  the detector's state: a coil or
 *                 discrete input (1 = alarm), or a status register whose
 *                 group also has alarm_mask (the bits that mean alarm,
 *                 required) and fault_mask (optional)
 *   fault_input = { table; address; }  a coil or discrete input, 1 = fault
 *
 * The value is 1 in alarm and 0 otherwise; the unit is empty.  A fault is
 * quality fault with device_fault.  A detector reporting alarm and fault
 * at once gives value 1, flags device_alarm|device_fault and quality
 * fault: the core decides what wins.  Without configured levels the
 * sensor gets one level, "fire", urgent and latching.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

struct smoke {
	struct hazmon_register in;
	int in_slice;
	uint32_t alarm_mask, fault_mask;	/* for a register input */
	struct hazmon_register fault_in;
	int fault_slice;			/* -1: no fault input */
};

static int
is_bit(const struct hazmon_register *r)
{
	return r->type == HAZMON_TYPE_BIT;
}

/*
 * The state input and, for a register, its masks, in one group:
 * input = { table; address; [type;] alarm_mask; fault_mask; }.
 */
static int
smoke_input(const struct hazmon_host *h, struct hazmon_cfg *g, struct smoke *sm)
{
	static const char *const masks[] = { "alarm_mask", "fault_mask" };
	const struct hazmon_register *masked = NULL;
	struct hazmon_cfg *ig;
	int rc = h->get_group(g, "input", &ig), bad = rc < 0;
	long long v;

	for (size_t i = 0; i < 2; i++)		/* the shape before 0.2 */
		if (h->get_int(g, masks[i], &v) != 1) {
			h->error(g, masks[i], "goes inside the input group: input = "
			    "{ table = ...; address = ...; %s = ...; }", masks[i]);
			bad = 1;
		}
	if (rc == 1) {
		h->error(g, NULL, "smoke sensor needs 'input = { table = \"discrete\"; "
		    "address = 0; }' (a coil or discrete input, or a status "
		    "register with alarm_mask)");
		return -1;
	}
	if (rc < 0)
		return -1;
	if (h->get_register(ig, NULL, &sm->in) != 0 || (!is_bit(&sm->in) &&
	    common__code_check(h, g, "input", &sm->in) != 0)) {
		for (size_t i = 0; i < 2; i++)		/* no follow-on errors */
			(void)h->get_int(ig, masks[i], &v);
		return -1;
	}
	if (!is_bit(&sm->in))
		masked = &sm->in;
	if (common__mask(h, ig, "alarm_mask", masked, "input", &sm->alarm_mask) != 0 ||
	    common__mask(h, ig, "fault_mask", masked, "input", &sm->fault_mask) != 0)
		bad = 1;
	else if (masked && sm->alarm_mask == 0 && !bad) {
		h->error(g, "input", "a status register needs 'alarm_mask' (the "
		    "bits that mean alarm)");
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int
smoke_configure(const struct hazmon_host *h, struct hazmon_cfg *g,
    struct hazmon_sensor_setup *su)
{
	struct hazmon_level *fire = &su->defaults[0];
	struct smoke *sm;
	int rc = 0, r_fault;

	if ((sm = common__alloc(h, g, sizeof(*sm))) == NULL)
		return -1;
	if (smoke_input(h, g, sm) != 0)
		rc = -1;
	r_fault = h->get_register(g, "fault_input", &sm->fault_in);
	if (r_fault == 0 && !is_bit(&sm->fault_in)) {
		h->error(g, "fault_input", "must be a coil or discrete input "
		    "(1 = fault); for a status register use 'fault_mask'");
		r_fault = -1;
	}
	if (rc != 0 || r_fault < 0) {
		free(sm);
		return -1;
	}
	sm->in_slice = common__need(h, su, &sm->in);
	sm->fault_slice = r_fault == 0 ? common__need(h, su, &sm->fault_in) : -1;
	su->unit[0] = '\0';
	*fire = (struct hazmon_level){ .dir = HAZMON_ABOVE, .setpoint = 1.0,
	    .deadband = 0.0, .latch = 1 };
	snprintf(fire->name, sizeof(fire->name), "fire");
	snprintf(fire->priority, sizeof(fire->priority), "urgent");
	su->n_defaults = 1;
	su->ctx = sm;
	return 0;
}

/* Alarm and fault state; -1 when an input cannot be read. */
static int
smoke_state(const struct hazmon_host *h, const struct smoke *sm,
    const struct hazmon_slice *sl, int *alarm, int *fault)
{
	uint32_t w;
	double bit;

	*fault = 0;
	if (is_bit(&sm->in)) {
		if (h->decode(&sm->in, sm->in.address, &sl[sm->in_slice], &bit) != 0)
			return -1;
		*alarm = bit != 0;
	} else {
		if (common__code(h, &sm->in, &sl[sm->in_slice], &w) != 0)
			return -1;
		*alarm = (w & sm->alarm_mask) != 0;
		*fault = (w & sm->fault_mask) != 0;
	}
	if (sm->fault_slice >= 0) {
		if (h->decode(&sm->fault_in, sm->fault_in.address,
		    &sl[sm->fault_slice], &bit) != 0)
			return -1;
		*fault |= bit != 0;
	}
	return 0;
}

static void
smoke_decode(const struct hazmon_host *h, const void *ctx,
    const struct hazmon_slice *sl, struct hazmon_reading *out)
{
	int alarm, fault;

	if (smoke_state(h, ctx, sl, &alarm, &fault) != 0) {
		out->value = NAN;
		common__fault(out, HAZMON_F_BAD_VALUE);
		return;
	}
	out->value = alarm ? 1.0 : 0.0;
	if (alarm)
		out->flags |= HAZMON_F_DEVICE_ALARM;
	if (fault)
		common__fault(out, HAZMON_F_DEVICE_FAULT);
}

COMMON_PLUGIN(smoke_plugin, "smoke", "1.0", smoke_configure, smoke_decode, NULL)
