/*
 * alarm.c - the alarm state machine of one sensor's levels.
 *
 * Pure logic: no I/O and no clock reads.  Time comes in with every call,
 * so every transition is deterministic and unit-testable.  Modelled on
 * ISA-18.2 / IEC 62682:
 *
 *   NORMAL --condition--> ACTIVE_UNACK --ack--> ACTIVE_ACK --clear--> NORMAL
 *                              |                                  (cleared)
 *                     condition gone
 *                 non-latched: RTN_UNACK --ack--> NORMAL (cleared already)
 *                 latched: stays ACTIVE_UNACK; ack then clears it
 *
 * A level's condition (setpoint, deadband, on/off delay) is tracked all
 * the time; while the sensor is shelved or out of service, conditions
 * change no alarm state and raise nothing.  When the suppression ends the
 * states are reconciled with the conditions as they are then.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "alarm.h"

/* For a rate level, v is the rate of change in units per minute. */
static int
condition_on(const struct hazmon_level *l, double v)
{
	if (l->dir == HAZMON_RATE)
		return l->setpoint >= 0 ? v >= l->setpoint : v <= l->setpoint;
	return l->dir == HAZMON_ABOVE ? v >= l->setpoint : v <= l->setpoint;
}

/* Back to normal only beyond the deadband, so noise at the setpoint cannot chatter. */
static int
condition_off(const struct hazmon_level *l, double v)
{
	int up = l->dir == HAZMON_ABOVE || (l->dir == HAZMON_RATE && l->setpoint >= 0);

	return up ? v < l->setpoint - l->deadband : v > l->setpoint + l->deadband;
}

/* What a level compares: the value, or its rate of change per minute. */
static int
observed(const struct hazmon_level *l, struct hz_level_state *st, double v,
    int64_t ts, double *out)
{
	double prev = st->prev_value;
	int64_t prev_ts = st->prev_ts;
	int had = st->have_prev;

	if (l->dir != HAZMON_RATE) {
		*out = v;
		return 1;
	}
	st->prev_value = v;
	st->prev_ts = ts;
	st->have_prev = 1;
	if (!had || ts <= prev_ts)
		return 0;		/* no rate from a single reading */
	*out = (v - prev) * 60000.0 / (double)(ts - prev_ts);
	return 1;
}

/*
 * Advances a level's condition.  The reading that would flip it must hold
 * for the whole delay; any reading without it restarts the wait.
 * Returns 1 when the condition flipped.
 */
static int
step_condition(const struct hazmon_level *l, struct hz_level_state *st, double v,
    int64_t ts)
{
	int flip = st->cond ? condition_off(l, v) : condition_on(l, v);
	double delay = st->cond ? l->off_delay : l->on_delay;

	if (!flip) {
		st->pending = 0;
		return 0;
	}
	if (delay > 0.0) {
		if (!st->pending) {
			st->pending = 1;
			st->pending_since = ts;
		}
		if ((double)(ts - st->pending_since) < delay * 1000.0)
			return 0;
	}
	st->pending = 0;
	st->cond = !st->cond;
	return 1;
}

static void
emit(struct hz_transition *out, unsigned *k, unsigned level,
    enum hz_transition_kind kind)
{
	out[(*k)++] = (struct hz_transition){ level, kind };
}

/* Brings a level's alarm state in line with its condition. */
static void
settle(const struct hazmon_level *l, struct hz_level_state *st, unsigned i,
    int64_t ts, struct hz_transition *out, unsigned *k)
{
	if (st->cond && (st->state == HZ_A_NORMAL || st->state == HZ_A_RTN_UNACK)) {
		st->state = HZ_A_ACTIVE_UNACK;
		st->active_since = ts;
		emit(out, k, i, HZ_T_RAISED);
	} else if (!st->cond && st->state == HZ_A_ACTIVE_ACK) {
		st->state = HZ_A_NORMAL;
		emit(out, k, i, HZ_T_CLEARED);
	} else if (!st->cond && st->state == HZ_A_ACTIVE_UNACK && !l->latch) {
		st->state = HZ_A_RTN_UNACK;
		emit(out, k, i, HZ_T_CLEARED);
	}
	/* latched and unacknowledged: stays active until acknowledged */
}

/*
 * Brings every level's state in line with its condition: after a reading,
 * and when shelving or out-of-service ends.  Clears first, highest level
 * first; then raises, lowest first.
 */
unsigned
alarm_reconcile(const struct hazmon_level *levels, unsigned n,
    struct hz_level_state *st, int64_t ts_ms, struct hz_transition *out)
{
	unsigned k = 0;

	for (unsigned i = n; i-- > 0; )
		if (!st[i].cond)
			settle(&levels[i], &st[i], i, ts_ms, out, &k);
	for (unsigned i = 0; i < n; i++)
		if (st[i].cond)
			settle(&levels[i], &st[i], i, ts_ms, out, &k);
	return k;
}

unsigned
alarm_eval(const struct hazmon_level *levels, unsigned n, struct hz_level_state *st,
    double value, int64_t ts_ms, int suppressed, struct hz_transition *out)
{
	if (isnan(value))
		return 0;
	for (unsigned i = 0; i < n; i++) {
		double x;

		if (observed(&levels[i], &st[i], value, ts_ms, &x))
			step_condition(&levels[i], &st[i], x, ts_ms);
	}
	return suppressed ? 0 : alarm_reconcile(levels, n, st, ts_ms, out);
}

/*
 * Acknowledges one level (level >= 0) or every level (-1).  An alarm
 * whose condition is gone clears with its acknowledgement.
 */
unsigned
alarm_ack(const struct hazmon_level *levels, unsigned n, struct hz_level_state *st,
    int level, struct hz_transition *out)
{
	unsigned k = 0;

	(void)levels;
	for (unsigned i = 0; i < n; i++) {
		if (level >= 0 && (unsigned)level != i)
			continue;
		switch (st[i].state) {
		case HZ_A_ACTIVE_UNACK:
			emit(out, &k, i, HZ_T_ACKED);
			if (st[i].cond) {
				st[i].state = HZ_A_ACTIVE_ACK;
			} else {		/* latched, back to normal */
				st[i].state = HZ_A_NORMAL;
				emit(out, &k, i, HZ_T_CLEARED);
			}
			break;
		case HZ_A_RTN_UNACK:
			st[i].state = HZ_A_NORMAL;
			emit(out, &k, i, HZ_T_ACKED);
			break;
		default:
			break;
		}
	}
	return k;
}

int
alarm_priority_rank(const char *p)
{
	static const char *const names[] = { "low", "medium", "high", "urgent" };

	for (int i = 0; i < 4; i++)
		if (strcmp(p, names[i]) == 0)
			return i;
	return 0;
}

/* Raised, acknowledged or not. */
int
alarm_active(enum hz_astate s)
{
	return s == HZ_A_ACTIVE_UNACK || s == HZ_A_ACTIVE_ACK;
}

/* Waiting for an acknowledgement, raised or returned to normal. */
int
alarm_unacked(enum hz_astate s)
{
	return s == HZ_A_ACTIVE_UNACK || s == HZ_A_RTN_UNACK;
}

/* The active level shown as "the" alarm: highest priority, later wins ties. */
int
alarm_highest_active(const struct hazmon_level *levels, unsigned n,
    const struct hz_level_state *st)
{
	int best = -1;

	for (unsigned i = 0; i < n; i++)
		if (alarm_active(st[i].state) && (best < 0 ||
		    alarm_priority_rank(levels[i].priority) >=
		    alarm_priority_rank(levels[best].priority)))
			best = (int)i;
	return best;
}

const char *
alarm_state_name(enum hz_astate s)
{
	switch (s) {
	case HZ_A_ACTIVE_UNACK: return "active_unacknowledged";
	case HZ_A_ACTIVE_ACK: return "active_acknowledged";
	case HZ_A_RTN_UNACK: return "returned_unacknowledged";
	default: return "normal";
	}
}
