/*
 * latency.c - the publish-latency histogram of a destination (pure: the
 * clocks are passed in).  It measures the time from the poll whose
 * reading caused an event (for an operator action, a shelf that expired:
 * the event's creation) to the event's first hand-over to libmosquitto,
 * in the buckets of docs/control.md, with Prometheus's semantics.
 *
 * Where an event began is kept by seq in a small ring while the event is
 * fresh; one older than the ring (a backlog read back from the ledger
 * after a restart or a long outage) is timed by the realtime clock from
 * its "ts", clamped at 0.  A fresh one is also split into the stages of
 * its way (latency_stages): sums and maxima of each.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery.h"

/* The upper bounds, in seconds and in microseconds. */
const double latency_le[LATENCY_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
static const int64_t le_us[LATENCY_BUCKETS] = { 1000, 2500, 5000, 10000,
    25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
    10000000 };

/* The first bucket whose bound is >= us; LATENCY_BUCKETS: only +Inf. */
unsigned
latency_bucket(int64_t us)
{
	unsigned i = 0;

	while (i < LATENCY_BUCKETS && us > le_us[i])
		i++;
	return i;
}

void
latency_add(struct hz_latency *h, int64_t us)
{
	if (us < 0)
		us = 0;		/* a clock stepped back: no negative time */
	h->n[latency_bucket(us)]++;
	h->count++;
	h->sum_us += (uint64_t)us;
}

/* The cumulative count of bucket i (i < LATENCY_BUCKETS), as Prometheus'. */
uint64_t
latency_cumulative(const struct hz_latency *h, unsigned i)
{
	uint64_t n = 0;

	for (unsigned j = 0; j <= i && j < LATENCY_BUCKETS; j++)
		n += h->n[j];
	return n;
}

const char *const latency_stage[STAGES] = { "queue", "evaluate", "record",
    "hand_over" };

/*
 * A batch's events are about to be numbered: the core took its readings
 * at taken_us and had evaluated them at evaluated_us.  Its stamps are kept
 * once for all its events.
 */
void
origins_batch(struct hz_origins *o, int64_t taken_us, int64_t evaluated_us)
{
	uint32_t id = ++o->batch;

	o->b[id % LATENCY_BATCHES] = (struct hz_batch_stamps){ id, taken_us,
	    evaluated_us, 0 };
}

/* An event of the latest batch got its seq; its reading was polled then. */
void
origins_note(struct hz_origins *o, int64_t seq, int64_t mono_us)
{
	o->r[(uint64_t)seq % LATENCY_ORIGINS] = (struct hz_origin){
	    (uint32_t)seq, o->batch, mono_us };
}

/* The latest batch is committed (or given up on: it is handed over next). */
void
origins_committed(struct hz_origins *o, int64_t mono_us)
{
	o->b[o->batch % LATENCY_BATCHES].committed_us = mono_us;
}

/* Event seq's entry while the ring still has it, else NULL. */
static const struct hz_origin *
origin(const struct hz_origins *o, int64_t seq)
{
	const struct hz_origin *r;

	if (o == NULL)
		return NULL;
	r = &o->r[(uint64_t)seq % LATENCY_ORIGINS];
	return r->seq == (uint32_t)seq && r->mono_us > 0 ? r : NULL;
}

/*
 * Adds a fresh event's stages, handed over now, to h: nothing for one the
 * ring no longer has, or whose batch's stamps are gone or not all there.
 * A stamp earlier than the one before it (an event no reading caused
 * begins inside its batch) counts as that one: stages are never
 * negative, and they add up to what latency_of measured.
 */
void
latency_stages(struct hz_latency *h, const struct hz_origins *o, int64_t seq,
    int64_t now_mono_us)
{
	const struct hz_origin *r = origin(o, seq);
	const struct hz_batch_stamps *b;
	int64_t t[STAGES + 1];

	if (r == NULL)
		return;
	b = &o->b[r->batch % LATENCY_BATCHES];
	if (b->id != r->batch || b->taken_us <= 0 || b->evaluated_us <= 0 ||
	    b->committed_us <= 0)
		return;
	t[0] = r->mono_us;
	t[1] = b->taken_us > t[0] ? b->taken_us : t[0];
	t[2] = b->evaluated_us > t[1] ? b->evaluated_us : t[1];
	t[3] = b->committed_us > t[2] ? b->committed_us : t[2];
	t[4] = now_mono_us > t[3] ? now_mono_us : t[3];
	for (unsigned i = 0; i < STAGES; i++) {
		uint64_t us = (uint64_t)(t[i + 1] - t[i]);	/* t only grows */

		h->stage_sum_us[i] += us;
		if (us > h->stage_max_us[i])
			h->stage_max_us[i] = us;
	}
	h->staged++;
}

/* The event's "ts" in realtime ms; -1 when there is none to read. */
static int64_t
payload_ts(const char *payload)
{
	const char *p = strstr(payload, "\"ts\":\"");
	struct tm tm = { 0 };
	int ms = 0;

	if (p == NULL || sscanf(p + 6, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &ms) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/*
 * The latency of event seq handed over now: by the monotonic clock from
 * where the ring says it began, else by the realtime clock from its ts.
 */
int64_t
latency_of(const struct hz_origins *o, int64_t seq, const char *payload,
    int64_t now_mono_us, int64_t now_real_ms)
{
	const struct hz_origin *r = origin(o, seq);
	int64_t ts;

	if (r)
		return now_mono_us > r->mono_us ? now_mono_us - r->mono_us : 0;
	if ((ts = payload_ts(payload)) < 0 || now_real_ms < ts)
		return 0;
	return (now_real_ms - ts) * 1000;
}
