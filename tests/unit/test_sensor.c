/*
 * The evaluator (daemon/sensor.c) driven with readings as a bus worker
 * sends them, on a real ledger in a temporary directory, through the
 * core's sink and batches (daemon/batch.c): fault reasons and
 * their detail, fault states across a restart, out of service, the value
 * shown during a fault, the last good reading, and staleness.
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
#include <jansson.h>
#include <modbus.h>

#include "hazmond.h"
#include "batch.h"

#define T0	1764547200000LL		/* a realtime ms */
#define MAX_GOT	64

static char dir[64];
static struct hz_bus bus = { .name = "b", .timeout_ms = 200, .retries = 1 };
static struct hazmon_level high = { .name = "high", .dir = HAZMON_ABOVE,
    .setpoint = 50.0, .priority = "high" };
static struct hz_sensor sensors[2];
static struct hz_config conf = { .site_id = "t", .buses = &bus, .n_buses = 1,
    .sensors = sensors, .n_sensors = 2 };

/* What the ledger holds after each batch: each event's JSON, in order. */
static json_t *got[MAX_GOT];
static int n_got;
static int64_t got_seq;		/* the last seq in got */

static void
forget_got(void)
{
	for (int i = 0; i < n_got; i++)
		json_decref(got[i]);
	n_got = 0;
}

static const char *
got_str(int i, const char *key)
{
	return json_string_value(json_object_get(got[i], key));
}

/* Event i is kind/event/level. */
static void
assert_event(int i, const char *kind, const char *event, const char *level)
{
	assert_true(i < n_got);
	assert_string_equal(got_str(i, "kind"), kind);
	assert_string_equal(got_str(i, "event"), event);
	assert_string_equal(got_str(i, "level"), level);
}

static int
setup(void **state)
{
	(void)state;
	got_seq = 0;
	snprintf(dir, sizeof(dir), "/tmp/hztest-sensor-XXXXXX");
	memset(sensors, 0, sizeof(sensors));
	for (int i = 0; i < 2; i++) {
		snprintf(sensors[i].id, sizeof(sensors[i].id), "s%d", i);
		sensors[i].interval = 1.0;
		sensors[i].levels = &high;
		sensors[i].n_levels = 1;
		snprintf(sensors[i].setup.unit, sizeof(sensors[i].setup.unit), "ppm");
	}
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	forget_got();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct run {
	struct hz_ledger *l;
	struct hz_batch *b;
	struct hz_eval ev;
};

static int
got_row(void *arg, int64_t seq, const char *sensor, const char *payload)
{
	(void)arg;
	(void)sensor;
	assert_true(n_got < MAX_GOT);
	assert_non_null(got[n_got++] = json_loads(payload, 0, NULL));
	got_seq = seq;
	return 0;
}

/* As a publisher: after each batch, what the ledger now holds. */
static void
out_pump(void *arg)
{
	struct run *r = arg;

	while (ledger_scan(r->l, got_seq, 16, got_row, NULL) > 0)
		;
}

static const char *
out_site(void *arg)
{
	(void)arg;
	return "t";
}

/* This ledger never refuses a batch. */
static void
out_live(void *arg, const char *sensor, const char *payload)
{
	(void)arg;
	(void)payload;
	fail_msg("event of %s published live: the ledger refused it", sensor);
}

static void
out_resave(void *arg)
{
	(void)arg;
	fail_msg("states saved again: the ledger refused them");
}

static void
start(struct run *r)
{
	struct hz_batch_out out = { r, out_site, out_live, out_pump,
	    out_resave, NULL, NULL };
	struct hz_sink sink;

	assert_non_null(r->l = ledger_open(dir));
	r->b = batch_new(r->l, &out);
	batch_sink(r->b, &sink);
	eval_init(&r->ev, &conf, &sink, 0);
}

/* A restart (or a SIGKILL: everything committed is all there is). */
static void
stop(struct run *r)
{
	eval_free(&r->ev);
	batch_free(r->b);
	ledger_close(r->l);
}

/* One reading, in its own batch as the core does it. */
static void
feed(struct run *r, unsigned sensor, double value, enum hazmon_quality q,
    uint32_t flags, int err, int64_t ts)
{
	struct hz_msg m = { .sensor = sensor, .r = { .value = value,
	    .quality = q, .flags = flags }, .ts_ms = ts, .err = err };

	batch_begin(r->b);
	eval_reading(&r->ev, &m);
	batch_end(r->b);
}

static void
feed_ok(struct run *r, unsigned sensor, double value, int64_t ts)
{
	feed(r, sensor, value, HAZMON_Q_OK, 0, 0, ts);
}

static void
feed_comm(struct run *r, unsigned sensor, int64_t ts)
{
	feed(r, sensor, NAN, HAZMON_Q_FAULT, HAZMON_F_COMM, ETIMEDOUT, ts);
}

static void
feed_exception(struct run *r, unsigned sensor, int err, int64_t ts)
{
	feed(r, sensor, NAN, HAZMON_Q_FAULT, HAZMON_F_DEVICE_ERROR, err, ts);
}

static json_t *
state_of(struct run *r, unsigned sensor)
{
	struct hz_state_view v;
	char *js;
	json_t *o;

	eval_view(&r->ev, sensor, &v);
	js = state_json("t", NULL, &v);
	assert_non_null(js);
	o = json_loads(js, 0, NULL);
	free(js);
	assert_non_null(o);
	return o;
}

/* ---- 1: a device error is its own fault, with what the device did */

static void
test_device_error(void **state)
{
	struct run r;
	json_t *st;

	(void)state;
	start(&r);
	feed_ok(&r, 0, 5.0, T0);
	feed_exception(&r, 0, EMBXILADD, T0 + 1000);
	assert_int_equal(n_got, 1);
	assert_event(0, "fault", "raised", "device_error");
	assert_string_equal(got_str(0, "error"),
	    "Modbus exception 2 (illegal data address)");
	assert_int_equal(json_integer_value(json_object_get(got[0], "exception")), 2);
	assert_true(json_is_null(json_object_get(got[0], "value")));
	st = state_of(&r, 0);
	assert_string_equal(json_string_value(json_object_get(st, "fault")),
	    "device_error");
	assert_int_equal(json_integer_value(json_object_get(st, "exception")), 2);
	json_decref(st);

	/* A reply that fails its checks: an error, no exception code. */
	feed(&r, 1, NAN, HAZMON_Q_FAULT, HAZMON_F_DEVICE_ERROR, EMBBADCRC, T0);
	assert_int_equal(n_got, 2);
	assert_event(1, "fault", "raised", "device_error");
	assert_string_equal(got_str(1, "error"), hz_strerror(EMBBADCRC));
	assert_true(json_is_null(json_object_get(got[1], "exception")));

	/* Comm loss wins when both are set; the state has the errno's text. */
	assert_string_equal(event_fault_reason(HAZMON_F_COMM |
	    HAZMON_F_DEVICE_ERROR), "comm_loss");
	feed(&r, 1, NAN, HAZMON_Q_FAULT, HAZMON_F_COMM | HAZMON_F_DEVICE_ERROR,
	    ETIMEDOUT, T0 + 1000);
	assert_int_equal(n_got, 2);	/* still the same read failure */
	st = state_of(&r, 1);
	assert_string_equal(json_string_value(json_object_get(st, "fault")),
	    "comm_loss");
	assert_string_equal(json_string_value(json_object_get(st, "error")),
	    hz_strerror(ETIMEDOUT));
	json_decref(st);
	stop(&r);
}

/*
 * A reason that changes while the sensor stays faulty: cleared, raised.
 * Between comm_loss and device_error (a noisy line: timeouts and bad
 * CRCs by turns) no events: they would flap with every poll.
 */
static void
test_reason_change(void **state)
{
	struct run r;

	(void)state;
	start(&r);
	feed_comm(&r, 0, T0);
	feed_comm(&r, 0, T0 + 1000);
	assert_int_equal(n_got, 1);
	assert_event(0, "fault", "raised", "comm_loss");
	for (int k = 0; k < 6; k++) {
		feed_exception(&r, 0, EMBXSBUSY, T0 + 2000 + 1000 * k);
		feed_comm(&r, 0, T0 + 2500 + 1000 * k);
	}
	assert_int_equal(n_got, 1);
	feed_ok(&r, 0, 5.0, T0 + 9000);
	assert_int_equal(n_got, 2);
	assert_event(1, "fault", "cleared", "comm_loss");
	/* The cleared event says which fault it closes. */
	assert_string_equal(got_str(1, "error"), hz_strerror(ETIMEDOUT));
	/* A device fault that becomes an over-range: two faults. */
	feed(&r, 0, 56.0, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT, 0, T0 + 10000);
	feed(&r, 0, 150.0, HAZMON_Q_FAULT, HAZMON_F_OVER_RANGE, 0, T0 + 11000);
	assert_int_equal(n_got, 5);
	assert_event(2, "fault", "raised", "device_fault");
	assert_event(3, "fault", "cleared", "device_fault");
	assert_event(4, "fault", "raised", "over_range");
	stop(&r);
}

/* ---- 2: fault states survive a restart */

static void
test_restart_still_faulty(void **state)
{
	struct run r;

	(void)state;
	start(&r);
	feed_comm(&r, 0, T0);
	assert_int_equal(n_got, 1);
	stop(&r);
	start(&r);
	feed_comm(&r, 0, T0 + 5000);
	assert_int_equal(n_got, 1);		/* no second raised */
	feed_ok(&r, 0, 5.0, T0 + 6000);
	assert_int_equal(n_got, 2);
	assert_event(1, "fault", "cleared", "comm_loss");
	stop(&r);
	start(&r);				/* and the clear is kept too */
	feed_ok(&r, 0, 5.0, T0 + 7000);
	feed_comm(&r, 0, T0 + 8000);
	assert_int_equal(n_got, 3);
	assert_event(2, "fault", "raised", "comm_loss");
	stop(&r);
}

static void
test_restart_recovered(void **state)
{
	struct run r;

	(void)state;
	start(&r);
	feed_exception(&r, 0, EMBXILADD, T0);
	stop(&r);
	start(&r);
	feed_ok(&r, 0, 5.0, T0 + 5000);
	feed_ok(&r, 0, 5.0, T0 + 6000);
	assert_int_equal(n_got, 2);
	assert_event(1, "fault", "cleared", "device_error");
	assert_int_equal(json_integer_value(json_object_get(got[1], "exception")), 2);
	stop(&r);
}

/* A frozen value is still frozen after a restart, and not raised again. */
static void
test_restart_frozen(void **state)
{
	struct run r;

	(void)state;
	sensors[0].frozen_after = 2.0;
	start(&r);
	feed_ok(&r, 0, 7.0, T0);
	feed_ok(&r, 0, 7.0, T0 + 2500);
	assert_int_equal(n_got, 1);
	assert_event(0, "fault", "raised", "frozen");
	stop(&r);
	start(&r);
	feed_ok(&r, 0, 7.0, T0 + 4000);
	assert_int_equal(n_got, 1);
	feed_ok(&r, 0, 7.5, T0 + 5000);
	assert_int_equal(n_got, 2);
	assert_event(1, "fault", "cleared", "frozen");
	stop(&r);
}

/* A sensor removed while hazmond was stopped closes its fault. */
static void
test_removed_while_stopped(void **state)
{
	struct run r;

	(void)state;
	start(&r);
	feed_comm(&r, 1, T0);
	stop(&r);
	conf.n_sensors = 1;
	start(&r);
	batch_begin(r.b);
	eval_orphans(&r.ev, T0 + 1000, 1);
	batch_end(r.b);
	stop(&r);
	conf.n_sensors = 2;
	assert_int_equal(n_got, 2);
	assert_event(1, "fault", "removed", "comm_loss");
	assert_string_equal(got_str(1, "actor"), "restart");
}

/* ---- 3: out of service: no fault events; the return tells the truth */

static void
oos(struct run *r, int on, int64_t ts)
{
	batch_begin(r->b);
	assert_int_equal(eval_oos(&r->ev, "s0", on, "li", ts), 0);
	batch_end(r->b);
}

/* The index of the latest fault event. */
static int
last_fault(void)
{
	for (int i = n_got - 1; i >= 0; i--)
		if (strcmp(got_str(i, "kind"), "fault") == 0)
			return i;
	return -1;
}

static int
n_faults(void)
{
	int n = 0;

	for (int i = 0; i < n_got; i++)
		n += strcmp(got_str(i, "kind"), "fault") == 0;
	return n;
}

static void
test_oos(void **state)
{
	struct run r;
	json_t *st;

	(void)state;
	start(&r);
	feed_ok(&r, 0, 5.0, T0);
	oos(&r, 1, T0 + 1000);
	feed_comm(&r, 0, T0 + 2000);
	assert_int_equal(n_faults(), 0);
	st = state_of(&r, 0);
	assert_string_equal(json_string_value(json_object_get(st, "quality")),
	    "out_of_service");
	assert_string_equal(json_string_value(json_object_get(st, "fault")),
	    "comm_loss");
	json_decref(st);
	oos(&r, 0, T0 + 3000);			/* present at the return */
	assert_int_equal(n_faults(), 1);
	assert_event(last_fault(), "fault", "raised", "comm_loss");

	/* Raised before, gone during: cleared at the return, once. */
	oos(&r, 1, T0 + 4000);
	feed_ok(&r, 0, 5.0, T0 + 5000);
	feed_comm(&r, 0, T0 + 6000);
	feed_ok(&r, 0, 5.0, T0 + 7000);
	assert_int_equal(n_faults(), 1);
	oos(&r, 0, T0 + 8000);
	assert_int_equal(n_faults(), 2);
	assert_event(last_fault(), "fault", "cleared", "comm_loss");

	/* Raised before and still there: nothing at the return. */
	feed_comm(&r, 0, T0 + 9000);
	oos(&r, 1, T0 + 10000);
	feed_comm(&r, 0, T0 + 11000);
	oos(&r, 0, T0 + 12000);
	assert_int_equal(n_faults(), 3);
	assert_event(last_fault(), "fault", "raised", "comm_loss");

	/* Out of service across a restart: still no events until the return. */
	oos(&r, 1, T0 + 13000);
	stop(&r);
	start(&r);
	feed_ok(&r, 0, 5.0, T0 + 14000);
	assert_int_equal(n_faults(), 3);
	oos(&r, 0, T0 + 15000);
	assert_int_equal(n_faults(), 4);
	assert_event(last_fault(), "fault", "cleared", "comm_loss");
	stop(&r);
}

/* ---- 5: no untrusted value presented, in events or in the state */

static void
test_fault_value(void **state)
{
	struct run r;
	json_t *st;

	(void)state;
	start(&r);
	feed_ok(&r, 0, 60.0, T0);			/* high raised at 60 */
	assert_int_equal(n_got, 1);
	assert_true(json_real_value(json_object_get(got[0], "value")) == 60.0);
	feed(&r, 0, 56.0, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT, 0, T0 + 1000);
	assert_int_equal(n_got, 2);
	assert_event(1, "fault", "raised", "device_fault");
	assert_true(json_is_null(json_object_get(got[1], "value")));
	assert_true(json_is_null(json_object_get(got[1], "error")));
	st = state_of(&r, 0);
	assert_true(json_is_null(json_object_get(st, "value")));
	json_decref(st);
	/* An action while the reading is faulty shows no value either. */
	batch_begin(r.b);
	assert_int_equal(eval_ack(&r.ev, "s0", NULL, "li", T0 + 1500), 0);
	batch_end(r.b);
	assert_int_equal(n_got, 3);
	assert_string_equal(got_str(2, "event"), "acknowledged");
	assert_true(json_is_null(json_object_get(got[2], "value")));

	/* The device's alarm with a fault: levels decide, no value shown. */
	feed(&r, 1, 70.0, HAZMON_Q_FAULT, HAZMON_F_DEVICE_FAULT |
	    HAZMON_F_DEVICE_ALARM, 0, T0);
	assert_int_equal(n_got, 5);
	assert_event(3, "alarm", "raised", "high");
	assert_true(json_is_null(json_object_get(got[3], "value")));
	assert_event(4, "fault", "raised", "device_fault");
	stop(&r);
}

/* ---- 4 and 6: the device's alarm bit; the last good reading */

static void
test_device_alarm_last_ok(void **state)
{
	struct run r;
	struct hz_state_view v;
	json_t *st;

	(void)state;
	start(&r);
	feed_comm(&r, 0, T0);
	eval_view(&r.ev, 0, &v);
	assert_int_equal(v.last_ok, 0);		/* read, but never well */
	feed(&r, 0, 10.0, HAZMON_Q_OK, HAZMON_F_DEVICE_ALARM, 0, T0 + 1000);
	st = state_of(&r, 0);
	assert_true(json_is_true(json_object_get(st, "device_alarm")));
	json_decref(st);
	feed_comm(&r, 0, T0 + 2000);
	eval_view(&r.ev, 0, &v);
	assert_int_equal(v.last_ok, T0 + 1000);
	assert_int_equal(v.ts_ms, T0 + 2000);
	st = state_of(&r, 0);
	assert_true(json_is_false(json_object_get(st, "device_alarm")));
	json_decref(st);
	stop(&r);
}

/* ---- 7: a reading older than its interval allows is stale */

static void
test_stale(void **state)
{
	struct run r;
	int64_t lim = eval_stale_ms(&conf, 0);
	json_t *st;

	(void)state;
	assert_int_equal(lim, 3000 + 200 * 2 + 1000);
	start(&r);
	feed_ok(&r, 0, 5.0, T0);
	eval_stale(&r.ev, now_mono_ms() + lim - 100, NULL, NULL);
	st = state_of(&r, 0);
	assert_string_equal(json_string_value(json_object_get(st, "quality")), "ok");
	json_decref(st);
	eval_stale(&r.ev, now_mono_ms() + lim + 10, NULL, NULL);
	st = state_of(&r, 0);
	assert_string_equal(json_string_value(json_object_get(st, "quality")),
	    "stale");
	assert_true(json_is_null(json_object_get(st, "value")));
	json_decref(st);
	/* Never read since the start: stale too, with no time stamp. */
	st = state_of(&r, 1);
	assert_string_equal(json_string_value(json_object_get(st, "quality")),
	    "stale");
	assert_true(json_is_null(json_object_get(st, "ts")));
	json_decref(st);
	assert_int_equal(n_got, 0);		/* stale is not a fault event */
	feed_ok(&r, 0, 5.0, T0 + 9000);	/* a reading ends it */
	st = state_of(&r, 0);
	assert_string_equal(json_string_value(json_object_get(st, "quality")), "ok");
	json_decref(st);
	stop(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reason_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_still_faulty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_recovered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_frozen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_while_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_alarm_last_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
	};

	log_init("test", HZ_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
