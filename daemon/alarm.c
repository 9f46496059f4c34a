/*
 * alarm.c - threshold levels with deadband and on/off delays.
 *
 * Pure logic: no I/O and no clock reads.  Time comes in with each reading,
 * so every transition is deterministic and unit-testable.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "hazmond.h"

static int
condition_on(const struct hazmon_level *l, double v)
{
	return l->dir == HAZMON_ABOVE ? v >= l->setpoint : v <= l->setpoint;
}

/* Back to normal only beyond the deadband, so noise at the setpoint cannot chatter. */
static int
condition_off(const struct hazmon_level *l, double v)
{
	return l->dir == HAZMON_ABOVE ? v < l->setpoint - l->deadband :
	    v > l->setpoint + l->deadband;
}

/*
 * Advances one level.  The condition that would flip the state must hold
 * for the whole delay; any reading without it restarts the wait.
 */
static int
step(const struct hazmon_level *l, struct hz_level_state *st, double v, int64_t ts)
{
	int flip = st->active ? condition_off(l, v) : condition_on(l, v);
	double delay = st->active ? l->off_delay : l->on_delay;

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
	st->active = !st->active;
	return 1;
}

static int
transitioned(const struct hz_transition *out, unsigned k, unsigned level)
{
	for (unsigned j = 0; j < k; j++)
		if (out[j].level == level)
			return 1;
	return 0;
}

unsigned
alarm_eval(const struct hazmon_level *levels, unsigned n, struct hz_level_state *st,
    double value, int64_t ts_ms, struct hz_transition *out)
{
	unsigned k = 0;

	if (isnan(value))
		return 0;
	/*
	 * Clears first, highest level first; then raises, lowest first.  A
	 * level cannot do both in one reading: leaving the deadband implies
	 * being off the setpoint.
	 */
	for (unsigned i = n; i-- > 0; )
		if (st[i].active && step(&levels[i], &st[i], value, ts_ms))
			out[k++] = (struct hz_transition){ i, HZ_T_CLEARED };
	for (unsigned i = 0; i < n; i++)
		if (!st[i].active && !(k && transitioned(out, k, i)) &&
		    step(&levels[i], &st[i], value, ts_ms))
			out[k++] = (struct hz_transition){ i, HZ_T_RAISED };
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

/* The active level shown as "the" alarm: highest priority, later wins ties. */
int
alarm_highest_active(const struct hazmon_level *levels, unsigned n,
    const struct hz_level_state *st)
{
	int best = -1;

	for (unsigned i = 0; i < n; i++)
		if (st[i].active && (best < 0 ||
		    alarm_priority_rank(levels[i].priority) >=
		    alarm_priority_rank(levels[best].priority)))
			best = (int)i;
	return best;
}
