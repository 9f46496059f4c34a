/*
 * bus.c - one worker thread per Modbus bus.
 *
 * A worker owns its modbus_t (libmodbus contexts are not thread-safe), so
 * every transaction on a bus is serialized here.  It polls each sensor on
 * its interval, lets the sensor's plugin decode the raw words, and queues
 * the reading for the core.  A failed read yields no value: after
 * fault_after consecutive failures the sensor reports a comm-loss fault
 * instead, every cycle, until a read succeeds again.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <modbus.h>

#include "hazmond.h"

#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	5000	/* a dead link is retried at least this often */

struct wsensor {
	unsigned idx;			/* into config sensors */
	int64_t due;			/* monotonic ms */
	int fails;			/* consecutive failed polls */
};

struct hz_worker {
	const struct hz_config *c;
	const struct hz_bus *bus;
	struct hz_queue *q;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	modbus_t *mb;
	int connected;
	int64_t reconnect_at;
	int backoff_ms;
	struct wsensor *s;
	unsigned n;
	_Atomic uint64_t progress;
	uint16_t regs[HAZMON_MAX_NEEDS][125];
	uint8_t bits[HAZMON_MAX_NEEDS][2000];
};

static void
disconnect(struct hz_worker *w, int64_t now)
{
	if (w->mb) {
		modbus_close(w->mb);
		modbus_free(w->mb);
		w->mb = NULL;
	}
	w->connected = 0;
	w->reconnect_at = now + w->backoff_ms;
	w->backoff_ms = w->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    w->backoff_ms * 2;
}

static int
connect_bus(struct hz_worker *w, int64_t now)
{
	const struct hz_bus *b = w->bus;
	char port[8];
	uint32_t sec = (uint32_t)b->timeout_ms / 1000;
	uint32_t usec = (uint32_t)(b->timeout_ms % 1000) * 1000;

	if (now < w->reconnect_at)
		return -1;
	snprintf(port, sizeof(port), "%d", b->port);
	w->mb = modbus_new_tcp_pi(b->host, port);
	if (w->mb == NULL) {
		log_warn("bus %s: cannot create Modbus context for %s:%d",
		    b->name, b->host, b->port);
		disconnect(w, now);
		return -1;
	}
	modbus_set_response_timeout(w->mb, sec, usec);
	modbus_set_byte_timeout(w->mb, sec, usec);
	if (modbus_connect(w->mb) != 0) {
		if (w->backoff_ms == BACKOFF_MIN_MS)
			log_warnx("bus %s: cannot connect to %s:%d: %s",
			    b->name, b->host, b->port, modbus_strerror(errno));
		disconnect(w, now);
		return -1;
	}
	if (w->backoff_ms > BACKOFF_MIN_MS)
		log_info("bus %s: connected to %s:%d again", b->name, b->host, b->port);
	w->connected = 1;
	w->backoff_ms = BACKOFF_MIN_MS;
	return 0;
}

/* Errors after which the connection itself is not trustworthy. */
static int
link_error(int err)
{
	return err == ECONNRESET || err == EPIPE || err == EBADF ||
	    err == ENOTCONN || err == ECONNREFUSED || err == EIO ||
	    err == ECONNABORTED;
}

static int
read_need(struct hz_worker *w, const struct hazmon_need *n, unsigned k)
{
	switch (n->table) {
	case HAZMON_TABLE_HOLDING:
		return modbus_read_registers(w->mb, n->address, n->count, w->regs[k]);
	case HAZMON_TABLE_INPUT:
		return modbus_read_input_registers(w->mb, n->address, n->count, w->regs[k]);
	case HAZMON_TABLE_COIL:
		return modbus_read_bits(w->mb, n->address, n->count, w->bits[k]);
	case HAZMON_TABLE_DISCRETE:
		return modbus_read_input_bits(w->mb, n->address, n->count, w->bits[k]);
	}
	errno = EINVAL;
	return -1;
}

/* Reads every block a sensor needs. Returns 0, or -1 with errno set. */
static int
read_sensor(struct hz_worker *w, const struct hz_sensor *s, int64_t now,
    const struct hazmon_need **failed)
{
	if (!w->connected && connect_bus(w, now) != 0) {
		*failed = NULL;
		errno = ENOTCONN;
		return -1;
	}
	modbus_set_slave(w->mb, s->slave);
	for (unsigned k = 0; k < s->setup.n_needs; k++) {
		const struct hazmon_need *n = &s->setup.needs[k];
		int rc = -1, err = 0;

		for (int a = 0; a <= w->bus->retries && rc != n->count; a++) {
			rc = read_need(w, n, k);
			err = errno;
			if (rc == -1 && err == ETIMEDOUT)
				modbus_flush(w->mb);	/* drop a late reply */
			if (rc == -1 && link_error(err))
				break;
		}
		if (rc != n->count) {
			*failed = n;
			if (rc >= 0)
				err = EMBBADDATA;	/* short reply */
			if (link_error(err))
				disconnect(w, now);
			errno = err;
			return -1;
		}
	}
	return 0;
}

static void
poll_sensor(struct hz_worker *w, struct wsensor *ws, int64_t now)
{
	const struct hz_sensor *s = &w->c->sensors[ws->idx];
	const struct hazmon_need *failed = NULL;
	struct hz_msg m = { .sensor = ws->idx };
	struct hazmon_slice sl[HAZMON_MAX_NEEDS];

	if (read_sensor(w, s, now, &failed) != 0) {
		int err = errno;

		if (ws->fails++ == 0) {
			if (failed)
				log_warnx("bus %s slave %d %s address %u count %u "
				    "(sensor %s): %s", w->bus->name, s->slave,
				    decode_table_name(failed->table), failed->address,
				    failed->count, s->id, modbus_strerror(err));
			else
				log_warnx("bus %s slave %d (sensor %s): no connection "
				    "to %s:%d", w->bus->name, s->slave, s->id,
				    w->bus->host, w->bus->port);
		}
		if (ws->fails < w->bus->fault_after)
			return;		/* not yet a fault; invent nothing */
		m.r.value = NAN;
		m.r.quality = HAZMON_Q_FAULT;
		m.r.flags = HAZMON_F_COMM;
	} else {
		if (ws->fails >= w->bus->fault_after)
			log_info("bus %s slave %d (sensor %s): reads succeed again "
			    "after %d failed polls", w->bus->name, s->slave, s->id,
			    ws->fails);
		ws->fails = 0;
		for (unsigned k = 0; k < s->setup.n_needs; k++) {
			sl[k].regs = w->regs[k];
			sl[k].bits = w->bits[k];
			sl[k].count = s->setup.needs[k].count;
		}
		m.r.value = NAN;
		s->plugin->desc->decode(&hz_host, s->setup.ctx, sl, &m.r);
	}
	m.ts_ms = now_real_ms();
	if (queue_push(w->q, &m) != 0)
		log_warnx("bus %s: reading of sensor %s dropped: out of memory",
		    w->bus->name, s->id);
}

/* Waits until the deadline or a stop request. Returns 1 to stop. */
static int
wait_until(struct hz_worker *w, int64_t deadline)
{
	struct timespec ts = { .tv_sec = deadline / 1000,
	    .tv_nsec = (long)(deadline % 1000) * 1000000L };
	int stop;

	pthread_mutex_lock(&w->lock);
	while (!w->stop && now_mono_ms() < deadline)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT)
			break;
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

static void *
worker_main(void *arg)
{
	struct hz_worker *w = arg;

	for (;;) {
		struct wsensor *next = &w->s[0];
		int64_t now, step;

		for (unsigned i = 1; i < w->n; i++)
			if (w->s[i].due < next->due)
				next = &w->s[i];
		if (wait_until(w, next->due))
			break;
		now = now_mono_ms();
		poll_sensor(w, next, now);
		atomic_fetch_add(&w->progress, 1);
		/* Absolute deadlines: no drift; after an overrun, no catch-up burst. */
		step = (int64_t)(w->c->sensors[next->idx].interval * 1000.0);
		next->due += step;
		if (next->due <= now) {
			log_debug("bus %s: sensor %s overran its interval",
			    w->bus->name, w->c->sensors[next->idx].id);
			next->due = now + step;
		}
	}
	if (w->mb)
		disconnect(w, 0);
	return NULL;
}

struct hz_worker *
bus_start(const struct hz_config *c, unsigned bus, struct hz_queue *q)
{
	struct hz_worker *w;
	pthread_condattr_t ca;
	int64_t now = now_mono_ms();
	int rc;

	w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->bus = &c->buses[bus];
	w->q = q;
	w->backoff_ms = BACKOFF_MIN_MS;
	w->s = xcalloc(c->n_sensors, sizeof(*w->s));
	for (unsigned i = 0; i < c->n_sensors; i++)
		if (c->sensors[i].bus == bus)
			w->s[w->n++] = (struct wsensor){ .idx = i, .due = now };
	if (w->n == 0) {
		free(w->s);
		free(w);
		return NULL;		/* a bus without sensors needs no thread */
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&w->th, NULL, worker_main, w)) != 0) {
		errno = rc;
		fatal("bus %s: cannot start worker thread", w->bus->name);
	}
	return w;
}

void
bus_stop(struct hz_worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->s);
	free(w);
}

uint64_t
bus_progress(const struct hz_worker *w)
{
	return atomic_load(&((struct hz_worker *)w)->progress);
}
