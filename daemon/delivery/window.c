/*
 * window.c - what a destination has handed to libmosquitto: the window of
 * events in flight, the cursor's advance over acknowledged ones, and the
 * publish-latency histogram they feed.  publish.c (the connection, the
 * pump) and replay-send.c (replays on request) both send through here, and
 * this file calls neither of them.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <mosquitto.h>

#include "publish-int.h"

/*
 * An event handed to libmosquitto: into the histogram the first time
 * only (a resend after a reconnect is not news).  A few integer
 * operations while the event is in the ring.
 */
static void
time_event(struct hz_pub *p, int64_t seq, const char *payload)
{
	int64_t now;

	if (seq <= p->timed)
		return;
	now = now_mono_us();
	p->timed = seq;
	latency_add(&p->lat, latency_of(p->origins, seq, payload, now,
	    now_real_ms()));
	latency_stages(&p->lat, p->origins, seq, now);
}

void
pub_set_origins(struct hz_pub *p, const struct hz_origins *o)
{
	p->origins = o;
}

const struct hz_latency *
pub_latency(const struct hz_pub *p)
{
	return &p->lat;
}

/* Publishes one event of the ledger; 0, or 1 when libmosquitto refused. */
int
pub__put_event(struct hz_pub *p, int64_t seq, const char *sensor,
    const char *payload, int replay)
{
	const char *recorded = payload;	/* replayed is freed below */
	char *replayed = NULL;
	int mid, rc;

	if (replay || seq <= p->replay_upto) {
		json_t *o = json_loads(payload, 0, NULL);

		if (o) {
			json_object_set_new(o, "replayed", json_true());
			replayed = json_dumps(o, JSON_COMPACT);
			json_decref(o);
		}
		if (replayed)
			payload = replayed;
	}
	snprintf(p->topic, sizeof(p->topic), "%s/events/%s", p->d->prefix, sensor);
	rc = mosquitto_publish(p->m, &mid, p->topic, (int)strlen(payload),
	    payload, p->d->qos, false);
	free(replayed);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warnx("mqtt %s: cannot publish event seq %lld: %s", p->d->name,
		    (long long)seq, mosquitto_strerror(rc));
		return 1;
	}
	p->fl[(p->fl_head + p->fl_len) % WINDOW] = (struct inflight){ mid, seq,
	    0, replay };
	p->fl_len++;
	if (!replay) {
		p->sent = seq;
		time_event(p, seq, recorded);
	}
	return 0;
}

/* The broker acknowledged mid: the cursor moves over a prefix of done. */
void
pub__window_ack(struct hz_pub *p, int mid)
{
	for (unsigned i = 0; i < p->fl_len; i++) {
		struct inflight *f = &p->fl[(p->fl_head + i) % WINDOW];

		if (f->mid == mid)
			f->done = 1;
	}
	while (p->fl_len && p->fl[p->fl_head].done) {
		if (!p->fl[p->fl_head].replay) {
			p->acked = p->fl[p->fl_head].seq;
			p->cursor_dirty = 1;
		}
		p->fl_head = (p->fl_head + 1) % WINDOW;
		p->fl_len--;
	}
}

/* The seq of an event's payload (the MQTT contract puts it first). */
static int64_t
live_seq(const char *payload)
{
	const char *s = strstr(payload, "\"seq\":");

	return s ? strtoll(s + 6, NULL, 10) : 0;
}

/*
 * Publishes an event the ledger could not record: better late tracking
 * than a silent alarm.  libmosquitto still retries it within the session.
 */
void
pub_live(struct hz_pub *p, const char *sensor, const char *payload)
{
	int rc;

	if (p->state != P_CONNECTED) {
		log_msg(HZ_LOG_ERR, "mqtt %s: event of sensor %s neither recorded nor "
		    "sent: no connection", p->d->name, sensor);
		return;
	}
	snprintf(p->topic, sizeof(p->topic), "%s/events/%s", p->d->prefix, sensor);
	rc = mosquitto_publish(p->m, NULL, p->topic, (int)strlen(payload), payload,
	    p->d->qos, false);
	if (rc != MOSQ_ERR_SUCCESS)
		log_msg(HZ_LOG_ERR, "mqtt %s: unrecorded event of sensor %s not sent: "
		    "%s", p->d->name, sensor, mosquitto_strerror(rc));
	else
		time_event(p, live_seq(payload), payload);
}
