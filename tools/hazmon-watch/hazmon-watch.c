/*
 * hazmon-watch - the reference consumer of the MQTT contract (docs/mqtt.md,
 * hazmon-watch(1)).
 *
 * Subscribes to the events, status and replay replies of one or many
 * sites with a persistent session, prints every event exactly once (a
 * duplicate by seq is dropped), and when a site's seq has a gap asks that
 * site for a replay of it by itself.  A gap it cannot fill (refused,
 * older than retention, timed out) is reported and counted as lost; the
 * exit status says whether anything was.  It also keeps each site's
 * retained catalogue fingerprint and counts the events and states that
 * name another.  The seq bookkeeping is track.c, the fingerprints
 * catalogue.c; this file is MQTT, the replay requests and the output.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <mosquitto.h>

#include "catalogue.h"
#include "track.h"

#define MAX_SITES	1024
#define MAX_PREFIXES	64
#define GRACE_MS	1000	/* a gap waits this long for late events */
#define RETRY_MS	3000	/* after "busy" or "too_many" */
#define TRIES		5	/* requests for one gap before it is lost */
#define REPLAY_MAX	10000	/* events per request (hazmond's bound) */
#define COMPLAIN_MAX	20	/* malformed messages reported one by one */

enum { EXIT_OK = 0, EXIT_LOST = 1, EXIT_USAGE = 2, EXIT_FAIL = 3 };

struct site {
	char prefix[256];	/* concrete: hazmon/sh-chem-01 */
	char id[64];		/* the site id its messages carry */
	struct wt_track t;
	struct wt_cat cat;	/* its catalogue, and what names another */
	int64_t events, dups;
	int online;		/* -1 unknown, 0 offline, 1 online */
	int64_t bdseq;		/* -1 unknown */
	int64_t last_seen;	/* realtime ms of its last event or status */
	int64_t gap_at;		/* monotonic ms a gap was first seen; 0 none */
	int64_t heard_at;	/* monotonic ms of its last event */
	int64_t catchup_at;	/* monotonic ms to ask what follows; 0 none */
	/* the one replay request under way */
	int req;		/* 0 none, 1 sent, 2 accepted */
	char req_id[80];
	int64_t req_from, req_to, req_at, retry_at;
	int tries;
	int catchup;		/* the request asks for what may follow base */
};

static struct {
	const char *host, *id, *out_path, *state_path;
	int port, json, replay, clean;
	int64_t timeout_ms;
	const char *prefixes[MAX_PREFIXES];
	int n_prefixes;
} opt = { "127.0.0.1", NULL, NULL, NULL, 1883, 0, 1, 0, 30000, { 0 }, 0 };

static struct site *sites[MAX_SITES];
static int n_sites;
static FILE *out;
static struct mosquitto *mosq;
static int64_t n_malformed, n_foreign, n_req;
static int state_dirty;
static volatile sig_atomic_t got_term, got_usr1;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Diagnostics go to stderr; stdout (or -o) has the events only. */
static void
note(const char *fmt, ...)
{
	va_list ap;

	fputs("hazmon-watch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Text from a message, made printable for a terminal. */
static const char *
clean(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; s && *s && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static void
malformed(const char *topic, const char *why)
{
	char t[300];

	if (n_malformed++ < COMPLAIN_MAX)
		note("malformed message on %s: %s", clean(topic, t, sizeof(t)), why);
	else if (n_malformed == COMPLAIN_MAX + 1)
		note("more malformed messages: counted, not reported one by one");
}

static struct site *
site_get(const char *prefix, size_t plen, int create)
{
	struct site *s;

	for (int i = 0; i < n_sites; i++)
		if (strlen(sites[i]->prefix) == plen &&
		    strncmp(sites[i]->prefix, prefix, plen) == 0)
			return sites[i];
	if (!create || n_sites == MAX_SITES || plen >= sizeof(s->prefix))
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->prefix, prefix, plen);
	track_init(&s->t);
	cat_init(&s->cat);
	s->online = -1;
	s->bdseq = -1;
	sites[n_sites++] = s;
	return s;
}

/* ---- replay requests */

static void
request(struct site *s, int64_t from, int64_t to, int catchup)
{
	char topic[300], *payload;
	json_t *o;

	if (to - from >= REPLAY_MAX)
		to = from + REPLAY_MAX - 1;
	/* hazmond takes a request_id of up to 64 characters */
	snprintf(s->req_id, sizeof(s->req_id), "%.40s-%lld", opt.id,
	    (long long)++n_req);
	o = json_pack("{s:s, s:I, s:I, s:s, s:s}", "cmd", "replay", "from",
	    (json_int_t)from, "to", (json_int_t)to, "request_id", s->req_id,
	    "site", s->id);
	payload = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (payload == NULL)
		return;
	snprintf(topic, sizeof(topic), "%s/command/replay", s->prefix);
	if (mosquitto_publish(mosq, NULL, topic, (int)strlen(payload), payload,
	    1, false) == MOSQ_ERR_SUCCESS) {
		s->req = 1;
		s->req_from = from;
		s->req_to = to;
		s->req_at = mono_ms();
		s->catchup = catchup;
		s->tries++;
		if (!catchup)
			note("site %s: seq %lld to %lld missing; replay requested (%s)",
			    s->id, (long long)from, (long long)to, s->req_id);
	}
	free(payload);
}

static void
give_up(struct site *s, int64_t from, int64_t to, const char *why)
{
	int64_t n = track_give_up(&s->t, from, to);

	if (n < 0) {		/* as track_seen: a record with a hole in it is worse */
		note("out of memory");
		exit(EXIT_FAIL);
	}
	if (n > 0)
		note("site %s: %lld events of seq %lld to %lld LOST: %s", s->id,
		    (long long)n, (long long)from, (long long)to, why);
	state_dirty = 1;
}

static void
request_over(struct site *s)
{
	s->req = 0;
	s->tries = 0;
	s->gap_at = 0;
}

/* Every turn: ask for gaps that outlived the grace, notice silence. */
static void
requests_tick(void)
{
	int64_t now = mono_ms(), from, to;

	for (int i = 0; i < n_sites; i++) {
		struct site *s = sites[i];
		char why[200];

		if (s->req && now - s->req_at > opt.timeout_ms) {
			if (s->catchup) {
				request_over(s);	/* no answer: no replay there */
				continue;
			}
			if (s->tries < TRIES) {
				s->req = 0;
				s->retry_at = now;
			} else {
				snprintf(why, sizeof(why), "no answer to replay "
				    "request %s within %lld s", s->req_id,
				    (long long)(opt.timeout_ms / 1000));
				give_up(s, s->req_from, s->req_to, why);
				request_over(s);
			}
		}
		if (s->req || now < s->retry_at || !track_gap(&s->t, &from, &to))
			continue;
		if (!opt.replay) {
			give_up(s, from, to, "replay is off (--no-replay)");
			continue;
		}
		if (s->gap_at == 0)
			s->gap_at = now;
		if (now - s->gap_at >= GRACE_MS)
			request(s, from, to, 0);
	}
}

/*
 * After (re)connecting: ask each known site for what follows the last seq
 * we have.  Events the broker lost while we were away leave no gap we
 * could see until the next one comes; "not_yet" says there are none.
 * Asked only once the site's events have paused for GRACE_MS: first the
 * session brings what the broker kept, and asking at once would have the
 * site send all of that again.  While its events flow, a loss shows as a
 * gap anyway.
 */
static void
catch_up(int64_t now)
{
	int64_t from, to;

	for (int i = 0; opt.replay && i < n_sites; i++) {
		struct site *s = sites[i];

		if (s->catchup_at == 0 || now < s->catchup_at)
			continue;
		if (now - s->heard_at < GRACE_MS) {
			s->catchup_at = s->heard_at + GRACE_MS;
			continue;
		}
		s->catchup_at = 0;
		if (s->req == 0 && s->t.base >= 0 && s->id[0] &&
		    !track_gap(&s->t, &from, &to))
			request(s, track_high(&s->t) + 1, track_high(&s->t) +
			    REPLAY_MAX, 1);
	}
}

static void
on_reply(struct site *s, const char *topic, json_t *o)
{
	const char *id = NULL, *result = NULL, *code = "", *reason = "";
	json_int_t from = 0, to = 0, oldest = 0, last = 0;
	char why[400], r[200];

	if (json_unpack(o, "{s:s, s:s, s?I, s?I, s?I, s?I, s?s, s?s}",
	    "request_id", &id, "result", &result, "from", &from, "to", &to,
	    "oldest", &oldest, "last", &last, "code", &code, "reason",
	    &reason) != 0) {
		if (json_is_null(json_object_get(o, "request_id")))
			return;		/* someone else's request */
		malformed(topic, "a replay reply needs request_id and result");
		return;
	}
	if (s->req == 0 || strcmp(id, s->req_id) != 0)
		return;			/* another consumer's, or an old one */
	s->req_at = mono_ms();
	if (strcmp(result, "accepted") == 0) {
		s->req = 2;
		s->req_to = to;
		return;
	}
	if (strcmp(result, "done") == 0) {
		int64_t first = s->t.base + 1 > s->req_from ? s->t.base + 1 :
		    s->req_from;

		if (track_missing(&s->t, first, s->req_to) == 0) {
			request_over(s);
			return;
		}
		/*
		 * Sent, but not all here: a broker drops what overflows a
		 * session's queue.  Ask again; after TRIES, they are lost.
		 */
		if (s->tries < TRIES) {
			request(s, first, s->req_to, s->catchup);
			return;
		}
		snprintf(why, sizeof(why), "replay %s is done and they did not "
		    "come (%d tries)", s->req_id, TRIES);
		give_up(s, first, s->req_to, why);
		request_over(s);
		return;
	}
	if (strcmp(result, "refused") != 0) {
		malformed(topic, "unknown replay result");
		return;
	}
	if (s->catchup && strcmp(code, "retention") != 0) {
		request_over(s);	/* not_yet: nothing followed; fine */
		return;
	}
	if (!strcmp(code, "busy") || !strcmp(code, "too_many")) {
		s->req = 0;
		s->retry_at = mono_ms() + RETRY_MS;
		if (s->tries < TRIES)
			return;
	}
	snprintf(why, sizeof(why), "replay refused (%s): %s", clean(code, r,
	    sizeof(r)), reason);
	if (!strcmp(code, "retention") && oldest > s->req_from) {
		give_up(s, s->req_from, oldest - 1, why);
		s->tries = 0;
		if (oldest <= s->req_to)	/* the rest is still there: ask */
			request(s, oldest, s->req_to, s->catchup);
		else
			request_over(s);
		return;
	}
	give_up(s, s->req_from, s->req_to, why);
	request_over(s);
}

/* ---- events and status */

static void
print_event(struct site *s, json_t *o, const char *payload, int len)
{
	const char *ts = "", *sensor = "", *kind = "", *event = "", *level = NULL;
	const char *prio = NULL, *unit = "";
	json_t *v = json_object_get(o, "value");
	char a[80], b[80], c[80], d[80], e[80], f[80];

	if (opt.json) {
		fprintf(out, "%.*s\n", len, payload);
		fflush(out);
		return;
	}
	(void)json_unpack(o, "{s?s, s?s, s?s, s?s, s?s, s?s, s?s}", "ts", &ts,
	    "sensor", &sensor, "kind", &kind, "event", &event, "unit", &unit,
	    "level", &level, "priority", &prio);
	fprintf(out, "%s %s #%lld %s %s %s", clean(ts, a, sizeof(a)), s->id,
	    (long long)json_integer_value(json_object_get(o, "seq")),
	    clean(sensor, b, sizeof(b)), clean(kind, c, sizeof(c)),
	    clean(event, d, sizeof(d)));
	if (level)
		fprintf(out, " %s", clean(level, e, sizeof(e)));
	if (prio)
		fprintf(out, " %s", clean(prio, f, sizeof(f)));
	if (json_is_number(v))
		fprintf(out, " %g %s", json_number_value(v), clean(unit, a, sizeof(a)));
	if (json_is_true(json_object_get(o, "replayed")))
		fputs(" (replayed)", out);
	fputc('\n', out);
	fflush(out);
}

/* The first site id under a prefix is its; another is malformed (why). */
static int
same_site(struct site *s, const char *topic, const char *site, const char *why)
{
	if (s->id[0] == '\0')
		snprintf(s->id, sizeof(s->id), "%s", site);
	else if (strcmp(s->id, site) != 0) {
		malformed(topic, why);
		return 0;
	}
	return 1;
}

/*
 * The "catalogue" of an event or state against the site's (catalogue.c):
 * a wrong one is reported, but never costs an event.
 */
static void
check_catalogue(struct site *s, const char *topic, json_t *o)
{
	json_t *v = json_object_get(o, "catalogue");

	if (v != NULL && (!json_is_string(v) ||
	    cat_check(&s->cat, json_string_value(v)) < 0))
		malformed(topic, "its catalogue is not 16 hex digits");
}

/* <prefix>/catalogue: the site's retained catalogue, by its fingerprint. */
static void
on_catalogue(struct site *s, const char *topic, json_t *o)
{
	const char *site, *fp;
	json_t *list;

	if (json_unpack(o, "{s:s, s:s, s:o}", "site", &site, "catalogue", &fp,
	    "sensors", &list) != 0 || !json_is_array(list) ||
	    !cat_valid(fp)) {
		malformed(topic, "a catalogue needs site, catalogue (16 hex "
		    "digits) and sensors");
		return;
	}
	if (!same_site(s, topic, site, "another site's catalogue under this "
	    "prefix"))
		return;
	if (cat_update(&s->cat, fp) == 1)
		note("site %s: catalogue %s, %zu sensors", s->id, fp,
		    json_array_size(list));
}

static void
on_event(struct site *s, const char *topic, json_t *o, const char *payload,
    int len)
{
	const char *site, *id;
	json_int_t seq;
	char want[96];
	int rc;

	if (json_unpack(o, "{s:I, s:s, s:s}", "seq", &seq, "id", &id, "site",
	    &site) != 0 || seq < 1 || seq > WT_SEQ_MAX) {
		malformed(topic, "an event needs seq (a whole number from 1), id "
		    "and site");
		return;
	}
	snprintf(want, sizeof(want), "%s-%lld", site, (long long)seq);
	if (strcmp(id, want) != 0) {
		malformed(topic, "its id is not <site>-<seq>");
		return;
	}
	if (!same_site(s, topic, site, "another site's event under this prefix"))
		return;
	s->last_seen = real_ms();
	s->heard_at = mono_ms();
	if ((rc = track_seen(&s->t, seq)) < 0) {
		note("out of memory");
		exit(EXIT_FAIL);
	}
	state_dirty = 1;
	if (rc == 0) {
		s->dups++;
		return;
	}
	if (rc == 2)
		note("site %s: seq %lld arrived after it was given up; no longer "
		    "lost", s->id, (long long)seq);
	s->events++;
	check_catalogue(s, topic, o);
	if (s->req)
		s->req_at = mono_ms();	/* a replay is progressing */
	print_event(s, o, payload, len);
}

static void
on_status(struct site *s, const char *topic, json_t *o)
{
	const char *state, *site;
	json_int_t bdseq;
	int on;

	if (json_unpack(o, "{s:s, s:s, s:I}", "state", &state, "site", &site,
	    "bdseq", &bdseq) != 0 ||
	    (strcmp(state, "online") && strcmp(state, "offline"))) {
		malformed(topic, "a status needs state (online or offline), site "
		    "and bdseq");
		return;
	}
	if (s->id[0] == '\0')
		snprintf(s->id, sizeof(s->id), "%s", site);
	on = strcmp(state, "online") == 0;
	/* An offline with a lower bdseq is an old will: the site is back. */
	if (!on && s->bdseq >= 0 && bdseq < s->bdseq)
		return;
	if (on != s->online)
		note("site %s: %s (bdseq %lld)", s->id, state, (long long)bdseq);
	s->online = on;
	s->bdseq = bdseq;
	s->last_seen = real_ms();
}

/*
 * <prefix>/events/<sensor>, <prefix>/status, <prefix>/reply/replay,
 * <prefix>/catalogue, <prefix>/sensors/<sensor>/state
 */
static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	const char *topic = msg->topic, *p;
	struct site *s;
	json_t *o;
	size_t plen;
	int kind;		/* 0 event, 1 status, 2 reply, 3 catalogue, 4 state */
	size_t n = strlen(topic);

	(void)m;
	(void)arg;
	if ((p = strstr(topic, "/events/")) != NULL)
		kind = 0;
	else if ((p = strstr(topic, "/reply/replay")) != NULL && p[13] == '\0')
		kind = 2;
	else if ((p = strstr(topic, "/status")) != NULL && p[7] == '\0')
		kind = 1;
	else if ((p = strstr(topic, "/catalogue")) != NULL && p[10] == '\0')
		kind = 3;
	else if ((p = strstr(topic, "/sensors/")) != NULL && n > 6 &&
	    strcmp(topic + n - 6, "/state") == 0)
		kind = 4;
	else {
		n_foreign++;
		return;
	}
	plen = (size_t)(p - topic);
	if (msg->payloadlen == 0 && msg->retain)
		return;			/* a retained message cleared */
	o = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	if (!json_is_object(o)) {
		malformed(topic, "not a JSON object");
		json_decref(o);
		return;
	}
	if ((s = site_get(topic, plen, kind != 2)) == NULL) {
		if (kind != 2)
			note("too many sites (%d); %s ignored", MAX_SITES, topic);
		json_decref(o);
		return;
	}
	if (kind == 0)
		on_event(s, topic, o, msg->payload, msg->payloadlen);
	else if (kind == 1)
		on_status(s, topic, o);
	else if (kind == 3)
		on_catalogue(s, topic, o);
	else if (kind == 4)
		check_catalogue(s, topic, o);
	else
		on_reply(s, topic, o);
	json_decref(o);
}

/* ---- state file: where each site was, so a restart misses nothing */

static void
state_save(void)
{
	char tmp[4096];
	json_t *root;
	FILE *f;

	if (opt.state_path == NULL || !state_dirty)
		return;
	root = json_object();
	for (int i = 0; i < n_sites; i++) {
		struct site *s = sites[i];
		json_t *got = json_array();

		for (size_t k = 0; k < s->t.n_got; k++)
			json_array_append_new(got, json_pack("[I, I]",
			    (json_int_t)s->t.got[k].a, (json_int_t)s->t.got[k].b));
		json_object_set_new(root, s->prefix, json_pack("{s:s, s:I, s:o, "
		    "s:I}", "site", s->id, "base", (json_int_t)s->t.base, "got",
		    got, "lost", (json_int_t)s->t.lost));
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", opt.state_path);
	if ((f = fopen(tmp, "w")) == NULL || json_dumpf(root, f, JSON_COMPACT) ||
	    fputc('\n', f) == EOF || fclose(f) != 0 || rename(tmp, opt.state_path)) {
		note("cannot save the state to %s: %s", opt.state_path,
		    strerror(errno));
		if (f)
			unlink(tmp);
	} else
		state_dirty = 0;
	json_decref(root);
}

static int
state_load(void)
{
	json_error_t je;
	json_t *root, *v;
	const char *key;

	if (opt.state_path == NULL || access(opt.state_path, F_OK) != 0)
		return 0;
	if ((root = json_load_file(opt.state_path, 0, &je)) == NULL ||
	    !json_is_object(root)) {
		note("%s:%d: not a state file: %s", opt.state_path, je.line, je.text);
		json_decref(root);
		return -1;
	}
	json_object_foreach(root, key, v) {
		struct site *s = site_get(key, strlen(key), 1);
		json_t *got = json_object_get(v, "got");
		size_t n = json_array_size(got), k;
		struct wt_range *r = calloc(n ? n : 1, sizeof(*r));
		const char *id = "";
		json_int_t base = -1, lost = 0;

		for (k = 0; r && k < n; k++) {
			json_t *g = json_array_get(got, k);

			r[k].a = json_integer_value(json_array_get(g, 0));
			r[k].b = json_integer_value(json_array_get(g, 1));
		}
		if (s == NULL || r == NULL || json_unpack(v, "{s:s, s:I, s?I}",
		    "site", &id, "base", &base, "lost", &lost) != 0 ||
		    track_restore(&s->t, base, r, n) != 0) {
			note("%s: the entry of %s is damaged", opt.state_path, key);
			free(r);
			json_decref(root);
			return -1;
		}
		free(r);
		snprintf(s->id, sizeof(s->id), "%s", id);
		s->t.lost = lost;
	}
	json_decref(root);
	return 0;
}

/* ---- summary and exit status */

static int64_t
missing_now(const struct site *s)
{
	int64_t from, to;

	return track_gap(&s->t, &from, &to) ? track_missing(&s->t, from, to) : 0;
}

static void
summary(void)
{
	char ts[32] = "-", id[80];

	fprintf(stderr, "%-20s %-7s %6s %10s %-24s %-16s %6s %8s %6s %6s %8s\n",
	    "SITE", "STATE", "BDSEQ", "LAST_SEQ", "LAST_SEEN", "CATALOGUE",
	    "STALE", "EVENTS", "DUPS", "LOST", "MISSING");
	for (int i = 0; i < n_sites; i++) {
		const struct site *s = sites[i];

		if (s->last_seen > 0) {
			time_t t = (time_t)(s->last_seen / 1000);
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
			snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03dZ",
			    (int)(s->last_seen % 1000));
		} else
			snprintf(ts, sizeof(ts), "-");
		fprintf(stderr, "%-20s %-7s %6lld %10lld %-24s %-16s %6lld %8lld "
		    "%6lld %6lld %8lld\n", s->id[0] ? clean(s->id, id,
		    sizeof(id)) : "?", s->online < 0 ? "-" : s->online ?
		    "online" : "offline", (long long)s->bdseq,
		    (long long)track_high(&s->t), ts, s->cat.fp[0] ? s->cat.fp :
		    "-", (long long)s->cat.stale, (long long)s->events, (long long)s->dups, (long long)s->t.lost,
		    (long long)missing_now(s));
	}
	fprintf(stderr, "malformed messages %lld, foreign messages %lld\n",
	    (long long)n_malformed, (long long)n_foreign);
}

static int
exit_status(void)
{
	for (int i = 0; i < n_sites; i++)
		if (sites[i]->t.lost > 0 || missing_now(sites[i]) > 0)
			return EXIT_LOST;
	return EXIT_OK;
}

/* ---- connection */

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	char topic[300];

	(void)arg;
	if (rc != 0) {
		note("broker %s:%d refused the connection: %s", opt.host, opt.port,
		    mosquitto_connack_string(rc));
		return;
	}
	note("connected to %s:%d as %s", opt.host, opt.port, opt.id);
	for (int i = 0; i < opt.n_prefixes; i++) {
		/* The retained catalogue first: what follows is compared to it. */
		static const char *const sub[] = { "catalogue", "events/#",
		    "status", "reply/replay", "sensors/+/state" };

		for (size_t k = 0; k < sizeof(sub) / sizeof(sub[0]); k++) {
			snprintf(topic, sizeof(topic), "%s/%s", opt.prefixes[i], sub[k]);
			mosquitto_subscribe(m, NULL, topic, 1);
		}
	}
	for (int i = 0; i < n_sites; i++)
		sites[i]->catchup_at = mono_ms() + GRACE_MS;
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: hazmon-watch [-h HOST] [-p PORT] [-i CLIENT_ID] [-t PREFIX]...\n"
	    "                    [--json] [-o FILE] [-s STATEFILE] [--timeout SECONDS]\n"
	    "                    [--no-replay] [--clean]\n"
	    "  -h, --host HOST       broker (default 127.0.0.1)\n"
	    "  -p, --port PORT       (default 1883)\n"
	    "  -i, --id CLIENT_ID    fixed client id of the persistent session\n"
	    "                        (1 to 40 characters; default hazmon-watch-HOSTNAME)\n"
	    "  -t, --prefix PREFIX   a site's prefix, or many with + (default hazmon/+);\n"
	    "                        may be given several times\n"
	    "      --json            every event as its JSON payload, one per line\n"
	    "  -o, --output FILE     append the events to FILE (default stdout)\n"
	    "  -s, --state FILE      keep each site's seq in FILE across restarts\n"
	    "      --timeout SECONDS a replay that does not progress this long is\n"
	    "                        asked again, at last given up (default 30)\n"
	    "      --no-replay       report gaps, do not ask for replays\n"
	    "      --clean           a clean session (misses what comes while away)\n"
	    "exit status: 0 nothing lost, 1 events lost, 2 usage, 3 failure\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "id", required_argument, NULL, 'i' },
		{ "prefix", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "state", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "no-replay", no_argument, NULL, 'R' },
		{ "clean", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct sigaction sa;
	char idbuf[128], host[64], *end;
	int64_t saved_at = 0;
	long v;
	int ch, rc, status;

	while ((ch = getopt_long(argc, argv, "h:p:i:t:o:s:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			opt.host = optarg;
			break;
		case 'p':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || v < 1 || v > 65535) {
				note("-p %s: not a port", optarg);
				usage(EXIT_USAGE);
			}
			opt.port = (int)v;
			break;
		case 'i':
			if (*optarg == '\0' || strlen(optarg) > 40) {
				note("-i %s: a client id of 1 to 40 characters", optarg);
				usage(EXIT_USAGE);
			}
			opt.id = optarg;
			break;
		case 't':
			if (opt.n_prefixes == MAX_PREFIXES || *optarg == '\0' ||
			    strchr(optarg, '#') || optarg[strlen(optarg) - 1] == '/') {
				note("-t %s: a prefix like hazmon/+ or hazmon/site-1, "
				    "at most %d", optarg, MAX_PREFIXES);
				usage(EXIT_USAGE);
			}
			/*
			 * A shared subscription ($share/...) hands each
			 * message to one member of a group: the gap tracking
			 * would take the other members' events for losses and
			 * keep asking for them again.  Other $ topics are the
			 * broker's own.
			 */
			if (*optarg == '$') {
				note("-t %s: a shared subscription or a broker's "
				    "topic: hazmon-watch must see every event of "
				    "a site (docs/deployment.md)", optarg);
				usage(EXIT_USAGE);
			}
			opt.prefixes[opt.n_prefixes++] = optarg;
			break;
		case 'j':
			opt.json = 1;
			break;
		case 'o':
			opt.out_path = optarg;
			break;
		case 's':
			opt.state_path = optarg;
			break;
		case 'T':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || v < 1 || v > 86400) {
				note("--timeout %s: seconds from 1 to 86400", optarg);
				usage(EXIT_USAGE);
			}
			opt.timeout_ms = (int64_t)v * 1000;
			break;
		case 'R':
			opt.replay = 0;
			break;
		case 'C':
			opt.clean = 1;
			break;
		case 'H':
			usage(EXIT_OK);
			break;
		case 'V':
			printf("hazmon-watch %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(EXIT_USAGE);
	if (opt.n_prefixes == 0)
		opt.prefixes[opt.n_prefixes++] = "hazmon/+";
	if (opt.id == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(idbuf, sizeof(idbuf), "hazmon-watch-%s", host);
		opt.id = idbuf;
	}
	out = stdout;
	if (opt.out_path && (out = fopen(opt.out_path, "a")) == NULL) {
		note("%s: %s", opt.out_path, strerror(errno));
		return EXIT_FAIL;
	}
	if (state_load() != 0)
		return EXIT_FAIL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	mosquitto_lib_init();
	if ((mosq = mosquitto_new(opt.id, opt.clean, NULL)) == NULL) {
		note("cannot make an MQTT client: %s", strerror(errno));
		return EXIT_FAIL;
	}
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_message_callback_set(mosq, on_message);
	if ((rc = mosquitto_connect(mosq, opt.host, opt.port, 30)) != MOSQ_ERR_SUCCESS)
		note("cannot connect to %s:%d: %s; retrying", opt.host, opt.port,
		    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	while (!got_term) {
		rc = mosquitto_loop(mosq, 100, 1);
		if (rc != MOSQ_ERR_SUCCESS && !got_term) {
			if (rc != MOSQ_ERR_NO_CONN)
				note("connection to %s:%d lost: %s; reconnecting",
				    opt.host, opt.port, rc == MOSQ_ERR_ERRNO ?
				    strerror(errno) : mosquitto_strerror(rc));
			sleep(1);
			(void)mosquitto_reconnect(mosq);
		}
		requests_tick();
		catch_up(mono_ms());
		if (got_usr1) {
			got_usr1 = 0;
			summary();
		}
		if (mono_ms() - saved_at >= 1000) {
			state_save();
			saved_at = mono_ms();
		}
	}
	mosquitto_disconnect(mosq);
	state_save();
	summary();
	status = exit_status();
	if (status == EXIT_LOST)
		note("events were lost (see LOST and MISSING above)");
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	for (int i = 0; i < n_sites; i++) {
		track_free(&sites[i]->t);
		free(sites[i]);
	}
	if (out != stdout)
		fclose(out);
	return status;
}
