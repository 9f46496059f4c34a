/*
 * The control commands (daemon/core/ctlcmd.c, docs/control.md) on a view
 * of the core made by hand: a configuration of two sensors on two buses,
 * the evaluator on a real ledger in a temporary directory, and callbacks
 * that record what the commands asked of the core.  The operator actions
 * are applied to the evaluator, so that the answers ("acknowledged",
 * "until", the refusals) come from real states.
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
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <mosquitto.h>

#include "hazmond.h"
#include "core.h"		/* struct ctl_ticket */
#include "ctlcmd.h"

#define MAX_ACTIONS	8
#define MAX_EVENTS	64
#define ACTOR		"alice"
#define COMMANDS	"(status, sensors, alarms, ack, shelve, unshelve, oos, " \
			"history, reload, rebirth, watch, replay)"

static char dir[64];
static struct hz_plugin gas = { .name = "gas" };
static struct hz_bus buses[2] = {
	{ .name = "b", .type = HZ_BUS_TCP, .host = "127.0.0.1", .port = 502,
	    .timeout_ms = 200, .retries = 1 },
	{ .name = "r", .type = HZ_BUS_RTU, .device = "/dev/ttyUSB0",
	    .timeout_ms = 200, .retries = 1 },
};
static struct hazmon_level levels[2] = {
	{ .name = "high", .dir = HAZMON_ABOVE, .setpoint = 50.0,
	    .priority = "high" },
	{ .name = "top", .dir = HAZMON_ABOVE, .setpoint = 80.0,
	    .priority = "urgent", .latch = 1 },
};
static struct hz_dest dest = { .name = "ent", .host = "127.0.0.1", .port = 1,
    .prefix = "hazmon/t", .keepalive = 30 };
static struct hz_sensor sensors[2];
static struct hz_config conf = { .path = "/etc/hazmon/t.conf",
    .site_id = "t", .site_name = "Test site", .dests = &dest,
    .buses = buses, .n_buses = 2, .sensors = sensors, .n_sensors = 2 };

static struct hz_ledger *l;
static struct hz_eval ev;
static const struct hz_worker *workers[2];	/* none running */
static const struct hz_pub *pubs[1];
static struct hz_health health;

/* What the commands asked of the core. */
static struct {
	struct hz_command cmd[MAX_ACTIONS];
	int64_t ts[MAX_ACTIONS];	/* when each action was applied */
	unsigned n_actions;
	int rc;				/* not 0: refuse every action so */
	const struct ctl_ticket *ticket;
	unsigned n_reloads, n_rebirths;
	unsigned n_replays, replay_dest;
} asked;

/* Each event's JSON as the core would publish it, by seq. */
static char *published[MAX_EVENTS];

/* The evaluator's sink: each event into the open transaction. */
static void
record(void *arg, struct hz_event *e)
{
	char *js;

	(void)arg;
	e->seq = ledger_reserve_seq(l);
	assert_non_null(js = event_json(conf.site_id, NULL, e));
	assert_int_equal(ledger_append(l, e, js), 0);
	assert_true(e->seq > 0 && e->seq < MAX_EVENTS);
	published[e->seq] = js;
}

/* The alarm and fault states, into the ledger as the batch's sink does. */
static int
save_level(void *arg, const char *sensor, const char *level,
    const struct hz_level_state *ls)
{
	(void)arg;
	return ledger_save_level(l, sensor, level, ls);
}

static int
save_sensor(void *arg, const char *sensor, const struct hz_sensor_alarm *sa)
{
	(void)arg;
	return ledger_save_sensor(l, sensor, sa);
}

static int
forget(void *arg, const char *sensor, const char *level)
{
	(void)arg;
	return ledger_forget(l, sensor, level);
}

static int
load(void *arg, saved_level_fn level, saved_sensor_fn sensor, void *fn_arg)
{
	(void)arg;
	if (ledger_load_levels(l, level, fn_arg) < 0 ||
	    ledger_load_sensors(l, sensor, fn_arg) < 0)
		return -EIO;
	return 0;
}

static const struct hz_sink sink = { NULL, record, save_level, save_sensor,
    forget, load };

/* An operator action, applied in a transaction of its own as the core does. */
static int
action(void *arg, const struct hz_command *cmd)
{
	int64_t ts = now_real_ms();
	int rc = -EINVAL;

	assert_ptr_equal(arg, &asked);
	assert_true(asked.n_actions < MAX_ACTIONS);
	asked.cmd[asked.n_actions] = *cmd;
	asked.ts[asked.n_actions++] = ts;
	if (asked.rc != 0)
		return asked.rc;
	assert_int_equal(ledger_begin(l), 0);
	rc = eval_command(&ev, cmd, ts);
	assert_int_equal(ledger_commit(l), 0);
	return rc;
}

static void
reload(void *arg, const struct ctl_ticket *t)
{
	assert_ptr_equal(arg, &asked);
	asked.ticket = t;
	asked.n_reloads++;
}

static void
rebirth(void *arg)
{
	assert_ptr_equal(arg, &asked);
	asked.n_rebirths++;
}

/* A destination whose ledger keeps seq 10 to 100. */
static int
replay(void *arg, unsigned to, const json_t *req, const char *actor,
    struct replay_answer *a)
{
	struct hz_replay r;

	assert_ptr_equal(arg, &asked);
	assert_string_equal(actor, ACTOR);
	asked.replay_dest = to;
	if (replay_check(req, conf.site_id, 10, 100, &r, a) != 0)
		return -EINVAL;
	asked.n_replays++;
	return 0;
}

static struct ctl_env env = { .c = &conf, .ev = &ev, .workers = workers,
    .pubs = pubs, .health = &health, .action = action, .reload = reload,
    .rebirth = rebirth, .replay = replay, .arg = &asked };

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hztest-ctlcmd-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	memset(sensors, 0, sizeof(sensors));
	for (int i = 0; i < 2; i++) {
		snprintf(sensors[i].id, sizeof(sensors[i].id), "s%d", i);
		sensors[i].plugin = &gas;
		sensors[i].bus = (unsigned)i;
		sensors[i].slave = i + 1;
		sensors[i].interval = 1.0;
		sensors[i].levels = levels;
		sensors[i].n_levels = 2;
		snprintf(sensors[i].setup.unit, sizeof(sensors[i].setup.unit),
		    "ppm");
	}
	sensors[0].name = "Sensor zero";
	conf.n_dests = 0;
	memset(&asked, 0, sizeof(asked));
	health = (struct hz_health){ 0 };
	if ((l = ledger_open(dir)) == NULL)
		return -1;
	eval_init(&ev, &conf, &sink, 0);
	env.l = l;
	env.started = now_real_ms();
	env.reloaded = 0;
	env.reloads = 0;
	env.read_only = env.warned = env.watch_full = 0;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	eval_free(&ev);
	ledger_close(l);
	for (int i = 0; i < MAX_EVENTS; i++) {
		free(published[i]);
		published[i] = NULL;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* One reading, in its own transaction as the core does it. */
static void
feed(unsigned sensor, double value, enum hazmon_quality q, uint32_t flags,
    int err, int64_t ts)
{
	struct hz_msg m = { .sensor = sensor, .r = { .value = value,
	    .quality = q, .flags = flags }, .ts_ms = ts, .err = err };

	assert_int_equal(ledger_begin(l), 0);
	eval_reading(&ev, &m);
	assert_int_equal(ledger_commit(l), 0);
}

static void
feed_ok(unsigned sensor, double value, int64_t ts)
{
	feed(sensor, value, HAZMON_Q_OK, 0, 0, ts);
}

/* The answer to one request line that keeps the connection. */
static char *
ask(const char *line)
{
	int hangup = 0;
	char *out = ctlcmd_run(&env, line, ACTOR, &hangup, NULL);

	assert_non_null(out);
	assert_null(strchr(out, '\n'));
	assert_int_equal(hangup, 0);
	return out;
}

/* The request is answered exactly with `want`. */
static void
assert_answer(const char *line, const char *want)
{
	char *out = ask(line);

	assert_string_equal(out, want);
	free(out);
}

/* The request is refused with `code` and exactly the sentence `error`. */
static void
assert_refused(const char *line, const char *code, const char *error)
{
	char want[1024];
	json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "error",
	    error);
	char *js = json_dumps(o, JSON_COMPACT);

	snprintf(want, sizeof(want), "%s", js);
	free(js);
	json_decref(o);
	assert_answer(line, want);
}

static json_t *
ask_json(const char *line)
{
	char *out = ask(line);
	json_t *o = json_loads(out, 0, NULL);

	assert_non_null(o);
	free(out);
	assert_true(json_is_true(json_object_get(o, "ok")));
	return o;
}

/* o's member at a jansson path of keys ("a.b") or "" for o itself. */
static json_t *
get(json_t *o, const char *path)
{
	char buf[128], *p, *key;

	snprintf(buf, sizeof(buf), "%s", path);
	for (key = strtok_r(buf, ".", &p); key; key = strtok_r(NULL, ".", &p))
		o = json_object_get(o, key);
	assert_non_null(o);
	return o;
}

static void
assert_str(json_t *o, const char *path, const char *want)
{
	assert_true(json_is_string(get(o, path)));
	assert_string_equal(json_string_value(get(o, path)), want);
}

static void
assert_int(json_t *o, const char *path, long long want)
{
	assert_true(json_is_integer(get(o, path)));
	assert_int_equal(json_integer_value(get(o, path)), want);
}

static void
assert_bool(json_t *o, const char *path, int want)
{
	assert_true(json_is_boolean(get(o, path)));
	assert_int_equal(json_is_true(get(o, path)), want);
}

static void
assert_json_null(json_t *o, const char *path)
{
	assert_true(json_is_null(get(o, path)));
}

static void
assert_ts(json_t *o, const char *path, int64_t ms)
{
	char ts[32];

	format_ts(ms, ts, sizeof(ts));
	assert_str(o, path, ts);
}

/* ---- status */

static void
test_status(void **state)
{
	int64_t t0 = now_real_ms() - 60000;
	struct hz_pub *p;
	json_t *o, *b, *d;

	(void)state;
	conf.n_dests = 1;
	p = pub_new(&conf, 0, l);	/* never connects: nobody drives it */
	pubs[0] = p;
	env.started = now_real_ms() - 5000;
	env.reloads = 2;
	env.reloaded = t0;
	health = (struct hz_health){ .alarms_10min = 3, .flood = 1,
	    .chattering = 2, .stale = 4 };
	feed_ok(0, 90.0, t0);		/* high and top raised */
	feed(1, NAN, HAZMON_Q_FAULT, HAZMON_F_COMM, ETIMEDOUT, t0);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(eval_ack(&ev, "s0", "high", "bob", t0 + 1), 0);
	assert_int_equal(ledger_commit(l), 0);

	o = ask_json("{\"cmd\":\"status\"}");
	assert_str(o, "version", PACKAGE_VERSION);
	assert_int(o, "pid", getpid());
	assert_str(o, "config", "/etc/hazmon/t.conf");
	assert_str(o, "site.id", "t");
	assert_str(o, "site.name", "Test site");
	assert_ts(o, "started", env.started);
	assert_true(json_integer_value(get(o, "uptime_s")) >= 5 &&
	    json_integer_value(get(o, "uptime_s")) <= 6);
	assert_int(o, "reloads", 2);
	assert_ts(o, "reloaded", t0);
	assert_int(o, "sensors.total", 2);
	assert_int(o, "sensors.ok", 1);
	assert_int(o, "sensors.fault", 1);
	assert_int(o, "sensors.stale", 0);
	assert_int(o, "sensors.out_of_service", 0);
	assert_int(o, "sensors.shelved", 0);
	assert_int(o, "alarms.active", 2);
	assert_int(o, "alarms.unacknowledged", 1);
	assert_int(o, "health.alarms_10min", 3);
	assert_bool(o, "health.flood", 1);
	assert_int(o, "health.chattering", 2);
	assert_int(o, "health.stale", 4);
	/* two raised, one fault, one acknowledged */
	assert_int(o, "ledger.last_seq", 4);

	assert_int_equal(json_array_size(get(o, "buses")), 2);
	b = json_array_get(get(o, "buses"), 0);
	assert_str(b, "name", "b");
	assert_str(b, "type", "tcp");
	assert_str(b, "endpoint", "127.0.0.1:502");
	assert_bool(b, "connected", 0);
	assert_int(b, "requests_per_cycle", 0);
	assert_int(b, "polls", 0);
	assert_int(b, "requests", 0);
	assert_int(b, "failed", 0);
	assert_int(b, "readings", 0);
	assert_int_equal(json_array_size(get(b, "slaves")), 0);
	b = json_array_get(get(o, "buses"), 1);
	assert_str(b, "name", "r");
	assert_str(b, "type", "rtu");
	assert_str(b, "endpoint", "/dev/ttyUSB0");

	/* The destination came before the events: all four are undelivered. */
	assert_int_equal(json_array_size(get(o, "destinations")), 1);
	d = json_array_get(get(o, "destinations"), 0);
	assert_str(d, "name", "ent");
	assert_str(d, "host", "127.0.0.1");
	assert_int(d, "port", 1);
	assert_bool(d, "connected", 0);
	assert_int(d, "acked_seq", 0);
	assert_int(d, "undelivered", 4);
	json_decref(o);

	/* Never reloaded: null. */
	env.reloaded = 0;
	o = ask_json("{\"cmd\":\"status\"}");
	assert_json_null(o, "reloaded");
	json_decref(o);
	assert_int_equal(asked.n_actions + asked.n_reloads + asked.n_rebirths, 0);
	pub_free(p);
	pubs[0] = NULL;
}

/* ---- sensors */

static void
test_sensors(void **state)
{
	int64_t t0 = now_real_ms() - 60000;
	json_t *o, *s;

	(void)state;
	feed_ok(0, 60.0, t0);
	feed(1, NAN, HAZMON_Q_FAULT, HAZMON_F_COMM, ETIMEDOUT, t0 + 1000);
	o = ask_json("{\"cmd\":\"sensors\"}");
	assert_int_equal(json_array_size(get(o, "sensors")), 2);

	s = json_array_get(get(o, "sensors"), 0);
	assert_str(s, "id", "s0");
	assert_str(s, "name", "Sensor zero");
	assert_str(s, "plugin", "gas");
	assert_str(s, "bus", "b");
	assert_int(s, "slave", 1);
	assert_true(json_is_real(get(s, "value")));
	assert_true(json_real_value(get(s, "value")) == 60.0);
	assert_str(s, "unit", "ppm");
	assert_str(s, "quality", "ok");
	assert_json_null(s, "fault");
	assert_bool(s, "device_alarm", 0);
	assert_str(s, "alarm", "high");
	assert_str(s, "alarm_state", "active_unacknowledged");
	assert_int(s, "unacknowledged", 1);
	assert_json_null(s, "shelved_until");
	assert_bool(s, "out_of_service", 0);
	assert_ts(s, "ts", t0);
	assert_ts(s, "last_ok", t0);
	assert_json_null(s, "error");
	assert_json_null(s, "exception");

	s = json_array_get(get(o, "sensors"), 1);
	assert_str(s, "id", "s1");
	assert_str(s, "name", "s1");	/* no name: its id */
	assert_str(s, "bus", "r");
	assert_int(s, "slave", 2);
	assert_json_null(s, "value");
	assert_str(s, "quality", "fault");
	assert_str(s, "fault", "comm_loss");
	assert_json_null(s, "alarm");
	assert_str(s, "alarm_state", "normal");
	assert_int(s, "unacknowledged", 0);
	assert_ts(s, "ts", t0 + 1000);
	assert_json_null(s, "last_ok");
	assert_str(s, "error", hz_strerror(ETIMEDOUT));
	assert_json_null(s, "exception");
	json_decref(o);
}

/* ---- alarms: most urgent first, then oldest first */

static void
test_alarms(void **state)
{
	int64_t t0 = now_real_ms() - 60000;
	json_t *o, *a;

	(void)state;
	assert_answer("{\"cmd\":\"alarms\"}", "{\"ok\":true,\"alarms\":[]}");
	feed_ok(1, 60.0, t0);		/* s1 high, the older */
	feed_ok(0, 90.0, t0 + 1000);	/* s0 high and top (urgent) */
	o = ask_json("{\"cmd\":\"alarms\"}");
	assert_int_equal(json_array_size(get(o, "alarms")), 3);

	a = json_array_get(get(o, "alarms"), 0);
	assert_str(a, "sensor", "s0");
	assert_str(a, "level", "top");
	assert_str(a, "priority", "urgent");
	assert_str(a, "state", "active_unacknowledged");
	assert_ts(a, "since", t0 + 1000);
	assert_true(json_real_value(get(a, "value")) == 90.0);
	assert_str(a, "unit", "ppm");
	assert_true(json_real_value(get(a, "setpoint")) == 80.0);
	assert_bool(a, "latch", 1);
	assert_bool(a, "shelved", 0);
	assert_bool(a, "out_of_service", 0);

	a = json_array_get(get(o, "alarms"), 1);
	assert_str(a, "sensor", "s1");
	assert_str(a, "level", "high");
	assert_str(a, "priority", "high");
	assert_ts(a, "since", t0);
	assert_true(json_real_value(get(a, "value")) == 60.0);
	assert_bool(a, "latch", 0);

	a = json_array_get(get(o, "alarms"), 2);
	assert_str(a, "sensor", "s0");
	assert_str(a, "level", "high");
	json_decref(o);

	/*
	 * Gone back below the setpoints: a latched level waits for its ack,
	 * the others are returned, unacknowledged.  A shelf shows.
	 */
	feed_ok(0, 10.0, t0 + 2000);
	feed_ok(1, 10.0, t0 + 2000);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(eval_shelve(&ev, "s1", 60, "test", "bob", now_real_ms()),
	    0);
	assert_int_equal(ledger_commit(l), 0);
	o = ask_json("{\"cmd\":\"alarms\"}");
	assert_int_equal(json_array_size(get(o, "alarms")), 3);
	a = json_array_get(get(o, "alarms"), 0);
	assert_str(a, "state", "active_unacknowledged");
	assert_bool(a, "shelved", 0);
	a = json_array_get(get(o, "alarms"), 1);
	assert_str(a, "sensor", "s1");
	assert_str(a, "state", "returned_unacknowledged");
	assert_bool(a, "shelved", 1);
	assert_str(json_array_get(get(o, "alarms"), 2), "state",
	    "returned_unacknowledged");
	json_decref(o);
	assert_int_equal(asked.n_actions, 0);
}

/* ---- operator actions */

/* The last action asked: verb, sensor, level, and the actor of the socket. */
static const struct hz_command *
assert_asked(unsigned n, const char *verb, const char *sensor,
    const char *level)
{
	const struct hz_command *c;

	assert_int_equal(asked.n_actions, n);
	c = &asked.cmd[n - 1];
	assert_string_equal(c->verb, verb);
	assert_string_equal(c->sensor, sensor);
	assert_string_equal(c->level, level);
	assert_string_equal(c->actor, ACTOR);
	return c;
}

static void
test_ack(void **state)
{
	int64_t t0 = now_real_ms() - 60000;

	(void)state;
	feed_ok(0, 90.0, t0);
	assert_answer("{\"cmd\":\"ack\",\"sensor\":\"s0\",\"level\":\"high\"}",
	    "{\"ok\":true,\"acknowledged\":1}");
	assert_asked(1, "ack", "s0", "high");
	/* The payload's actor does not count: the socket's user does. */
	assert_answer("{\"cmd\":\"ack\",\"sensor\":\"s0\",\"actor\":\"mallory\"}",
	    "{\"ok\":true,\"acknowledged\":1}");
	assert_asked(2, "ack", "s0", "");
	assert_refused("{\"cmd\":\"ack\",\"sensor\":\"s0\"}", "nothing_to_do",
	    "sensor \"s0\": nothing waits for an acknowledgement");
	assert_refused("{\"cmd\":\"ack\",\"sensor\":\"s0\",\"level\":\"nope\"}",
	    "no_level", "sensor \"s0\" has no level \"nope\"");
	assert_refused("{\"cmd\":\"ack\",\"sensor\":\"zz\"}", "no_sensor",
	    "no sensor \"zz\"");
	assert_int_equal(asked.n_actions, 5);

	/* Refused before the core is asked. */
	assert_refused("{\"cmd\":\"ack\",\"sensor\":\"s0\",\"level\":1}",
	    "bad_request", "ack: \"sensor\" must be a string, and \"level\", "
	    "\"actor\" and \"reason\" strings when given");
	assert_refused("{\"cmd\":\"ack\"}", "bad_request", "ack: \"sensor\" "
	    "must be a string, and \"level\", \"actor\" and \"reason\" strings "
	    "when given");
	assert_int_equal(asked.n_actions, 5);
}

/* The answer to a shelf that the core applied at asked.ts[n - 1]. */
static void
assert_until(const char *out, unsigned n, int64_t ms)
{
	char want[128], ts[32];

	format_ts(asked.ts[n - 1] + ms, ts, sizeof(ts));
	snprintf(want, sizeof(want), "{\"ok\":true,\"until\":\"%s\"}", ts);
	assert_string_equal(out, want);
}

static void
test_shelve(void **state)
{
	const struct hz_command *c;
	char *out;
	json_t *o;

	(void)state;
	out = ask("{\"cmd\":\"shelve\",\"sensor\":\"s1\",\"seconds\":600,"
	    "\"reason\":\"calibration\"}");
	c = assert_asked(1, "shelve", "s1", "");
	assert_true(c->seconds == 600.0);
	assert_string_equal(c->reason, "calibration");
	assert_until(out, 1, 600000);
	free(out);
	o = ask_json("{\"cmd\":\"sensors\"}");
	assert_ts(json_array_get(get(o, "sensors"), 1), "shelved_until",
	    asked.ts[0] + 600000);
	json_decref(o);
	o = ask_json("{\"cmd\":\"status\"}");
	assert_int(o, "sensors.shelved", 1);
	json_decref(o);

	/* "duration", the MQTT topic's spelling, fractions allowed: a new shelf */
	out = ask("{\"cmd\":\"shelve\",\"sensor\":\"s1\",\"duration\":90.5,"
	    "\"reason\":\"again\"}");
	c = assert_asked(2, "shelve", "s1", "");
	assert_true(c->seconds == 90.5);
	assert_string_equal(c->reason, "again");
	assert_until(out, 2, 90500);
	free(out);

	/* Refused before the core is asked. */
	assert_refused("{\"cmd\":\"shelve\",\"sensor\":\"s1\",\"seconds\":60,"
	    "\"duration\":60,\"reason\":\"x\"}", "bad_request", "shelve: give "
	    "the duration once, as \"seconds\" or as \"duration\"");
	assert_refused("{\"cmd\":\"shelve\",\"sensor\":\"s1\",\"reason\":\"x\"}",
	    "invalid", "shelve: shelve needs \"seconds\" (or \"duration\"): 1 "
	    "to 86400");
	assert_refused("{\"cmd\":\"shelve\",\"sensor\":\"s1\",\"seconds\":\"60\","
	    "\"reason\":\"x\"}", "bad_request", "shelve: \"seconds\" must be a "
	    "number");
	assert_refused("{\"cmd\":\"shelve\",\"sensor\":\"s1\",\"duration\":\"60\","
	    "\"reason\":\"x\"}", "bad_request", "shelve: \"duration\" must be a "
	    "number");
	assert_refused("{\"cmd\":\"shelve\",\"sensor\":\"s1\",\"seconds\":86401,"
	    "\"reason\":\"x\"}", "invalid", "shelve: \"seconds\" must be from 1 "
	    "to 86400 seconds");
	assert_refused("{\"cmd\":\"shelve\",\"sensor\":\"s1\",\"duration\":0.5,"
	    "\"reason\":\"x\"}", "invalid", "shelve: \"duration\" must be from 1 "
	    "to 86400 seconds");
	assert_int_equal(asked.n_actions, 2);

	/* Refused by the core: no reason; no such sensor. */
	assert_refused("{\"cmd\":\"shelve\",\"sensor\":\"s0\",\"seconds\":60}",
	    "invalid", "shelving needs a reason and a duration of 1 to 86400 "
	    "seconds");
	assert_asked(3, "shelve", "s0", "");
	assert_refused("{\"cmd\":\"shelve\",\"sensor\":\"zz\",\"seconds\":60,"
	    "\"reason\":\"x\"}", "no_sensor", "no sensor \"zz\"");
	assert_asked(4, "shelve", "zz", "");
}

static void
test_unshelve(void **state)
{
	(void)state;
	assert_refused("{\"cmd\":\"unshelve\",\"sensor\":\"s0\"}",
	    "nothing_to_do", "sensor \"s0\" is not shelved");
	assert_asked(1, "unshelve", "s0", "");
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(eval_shelve(&ev, "s0", 60, "test", "bob", now_real_ms()),
	    0);
	assert_int_equal(ledger_commit(l), 0);
	assert_answer("{\"cmd\":\"unshelve\",\"sensor\":\"s0\"}", "{\"ok\":true}");
	assert_asked(2, "unshelve", "s0", "");
	assert_refused("{\"cmd\":\"unshelve\",\"sensor\":\"zz\"}", "no_sensor",
	    "no sensor \"zz\"");
}

static void
test_oos(void **state)
{
	const struct hz_command *c;
	json_t *o;

	(void)state;
	assert_answer("{\"cmd\":\"oos\",\"sensor\":\"s1\",\"on\":true}",
	    "{\"ok\":true}");
	c = assert_asked(1, "oos", "s1", "");
	assert_int_equal(c->on, 1);
	o = ask_json("{\"cmd\":\"sensors\"}");
	assert_bool(json_array_get(get(o, "sensors"), 1), "out_of_service", 1);
	assert_str(json_array_get(get(o, "sensors"), 1), "quality",
	    "out_of_service");
	json_decref(o);
	o = ask_json("{\"cmd\":\"status\"}");
	assert_int(o, "sensors.out_of_service", 1);
	json_decref(o);
	assert_refused("{\"cmd\":\"oos\",\"sensor\":\"s1\",\"on\":true}",
	    "nothing_to_do", "sensor \"s1\" is already out of service");
	assert_answer("{\"cmd\":\"oos\",\"sensor\":\"s1\",\"on\":false}",
	    "{\"ok\":true}");
	c = assert_asked(3, "oos", "s1", "");
	assert_int_equal(c->on, 0);
	assert_refused("{\"cmd\":\"oos\",\"sensor\":\"s1\",\"on\":false}",
	    "nothing_to_do", "sensor \"s1\" is already in service");
	assert_int_equal(asked.n_actions, 4);
	assert_refused("{\"cmd\":\"oos\",\"sensor\":\"s1\",\"on\":\"yes\"}",
	    "bad_request", "oos: oos needs \"on\": true or false");
	assert_refused("{\"cmd\":\"oos\",\"sensor\":\"s1\"}",
	    "bad_request", "oos: oos needs \"on\": true or false");
	assert_int_equal(asked.n_actions, 4);
}

/* Whatever else the core answers is "invalid" (docs/control.md). */
static void
test_action_refused(void **state)
{
	(void)state;
	asked.rc = -EINVAL;
	assert_refused("{\"cmd\":\"oos\",\"sensor\":\"s1\",\"on\":true}",
	    "invalid", "shelving needs a reason and a duration of 1 to 86400 "
	    "seconds");
	assert_asked(1, "oos", "s1", "");
	asked.rc = -ENOENT;
	assert_refused("{\"cmd\":\"unshelve\",\"sensor\":\"s1\"}", "no_sensor",
	    "no sensor \"s1\"");
	asked.rc = -ESRCH;
	assert_refused("{\"cmd\":\"ack\",\"sensor\":\"s1\",\"level\":\"x\"}",
	    "no_level", "sensor \"s1\" has no level \"x\"");
	assert_int_equal(asked.n_actions, 3);
}

/* ---- history */

/* The events of a history answer are seqs `want` (0-ended), as published. */
static void
assert_history(const char *line, const int64_t *want)
{
	json_t *o = ask_json(line), *evs = get(o, "events"), *e;
	size_t n = 0;

	for (; want[n]; n++) {
		json_t *pub;

		assert_non_null(e = json_array_get(evs, n));
		assert_int(e, "seq", want[n]);
		assert_true(want[n] < MAX_EVENTS && published[want[n]]);
		pub = json_loads(published[want[n]], 0, NULL);
		assert_true(json_equal(e, pub));
		json_decref(pub);
	}
	assert_int_equal(json_array_size(evs), n);
	json_decref(o);
}

#define SEQS(...)	((const int64_t[]){ __VA_ARGS__, 0 })
#define NONE		((const int64_t[]){ 0 })

static void
test_history(void **state)
{
	int64_t now = now_real_ms();
	char line[256], ts[32];
	json_t *o, *e;

	(void)state;
	assert_answer("{\"cmd\":\"history\"}", "{\"ok\":true,\"events\":[]}");
	feed_ok(0, 60.0, now - 7200000);	/* 1: s0 high raised, 2 h ago */
	feed_ok(1, 60.0, now - 600000);		/* 2: s1 high raised */
	feed_ok(1, 10.0, now - 300000);		/* 3: ... and cleared */
	assert_int_equal(ledger_last_seq(l), 3);

	assert_history("{\"cmd\":\"history\"}", SEQS(1, 2, 3));
	o = ask_json("{\"cmd\":\"history\"}");
	e = json_array_get(get(o, "events"), 0);
	assert_str(e, "id", "t-1");
	assert_str(e, "sensor", "s0");
	assert_str(e, "kind", "alarm");
	assert_str(e, "event", "raised");
	assert_str(e, "level", "high");
	assert_ts(e, "ts", now - 7200000);
	assert_str(json_array_get(get(o, "events"), 2), "event", "cleared");
	json_decref(o);

	/* limit: the newest N, oldest first */
	assert_history("{\"cmd\":\"history\",\"limit\":2}", SEQS(2, 3));
	assert_history("{\"cmd\":\"history\",\"limit\":1}", SEQS(3));
	assert_history("{\"cmd\":\"history\",\"limit\":1000}", SEQS(1, 2, 3));
	/* since: seconds before now, or a time */
	assert_history("{\"cmd\":\"history\",\"since\":3600}", SEQS(2, 3));
	assert_history("{\"cmd\":\"history\",\"since\":400.5}", SEQS(3));
	assert_history("{\"cmd\":\"history\",\"since\":0}", NONE);
	assert_history("{\"cmd\":\"history\",\"since\":null}", SEQS(1, 2, 3));
	assert_history("{\"cmd\":\"history\",\"since\":\"2000-01-01\"}",
	    SEQS(1, 2, 3));
	assert_history("{\"cmd\":\"history\",\"since\":\"2999-01-01T00:00:00Z\"}",
	    NONE);
	format_ts(now - 600000, ts, sizeof(ts));	/* to the millisecond */
	snprintf(line, sizeof(line), "{\"cmd\":\"history\",\"since\":\"%s\"}",
	    ts);
	assert_history(line, SEQS(2, 3));
	ts[19] = '\0';		/* no fraction, no Z: the second before */
	snprintf(line, sizeof(line), "{\"cmd\":\"history\",\"since\":\"%s\"}",
	    ts);
	assert_history(line, SEQS(2, 3));
	/* sensor */
	assert_history("{\"cmd\":\"history\",\"sensor\":\"s1\"}", SEQS(2, 3));
	assert_history("{\"cmd\":\"history\",\"sensor\":\"s0\"}", SEQS(1));
	assert_history("{\"cmd\":\"history\",\"sensor\":\"s1\",\"limit\":1,"
	    "\"since\":86400}", SEQS(3));

	/* bad arguments */
	assert_refused("{\"cmd\":\"history\",\"since\":\"yesterday\"}",
	    "bad_request", "since \"yesterday\" is not a time like "
	    "2026-11-25T08:00:00Z or a number of seconds");
	assert_refused("{\"cmd\":\"history\",\"since\":\"2026-13-01\"}",
	    "bad_request", "since \"2026-13-01\" is not a time like "
	    "2026-11-25T08:00:00Z or a number of seconds");
	assert_refused("{\"cmd\":\"history\",\"since\":\"2026-11-25T08:00:00+01\"}",
	    "bad_request", "since \"2026-11-25T08:00:00+01\" is not a time like "
	    "2026-11-25T08:00:00Z or a number of seconds");
	assert_refused("{\"cmd\":\"history\",\"since\":-1}", "bad_request",
	    "since: a number of seconds from 0 to 3162240000 (100 years)");
	assert_refused("{\"cmd\":\"history\",\"since\":1e300}", "bad_request",
	    "since: a number of seconds from 0 to 3162240000 (100 years)");
	assert_refused("{\"cmd\":\"history\",\"since\":true}", "bad_request",
	    "since must be a time string or seconds");
	assert_refused("{\"cmd\":\"history\",\"since\":[1]}", "bad_request",
	    "since must be a time string or seconds");
	assert_refused("{\"cmd\":\"history\",\"limit\":0}", "bad_request",
	    "limit must be a whole number from 1 to 1000");
	assert_refused("{\"cmd\":\"history\",\"limit\":1001}", "bad_request",
	    "limit must be a whole number from 1 to 1000");
	assert_refused("{\"cmd\":\"history\",\"limit\":1e3}", "bad_request",
	    "limit must be a whole number from 1 to 1000");
	assert_refused("{\"cmd\":\"history\",\"limit\":\"5\"}", "bad_request",
	    "limit must be a whole number from 1 to 1000");
	assert_refused("{\"cmd\":\"history\",\"sensor\":5}", "bad_request",
	    "sensor must be a string");
	assert_refused("{\"cmd\":\"history\",\"sensor\":\"zz\"}", "no_sensor",
	    "no sensor \"zz\"");
	assert_int_equal(asked.n_actions, 0);
}

/* ---- the read-only socket and the watch stream */

/* On the read-only socket: what changes something is refused, once logged. */
static void
test_read_only(void **state)
{
	static const char *const refused[] = {
		"{\"cmd\":\"ack\",\"sensor\":\"s0\"}",
		"{\"cmd\":\"shelve\",\"sensor\":\"s0\",\"seconds\":60,"
		    "\"reason\":\"x\"}",
		"{\"cmd\":\"unshelve\",\"sensor\":\"s0\"}",
		"{\"cmd\":\"oos\",\"sensor\":\"s0\",\"on\":true}",
		"{\"cmd\":\"reload\"}", "{\"cmd\":\"rebirth\"}",
		"{\"cmd\":\"frobnicate\"}",
	};
	static const char *const served[] = { "status", "sensors", "alarms",
	    "history" };
	char line[64], *out;
	json_t *o;
	int then;

	(void)state;
	feed_ok(0, 60.0, now_real_ms());
	env.read_only = 1;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		then = 0;
		out = ctlcmd_run(&env, refused[i], ACTOR, &then, NULL);
		assert_non_null(out);
		assert_non_null(o = json_loads(out, 0, NULL));
		assert_true(json_is_false(json_object_get(o, "ok")));
		assert_str(o, "code", "read_only");
		/* Logged once per connection: the socket code keeps the flag. */
		assert_int_equal(then, env.warned ? 0 : CTL_WARNED);
		env.warned = 1;
		json_decref(o);
		free(out);
	}
	assert_int_equal(asked.n_actions + asked.n_reloads + asked.n_rebirths, 0);
	o = ask_json("{\"cmd\":\"alarms\"}");
	assert_str(json_array_get(get(o, "alarms"), 0), "state",
	    "active_unacknowledged");
	json_decref(o);
	for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++) {
		snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}", served[i]);
		json_decref(ask_json(line));
	}
}

static void
test_watch(void **state)
{
	json_t *o, *all, *s;
	char *out, *line;
	int then = 0;

	(void)state;
	feed_ok(0, 60.0, now_real_ms());
	for (int ro = 0; ro < 2; ro++) {
		env.read_only = ro;
		then = 0;
		out = ctlcmd_run(&env, "{\"cmd\":\"watch\"}", ACTOR, &then, NULL);
		assert_string_equal(out, "{\"ok\":true,\"watch\":true}");
		assert_int_equal(then, CTL_WATCH);
		free(out);
	}
	env.watch_full = 1;
	then = 0;
	out = ctlcmd_run(&env, "{\"cmd\":\"watch\"}", ACTOR, &then, NULL);
	assert_int_equal(then, 0);
	assert_non_null(o = json_loads(out, 0, NULL));
	assert_str(o, "code", "busy");
	json_decref(o);
	free(out);
	/* A state line is the sensors entry, with type and sensor first. */
	all = ask_json("{\"cmd\":\"sensors\"}");
	for (unsigned i = 0; i < 2; i++) {
		line = ctlcmd_state_line(&env, i);
		assert_non_null(o = json_loads(line, 0, NULL));
		assert_true(strncmp(line, "{\"type\":\"state\",\"sensor\":\"", 26) == 0);
		assert_str(o, "sensor", i ? "s1" : "s0");
		assert_int_equal(json_object_del(o, "type"), 0);
		assert_int_equal(json_object_del(o, "sensor"), 0);
		s = json_array_get(get(all, "sensors"), i);
		assert_true(json_equal(o, s));
		json_decref(o);
		free(line);
	}
	assert_null(ctlcmd_state_line(&env, 2));
	json_decref(all);
}

/* ---- reload, rebirth, and requests that are no command */

static void
test_reload(void **state)
{
	struct ctl_ticket t = { 3, 42 };
	int hangup = 0;

	(void)state;
	assert_null(ctlcmd_run(&env, "{\"cmd\":\"reload\"}", ACTOR, &hangup, &t));
	assert_int_equal(hangup, 0);
	assert_int_equal(asked.n_reloads, 1);
	assert_ptr_equal(asked.ticket, &t);
	assert_int_equal(asked.ticket->slot, 3);
	assert_true(asked.ticket->serial == 42);
	/* SIGHUP's way: nobody waits */
	assert_null(ctlcmd_run(&env, "{\"cmd\":\"reload\"}", ACTOR, &hangup,
	    NULL));
	assert_int_equal(asked.n_reloads, 2);
	assert_null(asked.ticket);
	assert_int_equal(asked.n_actions + asked.n_rebirths, 0);
}

static void
test_rebirth(void **state)
{
	(void)state;
	assert_answer("{\"cmd\":\"rebirth\"}", "{\"ok\":true}");
	assert_int_equal(asked.n_rebirths, 1);
	assert_int_equal(asked.n_actions + asked.n_reloads, 0);
}

/* hazmonctl replay: to a destination by name, checked as on MQTT. */
static void
test_replay(void **state)
{
	static struct hz_dest two[2] = { { .name = "ent" }, { .name = "bureau" } };

	(void)state;
	conf.n_dests = 1;
	assert_answer("{\"cmd\":\"replay\",\"from\":20,\"to\":200}",
	    "{\"ok\":true,\"destination\":\"ent\",\"from\":20,\"to\":100,"
	    "\"oldest\":10,\"last\":100}");
	assert_int_equal(asked.n_replays, 1);
	assert_answer("{\"cmd\":\"replay\",\"from\":5,\"to\":20,"
	    "\"destination\":\"ent\"}", "{\"ok\":false,\"code\":\"retention\","
	    "\"error\":\"replay: events before seq 10 are no longer kept "
	    "(retention); the oldest seq kept is 10\",\"oldest\":10,\"last\":100}");
	assert_refused("{\"cmd\":\"replay\",\"from\":20,\"to\":30,"
	    "\"destination\":\"nope\"}", "no_destination",
	    "no destination \"nope\"");
	assert_refused("{\"cmd\":\"replay\",\"from\":20,\"to\":30,"
	    "\"destination\":1}", "bad_request", "destination must be a string");
	conf.dests = two;
	conf.n_dests = 2;
	assert_refused("{\"cmd\":\"replay\",\"from\":20,\"to\":30}",
	    "bad_request", "replay needs \"destination\": 2 are configured");
	assert_answer("{\"cmd\":\"replay\",\"from\":20,\"to\":30,"
	    "\"destination\":\"bureau\"}", "{\"ok\":true,\"destination\":"
	    "\"bureau\",\"from\":20,\"to\":30,\"oldest\":10,\"last\":100}");
	assert_int_equal(asked.replay_dest, 1);
	assert_int_equal(asked.n_replays, 2);
	conf.dests = &dest;
}

static void
test_unknown(void **state)
{
	(void)state;
	assert_refused("{\"cmd\":\"frobnicate\"}", "bad_request",
	    "unknown command \"frobnicate\" " COMMANDS);
	assert_refused("{\"cmd\":\"Status\"}", "bad_request",
	    "unknown command \"Status\" " COMMANDS);
	assert_refused("{\"cmd\":5}", "bad_request",
	    "the request needs \"cmd\": a string");
	assert_refused("{\"sensor\":\"s0\"}", "bad_request",
	    "the request needs \"cmd\": a string");
	assert_refused("{}", "bad_request", "the request needs \"cmd\": a string");
	assert_int_equal(asked.n_actions + asked.n_reloads + asked.n_rebirths, 0);
}

/* Not a JSON object: refused, and the connection ends. */
static void
assert_hangup(const char *line, const char *error_start)
{
	int hangup = 0;
	char *out = ctlcmd_run(&env, line, ACTOR, &hangup, NULL);
	json_t *o;

	assert_non_null(out);
	assert_int_equal(hangup, 1);
	assert_non_null(o = json_loads(out, 0, NULL));
	assert_true(json_is_false(json_object_get(o, "ok")));
	assert_str(o, "code", "bad_request");
	assert_true(strncmp(json_string_value(get(o, "error")), error_start,
	    strlen(error_start)) == 0);
	json_decref(o);
	free(out);
}

static void
test_malformed(void **state)
{
	(void)state;
	assert_hangup("[\"status\"]", "the request is not a JSON object");
	assert_hangup("\"status\"", "the request is not a JSON object");
	assert_hangup("not json", "the request is not a JSON object: ");
	assert_hangup("{\"cmd\":\"status\"", "the request is not a JSON object: ");
	assert_hangup("", "the request is not a JSON object: ");
	/* A key twice could mean either: refused. */
	assert_hangup("{\"cmd\":\"status\",\"cmd\":\"reload\"}",
	    "the request is not a JSON object: ");
	assert_int_equal(asked.n_actions + asked.n_reloads + asked.n_rebirths, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sensors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shelve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unshelve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_action_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebirth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
	};

	log_init("test", HZ_LOG_WARNING);
	mosquitto_lib_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
