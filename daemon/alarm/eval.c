/*
 * sensor.c - what the core knows about each sensor: readings in, alarm and
 * fault events out, operator actions (acknowledge, shelve, out of service),
 * and the health of the alarm system.
 *
 * Runs on the core thread only.  Events and the alarm and fault states
 * go out through one sink (struct hz_sink): the core's puts both in the
 * open batch's ledger transaction (batch.c), so that states survive a
 * restart or a SIGKILL exactly as far as the events that changed them.
 * Nothing here touches the ledger itself.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm.h"

#define FLOOD_WINDOW_MS		(10 * 60 * 1000)
#define FLOOD_LIMIT		10	/* alarms per 10 minutes, ISA-18.2 */
#define CHATTER_WINDOW_MS	(60 * 1000)
#define CHATTER_RAISES		3
#define STALE_MS		(24LL * 3600 * 1000)

/* Who shelved a sensor and why, who took it out of service: rarely set. */
struct who {
	char shelve_reason[128], shelve_actor[64], oos_actor[64];
};

struct srt {
	struct hz_level_state *ls;
	struct hz_transition *tr;	/* scratch, 2 per level */
	int64_t (*raised)[CHATTER_RAISES];	/* per level, last raise times */
	/* The fault as announced (raised, not yet cleared), and saved. */
	int fault_active;
	uint32_t fault_flags;
	int fault_err;
	struct who *who;		/* NULL until shelved or taken out of service */
	struct hz_sensor_alarm sa;
	double last_value;		/* frozen-value detection */
	int64_t last_change;
	struct hazmon_reading r;	/* the latest reading */
	int64_t r_ts;
	int err;			/* of the latest reading */
	int64_t last_ok;		/* realtime ms of the last ok reading */
	int64_t seen;			/* monotonic ms of the latest reading, or start */
	int stale;
};

static void health_note_raise(struct hz_eval *ev, int64_t ts);

static void
emit(struct hz_eval *ev, unsigned i, const struct hz_event *tmpl)
{
	struct hz_event e = *tmpl;

	e.sensor = ev->c->sensors[i].id;
	e.unit = ev->c->sensors[i].setup.unit;
	ev->sink.event(ev->sink.arg, &e);
}

static struct who *
who(struct srt *rt)
{
	if (rt->who == NULL)
		rt->who = xcalloc(1, sizeof(*rt->who));
	return rt->who;
}

static void
save_sensor(struct hz_eval *ev, unsigned i)
{
	struct srt *rt = &ev->rt[i];

	rt->sa.shelve_reason = rt->who ? rt->who->shelve_reason : "";
	rt->sa.shelve_actor = rt->who ? rt->who->shelve_actor : "";
	rt->sa.oos_actor = rt->who ? rt->who->oos_actor : "";
	rt->sa.fault = rt->fault_active;
	rt->sa.fault_flags = rt->fault_active ? rt->fault_flags : 0;
	rt->sa.fault_err = rt->fault_active ? rt->fault_err : 0;
	rt->sa.frozen_value = rt->last_value;
	rt->sa.frozen_since = rt->last_change;
	(void)ev->sink.save_sensor(ev->sink.arg, ev->c->sensors[i].id, &rt->sa);
}

/* Turns alarm transitions into events, saves the states, counts health. */
static void
transitions(struct hz_eval *ev, unsigned i, unsigned n, double value,
    int64_t ts, const char *actor)
{
	const struct hz_sensor *s = &ev->c->sensors[i];
	struct srt *rt = &ev->rt[i];
	static const char *const names[] = { "raised", "cleared", "acknowledged" };

	for (unsigned k = 0; k < n; k++) {
		unsigned li = rt->tr[k].level;
		const struct hazmon_level *lv = &s->levels[li];
		struct hz_event e = {
			.ts_ms = ts, .kind = "alarm", .event = names[rt->tr[k].kind],
			.level = lv->name, .priority = lv->priority, .value = value,
			.setpoint = lv->setpoint,
			.actor = rt->tr[k].kind == HZ_T_ACKED ? actor : NULL,
		};

		emit(ev, i, &e);
		(void)ev->sink.save_level(ev->sink.arg, s->id, lv->name, &rt->ls[li]);
		if (rt->tr[k].kind == HZ_T_RAISED) {
			memmove(&rt->raised[li][1], &rt->raised[li][0],
			    (CHATTER_RAISES - 1) * sizeof(int64_t));
			rt->raised[li][0] = ts;
			health_note_raise(ev, ts);
		}
	}
}

static void
health_note_raise(struct hz_eval *ev, int64_t ts)
{
	ev->raises = xgrow(ev->raises, &ev->cap_raises, ev->n_raises + 1,
	    sizeof(*ev->raises));
	ev->raises[ev->n_raises++] = ts;
}

static int
suppressed(const struct srt *rt, int64_t ts)
{
	return rt->sa.oos || (rt->sa.shelved_until && ts < rt->sa.shelved_until);
}

/* What events and actions show as the value: never an untrusted one. */
static double
shown_value(const struct srt *rt)
{
	return rt->stale ? NAN : event_value(&rt->r);
}

static void
fault_event(struct hz_eval *ev, unsigned i, const char *what, int64_t ts)
{
	struct srt *rt = &ev->rt[i];
	struct hz_event e = { .ts_ms = ts, .kind = "fault", .event = what,
	    .level = event_fault_reason(rt->fault_flags), .value = NAN,
	    .setpoint = NAN, .err = rt->fault_err };

	emit(ev, i, &e);
}

/* A fault of the read itself (nothing answered, or the answer was refused). */
static int
read_failed(uint32_t flags)
{
	return (flags & (HAZMON_F_COMM | HAZMON_F_DEVICE_ERROR)) != 0;
}

/*
 * Brings the announced fault in line with the latest reading, and saves
 * it with the events.  A reason that changes while the sensor stays
 * faulty (over_range -> device_fault) is the old one cleared and the new
 * one raised; between comm_loss and device_error (a device that is now
 * silent, now garbles) it is not: the state shows the latest, and the
 * events do not flap with every poll.  Out of service: no fault events; the return to service
 * calls this again.
 */
static void
fault_sync(struct hz_eval *ev, unsigned i, int64_t ts)
{
	struct srt *rt = &ev->rt[i];
	const char *now = rt->r.quality == HAZMON_Q_FAULT ?
	    event_fault_reason(rt->r.flags) : NULL;
	int changed = 0;

	if (rt->sa.oos || rt->r_ts == 0)
		return;
	if (rt->fault_active && (now == NULL ||
	    (strcmp(now, event_fault_reason(rt->fault_flags)) != 0 &&
	    !(read_failed(rt->r.flags) && read_failed(rt->fault_flags))))) {
		fault_event(ev, i, "cleared", ts);
		rt->fault_active = 0;
		changed = 1;
	}
	if (now && !rt->fault_active) {
		rt->fault_active = 1;
		rt->fault_flags = rt->r.flags;
		rt->fault_err = rt->err;
		fault_event(ev, i, "raised", ts);
		changed = 1;
	}
	if (changed)
		save_sensor(ev, i);
}

/* A value that has not moved for frozen_after seconds is not trusted. */
static int
frozen(const struct hz_sensor *s, struct srt *rt, const struct hz_msg *m)
{
	if (s->frozen_after <= 0 || m->r.quality != HAZMON_Q_OK)
		return 0;
	if (rt->last_change == 0 || m->r.value != rt->last_value) {
		rt->last_value = m->r.value;
		rt->last_change = m->ts_ms;
		return 0;
	}
	return m->ts_ms - rt->last_change >= (int64_t)(s->frozen_after * 1000.0);
}

void
eval_reading(struct hz_eval *ev, const struct hz_msg *m)
{
	unsigned i = m->sensor;
	const struct hz_sensor *s = &ev->c->sensors[i];
	struct srt *rt = &ev->rt[i];
	struct hazmon_reading r = m->r;
	int faulty, device_alarm;
	unsigned n;

	if (frozen(s, rt, m)) {
		r.quality = HAZMON_Q_FAULT;
		r.flags |= HAZMON_F_FROZEN;
	}
	rt->r = r;
	rt->r_ts = m->ts_ms;
	rt->err = r.quality == HAZMON_Q_FAULT ? m->err : 0;
	rt->seen = now_mono_ms();
	rt->stale = 0;
	if (r.quality == HAZMON_Q_OK)
		rt->last_ok = m->ts_ms;
	faulty = r.quality == HAZMON_Q_FAULT;
	/*
	 * The device says alarm and fault at once: the alarm wins and goes
	 * first.  Otherwise a faulty or out-of-service reading changes no
	 * alarm state: a fault never clears an alarm.  The events show no
	 * value from a faulty reading either way.
	 */
	device_alarm = faulty && (r.flags & HAZMON_F_DEVICE_ALARM) && isfinite(r.value);
	if ((r.quality == HAZMON_Q_OK || device_alarm) && isfinite(r.value)) {
		n = alarm_eval(s->levels, s->n_levels, rt->ls, r.value, m->ts_ms,
		    suppressed(rt, m->ts_ms), rt->tr);
		transitions(ev, i, n, event_value(&r), m->ts_ms, NULL);
	}
	fault_sync(ev, i, m->ts_ms);
}

/* Binary search: restoring 10,000 saved states must not be quadratic. */
int
eval_find(const struct hz_eval *ev, const char *sensor)
{
	return ids_find(ev->c, ev->by_id, sensor);
}

static int
find_level(const struct hz_sensor *s, const char *level)
{
	for (unsigned i = 0; i < s->n_levels; i++)
		if (strcmp(s->levels[i].name, level) == 0)
			return (int)i;
	return -1;
}

/* Acknowledges a sensor's alarms (level NULL: all of them). */
int
eval_ack(struct hz_eval *ev, const char *sensor, const char *level,
    const char *actor, int64_t ts)
{
	int i = eval_find(ev, sensor), li = -1;
	unsigned n;

	if (i < 0)
		return -ENOENT;
	if (level && (li = find_level(&ev->c->sensors[i], level)) < 0)
		return -ESRCH;
	n = alarm_ack(ev->c->sensors[i].levels, ev->c->sensors[i].n_levels,
	    ev->rt[i].ls, li, ev->rt[i].tr);
	if (n == 0)
		return -EALREADY;	/* nothing waits for an acknowledgement */
	transitions(ev, (unsigned)i, n, shown_value(&ev->rt[i]), ts, actor);
	return 0;
}

/* After shelving or out-of-service ends, the alarms say what is true now. */
static void
unsuppress(struct hz_eval *ev, unsigned i, int64_t ts)
{
	const struct hz_sensor *s = &ev->c->sensors[i];
	unsigned n = alarm_reconcile(s->levels, s->n_levels, ev->rt[i].ls, ts,
	    ev->rt[i].tr);

	transitions(ev, i, n, shown_value(&ev->rt[i]), ts, NULL);
}

static void
action_event(struct hz_eval *ev, unsigned i, const char *what, const char *actor,
    const char *reason, int64_t until, int64_t ts)
{
	struct hz_event e = { .ts_ms = ts, .kind = "alarm", .event = what,
	    .value = shown_value(&ev->rt[i]), .setpoint = NAN, .actor = actor,
	    .reason = reason, .until_ms = until };

	emit(ev, i, &e);
}

int
eval_shelve(struct hz_eval *ev, const char *sensor, double seconds,
    const char *reason, const char *actor, int64_t ts)
{
	int i = eval_find(ev, sensor);
	struct srt *rt;

	if (i < 0)
		return -ENOENT;
	if (!(seconds > 0 && seconds <= SHELVE_MAX_S) || !reason || !*reason)
		return -EINVAL;	/* shelving is bounded and always explained */
	rt = &ev->rt[i];
	rt->sa.shelved_until = ts + (int64_t)(seconds * 1000.0);
	snprintf(who(rt)->shelve_reason, sizeof(rt->who->shelve_reason), "%s",
	    reason);
	snprintf(rt->who->shelve_actor, sizeof(rt->who->shelve_actor), "%s",
	    actor);
	save_sensor(ev, (unsigned)i);
	action_event(ev, (unsigned)i, "shelved", actor, reason,
	    rt->sa.shelved_until, ts);
	return 0;
}

int
eval_unshelve(struct hz_eval *ev, const char *sensor, const char *actor,
    int64_t ts)
{
	int i = eval_find(ev, sensor);

	if (i < 0)
		return -ENOENT;
	if (ev->rt[i].sa.shelved_until == 0)
		return -EALREADY;
	ev->rt[i].sa.shelved_until = 0;
	save_sensor(ev, (unsigned)i);
	action_event(ev, (unsigned)i, "unshelved", actor, NULL, 0, ts);
	if (!ev->rt[i].sa.oos)
		unsuppress(ev, (unsigned)i, ts);
	return 0;
}

int
eval_oos(struct hz_eval *ev, const char *sensor, int on, const char *actor,
    int64_t ts)
{
	int i = eval_find(ev, sensor);
	struct srt *rt;

	if (i < 0)
		return -ENOENT;
	rt = &ev->rt[i];
	if (!!rt->sa.oos == !!on)
		return -EALREADY;
	rt->sa.oos = !!on;
	snprintf(who(rt)->oos_actor, sizeof(rt->who->oos_actor), "%s",
	    on ? actor : "");
	save_sensor(ev, (unsigned)i);
	action_event(ev, (unsigned)i, on ? "out_of_service" : "in_service", actor,
	    NULL, 0, ts);
	if (!on && !suppressed(rt, ts))
		unsuppress(ev, (unsigned)i, ts);
	if (!on)
		fault_sync(ev, (unsigned)i, ts);	/* what it missed meanwhile */
	return 0;
}

/*
 * An operator action from the control socket or MQTT (command.c has
 * checked it): acknowledge, shelve, unshelve or out of service.  An
 * action without an actor is "unknown"'s.  Returns 0 or -errno.
 */
int
eval_command(struct hz_eval *ev, const struct hz_command *cmd, int64_t ts)
{
	const char *actor = cmd->actor[0] ? cmd->actor : "unknown";

	if (strcmp(cmd->verb, "ack") == 0)
		return eval_ack(ev, cmd->sensor, cmd->level[0] ? cmd->level : NULL,
		    actor, ts);
	if (strcmp(cmd->verb, "shelve") == 0)
		return eval_shelve(ev, cmd->sensor, cmd->seconds, cmd->reason, actor,
		    ts);
	if (strcmp(cmd->verb, "unshelve") == 0)
		return eval_unshelve(ev, cmd->sensor, actor, ts);
	if (strcmp(cmd->verb, "oos") == 0)
		return eval_oos(ev, cmd->sensor, cmd->on, actor, ts);
	return -EINVAL;
}

/* Expired shelves end by themselves. */
void
eval_tick(struct hz_eval *ev, int64_t ts)
{
	for (unsigned i = 0; i < ev->c->n_sensors; i++) {
		struct srt *rt = &ev->rt[i];

		if (rt->sa.shelved_until == 0 || ts < rt->sa.shelved_until)
			continue;
		rt->sa.shelved_until = 0;
		save_sensor(ev, i);
		action_event(ev, i, "unshelved", "expiry", NULL, 0, ts);
		if (!rt->sa.oos)
			unsuppress(ev, i, ts);
	}
}

/*
 * A reading older than this is not presented as the sensor's state: three
 * intervals, plus one request that times out with all its retries, plus a
 * second of slack (docs/mqtt.md, "stale").
 */
int64_t
eval_stale_ms(const struct hz_config *c, unsigned i)
{
	const struct hz_sensor *s = &c->sensors[i];
	const struct hz_bus *b = &c->buses[s->bus];

	return (int64_t)(3000.0 * s->interval) +
	    (int64_t)b->timeout_ms * (b->retries + 1) + 1000;
}

/*
 * Once a second: a sensor whose bus worker brings nothing (hung, or far
 * behind) turns stale.  `changed` is called for every stale sensor, so
 * that its state goes out even if no publisher could take it the first
 * time (no reading will come to carry it).  Stale is no fault event: the
 * comm-loss fault is raised by failed reads.
 */
void
eval_stale(struct hz_eval *ev, int64_t now_mono, void (*changed)(void *, unsigned),
    void *arg)
{
	for (unsigned i = 0; i < ev->c->n_sensors; i++) {
		struct srt *rt = &ev->rt[i];

		rt->stale = now_mono - rt->seen > eval_stale_ms(ev->c, i);
		if (rt->stale && changed)
			changed(arg, i);
	}
}

/* ---- what the state topic and status show */

void
eval_view(const struct hz_eval *ev, unsigned i, struct hz_state_view *v)
{
	const struct hz_sensor *s = &ev->c->sensors[i];
	const struct srt *rt = &ev->rt[i];
	int a = alarm_highest_active(s->levels, s->n_levels, rt->ls);

	memset(v, 0, sizeof(*v));
	v->sensor = s->id;
	v->r = &rt->r;
	v->unit = s->setup.unit;
	v->alarm = a >= 0 ? s->levels[a].name : NULL;
	v->alarm_state = alarm_state_name(a >= 0 ? rt->ls[a].state : HZ_A_NORMAL);
	for (unsigned k = 0; k < s->n_levels; k++)
		v->unacknowledged += alarm_unacked(rt->ls[k].state);
	v->shelved_until = rt->sa.shelved_until;
	v->out_of_service = rt->sa.oos;
	v->stale = rt->stale;
	v->err = rt->err;
	v->last_ok = rt->last_ok;
	v->ts_ms = rt->r_ts;
}

/* Alarm-system health (ISA-18.2): flood, chattering and stale alarms. */
void
eval_health(struct hz_eval *ev, int64_t now, struct hz_health *h)
{
	size_t keep = 0;

	memset(h, 0, sizeof(*h));
	for (size_t j = 0; j < ev->n_raises; j++)
		if (ev->raises[j] > now - FLOOD_WINDOW_MS)
			ev->raises[keep++] = ev->raises[j];
	ev->n_raises = keep;
	h->alarms_10min = (unsigned)keep;
	h->flood = keep > FLOOD_LIMIT;
	for (unsigned i = 0; i < ev->c->n_sensors; i++) {
		const struct srt *rt = &ev->rt[i];

		for (unsigned k = 0; k < ev->c->sensors[i].n_levels; k++) {
			const struct hz_level_state *ls = &rt->ls[k];

			if (rt->raised[k][CHATTER_RAISES - 1] &&
			    rt->raised[k][CHATTER_RAISES - 1] > now - CHATTER_WINDOW_MS)
				h->chattering++;
			if (alarm_active(ls->state) &&
			    ls->active_since && ls->active_since < now - STALE_MS)
				h->stale++;
		}
	}
}

/* ---- set-up, with the states saved before a restart */

/* A saved state of a sensor or level the configuration no longer has. */
struct orphan {
	char sensor[HZ_ID_MAX];
	char level[HAZMON_LEVEL_NAME_MAX];	/* "": the sensor's own row */
	uint8_t state;
	uint8_t fault;			/* the sensor's row: a raised fault */
	uint32_t fault_flags;
	int fault_err;
};

static struct orphan *
add_orphan(struct hz_eval *ev, const char *sensor, const char *level,
    uint8_t state)
{
	struct orphan *o;

	ev->orphans = xgrow(ev->orphans, &ev->cap_orphans, ev->n_orphans + 1,
	    sizeof(*ev->orphans));
	o = &ev->orphans[ev->n_orphans++];
	snprintf(o->sensor, sizeof(o->sensor), "%s", sensor);
	snprintf(o->level, sizeof(o->level), "%s", level ? level : "");
	o->state = state;
	o->fault = 0;
	return o;
}

static void
load_level(void *arg, const char *sensor, const char *level,
    const struct hz_level_state *ls)
{
	struct hz_eval *ev = arg;
	int i = eval_find(ev, sensor), li;

	if (i < 0 || (li = find_level(&ev->c->sensors[i], level)) < 0) {
		add_orphan(ev, sensor, level, ls->state);	/* gone from the config */
		return;
	}
	ev->rt[i].ls[li] = *ls;
	ev->rt[i].ls[li].pending = 0;
	if (ls->state != HZ_A_NORMAL && !ev->quiet)
		log_info("sensor %s level %s: %s, as before the restart", sensor,
		    level, alarm_state_name(ls->state));
}

static void
load_sensor(void *arg, const char *sensor, const struct hz_sensor_alarm *sa)
{
	struct hz_eval *ev = arg;
	int i = eval_find(ev, sensor);
	struct srt *rt;

	if (i < 0) {
		struct orphan *o = add_orphan(ev, sensor, NULL, HZ_A_NORMAL);

		o->fault = sa->fault != 0;
		o->fault_flags = sa->fault_flags;
		o->fault_err = sa->fault_err;
		return;
	}
	rt = &ev->rt[i];
	/* A fault still present after the restart is not news again. */
	rt->fault_active = sa->fault != 0;
	rt->fault_flags = sa->fault_flags;
	rt->fault_err = sa->fault_err;
	if (rt->fault_active && (sa->fault_flags & HAZMON_F_FROZEN)) {
		rt->last_value = sa->frozen_value;
		rt->last_change = sa->frozen_since;
	}
	if (rt->fault_active && !ev->quiet)
		log_info("sensor %s: fault %s raised, as before the restart", sensor,
		    event_fault_reason(rt->fault_flags));
	rt->sa.shelved_until = sa->shelved_until;
	rt->sa.oos = sa->oos;
	if ((sa->shelve_reason && *sa->shelve_reason) ||
	    (sa->shelve_actor && *sa->shelve_actor) ||
	    (sa->oos_actor && *sa->oos_actor)) {
		snprintf(who(rt)->shelve_reason, sizeof(rt->who->shelve_reason),
		    "%s", sa->shelve_reason ? sa->shelve_reason : "");
		snprintf(rt->who->shelve_actor, sizeof(rt->who->shelve_actor),
		    "%s", sa->shelve_actor ? sa->shelve_actor : "");
		snprintf(rt->who->oos_actor, sizeof(rt->who->oos_actor), "%s",
		    sa->oos_actor ? sa->oos_actor : "");
	}
}

/* The sink is copied; the saved states come from its load. */
void
eval_init(struct hz_eval *ev, const struct hz_config *c,
    const struct hz_sink *sink, int quiet)
{
	memset(ev, 0, sizeof(*ev));
	ev->quiet = quiet;
	ev->c = c;
	ev->sink = *sink;
	ev->rt = xcalloc(c->n_sensors, sizeof(*ev->rt));
	ev->by_id = ids_sort(c);
	for (unsigned i = 0; i < c->n_sensors; i++) {
		unsigned n = c->sensors[i].n_levels;

		if (n > 0) {		/* a sensor without levels needs none */
			ev->rt[i].ls = xcalloc(n, sizeof(*ev->rt[i].ls));
			ev->rt[i].tr = xcalloc(2 * n, sizeof(*ev->rt[i].tr));
			ev->rt[i].raised = xcalloc(n, sizeof(*ev->rt[i].raised));
		}
		ev->rt[i].r.value = NAN;
		ev->rt[i].seen = now_mono_ms();	/* stale if nothing comes */
	}
	if (ev->sink.load(ev->sink.arg, load_level, load_sensor, ev) < 0)
		log_msg(HZ_LOG_ERR, "cannot read the saved alarm states; starting "
		    "from normal");
}

void
eval_free(struct hz_eval *ev)
{
	for (unsigned i = 0; ev->rt && i < ev->c->n_sensors; i++) {
		free(ev->rt[i].ls);
		free(ev->rt[i].tr);
		free(ev->rt[i].raised);
		free(ev->rt[i].who);
	}
	free(ev->rt);
	free(ev->by_id);
	free(ev->orphans);
	free(ev->raises);
}

/* ---- reload */

/* The saved states of sensor i's levels (for hazmonctl alarms). */
const struct hz_level_state *
eval_levels(const struct hz_eval *ev, unsigned i)
{
	return ev->rt[i].ls;
}

/*
 * A sensor (level NULL) or one level left the configuration.  What was
 * open there is closed with a "removed" event, so a consumer does not keep
 * an alarm on its screen forever, and the saved state is forgotten.
 */
void
eval_remove(struct hz_eval *ev, unsigned i, const char *level, int64_t ts)
{
	const struct hz_sensor *s = &ev->c->sensors[i];
	struct srt *rt = &ev->rt[i];
	struct hz_event e = { .ts_ms = ts, .kind = "alarm", .event = "removed",
	    .value = shown_value(rt), .setpoint = NAN, .actor = "reload" };

	for (unsigned k = 0; k < s->n_levels; k++) {
		if (rt->ls[k].state == HZ_A_NORMAL ||
		    (level && strcmp(level, s->levels[k].name) != 0))
			continue;
		e.level = s->levels[k].name;
		e.priority = s->levels[k].priority;
		e.setpoint = s->levels[k].setpoint;
		emit(ev, i, &e);
	}
	if (level == NULL && rt->fault_active) {
		e = (struct hz_event){ .ts_ms = ts, .kind = "fault", .event = "removed",
		    .level = event_fault_reason(rt->fault_flags), .value = NAN,
		    .setpoint = NAN, .actor = "reload", .err = rt->fault_err };
		emit(ev, i, &e);
	}
	(void)ev->sink.forget(ev->sink.arg, s->id, level);
}

/*
 * After a reload: sensor i of the new configuration was sensor from[i] of
 * the old one (or -1: new).  Its runtime carries over, levels by name, so
 * a latched alarm, a pending delay, a fault or a shelf is not lost.
 */
void
eval_carry(struct hz_eval *ev, const struct hz_eval *old, const int *from)
{
	for (unsigned i = 0; i < ev->c->n_sensors; i++) {
		const struct hz_sensor *s = &ev->c->sensors[i];
		struct srt *rt = &ev->rt[i];
		const struct srt *o;
		const struct hz_sensor *os;

		if (from[i] < 0)
			continue;
		o = &old->rt[from[i]];
		os = &old->c->sensors[from[i]];
		rt->fault_active = o->fault_active;
		rt->fault_flags = o->fault_flags;
		rt->fault_err = o->fault_err;
		rt->err = o->err;
		rt->last_ok = o->last_ok;
		rt->seen = o->seen;
		rt->stale = o->stale;
		if (o->who)
			*who(rt) = *o->who;
		rt->sa.shelved_until = o->sa.shelved_until;
		rt->sa.oos = o->sa.oos;
		rt->last_value = o->last_value;
		rt->last_change = o->last_change;
		rt->r = o->r;
		rt->r_ts = o->r_ts;
		for (unsigned k = 0; k < s->n_levels; k++) {
			int ok = find_level(os, s->levels[k].name);

			if (ok < 0)
				continue;
			rt->ls[k] = o->ls[ok];
			memcpy(rt->raised[k], o->raised[ok], sizeof(rt->raised[k]));
		}
	}
	ev->n_raises = 0;
	for (size_t j = 0; j < old->n_raises; j++)
		health_note_raise(ev, old->raises[j]);
}

/*
 * After the ledger refused a batch, the alarm states saved with it are
 * lost too; once it takes writes again, every state is saved afresh (in
 * the caller's transaction), so a restart finds what is true now.
 */
void
eval_save_all(struct hz_eval *ev)
{
	for (unsigned i = 0; i < ev->c->n_sensors; i++) {
		const struct hz_sensor *s = &ev->c->sensors[i];

		for (unsigned k = 0; k < s->n_levels; k++)
			(void)ev->sink.save_level(ev->sink.arg, s->id,
			    s->levels[k].name, &ev->rt[i].ls[k]);
		save_sensor(ev, i);
	}
}

/*
 * Saved states of sensors or levels that left the configuration while
 * hazmond was stopped (or whose removal the ledger refused).  At start
 * (announce) an alarm that was not normal is closed by a "removed" event,
 * as a reload would have done; then the saved state is forgotten.  Runs
 * inside the caller's batch.
 */
void
eval_orphans(struct hz_eval *ev, int64_t ts, int announce)
{
	for (size_t j = 0; j < ev->n_orphans; j++) {
		const struct orphan *o = &ev->orphans[j];
		struct hz_event e = { .ts_ms = ts, .sensor = o->sensor,
		    .kind = "alarm", .event = "removed", .level = o->level,
		    .value = NAN, .unit = "", .setpoint = NAN, .actor = "restart" };

		if (announce && o->level[0] && o->state != HZ_A_NORMAL) {
			log_warnx("sensor %s level %s was %s and is no longer in the "
			    "configuration: closed by a removed event", o->sensor,
			    o->level, alarm_state_name(o->state));
			ev->sink.event(ev->sink.arg, &e);
		}
		if (announce && !o->level[0] && o->fault) {
			e.kind = "fault";
			e.level = event_fault_reason(o->fault_flags);
			e.err = o->fault_err;
			log_warnx("sensor %s had fault %s raised and is no longer in "
			    "the configuration: closed by a removed event", o->sensor,
			    e.level);
			ev->sink.event(ev->sink.arg, &e);
		}
		(void)ev->sink.forget(ev->sink.arg, o->sensor,
		    o->level[0] ? o->level : NULL);
	}
	free(ev->orphans);
	ev->orphans = NULL;
	ev->n_orphans = ev->cap_orphans = 0;
}
