/*
 * batch.h - durability policy (batch.c): each step of the core that can
 * change alarm states runs as one batch, committed to the ledger before
 * anything of it is published.
 *
 *	batch_begin(b);
 *	eval_reading(&ev, m);	(or an action, the tick, a reload's removals)
 *	batch_end(b);
 *
 * The evaluator reports through the sink batch_sink() fills in: events
 * go into the open batch, alarm and fault states into the same ledger
 * transaction.  Core thread only.
 */
#ifndef HAZMON_BATCH_H
#define HAZMON_BATCH_H

#include "delivery.h"

/*
 * What a batch hands on, supplied by its owner (the core): the
 * publishers, and the evaluator's states.  All are called on the core
 * thread, from inside batch_end or batch_retry.
 */
struct hz_batch_out {
	void *arg;
	/* The site id an event carries now (a reload may change it). */
	const char *(*site)(void *arg);
	/* An event the ledger refused: sent at once, without a durable record. */
	void (*live)(void *arg, const char *sensor, const char *payload);
	/* A batch ended: the publishers send what the ledger now holds. */
	void (*pump)(void *arg);
	/*
	 * The ledger takes writes again after a refused batch took alarm
	 * states along: every state is saved afresh through the sink, in the
	 * open transaction (eval_save_all).
	 */
	void (*resave)(void *arg);
	/*
	 * Every event of a batch, in seq order, once the publishers had it
	 * (recorded or refused and sent live): the control socket's watch
	 * streams.  May be NULL.
	 */
	void (*watch)(void *arg, const char *payload);
	/*
	 * The fingerprint of the catalogue in force, which each event
	 * carries (and the ledger keeps with it).  May be NULL: none.
	 */
	const char *(*catalogue)(void *arg);
};

struct hz_batch;
struct hz_batch *batch_new(struct hz_ledger *l, const struct hz_batch_out *out);
void batch_free(struct hz_batch *b);
void batch_sink(struct hz_batch *b, struct hz_sink *s);
void batch_begin(struct hz_batch *b);
void batch_end(struct hz_batch *b);
void batch_retry(struct hz_batch *b, int64_t now_mono);
unsigned batch_events(const struct hz_batch *b);
/*
 * Where the events recorded next began: the monotonic microsecond their
 * reading's poll completed; 0 (after each reading): when recorded.
 */
void batch_origin(struct hz_batch *b, int64_t mono_us);
const struct hz_origins *batch_origins(const struct hz_batch *b);

#endif
