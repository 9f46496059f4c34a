/*
 * log-limit.c - rate limit of repeated identical log messages.
 *
 * A flapping device logs the same failure and recovery lines over and
 * over; LOG_RL_BURST of each are logged per LOG_RL_WINDOW_MS, the rest are
 * counted and reported in one "last message repeated N times" line when
 * the window ends (log_tick) or the message comes again.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base.h"
#include "log-int.h"

#define LOG_RL_BURST	5
#define LOG_RL_WINDOW_MS	(10 * 60 * 1000)
#define LOG_RL_SLOTS	128		/* distinct messages tracked */
#define LOG_RL_BUCKETS	256		/* hash buckets, a power of two */
#define LOG_RL_KEEP	200		/* bytes of text kept per message */

/*
 * A message is identified by its priority and formatted text.  The table
 * keeps, per message, the FNV-1a 64 hash of the whole text, its length
 * and its first LOG_RL_KEEP - 1 bytes, and a match needs all of them: the
 * stored text is needed anyway for the "repeated" line, so comparing it
 * costs nothing, and a wrong match would then need a 64-bit collision of
 * two texts of the same length and prefix.  (Even that would only count
 * one line under the other's summary.)
 *
 * Lookup is a chained hash table over a fixed pool (O(1) on average).
 * The pool is also a list ordered by window start: a window only ever
 * (re)starts "now", so the entry moves to the tail and the head is always
 * the oldest window, which makes both eviction of a full table and
 * log_tick()'s search for ended windows O(1) per entry handled.
 */

struct rl_entry {
	uint64_t hash;
	int64_t start;			/* window start, CLOCK_MONOTONIC ms */
	uint32_t logged;		/* occurrences logged in the window */
	uint32_t dropped;		/* occurrences suppressed in it */
	int prio;
	int slave;
	size_t len;			/* of the whole text */
	int hnext;			/* hash chain, or free list */
	int oprev, onext;		/* order of window start */
	char sensor[HZ_ID_MAX];		/* ctx of the first occurrence, */
	char bus[HZ_ID_MAX];		/* for the "repeated" line */
	char text[LOG_RL_KEEP];
};

struct rl_report {
	int prio;
	int slave;
	uint32_t count;
	int64_t span_ms;
	size_t len;
	char sensor[HZ_ID_MAX];
	char bus[HZ_ID_MAX];
	char text[LOG_RL_KEEP];
};

static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rl_entry rl_pool[LOG_RL_SLOTS];
static int rl_bucket[LOG_RL_BUCKETS];
static int rl_free, rl_head, rl_tail;
static uint32_t rl_burst = LOG_RL_BURST;
static int64_t rl_window = LOG_RL_WINDOW_MS;

static pthread_once_t rl_once = PTHREAD_ONCE_INIT;

/* An empty table; rl_lock held (or not yet needed). */
static void
rl_clear(void)
{
	for (int i = 0; i < LOG_RL_BUCKETS; i++)
		rl_bucket[i] = -1;
	for (int i = 0; i < LOG_RL_SLOTS; i++)
		rl_pool[i].hnext = i + 1 < LOG_RL_SLOTS ? i + 1 : -1;
	rl_free = 0;
	rl_head = rl_tail = -1;
}

/*
 * The zeroed table is not an empty one (bucket 0 would chain to entry 0
 * for ever): a message logged before log_init(), by a library or an early
 * error path, must find it ready, not hang the thread that logs.
 */
static void
rl_ready(void)
{
	pthread_once(&rl_once, rl_clear);
}

void
log__limit_reset(int burst, int window_ms)
{
	rl_ready();
	pthread_mutex_lock(&rl_lock);
	rl_burst = burst > 0 ? (uint32_t)burst : LOG_RL_BURST;
	rl_window = window_ms > 0 ? window_ms : LOG_RL_WINDOW_MS;
	rl_clear();
	pthread_mutex_unlock(&rl_lock);
}

/*
 * Test hook, deliberately not in hazmond.h (tests/unit/test_log.c declares
 * it): other limits, and an empty table.  0 restores a default.
 */
void log_test_set_limits(int burst, int window_ms);
void
log_test_set_limits(int burst, int window_ms)
{
	log__limit_reset(burst, window_ms);
}

static uint64_t
rl_hash(int prio, const char *text, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = (h ^ (unsigned char)prio) * 0x100000001b3ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 0x100000001b3ULL;
	return h;
}

static void
rl_order_unlink(int i)
{
	struct rl_entry *e = &rl_pool[i];

	if (e->oprev >= 0)
		rl_pool[e->oprev].onext = e->onext;
	else
		rl_head = e->onext;
	if (e->onext >= 0)
		rl_pool[e->onext].oprev = e->oprev;
	else
		rl_tail = e->oprev;
}

static void
rl_order_append(int i)
{
	rl_pool[i].oprev = rl_tail;
	rl_pool[i].onext = -1;
	if (rl_tail >= 0)
		rl_pool[rl_tail].onext = i;
	else
		rl_head = i;
	rl_tail = i;
}

/* Takes entry i out of the table, onto the free list. */
static void
rl_release(int i)
{
	int *p = &rl_bucket[rl_pool[i].hash & (LOG_RL_BUCKETS - 1)];

	while (*p != i)
		p = &rl_pool[*p].hnext;
	*p = rl_pool[i].hnext;
	rl_order_unlink(i);
	rl_pool[i].hnext = rl_free;
	rl_free = i;
}

static void
rl_take_report(const struct rl_entry *e, int64_t span_ms, struct rl_report *r)
{
	r->prio = e->prio;
	r->slave = e->slave;
	r->count = e->dropped;
	r->span_ms = span_ms;
	r->len = e->len;
	memcpy(r->sensor, e->sensor, sizeof(r->sensor));
	memcpy(r->bus, e->bus, sizeof(r->bus));
	memcpy(r->text, e->text, sizeof(r->text));
}

/* A new window for entry i, with `logged` occurrences in it already. */
static void
rl_restart(int i, int64_t now, uint32_t logged)
{
	rl_pool[i].start = now;
	rl_pool[i].logged = logged;
	rl_pool[i].dropped = 0;
	rl_order_unlink(i);
	rl_order_append(i);
}

static void
copy_id(char *dst, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= HZ_ID_MAX)
		n = HZ_ID_MAX - 1;
	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

/*
 * Counts one occurrence; returns whether to log it.  Sets *have and fills
 * *r when repeats suppressed before have to be reported first.
 */
static int
rl_check(int prio, const struct log_ctx *x, const char *text, size_t len,
    struct rl_report *r, int *have)
{
	uint64_t h = rl_hash(prio, text, len);
	size_t keep = len < LOG_RL_KEEP - 1 ? len : LOG_RL_KEEP - 1;
	struct rl_entry *e;
	int64_t now;
	int i, ok = 1;

	*have = 0;
	rl_ready();
	pthread_mutex_lock(&rl_lock);
	now = now_mono_ms();
	for (i = rl_bucket[h & (LOG_RL_BUCKETS - 1)]; i >= 0;
	    i = rl_pool[i].hnext) {
		e = &rl_pool[i];
		if (e->hash == h && e->prio == prio && e->len == len &&
		    memcmp(e->text, text, keep) == 0)
			break;
	}
	if (i >= 0) {
		e = &rl_pool[i];
		if (now - e->start >= rl_window) {
			if (e->dropped > 0) {
				rl_take_report(e, rl_window, r);
				*have = 1;
			}
			rl_restart(i, now, 1);
		} else if (e->logged < rl_burst)
			e->logged++;
		else {
			if (e->dropped < UINT32_MAX)
				e->dropped++;
			ok = 0;
		}
		pthread_mutex_unlock(&rl_lock);
		return ok;
	}
	if (rl_free < 0) {
		/* Full: evict the oldest window, telling its repeats first. */
		i = rl_head;
		e = &rl_pool[i];
		if (e->dropped > 0) {
			int64_t span = now - e->start;

			/* The time it really covered, up to whole seconds. */
			span = span > 0 ? (span + 999) / 1000 * 1000 : 1000;
			rl_take_report(e, span < rl_window ? span : rl_window,
			    r);
			*have = 1;
		}
		rl_release(i);
	}
	i = rl_free;
	e = &rl_pool[i];
	rl_free = e->hnext;
	e->hash = h;
	e->prio = prio;
	e->len = len;
	memcpy(e->text, text, keep);
	e->text[keep] = '\0';
	copy_id(e->sensor, x != NULL ? x->sensor : NULL);
	copy_id(e->bus, x != NULL ? x->bus : NULL);
	e->slave = x != NULL ? x->slave : -1;
	e->start = now;
	e->logged = 1;
	e->dropped = 0;
	e->hnext = rl_bucket[h & (LOG_RL_BUCKETS - 1)];
	rl_bucket[h & (LOG_RL_BUCKETS - 1)] = i;
	rl_order_append(i);
	pthread_mutex_unlock(&rl_lock);
	return 1;
}

static void
rl_emit_report(const struct rl_report *r)
{
	char text[HZ_LOG_TEXT_MAX], span[32];
	struct log_ctx x = { r->sensor[0] ? r->sensor : NULL,
	    r->bus[0] ? r->bus : NULL, r->slave, 0 };
	int n;

	if (r->prio > log__max())
		return;
	if (r->span_ms % 1000 == 0)
		snprintf(span, sizeof(span), "%lld s",
		    (long long)(r->span_ms / 1000));
	else
		snprintf(span, sizeof(span), "%.1f s",
		    (double)r->span_ms / 1000.0);
	n = snprintf(text, sizeof(text), "last message repeated %lu times "
	    "in %s: %s%s", (unsigned long)r->count, span, r->text,
	    r->len > LOG_RL_KEEP - 1 ? "..." : "");
	if (n < 0)
		return;
	log__emit(r->prio, &x, text, (size_t)n < sizeof(text) ? (size_t)n :
	    sizeof(text) - 1);
}

void
log_tick(void)
{
	struct rl_report r;
	int err = errno;

	rl_ready();
	/* Each round reports one ended window; it restarts at the tail. */
	for (int round = 0; round < LOG_RL_SLOTS; round++) {
		int i, have = 0;
		int64_t now;

		pthread_mutex_lock(&rl_lock);
		now = now_mono_ms();
		while ((i = rl_head) >= 0 &&
		    now - rl_pool[i].start >= rl_window) {
			if (rl_pool[i].dropped > 0) {
				rl_take_report(&rl_pool[i], rl_window, &r);
				rl_restart(i, now, 0);
				have = 1;
				break;
			}
			rl_release(i);		/* nothing to say: forget it */
		}
		pthread_mutex_unlock(&rl_lock);
		if (!have)
			break;
		rl_emit_report(&r);
	}
	errno = err;
}

/* Counts one occurrence; returns whether to log it (after any report). */
int
log__limit(int prio, const struct log_ctx *x, const char *text, size_t len)
{
	struct rl_report r;
	int have, ok = rl_check(prio, x, text, len, &r, &have);

	if (have)
		rl_emit_report(&r);
	return ok;
}
