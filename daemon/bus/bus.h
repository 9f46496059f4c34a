/*
 * bus.h - the acquisition side: one worker thread per bus, and the queue
 * that takes its readings to the core.  Nothing here sees the core.
 *
 *   queue.c  bus workers -> core (mutex + eventfd)
 *   link.c   a bus's Modbus connection (TCP or RTU): connect, backoff, one
 *            transaction with a deadline, late replies (link.h)
 *   bus.c    the worker: polls, retries, readings, stuck detection
 */
#ifndef HAZMON_BUS_H
#define HAZMON_BUS_H

#include <pthread.h>
#include <stdint.h>

#include "model.h"

/* queue.c: bus workers -> core */
struct hz_msg {
	unsigned sensor;		/* index into config sensors */
	unsigned gen;			/* of that config: reloads change indices */
	struct hazmon_reading r;
	int64_t ts_ms;			/* realtime, when read */
	int64_t mono_us;		/* monotonic, when read (publish latency) */
	/*
	 * A failed read (HAZMON_F_COMM or HAZMON_F_DEVICE_ERROR): the errno
	 * of its last attempt (ETIMEDOUT, ECONNREFUSED, EMBXILADD, ...,
	 * EMBBADDATA, or one of link.c's reply checks); 0 otherwise.
	 */
	int err;
};

struct hz_queue {
	pthread_mutex_t lock;
	struct hz_msg *items;
	size_t len, cap;
	int efd;			/* eventfd the core polls */
};
int queue_init(struct hz_queue *q);
void queue_destroy(struct hz_queue *q);
int queue_push(struct hz_queue *q, const struct hz_msg *m);
size_t queue_take(struct hz_queue *q, struct hz_msg **buf, size_t *cap);

/* bus.c: one worker thread per bus */
struct hz_worker;
struct hz_bus_stats {
	uint64_t polls;			/* group polls attempted (progress) */
	uint64_t requests;		/* Modbus requests sent */
	uint64_t failed;		/* requests that failed */
	uint64_t readings;		/* readings queued */
	unsigned requests_per_cycle;	/* sum over groups of blocks per poll */
	int connected;
};
struct hz_worker *bus_start(const struct hz_config *c, unsigned bus,
    struct hz_queue *q, unsigned gen);
struct hz_slave_stat {
	int slave;
	int64_t last_ok;		/* realtime ms of the last good read, 0: never */
	int failing;			/* its last poll failed */
};
unsigned bus_slaves(const struct hz_worker *w, struct hz_slave_stat *out,
    unsigned max);
int bus_stop(struct hz_worker *w);	/* -ETIMEDOUT: stuck, abandoned */
void bus_stats(const struct hz_worker *w, struct hz_bus_stats *out);
int64_t bus_stuck_ms(const struct hz_worker *w, int64_t now);
const char *bus_name(const struct hz_worker *w);

#endif
