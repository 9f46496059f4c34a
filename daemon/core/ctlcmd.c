/*
 * ctlcmd.c - the commands of the control socket (docs/control.md): one
 * request line in, one response line out, on the core thread.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "ctlcmd.h"

#define HISTORY_DEFAULT	100
#define HISTORY_MAX	1000	/* one answer: a few ms of the core's time */
#define SINCE_MAX_S	(100 * 366 * 86400.0)

static json_t *
err(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The message may quote the request (jansson's parse error shows the bytes
 * near it, "%.64s" may cut a character): escaped, it is always valid
 * UTF-8, so the answer can always be built (found by fuzz_control).
 */
static json_t *
err(const char *code, const char *fmt, ...)
{
	char msg[512], safe[4 * sizeof(msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_escape(msg, strlen(msg), safe, sizeof(safe));
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "error", safe);
}

static json_t *
ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *
ts_or_null(int64_t ms)
{
	char buf[32];

	if (ms <= 0)
		return json_null();
	format_ts(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* ---- status */

static json_t *
bus_json(const struct ctl_env *env, unsigned b)
{
	const struct hz_bus *bus = &env->c->buses[b];
	struct hz_slave_stat sl[256];
	struct hz_bus_stats st;
	json_t *o, *slaves = json_array();
	char ep[300];
	unsigned n;

	bus_stats(env->workers[b], &st);
	if (bus->type == HZ_BUS_TCP)
		snprintf(ep, sizeof(ep), "%s:%d", bus->host, bus->port);
	else
		snprintf(ep, sizeof(ep), "%s", bus->device);
	n = bus_slaves(env->workers[b], sl, 256);
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(slaves, json_pack("{s:i, s:o, s:b}", "slave",
		    sl[i].slave, "last_ok", ts_or_null(sl[i].last_ok), "failing",
		    sl[i].failing));
	o = json_pack("{s:s, s:s, s:s, s:b, s:i, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "name", bus->name, "type", bus->type == HZ_BUS_TCP ? "tcp" : "rtu",
	    "endpoint", ep, "connected", st.connected,
	    "requests_per_cycle", (int)st.requests_per_cycle,
	    "polls", (json_int_t)st.polls, "requests", (json_int_t)st.requests,
	    "failed", (json_int_t)st.failed, "readings", (json_int_t)st.readings,
	    "worst_lateness_ms", (json_int_t)st.late_max_ms, "slaves", slaves);
	return o;
}

/* A Prometheus histogram: cumulative buckets, count is +Inf, sum in s. */
/* Where the time of fresh events went: seconds summed, and the longest. */
static json_t *
stages_json(const struct hz_latency *h)
{
	json_t *sum = json_object(), *max = json_object();

	for (unsigned i = 0; i < STAGES; i++) {
		json_object_set_new(sum, latency_stage[i],
		    json_real((double)h->stage_sum_us[i] / 1e6));
		json_object_set_new(max, latency_stage[i],
		    json_real((double)h->stage_max_us[i] / 1e6));
	}
	return json_pack("{s:I, s:o, s:o}", "count", (json_int_t)h->staged,
	    "sum", sum, "max", max);
}

static json_t *
latency_json(const struct hz_latency *h)
{
	json_t *le = json_array(), *buckets = json_array();

	for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
		json_array_append_new(le, json_real(latency_le[i]));
		json_array_append_new(buckets,
		    json_integer((json_int_t)latency_cumulative(h, i)));
	}
	return json_pack("{s:o, s:o, s:I, s:f, s:o}", "le", le, "buckets", buckets,
	    "count", (json_int_t)h->count, "sum", (double)h->sum_us / 1e6,
	    "stages", stages_json(h));
}

static json_t *
cmd_status(const struct ctl_env *env)
{
	unsigned n_ok = 0, n_fault = 0, n_oos = 0, n_stale = 0, n_shelved = 0;
	unsigned act = 0, unack = 0;
	int64_t now = now_real_ms();
	json_t *buses = json_array(), *dests = json_array();

	for (unsigned i = 0; i < env->c->n_sensors; i++) {
		const struct hz_level_state *ls = eval_levels(env->ev, i);
		struct hz_state_view v;
		const char *q;

		eval_view(env->ev, i, &v);
		q = view_quality(&v);
		n_oos += strcmp(q, "out_of_service") == 0;
		n_stale += strcmp(q, "stale") == 0;
		n_ok += strcmp(q, "ok") == 0;
		n_fault += strcmp(q, "fault") == 0;
		n_shelved += v.shelved_until > now;
		for (unsigned l = 0; l < env->c->sensors[i].n_levels; l++) {
			act += alarm_active(ls[l].state);
			unack += alarm_unacked(ls[l].state);
		}
	}
	for (unsigned b = 0; b < env->c->n_buses; b++)
		json_array_append_new(buses, bus_json(env, b));
	for (unsigned d = 0; d < env->c->n_dests; d++) {
		const struct hz_dest *dd = &env->c->dests[d];
		int64_t acked = pub_acked(env->pubs[d]);

		json_array_append_new(dests, json_pack("{s:s, s:s, s:i, s:b, s:I, s:I,"
		    " s:o}",
		    "name", dd->name, "host", dd->host, "port", dd->port, "connected",
		    pub_connected(env->pubs[d]) != 0, "acked_seq",
		    (json_int_t)acked, "undelivered",
		    (json_int_t)ledger_count_after(env->l, acked),
		    "publish_latency", latency_json(pub_latency(env->pubs[d]))));
	}
	return json_pack("{s:b, s:s, s:i, s:s, s:{s:s, s:s}, s:o, s:I, s:i, s:o,"
	    " s:{s:i, s:i, s:i, s:i, s:i, s:i}, s:{s:i, s:i}, s:{s:i, s:b, s:i, s:i},"
	    " s:{s:I}, s:o, s:o}",
	    "ok", 1, "version", PACKAGE_VERSION, "pid", (int)getpid(),
	    "config", env->c->path, "site", "id", env->c->site_id, "name",
	    env->c->site_name, "started", ts_or_null(env->started),
	    "uptime_s", (json_int_t)((now - env->started) / 1000),
	    "reloads", (int)env->reloads, "reloaded", ts_or_null(env->reloaded),
	    "sensors", "total", (int)env->c->n_sensors, "ok", (int)n_ok, "fault",
	    (int)n_fault, "stale", (int)n_stale, "out_of_service", (int)n_oos,
	    "shelved", (int)n_shelved,
	    "alarms", "active", (int)act, "unacknowledged", (int)unack,
	    "health", "alarms_10min", (int)env->health->alarms_10min, "flood",
	    env->health->flood, "chattering", (int)env->health->chattering,
	    "stale", (int)env->health->stale,
	    "ledger", "last_seq", (json_int_t)ledger_last_seq(env->l),
	    "buses", buses, "destinations", dests);
}

/* ---- sensors and alarms */

static json_t *
sensor_json(const struct ctl_env *env, unsigned i)
{
	const struct hz_sensor *s = &env->c->sensors[i];
	struct hz_state_view v;
	json_t *o;

	eval_view(env->ev, i, &v);
	o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:s, s:s, s:o, s:b, s:o,"
	    " s:s, s:i, s:o, s:b, s:o, s:o}",
	    "id", s->id, "name", s->name ? s->name : s->id,
	    "plugin", s->plugin->name, "bus", env->c->buses[s->bus].name,
	    "slave", s->slave, "value", num_or_null(view_value(&v)),
	    "unit", v.unit ? v.unit : "", "quality", view_quality(&v),
	    "fault", view_fault(&v) ? json_string(view_fault(&v)) : json_null(),
	    "device_alarm", v.ts_ms && (v.r->flags & HAZMON_F_DEVICE_ALARM),
	    "alarm", v.alarm ? json_string(v.alarm) : json_null(),
	    "alarm_state", v.alarm_state, "unacknowledged", (int)v.unacknowledged,
	    "shelved_until", ts_or_null(v.shelved_until),
	    "out_of_service", v.out_of_service, "ts", ts_or_null(v.ts_ms),
	    "last_ok", ts_or_null(v.last_ok));
	event_set_error(o, v.err, view_fault(&v));
	return o;
}

static json_t *
cmd_sensors(const struct ctl_env *env)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < env->c->n_sensors; i++)
		json_array_append_new(arr, sensor_json(env, i));
	return json_pack("{s:b, s:o}", "ok", 1, "sensors", arr);
}

struct alarm_row {
	unsigned sensor, level;
	int rank;
	int64_t since;
};

static int
by_urgency(const void *a, const void *b)
{
	const struct alarm_row *x = a, *y = b;

	if (x->rank != y->rank)
		return y->rank - x->rank;
	return (x->since > y->since) - (x->since < y->since);
}

static json_t *
cmd_alarms(const struct ctl_env *env)
{
	struct alarm_row *rows = NULL;
	size_t n = 0, cap = 0;
	int64_t now = now_real_ms();
	json_t *arr = json_array();

	for (unsigned i = 0; i < env->c->n_sensors; i++) {
		const struct hz_level_state *ls = eval_levels(env->ev, i);

		for (unsigned l = 0; l < env->c->sensors[i].n_levels; l++) {
			if (ls[l].state == HZ_A_NORMAL)
				continue;
			rows = xgrow(rows, &cap, n + 1, sizeof(*rows));
			rows[n++] = (struct alarm_row){ i, l,
			    alarm_priority_rank(env->c->sensors[i].levels[l].priority),
			    ls[l].active_since };
		}
	}
	if (n)
		qsort(rows, n, sizeof(*rows), by_urgency);
	for (size_t r = 0; r < n; r++) {
		const struct hz_sensor *s = &env->c->sensors[rows[r].sensor];
		const struct hazmon_level *lv = &s->levels[rows[r].level];
		const struct hz_level_state *ls =
		    &eval_levels(env->ev, rows[r].sensor)[rows[r].level];
		struct hz_state_view v;

		eval_view(env->ev, rows[r].sensor, &v);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o,"
		    " s:s, s:o, s:b, s:b, s:b}",
		    "sensor", s->id, "level", lv->name, "priority", lv->priority,
		    "state", alarm_state_name(ls->state),
		    "since", ts_or_null(ls->active_since),
		    "value", num_or_null(view_value(&v)), "unit", v.unit ? v.unit : "",
		    "setpoint", num_or_null(lv->setpoint), "latch", lv->latch,
		    "shelved", v.shelved_until > now, "out_of_service",
		    v.out_of_service));
	}
	free(rows);
	return json_pack("{s:b, s:o}", "ok", 1, "alarms", arr);
}

/* ---- operator actions */

static json_t *
action_error(int rc, const struct hz_command *c)
{
	switch (rc) {
	case -ENOENT:
		return err("no_sensor", "no sensor \"%s\"", c->sensor);
	case -ESRCH:
		return err("no_level", "sensor \"%s\" has no level \"%s\"", c->sensor,
		    c->level);
	case -EALREADY:
		return err("nothing_to_do", !strcmp(c->verb, "ack") ? "sensor \"%s\": "
		    "nothing waits for an acknowledgement" : !strcmp(c->verb,
		    "unshelve") ? "sensor \"%s\" is not shelved" : c->on ?
		    "sensor \"%s\" is already out of service" :
		    "sensor \"%s\" is already in service", c->sensor);
	default:
		return err("invalid", "shelving needs a reason and a duration of "
		    "%g to %g seconds", HZ_SHELVE_MIN_S, HZ_SHELVE_MAX_S);
	}
}

static unsigned
count_unacked(const struct ctl_env *env, const char *sensor)
{
	int i = eval_find(env->ev, sensor);
	unsigned n = 0;

	for (unsigned l = 0; i >= 0 && l < env->c->sensors[i].n_levels; l++)
		n += alarm_unacked(eval_levels(env->ev, (unsigned)i)[l].state);
	return n;
}

static json_t *
cmd_action(const struct ctl_env *env, const char *verb, json_t *req,
    const char *actor)
{
	struct hz_command c;
	struct cmd_refusal r;
	const char *sensor;
	json_t *res;
	unsigned before;
	int rc, i;

	if (cmd_parse(verb, req, actor, &c, &r) != NULL)
		return err(r.code, "%s: %s", verb, r.why);
	sensor = c.sensor;
	before = count_unacked(env, sensor);
	if ((rc = env->action(env->arg, &c)) != 0)
		return action_error(rc, &c);
	log_cmsg(HZ_LOG_INFO, &(struct log_ctx){ .sensor = sensor, .slave = -1 },
	    "hazmonctl: %s sensor %s by %s: done", verb, sensor, actor);
	res = ok();
	if (!strcmp(verb, "ack"))
		json_object_set_new(res, "acknowledged",
		    json_integer(before - count_unacked(env, sensor)));
	if (!strcmp(verb, "shelve") && (i = eval_find(env->ev, sensor)) >= 0) {
		struct hz_state_view v;

		eval_view(env->ev, (unsigned)i, &v);
		json_object_set_new(res, "until", ts_or_null(v.shelved_until));
	}
	return res;
}

/* ---- history */

/* "2026-11-25T08:00:00.000Z", also without Z, fraction or time: UTC. */
static int
parse_time(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	int msec = 0, n = 0;
	char tail[8] = "";

	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3)
		return -1;
	s += n;
	if (*s == 'T' || *s == ' ') {
		if (sscanf(s + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
		    &n) != 3)
			return -1;
		s += 1 + n;
		if (*s == '.') {
			if (sscanf(s + 1, "%3d%n", &msec, &n) != 1)
				return -1;
			s += 1 + n;
		}
	}
	if (sscanf(s, "%7s", tail) == 1 && strcmp(tail, "Z") != 0)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000 + msec;
	return 0;
}

static int
history_row(void *arg, int64_t seq, const char *sensor, const char *payload)
{
	json_t *ev = json_loads(payload, 0, NULL);

	(void)sensor;
	if (ev == NULL)
		ev = json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "error",
		    "unreadable ledger payload");
	json_array_append_new(arg, ev);
	return 0;
}

static json_t *
cmd_history(const struct ctl_env *env, json_t *req)
{
	json_t *since = json_object_get(req, "since"), *sensor, *limit, *arr;
	int64_t from = 0;
	double secs, n = HISTORY_DEFAULT;

	if (json_is_number(since)) {
		if (cmd_number(since, 0, SINCE_MAX_S, &secs) != 0)
			return err("bad_request", "since: a number of seconds from 0 "
			    "to %.0f (100 years)", SINCE_MAX_S);
		from = now_real_ms() - (int64_t)(secs * 1000.0);
	} else if (json_is_string(since)) {
		if (parse_time(json_string_value(since), &from) != 0)
			return err("bad_request", "since \"%s\" is not a time like "
			    "2026-11-25T08:00:00Z or a number of seconds",
			    json_string_value(since));
	} else if (since && !json_is_null(since))
		return err("bad_request", "since must be a time string or seconds");
	sensor = json_object_get(req, "sensor");
	if (sensor && !json_is_string(sensor))
		return err("bad_request", "sensor must be a string");
	if (sensor && eval_find(env->ev, json_string_value(sensor)) < 0)
		return err("no_sensor", "no sensor \"%s\"", json_string_value(sensor));
	if ((limit = json_object_get(req, "limit")) != NULL &&
	    (!json_is_integer(limit) || cmd_number(limit, 1, HISTORY_MAX, &n) != 0))
		return err("bad_request", "limit must be a whole number from 1 "
		    "to %d", HISTORY_MAX);
	arr = json_array();
	if (ledger_history(env->l, from, sensor ? json_string_value(sensor) :
	    NULL, (int)n, history_row, arr) < 0) {
		json_decref(arr);
		return err("internal", "cannot read the ledger (see the daemon's log)");
	}
	return json_pack("{s:b, s:o}", "ok", 1, "events", arr);
}

/* ---- watch */

char *
ctlcmd_state_line(const struct ctl_env *env, unsigned i)
{
	json_t *o, *s;
	char *line;

	if (i >= env->c->n_sensors)
		return NULL;
	o = json_pack("{s:s, s:s}", "type", "state", "sensor",
	    env->c->sensors[i].id);
	s = sensor_json(env, i);
	if (o == NULL || s == NULL || json_object_update(o, s) != 0)
		fatalx("out of memory building the watch line of sensor %s",
		    env->c->sensors[i].id);
	json_decref(s);
	line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (line == NULL)
		fatalx("out of memory building the watch line of sensor %s",
		    env->c->sensors[i].id);
	return line;
}

static json_t *
cmd_watch(const struct ctl_env *env, int *then)
{
	if (env->watch_full)
		return err("busy", "%d watch streams run already, the most at once",
		    CTL_WATCHERS);
	*then |= CTL_WATCH;
	return json_pack("{s:b, s:b}", "ok", 1, "watch", 1);
}

/* ---- replay */

static json_t *
cmd_replay(const struct ctl_env *env, json_t *req, const char *actor)
{
	json_t *dj = json_object_get(req, "destination"), *res;
	struct replay_answer a;
	unsigned d = 0;

	if (dj && !json_is_string(dj))
		return err("bad_request", "destination must be a string");
	if (dj == NULL && env->c->n_dests != 1)
		return err("bad_request", "replay needs \"destination\": %u are "
		    "configured", env->c->n_dests);
	for (; dj && d < env->c->n_dests; d++)
		if (!strcmp(env->c->dests[d].name, json_string_value(dj)))
			break;
	if (dj && d == env->c->n_dests)
		return err("no_destination", "no destination \"%s\"",
		    json_string_value(dj));
	if (env->replay(env->arg, d, req, actor, &a) != 0)
		res = err(a.code, "replay: %s", a.why);
	else
		res = json_pack("{s:b, s:s, s:I, s:I}", "ok", 1, "destination",
		    env->c->dests[d].name, "from", (json_int_t)a.from, "to",
		    (json_int_t)a.to);
	json_object_set_new(res, "oldest", json_integer(a.oldest));
	json_object_set_new(res, "last", json_integer(a.last));
	return res;
}

/* ---- dispatch */

/* What the read-only socket serves: nothing here changes a thing. */
static int
reads_only(const char *cmd)
{
	static const char *const ro[] = { "status", "sensors", "alarms",
	    "history", "watch" };

	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (!strcmp(cmd, ro[i]))
			return 1;
	return 0;
}

/* Once per connection, the first refusal is logged with who asked. */
static json_t *
refuse_read_only(const struct ctl_env *env, const char *cmd,
    const char *actor, int *then)
{
	char safe[4 * 64 + 1];

	if (!env->warned) {
		log_escape(cmd, strnlen(cmd, 64), safe, sizeof(safe));
		log_warnx("control client %s: \"%s\" refused on the read-only "
		    "socket (further refusals on this connection are not logged)",
		    env->who ? env->who : actor, safe);
		*then |= CTL_WARNED;
	}
	return err("read_only", "\"%.64s\" is not served on the read-only "
	    "socket (status, sensors, alarms, history, watch); use the main "
	    "control socket", cmd);
}

/* Returns NULL for a deferred answer (reload). */
static json_t *
dispatch(const struct ctl_env *env, json_t *req, const char *actor,
    int *then, const struct ctl_ticket *t)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	if (cmd == NULL)
		return err("bad_request", "the request needs \"cmd\": a string");
	if (env->read_only && !reads_only(cmd))
		return refuse_read_only(env, cmd, actor, then);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(env, then);
	if (!strcmp(cmd, "status"))
		return cmd_status(env);
	if (!strcmp(cmd, "sensors"))
		return cmd_sensors(env);
	if (!strcmp(cmd, "alarms"))
		return cmd_alarms(env);
	if (!strcmp(cmd, "ack") || !strcmp(cmd, "shelve") ||
	    !strcmp(cmd, "unshelve") || !strcmp(cmd, "oos"))
		return cmd_action(env, cmd, req, actor);
	if (!strcmp(cmd, "history"))
		return cmd_history(env, req);
	if (!strcmp(cmd, "reload")) {
		log_info("hazmonctl: reload requested by %s", actor);
		env->reload(env->arg, t);	/* answered when it is done */
		return NULL;
	}
	if (!strcmp(cmd, "replay"))
		return cmd_replay(env, req, actor);
	if (!strcmp(cmd, "rebirth")) {
		log_info("hazmonctl: rebirth requested by %s", actor);
		env->rebirth(env->arg);
		return ok();
	}
	return err("bad_request", "unknown command \"%.64s\" (status, sensors, "
	    "alarms, ack, shelve, unshelve, oos, history, reload, rebirth, "
	    "watch, replay)", cmd);
}

char *
ctlcmd_run(const struct ctl_env *env, const char *line, const char *actor,
    int *then, const struct ctl_ticket *t)
{
	json_error_t je;
	json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, &je), *res;
	char *out;

	if (req == NULL || !json_is_object(req)) {
		res = err("bad_request", "the request is not a JSON object%s%s",
		    req ? "" : ": ", req ? "" : je.text);
		*then |= CTL_HANGUP;
	} else if ((res = dispatch(env, req, actor, then, t)) == NULL) {
		json_decref(req);
		return NULL;
	}
	json_decref(req);
	out = res ? json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(res);
	/* No request may stop the daemon: a fixed answer, then the next. */
	if (out == NULL) {
		log_warnx("control request: cannot build its answer; refused");
		out = xstrdup("{\"ok\":false,\"code\":\"internal\","
		    "\"error\":\"cannot build the answer\"}");
	}
	return out;
}
