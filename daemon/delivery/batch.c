/*
 * batch.c - durability policy: one ledger transaction per batch of
 * events, and only then the publishers.
 *
 * Every event gets its seq when it is recorded and keeps it.  When the
 * ledger refuses a batch (disk full, I/O error), its events are not lost
 * and not delayed: they are published live at once, kept in memory, and
 * written again every few seconds, in order and all at once, until the
 * ledger takes them; the alarm states the refused batch took along are
 * then saved afresh.  Events are never dropped, states only go stale.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "batch.h"

#define RETRY_MS	5000	/* between writes of what the ledger refused */

/* An event of the current batch, or one the ledger could not take yet. */
struct pending {
	struct hz_event e;
	char sensor[HZ_ID_MAX], level[HAZMON_LEVEL_NAME_MAX];
	char *payload;
	int appended;
};

struct hz_batch {
	struct hz_ledger *l;
	struct hz_batch_out out;
	int began;			/* the ledger took this batch's BEGIN */
	struct pending *cur, *unrec;	/* this batch; not yet in the ledger */
	size_t n_cur, cap_cur, n_unrec, cap_unrec;
	int resave;			/* a refused batch took alarm states along */
	int64_t retry_at;		/* monotonic ms */
	unsigned n_events;		/* since start */
	int64_t origin_us;		/* batch_origin */
	struct hz_origins origins;	/* where recent events began, by seq */
};

struct hz_batch *
batch_new(struct hz_ledger *l, const struct hz_batch_out *out)
{
	struct hz_batch *b = xcalloc(1, sizeof(*b));

	b->l = l;
	b->out = *out;
	return b;
}

/* At a stop: what never reached the ledger is said, then let go. */
void
batch_free(struct hz_batch *b)
{
	if (b == NULL)
		return;
	if (b->n_unrec > 0)
		log_msg(HZ_LOG_ERR, "stopping with %zu events that never reached the "
		    "ledger (seq %lld to %lld)", b->n_unrec, (long long)b->unrec[0].e.seq,
		    (long long)b->unrec[b->n_unrec - 1].e.seq);
	for (size_t i = 0; i < b->n_unrec; i++)
		free(b->unrec[i].payload);
	free(b->unrec);
	free(b->cur);
	free(b);
}

unsigned
batch_events(const struct hz_batch *b)
{
	return b->n_events;
}

/* Records one event in the open ledger transaction of this batch. */
static void
record(struct hz_batch *b, struct hz_event *e)
{
	struct pending *p;
	char val[32] = "null";		/* as in the MQTT payload */

	b->cur = xgrow(b->cur, &b->cap_cur, b->n_cur + 1, sizeof(*b->cur));
	p = &b->cur[b->n_cur++];
	e->seq = ledger_reserve_seq(b->l);
	p->e = *e;
	/* Own copies: an unrecorded event may outlive this batch. */
	snprintf(p->sensor, sizeof(p->sensor), "%s", e->sensor);
	snprintf(p->level, sizeof(p->level), "%s", e->level ? e->level : "");
	p->e.sensor = p->sensor;
	p->e.level = e->level ? p->level : NULL;
	p->e.priority = NULL;		/* only the payload needs it */
	origins_note(&b->origins, e->seq, b->origin_us ? b->origin_us :
	    now_mono_us());
	p->payload = event_json(b->out.site(b->out.arg), e);
	if (p->payload == NULL)
		fatalx("out of memory building event seq %lld", (long long)e->seq);
	p->appended = ledger_append(b->l, &p->e, p->payload) == 0;
	if (isfinite(e->value))
		snprintf(val, sizeof(val), "%.10g", e->value);
	log_cmsg(HZ_LOG_NOTICE, &(struct log_ctx){ .sensor = e->sensor,
	    .slave = -1, .seq = e->seq }, "event seq %lld: sensor %s %s %s %s value %s",
	    (long long)e->seq, e->sensor, e->kind, e->level ? e->level : "",
	    e->event, val);
	b->n_events++;
}

void
batch_origin(struct hz_batch *b, int64_t mono_us)
{
	b->origin_us = mono_us;
}

/* For the publishers' latency histograms (latency.c). */
const struct hz_origins *
batch_origins(const struct hz_batch *b)
{
	return &b->origins;
}

/* ---- the evaluator's sink: events into the batch, states beside them */

static void
sink_event(void *arg, struct hz_event *e)
{
	record(arg, e);
}

static int
sink_save_level(void *arg, const char *sensor, const char *level,
    const struct hz_level_state *ls)
{
	struct hz_batch *b = arg;

	return ledger_save_level(b->l, sensor, level, ls) == 0 ? 0 : -EIO;
}

static int
sink_save_sensor(void *arg, const char *sensor,
    const struct hz_sensor_alarm *sa)
{
	struct hz_batch *b = arg;

	return ledger_save_sensor(b->l, sensor, sa) == 0 ? 0 : -EIO;
}

static int
sink_forget(void *arg, const char *sensor, const char *level)
{
	struct hz_batch *b = arg;

	return ledger_forget(b->l, sensor, level) == 0 ? 0 : -EIO;
}

static int
sink_load(void *arg, saved_level_fn level, saved_sensor_fn sensor,
    void *fn_arg)
{
	struct hz_batch *b = arg;

	if (ledger_load_levels(b->l, level, fn_arg) < 0 ||
	    ledger_load_sensors(b->l, sensor, fn_arg) < 0)
		return -EIO;
	return 0;
}

/* The ledger's errors are logged where they happen (ledger.c). */
void
batch_sink(struct hz_batch *b, struct hz_sink *s)
{
	*s = (struct hz_sink){ b, sink_event, sink_save_level, sink_save_sensor,
	    sink_forget, sink_load };
}

/*
 * After the batch's commit: events the ledger did not take are published
 * live at once and kept in memory until a later write succeeds.
 */
static void
settle(struct hz_batch *b, int committed)
{
	for (size_t i = 0; i < b->n_cur; i++) {
		struct pending *p = &b->cur[i];

		if (committed && p->appended)
			continue;	/* freed by batch_end, after the watchers */
		log_cmsg(HZ_LOG_ERR, &(struct log_ctx){ .sensor = p->sensor,
		    .slave = -1, .seq = p->e.seq }, "LEDGER WRITE FAILED: event "
		    "seq %lld (sensor %s) is published live without a durable "
		    "record; it is kept in memory and written when the ledger "
		    "recovers",
		    (long long)p->e.seq, p->sensor);
		b->out.live(b->out.arg, p->sensor, p->payload);
		b->unrec = xgrow(b->unrec, &b->cap_unrec, b->n_unrec + 1,
		    sizeof(*b->unrec));
		b->unrec[b->n_unrec++] = *p;	/* pointers are fixed at retry */
	}
	if (!committed && b->n_cur > 0)
		b->resave = 1;
}

/*
 * Opens a batch.  A ledger that refuses even the BEGIN still gets the
 * batch's writes (they fail): its events end as unrecorded ones.
 */
void
batch_begin(struct hz_batch *b)
{
	b->began = ledger_begin(b->l) == 0;
}

/* Ends a batch: commit, then hand what was recorded to the publishers. */
void
batch_end(struct hz_batch *b)
{
	int committed = b->began;

	if (b->n_cur > 0) {
		if (committed)
			committed = ledger_commit(b->l) == 0;
		settle(b, committed);
	} else if (b->began)
		(void)ledger_commit(b->l);
	b->began = 0;
	b->out.pump(b->out.arg);
	/* MQTT first; a refused event's payload now belongs to unrec. */
	for (size_t i = 0; i < b->n_cur; i++) {
		struct pending *p = &b->cur[i];

		if (b->out.watch)
			b->out.watch(b->out.arg, p->payload);
		if (committed && p->appended)
			free(p->payload);
	}
	b->n_cur = 0;
}

/* Tries again to write what the ledger refused earlier. */
static void
retry(struct hz_batch *b)
{
	int ok = ledger_begin(b->l) == 0;

	for (size_t i = 0; ok && i < b->n_unrec; i++) {
		struct pending *p = &b->unrec[i];

		/* The array may have moved since: point into it afresh. */
		p->e.sensor = p->sensor;
		p->e.level = p->level[0] ? p->level : NULL;
		ok = ledger_append_again(b->l, &p->e, p->payload) == 0;
	}
	if (ok && b->resave)
		b->out.resave(b->out.arg);
	if (!ok) {
		ledger_rollback(b->l);		/* all or nothing, no duplicates */
		return;
	}
	if (ledger_commit(b->l) != 0)
		return;
	if (b->resave)
		log_info("ledger: alarm states saved again");
	b->resave = 0;
	log_info("ledger: %zu events written late, seq %lld to %lld", b->n_unrec,
	    (long long)b->unrec[0].e.seq, (long long)b->unrec[b->n_unrec - 1].e.seq);
	for (size_t i = 0; i < b->n_unrec; i++)
		free(b->unrec[i].payload);
	b->n_unrec = 0;
}

/* Every loop turn: what the ledger refused is written again when due. */
void
batch_retry(struct hz_batch *b, int64_t now_mono)
{
	if (b->n_unrec > 0 && now_mono >= b->retry_at) {
		retry(b);
		b->retry_at = now_mono + RETRY_MS;
	}
}
