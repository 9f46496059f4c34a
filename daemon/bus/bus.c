/*
 * bus.c - one worker thread per Modbus bus.
 *
 * Sensors of one slave with the same interval form a poll group; the
 * register needs of a group are coalesced once (plan.c) into a few
 * requests.  Groups are scheduled on absolute monotonic deadlines from a
 * min-heap.  A failed poll yields no value: after fault_after failures in a
 * row a sensor reports a comm-loss fault, every cycle, until a read
 * succeeds.  A slave that keeps failing is backed off (capped at 5 s), and
 * skipped polls count as failures, so backoff never hides a dead detector.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <modbus.h>

#include "link.h"

#define SLAVE_BACKOFF_MAX_MS 5000

struct member {
	unsigned sensor;		/* index into config sensors */
	unsigned ref[HAZMON_MAX_NEEDS];	/* into the group's refs */
	int fails;			/* consecutive failed polls */
};

struct group {
	int slave;
	int64_t interval_ms;
	int64_t due;			/* monotonic ms */
	int64_t skip_until;		/* slave backoff */
	int64_t backoff_ms;
	struct member *m;
	unsigned n_m;
	struct plan_block *blocks;
	struct plan_ref *refs;		/* one per need of all members */
	unsigned n_blocks;
	uint16_t **regs;		/* per block */
	uint8_t **bits;
	uint8_t *ok;			/* per block, this poll */
	int *err;			/* per block, this poll: errno when not ok */
	_Atomic int64_t last_ok;	/* realtime ms of the last good read */
	_Atomic int failing;		/* the last poll read nothing whole */
	unsigned *bfail;		/* per block, consecutive failures */
};

struct hz_worker {
	const struct hz_config *c;
	const struct hz_bus *bus;
	struct hz_queue *q;
	unsigned gen;			/* of c, stamped on every reading */
	pthread_t th;
	sem_t wake;			/* posted by bus_stop */
	_Atomic int stop;
	struct hz_link link;
	struct group *g;
	unsigned n_g;
	unsigned *heap;			/* group indices, earliest due first */
	_Atomic uint64_t polls, requests, failed, readings;
	_Atomic int connected;
	_Atomic int64_t busy_since;	/* monotonic ms a poll began; 0 = waiting */
	_Atomic int64_t late_max;	/* ms: the latest a poll ever began */
	int64_t poll_limit_ms;		/* longest a healthy poll can take */
	int test_hang;			/* HAZMOND_TEST_HANG_BUS names this bus */
	unsigned requests_per_cycle;
	struct hz_msg *out;		/* a poll's readings, queued together */
	unsigned n_out;
	int64_t out_ts;			/* realtime ms the poll's reads ended */
	int64_t out_mono_us;		/* the same, monotonic µs */
};

/* ---- scheduling: a binary min-heap of groups by due time */

static int
earlier(const struct hz_worker *w, unsigned a, unsigned b)
{
	return w->g[w->heap[a]].due < w->g[w->heap[b]].due;
}

static void
heap_swap(struct hz_worker *w, unsigned a, unsigned b)
{
	unsigned t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
}

/* Restores the heap after the root's due time grew. */
static void
heap_sift_down(struct hz_worker *w)
{
	unsigned i = 0;

	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->n_g && earlier(w, l, m))
			m = l;
		if (r < w->n_g && earlier(w, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(w, i, m);
		i = m;
	}
}

/* ---- polling */

/* A reading of this poll; w->out holds one per member of the largest group. */
static void
push_reading(struct hz_worker *w, unsigned sensor, const struct hazmon_reading *r,
    int err)
{
	w->out[w->n_out++] = (struct hz_msg){ .sensor = sensor, .gen = w->gen,
	    .r = *r, .ts_ms = w->out_ts, .mono_us = w->out_mono_us, .err = err };
}

/* The poll's readings go to the core at once: one batch, one commit. */
static void
flush_readings(struct hz_worker *w)
{
	unsigned n = w->n_out;

	w->n_out = 0;
	if (n == 0 || atomic_load(&w->stop))
		return;		/* abandoned or stopping: its sensors are not ours */
	if (queue_push(w->q, w->out, n) != 0)
		log_warnx("bus %s: %u readings (sensor %s ...) dropped: out of memory",
		    w->bus->name, n, w->c->sensors[w->out[0].sensor].id);
	else
		atomic_fetch_add(&w->readings, n);
}

/*
 * A failed read: after fault_after in a row, a fault, never a value.  It
 * is a device error when the device answered but refused or garbled (an
 * exception, a reply that fails the checks), else a comm loss.
 */
static void
member_failed(struct hz_worker *w, struct member *mb, int err)
{
	struct hazmon_reading r = { .value = NAN, .quality = HAZMON_Q_FAULT,
	    .flags = mbf_answered(err) ? HAZMON_F_DEVICE_ERROR : HAZMON_F_COMM };

	if (++mb->fails >= w->bus->fault_after)
		push_reading(w, mb->sensor, &r, err);
}

/* Names the sensors that read a block, for log lines: "a, b, c (+5 more)". */
static void
block_sensors(const struct hz_worker *w, const struct group *g, unsigned b,
    char *buf, size_t len)
{
	size_t o = 0;
	unsigned n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < g->n_m; i++) {
		const struct hz_sensor *s = &w->c->sensors[g->m[i].sensor];
		int uses = 0;

		for (unsigned k = 0; k < s->setup.n_needs; k++)
			uses |= g->refs[g->m[i].ref[k]].block == b;
		if (!uses)
			continue;
		if (n++ < 3 && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", n > 1 ? ", " : "",
			    s->id);
	}
	if (n > 3 && o < len)
		snprintf(buf + o, len - o, " (+%u more)", n - 3);
}

/* A failure is logged when it starts and its recovery once, per block. */
static void
block_result(struct hz_worker *w, struct group *g, unsigned b, int ok, int err)
{
	const struct plan_block *bl = &g->blocks[b];
	struct log_ctx x = { .bus = w->bus->name, .slave = g->slave };
	char who[256];

	if (ok && g->bfail[b] == 0)
		return;
	if (!ok && g->bfail[b]++ > 0)
		return;
	block_sensors(w, g, b, who, sizeof(who));
	if (ok) {
		log_cmsg(HZ_LOG_INFO, &x, "bus %s slave %d %s address %u count %u (sensors %s): reads "
		    "succeed again after %u failures", w->bus->name, g->slave,
		    decode_table_name(bl->table), bl->address, bl->count, who,
		    g->bfail[b]);
		g->bfail[b] = 0;
	} else
		log_cmsg(HZ_LOG_WARNING, &x, "bus %s slave %d %s address %u count %u "
		    "(sensors %s): %s",
		    w->bus->name, g->slave, decode_table_name(bl->table),
		    bl->address, bl->count, who, hz_strerror(err));
}

static void
member_decode(struct hz_worker *w, struct group *g, struct member *mb)
{
	const struct hz_sensor *s = &w->c->sensors[mb->sensor];
	struct hazmon_slice sl[HAZMON_MAX_NEEDS];
	struct hazmon_reading r = { .value = NAN };

	for (unsigned k = 0; k < s->setup.n_needs; k++) {
		const struct plan_ref *ref = &g->refs[mb->ref[k]];

		sl[k].regs = g->regs[ref->block] ? g->regs[ref->block] + ref->offset : NULL;
		sl[k].bits = g->bits[ref->block] ? g->bits[ref->block] + ref->offset : NULL;
		sl[k].count = s->setup.needs[k].count;
	}
	mb->fails = 0;
	s->plugin->desc->decode(&hz_host, s->setup.ctx, sl, &r);
	push_reading(w, mb->sensor, &r, 0);
}

/* Reads the group's blocks; after a timeout the slave is taken as silent. */
static int
read_blocks(struct hz_worker *w, struct group *g, int *last_err)
{
	int silent = 0, n_ok = 0, rc;

	for (unsigned b = 0; b < g->n_blocks; b++) {
		g->ok[b] = 0;
		if (silent) {
			g->err[b] = ETIMEDOUT;
			continue;
		}
		if ((rc = link_up(&w->link, now_mono_ms())) != 0) {
			g->err[b] = -rc;	/* why the link is down */
			continue;
		}
		atomic_fetch_add(&w->requests, 1);
		if ((rc = link_read(&w->link, g->slave, &g->blocks[b], g->regs[b],
		    g->bits[b])) == 0) {
			g->ok[b] = 1;
			n_ok++;
			block_result(w, g, b, 1, 0);
			continue;
		}
		*last_err = g->err[b] = -rc;
		block_result(w, g, b, 0, -rc);
		atomic_fetch_add(&w->failed, 1);
		silent = *last_err == ETIMEDOUT;	/* costs one timeout per cycle */
	}
	return n_ok;
}

static void
poll_group(struct hz_worker *w, struct group *g, int64_t now)
{
	int err = ENOTCONN, n_ok = 0;	/* err: for the debug line only */

	if (now >= g->skip_until)
		n_ok = read_blocks(w, g, &err);
	else
		memset(g->ok, 0, g->n_blocks);	/* backed off: g->err stays */
	atomic_store(&w->connected, w->link.connected);
	w->out_ts = now_real_ms();
	w->out_mono_us = now_mono_us();
	if (n_ok > 0)
		atomic_store(&g->last_ok, w->out_ts);
	atomic_store(&g->failing, n_ok < (int)g->n_blocks);
	for (unsigned i = 0; i < g->n_m; i++) {
		struct member *mb = &g->m[i];
		const struct hz_sensor *s = &w->c->sensors[mb->sensor];
		int bad = 0, why = 0;

		for (unsigned k = 0; k < s->setup.n_needs; k++) {
			unsigned b = g->refs[mb->ref[k]].block;

			if (!g->ok[b] && (!bad || mbf_answered(g->err[b])))
				why = g->err[b];
			bad |= !g->ok[b];
		}
		if (bad)
			member_failed(w, mb, why);
		else
			member_decode(w, g, mb);
	}
	flush_readings(w);
	/* A slave that answers nothing is polled less often, but never hidden. */
	if (n_ok == 0 && now >= g->skip_until && w->link.connected) {
		g->backoff_ms = g->backoff_ms ? g->backoff_ms * 2 : g->interval_ms;
		if (g->backoff_ms > SLAVE_BACKOFF_MAX_MS)
			g->backoff_ms = SLAVE_BACKOFF_MAX_MS;
		g->skip_until = now + g->backoff_ms;
	} else if (n_ok > 0) {
		g->backoff_ms = 0;
		g->skip_until = 0;
	}
	log_debug("bus %s slave %d: %u requests for %u sensors, %d ok%s%s",
	    w->bus->name, g->slave, g->n_blocks, g->n_m, n_ok,
	    n_ok < (int)g->n_blocks ? "; last error: " : "",
	    n_ok < (int)g->n_blocks ? hz_strerror(err) : "");
}

/*
 * Waits until the deadline or a stop request. Returns 1 to stop.  A
 * semaphore, not a condition variable: the wait is one futex call, where
 * a timed-out condition wait takes its mutex back as contended, and its
 * unlock costs a second system call every poll.
 */
static int
wait_until(struct hz_worker *w, int64_t deadline)
{
	struct timespec ts = { .tv_sec = deadline / 1000,
	    .tv_nsec = (long)(deadline % 1000) * 1000000L };

	while (!atomic_load(&w->stop) && now_mono_ms() < deadline)
		if (sem_clockwait(&w->wake, CLOCK_MONOTONIC, &ts) != 0 &&
		    errno == ETIMEDOUT)
			break;
	return atomic_load(&w->stop);
}

/*
 * Fault injection for the watchdog test: HAZMOND_TEST_HANG_BUS=<name> makes
 * that bus's worker block, as a driver stuck in a system call would.
 */
static void
test_hang(const struct hz_worker *w)
{
	if (w->test_hang)
		for (;;)
			pause();
}

static void *
worker_main(void *arg)
{
	struct hz_worker *w = arg;

	while (!wait_until(w, w->g[w->heap[0]].due)) {
		struct group *g = &w->g[w->heap[0]];
		int64_t now = now_mono_ms();

		atomic_store(&w->busy_since, now);
		if (now - g->due > atomic_load(&w->late_max))
			atomic_store(&w->late_max, now - g->due);
		test_hang(w);
		poll_group(w, g, now);
		atomic_store(&w->busy_since, 0);
		atomic_fetch_add(&w->polls, 1);
		/* Absolute deadlines: no drift; after an overrun, no catch-up burst. */
		g->due += g->interval_ms;
		now = now_mono_ms();
		if (g->due <= now) {
			log_debug("bus %s slave %d: poll overran its %lld ms interval",
			    w->bus->name, g->slave, (long long)g->interval_ms);
			g->due = now + g->interval_ms;
		}
		heap_sift_down(w);
	}
	link_down(&w->link, 0);
	return NULL;
}

/* ---- setup */

static struct group *
find_group(struct hz_worker *w, int slave, int64_t interval_ms)
{
	for (unsigned i = 0; i < w->n_g; i++)
		if (w->g[i].slave == slave && w->g[i].interval_ms == interval_ms)
			return &w->g[i];
	w->g[w->n_g] = (struct group){ .slave = slave, .interval_ms = interval_ms };
	return &w->g[w->n_g++];
}

/* Coalesces the needs of all members of a group into its blocks. */
static void
plan_group(const struct hz_worker *w, struct group *g)
{
	struct hazmon_need *needs;
	unsigned n = 0;

	for (unsigned i = 0; i < g->n_m; i++)
		n += w->c->sensors[g->m[i].sensor].setup.n_needs;
	needs = xcalloc(n, sizeof(*needs));
	g->refs = xcalloc(n, sizeof(*g->refs));
	g->blocks = xcalloc(n, sizeof(*g->blocks));
	n = 0;
	for (unsigned i = 0; i < g->n_m; i++) {
		const struct hz_setup *su = &w->c->sensors[g->m[i].sensor].setup;

		for (unsigned k = 0; k < su->n_needs; k++) {
			g->m[i].ref[k] = n;
			needs[n++] = su->needs[k];
		}
	}
	g->n_blocks = plan_build(needs, n, &w->bus->plan, g->blocks, g->refs);
	free(needs);
	g->regs = xcalloc(g->n_blocks, sizeof(*g->regs));
	g->bits = xcalloc(g->n_blocks, sizeof(*g->bits));
	g->ok = xcalloc(g->n_blocks, 1);
	g->err = xcalloc(g->n_blocks, sizeof(*g->err));
	g->bfail = xcalloc(g->n_blocks, sizeof(*g->bfail));
	for (unsigned b = 0; b < g->n_blocks; b++) {
		if (g->blocks[b].table == HAZMON_TABLE_COIL ||
		    g->blocks[b].table == HAZMON_TABLE_DISCRETE)
			g->bits[b] = xcalloc(g->blocks[b].count, 1);
		else
			g->regs[b] = xcalloc(g->blocks[b].count, sizeof(uint16_t));
	}
	log_debug("bus %s slave %d every %lld ms: %u sensors, %u needs, %u requests",
	    w->bus->name, g->slave, (long long)g->interval_ms, g->n_m, n, g->n_blocks);
}

static void
free_group(struct group *g)
{
	for (unsigned b = 0; b < g->n_blocks; b++) {
		free(g->regs[b]);
		free(g->bits[b]);
	}
	free(g->regs);
	free(g->bits);
	free(g->ok);
	free(g->err);
	free(g->bfail);
	free(g->blocks);
	free(g->refs);
	free(g->m);
}

struct hz_worker *
bus_start(const struct hz_config *c, unsigned bus, struct hz_queue *q,
    unsigned gen)
{
	struct hz_worker *w = xcalloc(1, sizeof(*w));
	pthread_attr_t ta;
	int64_t now = now_mono_ms();
	unsigned *gi, max_blocks = 0, max_m = 0;
	int rc;

	w->c = c;
	w->bus = &c->buses[bus];
	w->q = q;
	w->gen = gen;
	link_init(&w->link, w->bus);
	w->test_hang = test_hooks()->hang_bus &&
	    strcmp(test_hooks()->hang_bus, w->bus->name) == 0;
	w->g = xcalloc(c->n_sensors, sizeof(*w->g));
	gi = xcalloc(c->n_sensors, sizeof(*gi));
	/* Two passes, so each group's member array has its exact size. */
	for (unsigned i = 0; i < c->n_sensors; i++) {
		const struct hz_sensor *s = &c->sensors[i];
		struct group *g;

		if (s->bus != bus)
			continue;
		g = find_group(w, s->slave, (int64_t)llround(s->interval * 1000.0));
		gi[i] = (unsigned)(g - w->g);
		g->n_m++;
	}
	for (unsigned i = 0; i < w->n_g; i++) {
		w->g[i].m = xcalloc(w->g[i].n_m, sizeof(*w->g[i].m));
		w->g[i].n_m = 0;
	}
	for (unsigned i = 0; i < c->n_sensors; i++)
		if (c->sensors[i].bus == bus)
			w->g[gi[i]].m[w->g[gi[i]].n_m++].sensor = i;
	free(gi);
	w->g = realloc(w->g, (w->n_g ? w->n_g : 1) * sizeof(*w->g));
	if (w->g == NULL)
		fatal("realloc");
	if (w->n_g == 0) {
		free(w->g);
		free(w);
		return NULL;		/* a bus without sensors needs no thread */
	}
	w->heap = xcalloc(w->n_g, sizeof(*w->heap));
	for (unsigned i = 0; i < w->n_g; i++) {
		plan_group(w, &w->g[i]);
		w->requests_per_cycle += w->g[i].n_blocks;
		if (w->g[i].n_blocks > max_blocks)
			max_blocks = w->g[i].n_blocks;
		if (w->g[i].n_m > max_m)
			max_m = w->g[i].n_m;
		/* Spread the first polls over the interval: no start-up burst. */
		w->g[i].due = now + (int64_t)i * w->g[i].interval_ms / w->n_g;
		w->heap[i] = i;		/* ascending due: already a heap */
	}
	/*
	 * Every request of the largest group taking its worst case (each
	 * transaction has a deadline, link.c), plus a connect and a second
	 * of slack: a poll taking longer than that is a stuck worker.
	 */
	w->out = xcalloc(max_m, sizeof(*w->out));
	w->poll_limit_ms = (int64_t)(max_blocks + 1) * link_worst_ms(w->bus) +
	    w->bus->timeout_ms + w->bus->connect_pause_ms + 1000;
	log_info("bus %s: %u poll groups, %u requests per cycle", w->bus->name,
	    w->n_g, w->requests_per_cycle);
	if (sem_init(&w->wake, 0, 0) != 0)
		fatal("bus %s: sem_init", w->bus->name);
	pthread_attr_init(&ta);
	pthread_attr_setstacksize(&ta, 256 * 1024);	/* many buses, small needs */
	if ((rc = pthread_create(&w->th, &ta, worker_main, w)) != 0) {
		errno = rc;
		fatal("bus %s: cannot start worker thread", w->bus->name);
	}
	pthread_attr_destroy(&ta);
	return w;
}

/*
 * Stops the worker and frees it.  A worker inside a poll gets until that
 * poll's worst case to finish; one stuck in a blocking call beyond it is
 * abandoned (returns -1): it is left blocked, its memory is not freed, and
 * whatever it reads later is dropped.  The core must never hang on a bus.
 */
int
bus_stop(struct hz_worker *w)
{
	int64_t since, until, left;

	if (w == NULL)
		return 0;
	atomic_store(&w->stop, 1);
	sem_post(&w->wake);
	since = atomic_load(&w->busy_since);
	until = (since ? since : now_mono_ms()) + w->poll_limit_ms;
	left = until - now_mono_ms();
	if (join_within(w->th, ((left > 0 ? left : 0) / 1000 + 1) * 1000) != 0) {
		log_msg(HZ_LOG_ERR, "bus %s: worker stuck in a blocking call did not "
		    "stop; abandoned (a restart of hazmond frees it)", w->bus->name);
		return -ETIMEDOUT;
	}
	sem_destroy(&w->wake);
	for (unsigned i = 0; i < w->n_g; i++)
		free_group(&w->g[i]);
	free(w->g);
	free(w->heap);
	free(w->out);
	free(w);
	return 0;
}

/* How long the worker has been stuck in one poll beyond its limit, or 0. */
int64_t
bus_stuck_ms(const struct hz_worker *w, int64_t now)
{
	int64_t since;

	if (w == NULL)
		return 0;
	since = atomic_load(&((struct hz_worker *)w)->busy_since);
	return since && now - since > w->poll_limit_ms ? now - since : 0;
}

const char *
bus_name(const struct hz_worker *w)
{
	return w->bus->name;
}

void
bus_stats(const struct hz_worker *w, struct hz_bus_stats *out)
{
	struct hz_worker *x = (struct hz_worker *)w;	/* atomics are read-only here */

	memset(out, 0, sizeof(*out));
	if (w == NULL)
		return;
	out->polls = atomic_load(&x->polls);
	out->requests = atomic_load(&x->requests);
	out->failed = atomic_load(&x->failed);
	out->readings = atomic_load(&x->readings);
	out->connected = atomic_load(&x->connected);
	out->requests_per_cycle = w->requests_per_cycle;
	out->late_max_ms = atomic_load(&x->late_max);
}

/* Per slave: the last good read and whether its last poll failed. */
unsigned
bus_slaves(const struct hz_worker *w, struct hz_slave_stat *out, unsigned max)
{
	unsigned n = 0, j;

	for (unsigned i = 0; w && i < w->n_g; i++) {
		struct group *g = &w->g[i];
		int64_t ok = atomic_load(&g->last_ok);
		int failing = atomic_load(&g->failing);

		for (j = 0; j < n && out[j].slave != g->slave; j++)
			;
		if (j == n) {
			if (n == max)
				continue;
			out[n++] = (struct hz_slave_stat){ g->slave, 0, 0 };
		}
		if (ok > out[j].last_ok)
			out[j].last_ok = ok;
		out[j].failing |= failing;
	}
	return n;
}
