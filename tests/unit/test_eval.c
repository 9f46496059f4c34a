/*
 * The evaluator (daemon/sensor.c) through a fake sink: no ledger, no
 * SQLite, no batch.  Every operator action and every reload step, with
 * the exact events and state writes the sink sees, in order.
 *
 * The sink writes each call as one line:
 *	event SENSOR KIND EVENT LEVEL [by ACTOR] [why REASON] [until +MS] v=VALUE
 *	level SENSOR LEVEL STATE
 *	sensor SENSOR shelved (+MS by ACTOR (REASON) | -) oos (ACTOR | -)
 *	    fault (REASON [frozen VALUE since +MS] | -)
 *	forget SENSOR (LEVEL | *)
 * (times relative to T0, "-" for none or NaN), and keeps the saved states
 * as a ledger would, for the next eval_init to load.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hazmond.h"

#define T0		1764547200000LL	/* a realtime ms */
#define MAX_LINES	64
#define MAX_SAVED	32

/* ---- the fake sink */

static char lines[MAX_LINES][200];
static int n_lines;
static int refuse;		/* writes fail, as a refusing ledger's do */
static int64_t seq;

/* One saved row: a level's state, or (level "") a sensor's. */
static struct saved {
	char sensor[HZ_ID_MAX], level[HAZMON_LEVEL_NAME_MAX];
	struct hz_level_state ls;
	struct hz_sensor_alarm sa;
	char reason[128], shelve_actor[64], oos_actor[64];
} saved[MAX_SAVED];
static int n_saved;

static void
line(const char *fmt, ...)
{
	va_list ap;

	assert_true(n_lines < MAX_LINES);
	va_start(ap, fmt);
	vsnprintf(lines[n_lines++], sizeof(lines[0]), fmt, ap);
	va_end(ap);
}

static struct saved *
row(const char *sensor, const char *level, int add)
{
	for (int i = 0; i < n_saved; i++)
		if (strcmp(saved[i].sensor, sensor) == 0 &&
		    strcmp(saved[i].level, level) == 0)
			return &saved[i];
	if (!add)
		return NULL;
	assert_true(n_saved < MAX_SAVED);
	memset(&saved[n_saved], 0, sizeof(saved[0]));
	snprintf(saved[n_saved].sensor, sizeof(saved[0].sensor), "%s", sensor);
	snprintf(saved[n_saved].level, sizeof(saved[0].level), "%s", level);
	return &saved[n_saved++];
}

static void
fake_event(void *arg, struct hz_event *e)
{
	char buf[200], v[32] = "-";
	size_t o;

	assert_ptr_equal(arg, &seq);
	e->seq = ++seq;
	o = (size_t)snprintf(buf, sizeof(buf), "event %s %s %s %s", e->sensor,
	    e->kind, e->event, e->level ? e->level : "-");
	if (e->actor)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, " by %s", e->actor);
	if (e->reason)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, " why %s", e->reason);
	if (e->until_ms)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, " until +%lld",
		    (long long)(e->until_ms - T0));
	if (isfinite(e->value))
		snprintf(v, sizeof(v), "%g", e->value);
	line("%s v=%s", buf, v);
}

static int
fake_save_level(void *arg, const char *sensor, const char *level,
    const struct hz_level_state *ls)
{
	(void)arg;
	line("level %s %s %s", sensor, level, alarm_state_name(ls->state));
	if (refuse)
		return -EIO;
	row(sensor, level, 1)->ls = *ls;
	return 0;
}

static int
fake_save_sensor(void *arg, const char *sensor,
    const struct hz_sensor_alarm *sa)
{
	struct saved *r;
	char shelf[200] = "-", fault[80] = "-";

	(void)arg;
	if (sa->shelved_until)
		snprintf(shelf, sizeof(shelf), "+%lld by %s (%s)",
		    (long long)(sa->shelved_until - T0), sa->shelve_actor,
		    sa->shelve_reason);
	if (sa->fault && (sa->fault_flags & HAZMON_F_FROZEN))
		snprintf(fault, sizeof(fault), "%s frozen %g since +%lld",
		    event_fault_reason(sa->fault_flags), sa->frozen_value,
		    (long long)(sa->frozen_since - T0));
	else if (sa->fault)
		snprintf(fault, sizeof(fault), "%s",
		    event_fault_reason(sa->fault_flags));
	line("sensor %s shelved %s oos %s fault %s", sensor, shelf,
	    sa->oos ? sa->oos_actor : "-", fault);
	if (refuse)
		return -EIO;
	r = row(sensor, "", 1);
	r->sa = *sa;
	snprintf(r->reason, sizeof(r->reason), "%s", sa->shelve_reason);
	snprintf(r->shelve_actor, sizeof(r->shelve_actor), "%s", sa->shelve_actor);
	snprintf(r->oos_actor, sizeof(r->oos_actor), "%s", sa->oos_actor);
	return 0;
}

static int
fake_forget(void *arg, const char *sensor, const char *level)
{
	int keep = 0;

	(void)arg;
	line("forget %s %s", sensor, level ? level : "*");
	if (refuse)
		return -EIO;
	for (int i = 0; i < n_saved; i++)
		if (strcmp(saved[i].sensor, sensor) != 0 ||
		    (level && strcmp(saved[i].level, level) != 0))
			saved[keep++] = saved[i];
	n_saved = keep;
	return 0;
}

/* As the ledger: every level row, then every sensor row. */
static int
fake_load(void *arg, saved_level_fn level, saved_sensor_fn sensor,
    void *fn_arg)
{
	(void)arg;
	for (int i = 0; i < n_saved; i++)
		if (saved[i].level[0])
			level(fn_arg, saved[i].sensor, saved[i].level, &saved[i].ls);
	for (int i = 0; i < n_saved; i++)
		if (!saved[i].level[0]) {
			struct hz_sensor_alarm sa = saved[i].sa;

			sa.shelve_reason = saved[i].reason;
			sa.shelve_actor = saved[i].shelve_actor;
			sa.oos_actor = saved[i].oos_actor;
			sensor(fn_arg, saved[i].sensor, &sa);
		}
	return 0;
}

static const struct hz_sink sink = { &seq, fake_event, fake_save_level,
    fake_save_sensor, fake_forget, fake_load };

/* What the sink saw since the last call is exactly want[], in order. */
static void
expect_lines(const char *const *want)
{
	int n = 0, bad;

	while (want[n])
		n++;
	bad = n != n_lines;
	for (int i = 0; !bad && i < n; i++)
		bad = strcmp(lines[i], want[i]) != 0;
	if (bad) {
		for (int i = 0; i < n || i < n_lines; i++)
			print_message("%2d want %-60s got %s\n", i,
			    i < n ? want[i] : "(nothing)",
			    i < n_lines ? lines[i] : "(nothing)");
		fail_msg("the sink saw other writes than expected");
	}
	n_lines = 0;
}
#define expect(...)	expect_lines((const char *const[]){ __VA_ARGS__, NULL })
#define expect_nothing()	expect_lines((const char *const[]){ NULL })

/* ---- configurations */

static struct hazmon_level one_high[1], two[2], latched[1], two_b[2],
    high_only[1];
static struct hz_bus bus = { .name = "b", .timeout_ms = 200, .retries = 1 };
static struct hz_sensor sensors[3], sensors_b[3];
static struct hz_config conf = { .site_id = "t", .buses = &bus, .n_buses = 1,
    .sensors = sensors, .n_sensors = 3 };
static struct hz_config conf_b = { .site_id = "t", .buses = &bus,
    .n_buses = 1, .sensors = sensors_b, .n_sensors = 3 };

static struct hazmon_level
level(const char *name, double setpoint, const char *priority, int latch)
{
	struct hazmon_level l = { .dir = HAZMON_ABOVE, .setpoint = setpoint,
	    .latch = latch };

	snprintf(l.name, sizeof(l.name), "%s", name);
	snprintf(l.priority, sizeof(l.priority), "%s", priority);
	return l;
}

static void
sensor(struct hz_sensor *s, const char *id, struct hazmon_level *lv,
    unsigned n)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->interval = 1.0;
	s->levels = lv;
	s->n_levels = n;
	snprintf(s->setup.unit, sizeof(s->setup.unit), "ppm");
}

static int
setup(void **state)
{
	(void)state;
	n_lines = n_saved = refuse = 0;
	seq = 0;
	one_high[0] = level("high", 50, "high", 0);
	two[0] = level("low", 20, "medium", 0);
	two[1] = level("high", 50, "high", 0);
	latched[0] = level("high", 50, "high", 1);
	sensor(&sensors[0], "s0", one_high, 1);
	sensor(&sensors[1], "s1", one_high, 1);
	sensor(&sensors[2], "s2", two, 2);
	return 0;
}

/* ---- readings as a bus worker sends them */

static void
feed(struct hz_eval *ev, unsigned i, double value, enum hazmon_quality q,
    uint32_t flags, int err, int64_t ts)
{
	struct hz_msg m = { .sensor = i, .r = { .value = value, .quality = q,
	    .flags = flags }, .ts_ms = ts, .err = err };

	eval_reading(ev, &m);
}

static void
feed_ok(struct hz_eval *ev, unsigned i, double value, int64_t ts)
{
	feed(ev, i, value, HAZMON_Q_OK, 0, 0, ts);
}

static void
feed_comm(struct hz_eval *ev, unsigned i, int64_t ts)
{
	feed(ev, i, NAN, HAZMON_Q_FAULT, HAZMON_F_COMM, ETIMEDOUT, ts);
}

/* The alarm a sensor's state topic would show, and its state. */
static void
assert_shown(const struct hz_eval *ev, unsigned i, const char *alarm,
    const char *astate)
{
	struct hz_state_view v;

	eval_view(ev, i, &v);
	if (alarm == NULL)
		assert_null(v.alarm);
	else
		assert_string_equal(v.alarm, alarm);
	assert_string_equal(v.alarm_state, astate);
}

/* ---- acknowledge: one level, then all */

static void
test_ack(void **state)
{
	struct hz_eval ev;

	(void)state;
	eval_init(&ev, &conf, &sink, 0);
	expect_nothing();
	feed_ok(&ev, 2, 60.0, T0);
	expect("event s2 alarm raised low v=60",
	    "level s2 low active_unacknowledged",
	    "event s2 alarm raised high v=60",
	    "level s2 high active_unacknowledged");

	assert_int_equal(eval_ack(&ev, "s2", "high", "li", T0 + 1000), 0);
	expect("event s2 alarm acknowledged high by li v=60",
	    "level s2 high active_acknowledged");
	assert_int_equal(eval_ack(&ev, "s2", "high", "li", T0 + 1100), -EALREADY);
	assert_int_equal(eval_ack(&ev, "s2", "nope", "li", T0 + 1100), -ESRCH);
	assert_int_equal(eval_ack(&ev, "sx", NULL, "li", T0 + 1100), -ENOENT);
	assert_int_equal(eval_ack(&ev, "s0", NULL, "li", T0 + 1100), -EALREADY);
	expect_nothing();

	/* All: only what still waits (low). */
	assert_int_equal(eval_ack(&ev, "s2", NULL, "wang", T0 + 2000), 0);
	expect("event s2 alarm acknowledged low by wang v=60",
	    "level s2 low active_acknowledged");
	assert_int_equal(eval_ack(&ev, "s2", NULL, "wang", T0 + 2100), -EALREADY);
	expect_nothing();

	/* Acknowledged alarms clear with the condition, highest first. */
	feed_ok(&ev, 2, 5.0, T0 + 3000);
	expect("event s2 alarm cleared high v=5", "level s2 high normal",
	    "event s2 alarm cleared low v=5", "level s2 low normal");
	assert_shown(&ev, 2, NULL, "normal");

	/* Back to normal unacknowledged: ack all ends both. */
	feed_ok(&ev, 2, 60.0, T0 + 4000);
	feed_ok(&ev, 2, 5.0, T0 + 5000);
	expect("event s2 alarm raised low v=60",
	    "level s2 low active_unacknowledged",
	    "event s2 alarm raised high v=60",
	    "level s2 high active_unacknowledged",
	    "event s2 alarm cleared high v=5",
	    "level s2 high returned_unacknowledged",
	    "event s2 alarm cleared low v=5",
	    "level s2 low returned_unacknowledged");
	assert_int_equal(eval_ack(&ev, "s2", NULL, "li", T0 + 6000), 0);
	expect("event s2 alarm acknowledged low by li v=5", "level s2 low normal",
	    "event s2 alarm acknowledged high by li v=5", "level s2 high normal");
	eval_free(&ev);
}

/* ---- latch: the alarm stays until acknowledged after the value returns */

static void
test_latch(void **state)
{
	struct hz_eval ev;

	(void)state;
	sensors[0].levels = latched;
	eval_init(&ev, &conf, &sink, 0);
	feed_ok(&ev, 0, 60.0, T0);
	expect("event s0 alarm raised high v=60",
	    "level s0 high active_unacknowledged");
	feed_ok(&ev, 0, 5.0, T0 + 1000);
	feed_ok(&ev, 0, 4.0, T0 + 2000);
	expect_nothing();
	assert_shown(&ev, 0, "high", "active_unacknowledged");
	/* The acknowledgement ends it: the condition is gone. */
	assert_int_equal(eval_ack(&ev, "s0", "high", "li", T0 + 3000), 0);
	expect("event s0 alarm acknowledged high by li v=4", "level s0 high normal",
	    "event s0 alarm cleared high v=4", "level s0 high normal");
	assert_shown(&ev, 0, NULL, "normal");

	/* Acknowledged while still active: it clears with the value. */
	feed_ok(&ev, 0, 60.0, T0 + 4000);
	assert_int_equal(eval_ack(&ev, "s0", NULL, "li", T0 + 5000), 0);
	feed_ok(&ev, 0, 5.0, T0 + 6000);
	expect("event s0 alarm raised high v=60",
	    "level s0 high active_unacknowledged",
	    "event s0 alarm acknowledged high by li v=60",
	    "level s0 high active_acknowledged",
	    "event s0 alarm cleared high v=5", "level s0 high normal");
	eval_free(&ev);
}

/* ---- shelve, and its expiry in eval_tick */

static void
test_shelve_expiry(void **state)
{
	struct hz_eval ev;
	struct hz_state_view v;

	(void)state;
	eval_init(&ev, &conf, &sink, 0);
	feed_ok(&ev, 0, 5.0, T0);
	/* Shelving is bounded and always explained. */
	assert_int_equal(eval_shelve(&ev, "s0", 0, "calibration", "li", T0), -EINVAL);
	assert_int_equal(eval_shelve(&ev, "s0", SHELVE_MAX_S + 1, "calibration",
	    "li", T0), -EINVAL);
	assert_int_equal(eval_shelve(&ev, "s0", 60, "", "li", T0), -EINVAL);
	assert_int_equal(eval_shelve(&ev, "s0", 60, NULL, "li", T0), -EINVAL);
	assert_int_equal(eval_shelve(&ev, "sx", 60, "calibration", "li", T0),
	    -ENOENT);
	expect_nothing();

	assert_int_equal(eval_shelve(&ev, "s0", 60, "calibration", "li", T0), 0);
	expect("sensor s0 shelved +60000 by li (calibration) oos - fault -",
	    "event s0 alarm shelved - by li why calibration until +60000 v=5");
	eval_view(&ev, 0, &v);
	assert_int_equal(v.shelved_until, T0 + 60000);

	/* Shelved: the condition is tracked, nothing is raised. */
	feed_ok(&ev, 0, 60.0, T0 + 1000);
	eval_tick(&ev, T0 + 59999);
	expect_nothing();
	assert_shown(&ev, 0, NULL, "normal");

	/* The expiry unshelves, and the alarm says what is true now. */
	eval_tick(&ev, T0 + 60000);
	expect("sensor s0 shelved - oos - fault -",
	    "event s0 alarm unshelved - by expiry v=60",
	    "event s0 alarm raised high v=60",
	    "level s0 high active_unacknowledged");
	eval_tick(&ev, T0 + 61000);
	expect_nothing();
	eval_free(&ev);
}

/* ---- unshelve by an operator */

static void
test_unshelve(void **state)
{
	struct hz_eval ev;

	(void)state;
	eval_init(&ev, &conf, &sink, 0);
	feed_ok(&ev, 0, 60.0, T0);
	assert_int_equal(eval_unshelve(&ev, "s1", "li", T0), -EALREADY);
	assert_int_equal(eval_unshelve(&ev, "sx", "li", T0), -ENOENT);
	expect("event s0 alarm raised high v=60",
	    "level s0 high active_unacknowledged");
	assert_int_equal(eval_ack(&ev, "s0", NULL, "li", T0 + 500), 0);
	assert_int_equal(eval_shelve(&ev, "s0", 600, "leak repair", "li",
	    T0 + 1000), 0);
	/* An alarm that ends and comes back while shelved: nothing. */
	feed_ok(&ev, 0, 5.0, T0 + 2000);
	feed_ok(&ev, 0, 70.0, T0 + 3000);
	feed_ok(&ev, 0, 5.0, T0 + 4000);
	expect("event s0 alarm acknowledged high by li v=60",
	    "level s0 high active_acknowledged",
	    "sensor s0 shelved +601000 by li (leak repair) oos - fault -",
	    "event s0 alarm shelved - by li why leak repair until +601000 v=60");
	assert_int_equal(eval_unshelve(&ev, "s0", "wang", T0 + 5000), 0);
	expect("sensor s0 shelved - oos - fault -",
	    "event s0 alarm unshelved - by wang v=5",
	    "event s0 alarm cleared high v=5", "level s0 high normal");
	assert_int_equal(eval_unshelve(&ev, "s0", "wang", T0 + 6000), -EALREADY);
	eval_tick(&ev, T0 + 700000);		/* no expiry left */
	expect_nothing();
	eval_free(&ev);
}

/* ---- out of service: on and off; what it missed comes at the return */

static void
test_oos(void **state)
{
	struct hz_eval ev;

	(void)state;
	eval_init(&ev, &conf, &sink, 0);
	feed_ok(&ev, 0, 5.0, T0);
	assert_int_equal(eval_oos(&ev, "s0", 0, "li", T0), -EALREADY);
	assert_int_equal(eval_oos(&ev, "sx", 1, "li", T0), -ENOENT);
	assert_int_equal(eval_oos(&ev, "s0", 1, "li", T0 + 1000), 0);
	expect("sensor s0 shelved - oos li fault -",
	    "event s0 alarm out_of_service - by li v=5");
	assert_int_equal(eval_oos(&ev, "s0", 1, "li", T0 + 1100), -EALREADY);
	/* No alarm and no fault while out of service. */
	feed_ok(&ev, 0, 60.0, T0 + 2000);
	feed_comm(&ev, 0, T0 + 3000);
	expect_nothing();
	assert_shown(&ev, 0, NULL, "normal");

	/* A shelf that expires meanwhile reconciles nothing yet. */
	assert_int_equal(eval_shelve(&ev, "s0", 10, "work", "li", T0 + 3000), 0);
	eval_tick(&ev, T0 + 13000);
	expect("sensor s0 shelved +13000 by li (work) oos li fault -",
	    "event s0 alarm shelved - by li why work until +13000 v=-",
	    "sensor s0 shelved - oos li fault -",
	    "event s0 alarm unshelved - by expiry v=-");

	/* Back in service: the alarm and the fault it missed. */
	assert_int_equal(eval_oos(&ev, "s0", 0, "wang", T0 + 14000), 0);
	expect("sensor s0 shelved - oos - fault -",
	    "event s0 alarm in_service - by wang v=-",
	    "event s0 alarm raised high v=-",
	    "level s0 high active_unacknowledged",
	    "event s0 fault raised comm_loss v=-",
	    "sensor s0 shelved - oos - fault comm_loss");
	eval_free(&ev);
}

/* ---- a frozen value is a fault; it never clears the alarm */

static void
test_frozen(void **state)
{
	struct hz_eval ev;

	(void)state;
	sensors[0].frozen_after = 2.0;
	eval_init(&ev, &conf, &sink, 0);
	feed_ok(&ev, 0, 60.0, T0);
	feed_ok(&ev, 0, 60.0, T0 + 1000);
	expect("event s0 alarm raised high v=60",
	    "level s0 high active_unacknowledged");
	feed_ok(&ev, 0, 60.0, T0 + 2000);
	expect("event s0 fault raised frozen v=-",
	    "sensor s0 shelved - oos - fault frozen frozen 60 since +0");
	feed_ok(&ev, 0, 60.0, T0 + 3000);
	expect_nothing();
	assert_shown(&ev, 0, "high", "active_unacknowledged");
	/* It moves again: the alarm follows the value, the fault clears. */
	feed_ok(&ev, 0, 5.0, T0 + 4000);
	expect("event s0 alarm cleared high v=5",
	    "level s0 high returned_unacknowledged",
	    "event s0 fault cleared frozen v=-",
	    "sensor s0 shelved - oos - fault -");
	eval_free(&ev);
}

/* ---- the device says alarm and fault at once: the alarm goes first */

static void
test_device_alarm_and_fault(void **state)
{
	struct hz_eval ev;

	(void)state;
	eval_init(&ev, &conf, &sink, 0);
	feed(&ev, 0, 70.0, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT |
	    HAZMON_F_DEVICE_ALARM, 0, T0);
	expect("event s0 alarm raised high v=-",
	    "level s0 high active_unacknowledged",
	    "event s0 fault raised device_fault v=-",
	    "sensor s0 shelved - oos - fault device_fault");
	/* A faulty reading without the alarm bit changes no alarm. */
	feed(&ev, 0, 10.0, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT, 0, T0 + 1000);
	expect_nothing();
	assert_shown(&ev, 0, "high", "active_unacknowledged");
	feed_ok(&ev, 0, 5.0, T0 + 2000);
	expect("event s0 alarm cleared high v=5",
	    "level s0 high returned_unacknowledged",
	    "event s0 fault cleared device_fault v=-",
	    "sensor s0 shelved - oos - fault -");
	/* Without a value the alarm bit decides nothing. */
	feed(&ev, 1, NAN, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT |
	    HAZMON_F_DEVICE_ALARM, 0, T0);
	expect("event s1 fault raised device_fault v=-",
	    "sensor s1 shelved - oos - fault device_fault");
	eval_free(&ev);
}

/* ---- a sensor or a level leaves the configuration */

static void
test_remove(void **state)
{
	struct hz_eval ev;

	(void)state;
	eval_init(&ev, &conf, &sink, 0);
	feed_ok(&ev, 2, 30.0, T0);
	feed(&ev, 2, 30.0, HAZMON_Q_FAULT, HAZMON_F_OVER_RANGE, 0, T0 + 1000);
	expect("event s2 alarm raised low v=30",
	    "level s2 low active_unacknowledged",
	    "event s2 fault raised over_range v=-",
	    "sensor s2 shelved - oos - fault over_range");
	/* A level that was normal: only its saved state goes. */
	eval_remove(&ev, 2, "high", T0 + 2000);
	expect("forget s2 high");
	eval_remove(&ev, 2, NULL, T0 + 2000);
	expect("event s2 alarm removed low by reload v=-",
	    "event s2 fault removed over_range by reload v=-",
	    "forget s2 *");
	assert_int_equal(n_saved, 0);
	eval_free(&ev);
}

/*
 * ---- a reload, as swap.c runs it: removals on the old evaluator, a new
 * one loading the saved states, the runtime carried by id, orphans.
 */
static void
test_carry_reload(void **state)
{
	struct hz_eval old, nev;
	struct hz_state_view v;
	int from[3] = { 2, 0, -1 };	/* new s2 <- old 2, s0 <- 0, s3 new */

	(void)state;
	sensors[0].levels = latched;
	eval_init(&old, &conf, &sink, 0);
	feed_ok(&old, 0, 60.0, T0);
	feed_ok(&old, 0, 5.0, T0 + 1000);	/* latched: stays */
	feed_ok(&old, 1, 60.0, T0);
	feed_comm(&old, 1, T0 + 1000);
	feed_ok(&old, 2, 60.0, T0);
	assert_int_equal(eval_shelve(&old, "s0", 600, "maintenance", "li",
	    T0 + 2000), 0);
	n_lines = 0;

	/* The new configuration: s1 is gone, s2 loses "low", s3 is new. */
	two_b[0] = level("high", 50, "high", 0);
	high_only[0] = level("high", 50, "high", 0);
	sensor(&sensors_b[0], "s2", two_b, 1);
	sensor(&sensors_b[1], "s0", latched, 1);
	sensor(&sensors_b[2], "s3", high_only, 1);

	/* Removals; the ledger refuses them, so the states stay saved. */
	refuse = 1;
	eval_remove(&old, 1, NULL, T0 + 3000);
	eval_remove(&old, 2, "low", T0 + 3000);
	refuse = 0;
	expect("event s1 alarm removed high by reload v=-",
	    "event s1 fault removed comm_loss by reload v=-",
	    "forget s1 *",
	    "event s2 alarm removed low by reload v=60",
	    "forget s2 low");

	/* The new evaluator: loading and carrying write nothing ... */
	eval_init(&nev, &conf_b, &sink, 1);
	eval_carry(&nev, &old, from);
	expect_nothing();
	/* ... and the states the refused removals left are forgotten. */
	eval_orphans(&nev, T0 + 3000, 0);
	expect("forget s1 high", "forget s2 low", "forget s1 *");
	eval_free(&old);

	/* What carried: the latched alarm, the shelf, the high level. */
	assert_shown(&nev, 1, "high", "active_unacknowledged");
	eval_view(&nev, 1, &v);
	assert_int_equal(v.shelved_until, T0 + 602000);
	assert_shown(&nev, 0, "high", "active_unacknowledged");
	assert_shown(&nev, 2, NULL, "normal");
	/* s0's condition carried too: the acknowledgement clears it. */
	assert_int_equal(eval_ack(&nev, "s0", NULL, "wang", T0 + 4000), 0);
	expect("event s0 alarm acknowledged high by wang v=5",
	    "level s0 high normal", "event s0 alarm cleared high v=5",
	    "level s0 high normal");
	/* No second raise of what carried over. */
	feed_ok(&nev, 0, 60.0, T0 + 5000);
	expect_nothing();
	eval_tick(&nev, T0 + 602000);
	expect("sensor s0 shelved - oos - fault -",
	    "event s0 alarm unshelved - by expiry v=5");
	eval_free(&nev);
}

/* ---- saved states the configuration no longer has (removed while stopped) */

static void
test_orphans(void **state)
{
	struct hz_eval ev;
	struct saved *r;

	(void)state;
	r = row("gone", "high", 1);
	r->ls.state = HZ_A_ACTIVE_UNACK;
	r->ls.cond = 1;
	row("s0", "old", 1)->ls.state = HZ_A_ACTIVE_ACK;
	row("s0", "high", 1)->ls.state = HZ_A_NORMAL;
	row("quiet", "high", 1)->ls.state = HZ_A_NORMAL;
	r = row("gone", "", 1);
	r->sa.fault = 1;
	r->sa.fault_flags = HAZMON_F_COMM;
	r->sa.fault_err = ETIMEDOUT;
	row("idle", "", 1);
	r = row("s1", "", 1);
	r->sa.oos = 1;
	snprintf(r->oos_actor, sizeof(r->oos_actor), "li");

	eval_init(&ev, &conf, &sink, 0);
	expect_nothing();
	eval_orphans(&ev, T0, 1);
	expect("event gone alarm removed high by restart v=-", "forget gone high",
	    "event s0 alarm removed old by restart v=-", "forget s0 old",
	    "forget quiet high",
	    "event gone fault removed comm_loss by restart v=-", "forget gone *",
	    "forget idle *");
	eval_orphans(&ev, T0 + 1000, 1);	/* once */
	expect_nothing();
	/* What the configuration still has was restored, not forgotten. */
	assert_int_equal(n_saved, 2);
	assert_non_null(row("s0", "high", 0));
	assert_int_equal(eval_oos(&ev, "s1", 0, "wang", T0 + 2000), 0);
	expect("sensor s1 shelved - oos - fault -",
	    "event s1 alarm in_service - by wang v=-");
	eval_free(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ack, setup),
		cmocka_unit_test_setup(test_latch, setup),
		cmocka_unit_test_setup(test_shelve_expiry, setup),
		cmocka_unit_test_setup(test_unshelve, setup),
		cmocka_unit_test_setup(test_oos, setup),
		cmocka_unit_test_setup(test_frozen, setup),
		cmocka_unit_test_setup(test_device_alarm_and_fault, setup),
		cmocka_unit_test_setup(test_remove, setup),
		cmocka_unit_test_setup(test_carry_reload, setup),
		cmocka_unit_test_setup(test_orphans, setup),
	};

	log_init("test", HZ_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
