/*
 * replay-send.c - a destination's replays on request (docs/mqtt.md "Replay
 * on request"): the requests from its command topic and from hazmonctl,
 * their replies, and the sending of each range from the ledger, paced so
 * that live events always go first.  What a request may ask is decided in
 * replay.c (pure); this is the part that talks to the broker.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <mosquitto.h>

#include "publish-int.h"

#define REPLAY_INFLIGHT	16	/* of the window: the rest is for live events */
#define REPLAY_SLICE	8	/* events a replay waits to send at once */

static void
publish_reply(struct hz_pub *p, const char *result,
    const struct replay_answer *a, int64_t sent)
{
	char *s;

	/* hazmonctl may ask while a dial thread owns p->m: no reply then. */
	if (p->state != P_CONNECTED ||
	    (s = replay_reply_json(p->c->site_id, result, a, sent)) == NULL)
		return;
	snprintf(p->topic, sizeof(p->topic), "%s/reply/replay", p->d->prefix);
	mosquitto_publish(p->m, NULL, p->topic, (int)strlen(s), s, 1, false);
	free(s);
}

/* " (request_id \"x\")" for the log, or "" when none was given */
static const char *
request_id(const char *id, char *buf, size_t len)
{
	if (id[0] == '\0')
		return "";
	snprintf(buf, len, " (request_id \"%s\")", id);
	return buf;
}

static int
refused(struct hz_pub *p, const char *by, const struct replay_answer *a)
{
	char id[96];

	log_msg(HZ_LOG_WARNING, "mqtt %s: replay request from %s%s refused: %s",
	    p->d->name, by, request_id(a->request_id, id, sizeof(id)), a->why);
	publish_reply(p, "refused", a, 0);
	return -EINVAL;
}

/*
 * Queues a replay of req's range for this destination (hazmonctl, or the
 * MQTT topic through replay_request), and answers on the reply topic.
 * `by` says who asked, for the log.  0, or -EINVAL with a->code and a->why.
 */
int
pub_replay(struct hz_pub *p, const json_t *req, const char *by,
    struct replay_answer *a)
{
	struct hz_replay r;
	char id[96];

	if (replay_check(req, p->c->site_id, ledger_first_seq(p->l),
	    ledger_last_seq(p->l), &r, a) != 0 || replay_push(&p->rq, &r, a) != 0)
		return refused(p, by, a);
	log_info("mqtt %s: replay of seq %lld to %lld requested by %s%s: accepted",
	    p->d->name, (long long)r.from, (long long)r.to, by,
	    request_id(r.request_id, id, sizeof(id)));
	publish_reply(p, "accepted", a, 0);
	pub__replay_step(p, now_mono_ms());
	return 0;
}

/* <prefix>/command/replay, on a destination with `replay = true`. */
void
pub__replay_request(struct hz_pub *p, const struct mosquitto_message *msg)
{
	json_t *o = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	struct replay_answer a;
	struct hz_replay r;
	char by[300];

	snprintf(by, sizeof(by), "broker %s:%d", p->d->host, p->d->port);
	if (msg->retain || !replay_req_allowed(&p->rq, now_mono_ms())) {
		/* For the request_id of the reply; the check itself is moot. */
		(void)replay_check(o, p->c->site_id, ledger_first_seq(p->l),
		    ledger_last_seq(p->l), &r, &a);
		if (msg->retain) {
			a.code = "retained";
			snprintf(a.why, sizeof(a.why), "it is a retained message "
			    "(history, not a request)");
			refused(p, by, &a);
		} else {
			a.code = "too_many";
			snprintf(a.why, sizeof(a.why), "more than %d requests "
			    "within %d s", REPLAY_REQ_BURST, REPLAY_REQ_BURST *
			    REPLAY_REQ_EVERY_MS / 1000);
			/* A flood is logged once, and counted at its end. */
			if (p->rp_flooded++ == 0)
				refused(p, by, &a);
			else
				publish_reply(p, "refused", &a, 0);
		}
		json_decref(o);
		return;
	}
	if (p->rp_flooded > 1)
		log_msg(HZ_LOG_WARNING, "mqtt %s: %u more replay requests from %s "
		    "were refused as too many", p->d->name, p->rp_flooded - 1, by);
	p->rp_flooded = 0;
	(void)pub_replay(p, o, by, &a);
	json_decref(o);
}

static unsigned
replay_in_flight(const struct hz_pub *p)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->fl_len; i++) {
		const struct inflight *f = &p->fl[(p->fl_head + i) % WINDOW];

		n += f->replay && !f->done;
	}
	return n;
}

/* A reconnect: what the broker did not acknowledge is sent again. */
void
pub__replay_rewind(struct hz_pub *p)
{
	struct hz_replay *r = replay_head(&p->rq);

	for (unsigned i = 0; r && i < p->fl_len; i++) {
		const struct inflight *f = &p->fl[(p->fl_head + i) % WINDOW];

		if (f->replay && !f->done && f->seq < r->next)
			r->next = f->seq;
	}
}

static int
replay_event(void *arg, int64_t seq, const char *sensor, const char *payload)
{
	struct hz_pub *p = arg;
	struct hz_replay *r = replay_head(&p->rq);

	if (seq > r->to)
		return 1;
	if (pub__put_event(p, seq, sensor, payload, 1) != 0) {
		p->rp_stalled = 1;
		return 1;
	}
	r->next = seq + 1;
	if (seq > r->high) {
		r->high = seq;
		r->sent++;
	}
	p->rp_credit -= 1.0;
	return 0;
}

static double
replay_cap(const struct hz_pub *p)
{
	double cap = p->d->replay_rate / 10.0;	/* 100 ms worth */

	return cap < REPLAY_SLICE ? REPLAY_SLICE : cap;
}

/*
 * Sends the next events of the head replay: only while no live event
 * waits (they go first), at most replay_rate a second and REPLAY_INFLIGHT
 * unacknowledged, so it never holds the window and each turn of the loop
 * reads at most that many rows.  A replay is done when all of its events
 * are acknowledged; then the next one starts.
 */
void
pub__replay_step(struct hz_pub *p, int64_t now)
{
	struct hz_replay *r;
	double room;
	int64_t before;
	int n;

	if (p->rq.n == 0)
		return;
	p->rp_credit += (double)(now - p->rp_at) * p->d->replay_rate / 1000.0;
	if (p->rp_credit > replay_cap(p))
		p->rp_credit = replay_cap(p);
	p->rp_at = now;
	p->rp_stalled = 0;
	while ((r = replay_head(&p->rq)) != NULL && p->state == P_CONNECTED &&
	    p->sent >= ledger_last_seq(p->l) && !p->rp_stalled) {
		if (r->next > r->to) {
			struct replay_answer a = { .from = r->from, .to = r->to,
			    .oldest = ledger_first_seq(p->l),
			    .last = ledger_last_seq(p->l) };

			if (replay_in_flight(p) > 0)
				return;		/* done when acknowledged */
			snprintf(a.request_id, sizeof(a.request_id), "%s",
			    r->request_id);
			log_info("mqtt %s: replay of seq %lld to %lld done: %lld "
			    "events sent", p->d->name, (long long)r->from,
			    (long long)r->to, (long long)r->sent);
			publish_reply(p, "done", &a, r->sent);
			replay_pop(&p->rq);
			continue;
		}
		room = p->rp_credit;
		if (room > REPLAY_INFLIGHT - replay_in_flight(p))
			room = REPLAY_INFLIGHT - replay_in_flight(p);
		if (room > WINDOW - p->fl_len)
			room = WINDOW - p->fl_len;
		if ((n = (int)room) < 1)
			return;
		before = r->next;
		if (ledger_scan(p->l, r->next - 1, n, replay_event, p) < 0)
			return;		/* logged; the next turn tries again */
		if (r->next == before && !p->rp_stalled)
			r->next = r->to + 1;	/* nothing more in the range */
	}
}

/* When the head replay may send again, or the next keepalive. */
int64_t
pub__replay_due(struct hz_pub *p, int64_t now)
{
	double want;
	int64_t at;

	if (p->rq.n == 0 || p->state != P_CONNECTED)
		return p->misc_at;
	want = replay_cap(p) < REPLAY_SLICE ? replay_cap(p) : REPLAY_SLICE;
	at = now + (p->rp_credit >= want ? 10 :
	    (int64_t)((want - p->rp_credit) * 1000.0 / p->d->replay_rate) + 1);
	return at < p->misc_at ? at : p->misc_at;
}
