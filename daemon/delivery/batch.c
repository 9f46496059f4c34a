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
#include <limits.h>
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
	char *doc;			/* until it is numbered (number()) */
	char *payload;			/* once it is */
	int appended;
	int urgency;			/* urgency(): the batch's order */
	int64_t origin_us;		/* monotonic µs its reading was polled */
};

/* A pending event's place in its batch (order()). */
struct place {
	int urgency;			/* of its sensor's most urgent event */
	unsigned first;			/* its sensor's first event */
	unsigned i;
};

struct hz_batch {
	struct hz_ledger *l;
	struct hz_batch_out out;
	int open;			/* between batch_begin and batch_end */
	int tried;			/* this batch sent its BEGIN */
	int began;			/* the ledger took this batch's BEGIN */
	struct pending *cur, *unrec;	/* this batch; not yet in the ledger */
	size_t n_cur, cap_cur, n_unrec, cap_unrec;
	struct place *pl;		/* order()'s scratch, kept */
	struct pending *tmp;
	unsigned *slot;
	size_t cap_pl, cap_tmp, cap_slot;
	int resave;			/* a refused batch took alarm states along */
	int64_t retry_at;		/* monotonic ms */
	unsigned n_events;		/* since start */
	int64_t origin_us;		/* batch_origin */
	int64_t taken_us;		/* this batch began */
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
	free(b->pl);
	free(b->tmp);
	free(b->slot);
	free(b);
}

unsigned
batch_events(const struct hz_batch *b)
{
	return b->n_events;
}

/*
 * The batch's transaction begins with its first write: most batches (a
 * poll's readings that change nothing) write nothing, and then cost the
 * ledger nothing either.
 */
static void
tx(struct hz_batch *b)
{
	if (b->open && !b->tried) {
		b->tried = 1;
		b->began = ledger_begin(b->l) == 0;
	}
}

/*
 * Within a batch (a poll's readings, a burst of a thousand sensors), alarms
 * go out most urgent first: raised alarms by priority, then raised faults,
 * then the rest (clears, acknowledgements, ...).  A sensor's events keep
 * their order and stay together, placed by its most urgent one, so no
 * consumer ever sees a level cleared before it was raised.
 */
static int
urgency(const struct hz_event *e)
{
	int raised = strcmp(e->event, "raised") == 0;

	if (raised && strcmp(e->kind, "alarm") == 0)
		return 8 + alarm_priority_rank(e->priority);	/* 7 .. 11 */
	return raised ? 4 : 0;
}

static int
by_place(const void *a, const void *b)
{
	const struct place *x = a, *y = b;

	if (x->urgency != y->urgency)
		return y->urgency - x->urgency;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static unsigned
name_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Puts cur[from..n_cur) in urgency order (see urgency()); O(n log n). */
static void
order(struct hz_batch *b, size_t from)
{
	size_t n = b->n_cur - from, mask = 1, i, h;
	struct pending *c = b->cur + from;
	int mixed = 0;

	if (n < 2)
		return;
	while (mask < 2 * n)
		mask <<= 1;
	b->slot = xgrow(b->slot, &b->cap_slot, mask, sizeof(*b->slot));
	b->pl = xgrow(b->pl, &b->cap_pl, n, sizeof(*b->pl));
	memset(b->slot, 0xff, mask * sizeof(*b->slot));
	mask--;
	/* Each event's sensor's first event, by an open-addressing table. */
	for (i = 0; i < n; i++) {
		for (h = name_hash(c[i].sensor) & mask; b->slot[h] != UINT_MAX &&
		    strcmp(c[b->slot[h]].sensor, c[i].sensor) != 0; h = (h + 1) & mask)
			;
		if (b->slot[h] == UINT_MAX)
			b->slot[h] = (unsigned)i;
		b->pl[i] = (struct place){ c[i].urgency, b->slot[h], (unsigned)i };
		if (c[i].urgency > b->pl[b->slot[h]].urgency)
			b->pl[b->slot[h]].urgency = c[i].urgency;
		mixed |= c[i].urgency != c[0].urgency;
	}
	if (!mixed)
		return;			/* all alike: the order stays as it came */
	for (i = 0; i < n; i++)
		b->pl[i].urgency = b->pl[b->pl[i].first].urgency;
	qsort(b->pl, n, sizeof(*b->pl), by_place);
	b->tmp = xgrow(b->tmp, &b->cap_tmp, n, sizeof(*b->tmp));
	for (i = 0; i < n; i++)
		b->tmp[i] = c[b->pl[i].i];
	memcpy(c, b->tmp, n * sizeof(*c));
}

/*
 * An event gets its seq and its payload, and goes into the open ledger
 * transaction.  Its pointers are set afresh: cur may have moved.
 */
static void
number(struct hz_batch *b, struct pending *p)
{
	char val[32] = "null";		/* as in the MQTT payload */
	struct hz_event *e = &p->e;

	e->sensor = p->sensor;
	e->level = p->level[0] ? p->level : NULL;
	e->seq = ledger_reserve_seq(b->l);
	/* Outside a batch it is a batch of its own, committed at once. */
	if (!b->open)
		origins_batch(&b->origins, p->origin_us, p->origin_us);
	origins_note(&b->origins, e->seq, p->origin_us);
	p->payload = event_seal(p->doc, b->out.site(b->out.arg), e->seq);
	p->doc = NULL;
	if (p->payload == NULL)
		fatalx("out of memory building event seq %lld", (long long)e->seq);
	p->appended = ledger_append(b->l, e, p->payload) == 0;
	if (!b->open)
		origins_committed(&b->origins, now_mono_us());
	if (isfinite(e->value))
		snprintf(val, sizeof(val), "%.10g", e->value);
	log_cmsg(HZ_LOG_NOTICE, &(struct log_ctx){ .sensor = e->sensor,
	    .slave = -1, .seq = e->seq }, "event seq %lld: sensor %s %s %s %s value %s",
	    (long long)e->seq, e->sensor, e->kind, e->level ? e->level : "",
	    e->event, val);
	b->n_events++;
}

/*
 * Takes one event into this batch; it is numbered and written when the
 * batch ends (batch_end), in urgency order.  Outside a batch at once.
 */
static void
record(struct hz_batch *b, struct hz_event *e)
{
	struct pending *p;

	tx(b);
	b->cur = xgrow(b->cur, &b->cap_cur, b->n_cur + 1, sizeof(*b->cur));
	p = &b->cur[b->n_cur++];
	p->e = *e;
	/* Own copies: an unrecorded event may outlive this batch. */
	snprintf(p->sensor, sizeof(p->sensor), "%s", e->sensor);
	snprintf(p->level, sizeof(p->level), "%s", e->level ? e->level : "");
	p->e.priority = NULL;		/* only the payload needs it */
	p->e.actor = p->e.reason = NULL;	/* nor these */
	p->urgency = urgency(e);
	p->origin_us = b->origin_us ? b->origin_us : now_mono_us();
	p->payload = NULL;
	p->appended = 0;
	if ((p->doc = event_obj(b->out.site(b->out.arg), b->out.catalogue ?
	    b->out.catalogue(b->out.arg) : NULL, e)) == NULL)
		fatalx("out of memory building an event of sensor %s", p->sensor);
	if (!b->open)
		number(b, p);
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

	tx(b);
	return ledger_save_level(b->l, sensor, level, ls) == 0 ? 0 : -EIO;
}

static int
sink_save_sensor(void *arg, const char *sensor,
    const struct hz_sensor_alarm *sa)
{
	struct hz_batch *b = arg;

	tx(b);
	return ledger_save_sensor(b->l, sensor, sa) == 0 ? 0 : -EIO;
}

static int
sink_forget(void *arg, const char *sensor, const char *level)
{
	struct hz_batch *b = arg;

	tx(b);
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
 * Opens a batch; its transaction begins at its first write (tx).  A
 * ledger that refuses even the BEGIN still gets the batch's writes (they
 * fail): its events end as unrecorded ones.
 */
void
batch_begin(struct hz_batch *b)
{
	b->open = 1;
	b->tried = 0;
	b->began = 0;
	b->taken_us = now_mono_us();
}

/* Ends a batch: commit, then hand what was recorded to the publishers. */
void
batch_end(struct hz_batch *b)
{
	int committed = b->began;
	size_t first = 0;

	if (b->n_cur > 0) {
		origins_batch(&b->origins, b->taken_us, now_mono_us());
		while (first < b->n_cur && b->cur[first].payload)
			first++;	/* numbered outside a batch, before it */
		order(b, first);
		for (size_t i = first; i < b->n_cur; i++)
			number(b, &b->cur[i]);
		committed = b->began;
		if (committed)
			committed = ledger_commit(b->l) == 0;
		/* Recorded, or given up on: the hand-over follows either way. */
		origins_committed(&b->origins, now_mono_us());
		settle(b, committed);
	} else if (b->began)
		(void)ledger_commit(b->l);
	b->open = b->tried = b->began = 0;
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
