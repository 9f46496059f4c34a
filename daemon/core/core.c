/*
 * core.c - the core thread: owns all state, runs one poll() loop.
 *
 * Readings arrive from the bus workers over the queue; the alarm engine
 * turns them into transitions; each batch of events is committed to the
 * ledger in one transaction and only then offered to the publishers
 * (batch.c, which reaches them through the out_* functions here).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <math.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <jansson.h>

#include "core.h"
#include "batch.h"
#include "ctlcmd.h"

#define STATE_REFRESH_MS 60000	/* an unchanged state is republished this often */

/* ---- the batch's way out: the publishers of the current configuration */

static const char *
out_site(void *arg)
{
	struct core *k = arg;

	return k->c->site_id;
}

static const char *
out_catalogue(void *arg)
{
	struct core *k = arg;

	return k->cat ? k->cat->fp : NULL;
}

static void
out_live(void *arg, const char *sensor, const char *payload)
{
	struct core *k = arg;

	for (unsigned d = 0; d < k->c->n_dests; d++)
		pub_live(k->pubs[d], sensor, payload);
}

static void
out_pump(void *arg)
{
	struct core *k = arg;

	for (unsigned d = 0; d < k->c->n_dests; d++)
		pub_pump(k->pubs[d]);
}

static void
out_resave(void *arg)
{
	struct core *k = arg;

	eval_save_all(&k->ev);
}

/* An event, after MQTT had it: {"type":"event","event":PAYLOAD}. */
static void
out_watch(void *arg, const char *payload)
{
	static const char head[] = "{\"type\":\"event\",\"event\":";
	struct core *k = arg;
	size_t n = strlen(payload);
	char *line;

	if (ctl_watchers(k->ctl) == 0)
		return;
	line = xcalloc(1, sizeof(head) + n + 1);
	memcpy(line, head, sizeof(head) - 1);
	memcpy(line + sizeof(head) - 1, payload, n);
	line[sizeof(head) - 1 + n] = '}';
	ctl_watch_line(k->ctl, line, sizeof(head) + n);
	free(line);
}

/*
 * The batch, and the evaluator of k->c reporting into it (also the
 * fuzz_control harness's).  k->l is open.
 */
void
core__eval_init(struct core *k)
{
	struct hz_batch_out out = { k, out_site, out_live, out_pump,
	    out_resave, out_watch, out_catalogue };
	struct hz_sink sink;

	k->batch = batch_new(k->l, &out);
	batch_sink(k->batch, &sink);
	eval_init(&k->ev, k->c, &sink, 0);
}

static int
same_reading(const struct hazmon_reading *a, const struct hazmon_reading *b)
{
	return a->quality == b->quality && a->flags == b->flags &&
	    (a->value == b->value || (isnan(a->value) && isnan(b->value)));
}

/* Whether what sh saw is what v shows, and recently enough. */
static int
seen(const struct shown *sh, const struct hz_state_view *v, int64_t now)
{
	return sh->published && now - sh->at < STATE_REFRESH_MS &&
	    same_reading(&sh->r, v->r) && sh->stale == v->stale &&
	    sh->alarm == v->alarm &&
	    sh->alarm_state == v->alarm_state && sh->unack == v->unacknowledged &&
	    sh->shelved_until == v->shelved_until && sh->oos == v->out_of_service;
}

static void
see(struct shown *sh, int sent, const struct hz_state_view *v, int64_t now)
{
	*sh = (struct shown){ sent, *v->r, v->alarm, v->alarm_state,
	    v->unacknowledged, v->shelved_until, v->out_of_service, now, v->stale };
}

static char *watch_state_line(void *arg, unsigned i);

/*
 * Watch streams get a state line whenever the state topic would be
 * published, whether a broker takes it or not: they keep their own
 * record, made anew for each configuration (its alarm names are
 * compared by pointer).
 */
static void
watch_state(struct core *k, unsigned i, const struct hz_state_view *v,
    int64_t now)
{
	char *line;

	if (ctl_watchers(k->ctl) == 0)
		return;
	if (k->watched_gen != k->gens->id || k->n_watched != k->c->n_sensors) {
		free(k->watched);
		k->watched = xcalloc(k->c->n_sensors, sizeof(*k->watched));
		k->n_watched = k->c->n_sensors;
		k->watched_gen = k->gens->id;
	}
	if (seen(&k->watched[i], v, now))
		return;
	line = watch_state_line(k, i);
	ctl_watch_state(k->ctl, line, strlen(line));
	free(line);
	see(&k->watched[i], 1, v, now);
}

/*
 * Sensor states are published when something a consumer sees changed, and
 * refreshed now and then; identical readings every second would only cost
 * CPU and bandwidth at every subscriber.
 */
static void
publish_state(struct core *k, unsigned i, int64_t now)
{
	struct shown *sh = &k->shown[i];
	struct hz_state_view v;
	char *js;
	int sent = 1;
	unsigned d;

	eval_view(&k->ev, i, &v);
	if (v.ts_ms == 0 && !v.stale)
		return;			/* never read yet */
	if (seen(sh, &v, now))
		goto watch;
	for (d = 0; d < k->c->n_dests && !pub_takes_state(k->pubs[d]); d++)
		;
	if (d == k->c->n_dests)
		goto watch;	/* nobody can take it now: a reconnect sends all */
	js = state_json(k->c->site_id, k->cat ? k->cat->fp : NULL, &v);
	for (d = 0; js && d < k->c->n_dests; d++)
		sent &= pub_state(k->pubs[d], v.sensor, js);
	free(js);
	see(sh, sent, &v, now);
watch:
	watch_state(k, i, &v, now);
}

/*
 * A reading from a worker that a reload left running carries the sensor
 * index of the configuration it was started with.  Returns 0 when the
 * reading now belongs to a current sensor, -1 when its sensor is gone.
 */
static int
map_reading(struct core *k, struct hz_msg *m)
{
	for (struct gen *g = k->gens->next; g; g = g->next)
		if (g->id == m->gen) {
			if (m->sensor >= g->c->n_sensors || g->map[m->sensor] < 0)
				return -1;
			m->sensor = (unsigned)g->map[m->sensor];
			m->gen = k->gens->id;
			return 0;
		}
	return -1;
}

/* Durable before visible: commit the batch, then let publishers send it. */
static void
drain(struct core *k)
{
	size_t n = queue_take(&k->q, &k->buf, &k->bufcap);
	int64_t now;

	if (n == 0)
		return;
	batch_begin(k->batch);
	for (size_t i = 0; i < n; i++) {
		struct hz_msg *m = &k->buf[i];

		if (m->gen != k->gens->id && map_reading(k, m) != 0)
			m->sensor = UINT_MAX;
		else {
			batch_origin(k->batch, m->mono_us);
			eval_reading(&k->ev, m);
		}
	}
	batch_origin(k->batch, 0);	/* others begin when recorded */
	batch_end(k->batch);
	now = now_mono_ms();
	for (size_t i = 0; i < n; i++)
		if (k->buf[i].sensor != UINT_MAX)
			publish_state(k, k->buf[i].sensor, now);
}

/*
 * An operator action (acknowledge, shelve, ...), from a command topic or
 * the control socket: recorded like readings, in its own transaction.
 * Returns 0 or -errno.
 */
static int
action(struct core *k, const struct hz_command *cmd)
{
	int rc, i;

	batch_begin(k->batch);
	rc = eval_command(&k->ev, cmd, now_real_ms());
	batch_end(k->batch);
	if ((i = eval_find(&k->ev, cmd->sensor)) >= 0)
		publish_state(k, (unsigned)i, now_mono_ms());
	return rc;
}

static void
take_commands(struct core *k, struct hz_pub *p)
{
	struct hz_command cmd;
	int rc;

	while (pub_take_command(p, &cmd)) {
		rc = action(k, &cmd);
		if (rc == 0)
			log_info("command %s sensor %s by %s: done", cmd.verb,
			    cmd.sensor, cmd.actor);
		else
			log_warnx("command %s sensor %s by %s refused: %s", cmd.verb,
			    cmd.sensor, cmd.actor, rc == -ENOENT ? "no such sensor" :
			    rc == -ESRCH ? "no such level" : rc == -EALREADY ?
			    "nothing to do" : "invalid (shelving needs a reason and "
			    "a duration up to 24 h)");
	}
}

/* Hourly: drop delivered events past the retention time. */
static void
prune(struct core *k)
{
	int64_t delivered = INT64_MAX;
	int n;

	for (unsigned d = 0; d < k->c->n_dests; d++)
		if (pub_acked(k->pubs[d]) < delivered)
			delivered = pub_acked(k->pubs[d]);
	n = ledger_prune(k->l, now_real_ms() - (int64_t)k->c->retention_days *
	    86400000, delivered);
	if (n > 0)
		log_info("ledger: pruned %d delivered events older than %d days", n,
		    k->c->retention_days);
}

static void
restate(void *arg, unsigned i)
{
	publish_state(arg, i, now_mono_ms());
}

/*
 * Start-up and every connect publish the catalogue, and libmosquitto
 * holds two copies of it until the broker's PUBACK.  Freed, they leave
 * holes in the heap (4 MB of 25 at 10,000 sensors, bench/memory.sh) that
 * only malloc_trim gives back: once per acknowledged catalogue, like
 * swap.c after a reload.
 */
static void
trim_after_catalogue(struct core *k)
{
	int due = 0;
	int64_t t0;

	for (unsigned d = 0; d < k->c->n_dests; d++)
		due |= pub_take_trim(k->pubs[d]);
	if (!due)
		return;
	t0 = now_mono_us();
	malloc_trim(0);
	log_debug("memory: heap trimmed after a catalogue was acknowledged "
	    "(%lld us)", (long long)(now_mono_us() - t0));
}

/* Once a second: shelves that expire; stale states; health when it changes. */
static void
tick(struct core *k)
{
	struct hz_health h;

	log_tick();
	batch_begin(k->batch);
	eval_tick(&k->ev, now_real_ms());
	batch_end(k->batch);
	eval_stale(&k->ev, now_mono_ms(), restate, k);
	eval_health(&k->ev, now_real_ms(), &h);
	if (memcmp(&h, &k->health, sizeof(h)) != 0) {
		if (h.flood && !k->health.flood)
			log_warnx("alarm flood: %u alarms in 10 minutes", h.alarms_10min);
		k->health = h;
		for (unsigned d = 0; d < k->c->n_dests; d++)
			pub_set_health(k->pubs[d], &h);
	}
	trim_after_catalogue(k);
}

/*
 * WATCHDOG=1 only while every bus worker is either waiting or inside a
 * poll that has not overrun its worst case: failed reads are progress, a
 * worker stuck in a blocking call is not, and then systemd restarts us.
 */
static void
feed_watchdog(struct core *k, int64_t now)
{
	for (unsigned b = 0; b < k->c->n_buses; b++) {
		int64_t stuck = bus_stuck_ms(k->workers[b], now);

		if (stuck == 0)
			continue;
		if (!k->wd_withheld++)
			log_msg(HZ_LOG_ERR, "bus %s: worker stuck in one poll for %lld ms; "
			    "withholding the watchdog", bus_name(k->workers[b]),
			    (long long)stuck);
		return;
	}
	if (k->wd_withheld)
		log_info("all bus workers progress again; feeding the watchdog");
	k->wd_withheld = 0;
	notify("WATCHDOG=1");
}

static void
housekeeping(struct core *k, int64_t now)
{
	if (k->wd_every && now >= k->wd_at) {
		feed_watchdog(k, now);
		k->wd_at = now + k->wd_every;
	}
	if (now >= k->tick_at) {
		tick(k);
		k->tick_at = now + 1000;
	}
	batch_retry(k->batch, now);
	if (now >= k->prune_at) {
		prune(k);
		k->prune_at = now + 3600 * 1000;
	}
}

static int
setup_signals(struct core *k)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread starts, so every thread inherits it. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	k->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return k->sigfd < 0 ? -1 : 0;
}

static void
handle_signal(struct core *k)
{
	struct signalfd_siginfo si;

	while (read(k->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading the configuration");
			reload_request(k, NULL);
			continue;
		}
		log_info("signal %d: stopping", (int)si.ssi_signo);
		k->stop = 1;
	}
}

/* A new connection (or a rebirth) gets every state at once. */
static void
republish_all(struct core *k)
{
	for (unsigned i = 0; i < k->c->n_sensors; i++) {
		k->shown[i].published = 0;
		publish_state(k, i, now_mono_ms());
	}
}

/* All the control commands may do to the core (ctlcmd.h). */
static int
ctl_action(void *arg, const struct hz_command *cmd)
{
	return action(arg, cmd);
}

static void
ctl_reload(void *arg, const struct ctl_ticket *t)
{
	reload_request(arg, t);
}

static void
ctl_rebirth(void *arg)
{
	struct core *k = arg;

	for (unsigned d = 0; d < k->c->n_dests; d++)
		pub_rebirth(k->pubs[d]);
}

static int
ctl_replay(void *arg, unsigned dest, const json_t *req, const char *actor,
    struct replay_answer *a)
{
	struct core *k = arg;
	char by[128];

	snprintf(by, sizeof(by), "hazmonctl (%s)", actor);
	return pub_replay(k->pubs[dest], req, by, a);
}

/*
 * The commands' view of the core, made anew for each request: a reload
 * replaces the configuration, destinations and workers it points to.
 */
static void
ctl_env_of(struct core *k, const struct ctl_peer *peer, struct ctl_env *env)
{
	*env = (struct ctl_env){ .c = k->c, .ev = &k->ev, .l = k->l,
	    .pubs = (const struct hz_pub *const *)k->pubs,
	    .workers = (const struct hz_worker *const *)k->workers,
	    .health = &k->health, .started = k->started,
	    .reloaded = k->reloaded, .reloads = k->reloads,
	    .action = ctl_action, .reload = ctl_reload, .rebirth = ctl_rebirth,
	    .replay = ctl_replay, .arg = k };
	if (peer) {
		env->who = peer->who;
		env->read_only = peer->read_only;
		env->warned = peer->warned;
		env->watch_full = peer->watch_full;
	}
}

static char *
control(void *arg, const char *line, const struct ctl_peer *peer, int *then,
    const struct ctl_ticket *t)
{
	struct ctl_env env;

	ctl_env_of(arg, peer, &env);
	return ctlcmd_run(&env, line, peer->actor, then, t);
}

/* A snapshot's line, and a live state's: the `sensors` entry of sensor i. */
static char *
watch_state_line(void *arg, unsigned i)
{
	struct ctl_env env;

	ctl_env_of(arg, NULL, &env);
	return ctlcmd_state_line(&env, i);
}

static void status_line(struct core *k);

/* What a reload has the loop do: reload.c and swap.c call nothing here. */
static const struct reload_ops reload_ops = {
	.drain = drain,
	.status_line = status_line,
};

static void
loop_once(struct core *k)
{
	struct pollfd pfd[3 + HZ_MAX_DESTS + CTL_POLLFDS];
	unsigned nd = k->c->n_dests, nc;
	int64_t now = now_mono_ms(), due = now + 1000;

	if (k->wd_every && k->wd_at < due)
		due = k->wd_at;

	for (unsigned d = 0; d < k->c->n_dests; d++) {
		int64_t t = pub_tick(k->pubs[d], now);

		if (t < due)
			due = t;
	}
	pfd[0] = (struct pollfd){ .fd = k->sigfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = k->q.efd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = reload_fd(k), .events = POLLIN };
	for (unsigned d = 0; d < nd; d++)
		pfd[3 + d] = (struct pollfd){ .fd = pub_fd(k->pubs[d]),
		    .events = POLLIN | (pub_want_write(k->pubs[d]) ? POLLOUT : 0) };
	nc = ctl_pollfds(k->ctl, pfd + 3 + nd, CTL_POLLFDS);
	if (poll(pfd, 3 + nd + nc, due > now ? (int)(due - now) : 0) < 0) {
		if (errno != EINTR)
			log_warn("poll");
		return;
	}
	if (pfd[1].revents)
		drain(k);
	for (unsigned d = 0; d < nd; d++) {
		if (pfd[3 + d].fd >= 0 && pfd[3 + d].revents)
			pub_io(k->pubs[d], (pfd[3 + d].revents & (POLLIN | POLLERR |
			    POLLHUP)) != 0, (pfd[3 + d].revents & POLLOUT) != 0);
		take_commands(k, k->pubs[d]);
		if (pub_take_connected(k->pubs[d]))
			republish_all(k);
	}
	ctl_io(k->ctl, pfd + 3 + nd, nc, now_mono_ms());
	if (pfd[0].revents)
		handle_signal(k);
	/* Last: the swap of a reload replaces buses and pubs. */
	if (pfd[2].revents) {
		unsigned gen = k->gens->id;

		reload_done(k);
		if (k->gens->id != gen)
			ctl_watch_again(k->ctl);	/* the new sensors, afresh */
	}
}

static void
status_line(struct core *k)
{
	unsigned up = 0;

	for (unsigned d = 0; d < k->c->n_dests; d++)
		up += pub_connected(k->pubs[d]) != 0;
	notify("STATUS=%u sensors on %u buses; %u/%u MQTT destinations "
	    "connected; %u events since start%s", k->c->n_sensors, k->c->n_buses,
	    up, k->c->n_dests, batch_events(k->batch), k->reloads ? "; reloaded" : "");
}

/*
 * At a stop, appends "NAME N" for destination d: the events in the ledger
 * its broker has not acknowledged, which it gets at the next start.
 */
static void
undelivered(struct core *k, unsigned d, char *buf, size_t len)
{
	size_t o = strlen(buf);
	int64_t n = ledger_count_after(k->l, pub_acked(k->pubs[d]));

	if (o >= len)
		return;
	if (n < 0)
		snprintf(buf + o, len - o, "%s%s unknown (ledger error)",
		    o ? ", " : "", k->c->dests[d].name);
	else
		snprintf(buf + o, len - o, "%s%s %lld", o ? ", " : "",
		    k->c->dests[d].name, (long long)n);
}

#ifndef HZ_CONTROL_SOCKET
#define HZ_CONTROL_SOCKET "/run/hazmon/hazmond.sock"
#endif
#define RUN_SUBDIR	"/hazmon"	/* the default socket's directory in /run */
#define SOCK_NAME	"/hazmond.sock"

/* Creates dir (one level) unless it exists.  Returns 0 or -1 with errno. */
static int
make_dir(const char *dir, mode_t mode)
{
	struct stat st;

	if (mkdir(dir, mode) == 0)
		return chmod(dir, mode);	/* whatever the umask was */
	if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return -1;
}

/*
 * Where the control socket goes.  Under systemd RuntimeDirectory= made
 * its directory, and a control_socket set to another path is the
 * operator's to make.  The default one in the foreground (hazmond -c FILE, no $RUNTIME_DIRECTORY)
 * may find no /run/hazmon: it is created, mode 0755 (the socket's own 0660
 * and group decide who may connect; the directory only has to let the
 * group through).  A user who may not create it (not root) gets
 * $XDG_RUNTIME_DIR/hazmon/hazmond.sock, where hazmonctl looks next.
 * HAZMOND_TEST_RUNTIME_BASE replaces /run for the tests.  Returns a
 * malloc'd path.
 */
static char *
control_path(const struct hz_config *c)
{
	const char *rt = getenv("RUNTIME_DIRECTORY");
	const char *base = test_hooks()->runtime_base;
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[4096], path[4096 + sizeof(SOCK_NAME)];
	int err;

	if ((rt && *rt) || strcmp(c->control_socket, HZ_CONTROL_SOCKET) != 0)
		return xstrdup(c->control_socket);
	if (base && *base)
		snprintf(dir, sizeof(dir), "%s%s", base, RUN_SUBDIR);
	else {
		snprintf(dir, sizeof(dir), "%s", HZ_CONTROL_SOCKET);
		*strrchr(dir, '/') = '\0';
	}
	snprintf(path, sizeof(path), "%s%s", dir, SOCK_NAME);
	if (make_dir(dir, 0755) == 0)
		return xstrdup(path);
	err = errno;
	if (xdg == NULL || xdg[0] != '/') {
		errno = err;
		log_warn("control socket directory %s (not under systemd, no "
		    "$XDG_RUNTIME_DIR)", dir);
		return xstrdup(path);
	}
	log_info("cannot create %s (%s): the control socket goes to "
	    "$XDG_RUNTIME_DIR instead", dir, strerror(err));
	snprintf(dir, sizeof(dir), "%s%s", xdg, RUN_SUBDIR);
	snprintf(path, sizeof(path), "%s%s", dir, SOCK_NAME);
	if (make_dir(dir, 0700) != 0)
		log_warn("control socket directory %s", dir);
	return xstrdup(path);
}

/*
 * The read-only socket: daemon.control_read_socket, or hazmond-read.sock
 * beside the main socket where that one really is (none when the main one
 * is off and no path is given).  Returns a malloc'd path, "" for none.
 */
static char *
read_path(const struct hz_config *c, const char *main_path)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(main_path, '/');
	int n;

	if (c->control_read_socket)
		return xstrdup(c->control_read_socket);
	if (slash == NULL)
		return xstrdup("");
	n = snprintf(path, sizeof(path), "%.*s/hazmond-read.sock",
	    (int)(slash - main_path), main_path);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		log_msg(HZ_LOG_ERR, "read-only control socket beside %s: the path "
		    "is too long; set daemon.control_read_socket", main_path);
		return xstrdup("");
	}
	return xstrdup(path);
}

/* volatile: written only, yet it must keep them reachable */
static struct gen *volatile left_for_stuck_workers;

/* Takes c over: a reload replaces it, and core_run frees what is left. */
/* Everything the loop needs, in the order it depends on: then READY=1. */
static void
start(struct core *k)
{
	const struct hz_config *c = k->c;
	uint64_t usec = 0;
	char *path, *rpath;

	if (setup_signals(k) != 0)
		fatal("signals");
	if ((k->l = ledger_open(c->state_dir)) == NULL)
		fatalx("cannot open the event ledger in %s; refusing to run "
		    "without durable events", c->state_dir);
	(void)ledger_start_checkpoints(k->l);	/* it says why not */
	if (queue_init(&k->q) != 0)
		fatal("eventfd");
	k->started = now_real_ms();
	k->cat = catalogue_build(c, k->started);	/* events carry it */
	log_info("catalogue %s: %u sensors, %zu bytes", k->cat->fp,
	    c->n_sensors, k->cat->len);
	k->gens = xcalloc(1, sizeof(*k->gens));
	k->gens->c = k->c;
	core__eval_init(k);
	k->shown = xcalloc(c->n_sensors, sizeof(*k->shown));
	k->pubs = xcalloc(c->n_dests, sizeof(*k->pubs));
	for (unsigned d = 0; d < c->n_dests; d++) {
		k->pubs[d] = pub_new(c, d, k->l);
		pub_set_origins(k->pubs[d], batch_origins(k->batch));
		pub_set_catalogue(k->pubs[d], k->cat);
	}
	batch_begin(k->batch);		/* removed while stopped */
	eval_orphans(&k->ev, now_real_ms(), 1);
	batch_end(k->batch);
	k->workers = xcalloc(c->n_buses, sizeof(*k->workers));
	k->worker_gen = xcalloc(c->n_buses, sizeof(*k->worker_gen));
	for (unsigned b = 0; b < c->n_buses; b++)
		if ((k->workers[b] = bus_start(c, b, &k->q, 0)) != NULL)
			k->gens->workers++;
	path = control_path(c);
	rpath = read_path(c, path);
	k->ctl = ctl_open((const struct ctl_socket[]){
	    { path, c->control_group, 0 },
	    { rpath, c->control_read_group, 1 } }, 2, control, watch_state_line, k);
	free(path);
	free(rpath);
	k->reload = reload_new(k, &reload_ops);
	log_info("started: site %s, %u sensors on %u buses, %u MQTT destinations, "
	    "ledger at seq %lld", c->site_id, c->n_sensors, c->n_buses,
	    c->n_dests, (long long)ledger_last_seq(k->l));
	notify("READY=1");
	if (notify_watchdog_usec(&usec) > 0 && usec >= 2000)
		k->wd_every = (int64_t)(usec / 2000);	/* twice per period */
}

/* Until SIGTERM or SIGINT. */
static void
run(struct core *k)
{
	int64_t status_at = 0;

	while (!k->stop) {
		loop_once(k);
		housekeeping(k, now_mono_ms());
		if (now_mono_ms() >= status_at) {
			status_line(k);
			status_at = now_mono_ms() + 5000;
		}
	}
}

/*
 * Workers first, so that what they read last is still recorded; then the
 * publishers, each saying what it leaves undelivered; then the rest.
 */
static void
shut_down(struct core *k)
{
	int abandoned = 0;
	char left[HZ_MAX_DESTS * (HZ_ID_MAX + 24)] = "";

	notify("STOPPING=1");
	reload_free(k);
	ctl_close(k->ctl);
	for (unsigned b = 0; b < k->c->n_buses; b++)
		abandoned += bus_stop(k->workers[b]) != 0;
	drain(k);		/* what the workers read last is still recorded */
	for (unsigned d = 0; d < k->c->n_dests; d++) {
		pub_shutdown(k->pubs[d]);
		undelivered(k, d, left, sizeof(left));
		pub_free(k->pubs[d]);
	}
	eval_free(&k->ev);
	catalogue_free(k->cat);
	free(k->shown);
	free(k->watched);
	free(k->pubs);
	free(k->workers);
	free(k->worker_gen);
	/*
	 * A worker stuck in a blocking call may still wake up and read its
	 * configuration: with one, the models stay (reachable from here) and
	 * the process ends without freeing them.
	 */
	if (abandoned) {
		log_msg(HZ_LOG_ERR, "%d bus worker%s did not stop; exiting anyway",
		    abandoned, abandoned == 1 ? "" : "s");
		left_for_stuck_workers = k->gens;
		k->gens = NULL;
	}
	while (k->gens) {
		struct gen *g = k->gens;

		k->gens = g->next;
		config_free(g->c);
		free(g->map);
		free(g);
	}
	batch_free(k->batch);
	free(k->buf);
	queue_destroy(&k->q);
	ledger_close(k->l);
	close(k->sigfd);
	log_info("stopped; undelivered events: %s", left[0] ? left :
	    "no MQTT destinations");
}

int
core_run(struct hz_config *c, const char *plugin_dir_override, int debug)
{
	struct core k = { .c = c, .sigfd = -1,
	    .plugin_dir_override = plugin_dir_override, .debug = debug };

	start(&k);
	run(&k);
	shut_down(&k);
	return 0;
}
