/*
 * web-sse.c - the page's Server-Sent Events clients.  Each has a queue of
 * at most queue_max bytes; a client whose queue would grow past it does
 * not read its stream, and is dropped with a log line (its page
 * reconnects by itself if it is only slow).  Broadcasting never waits for
 * a client: the feed thread copies into the queues and goes on.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hazmon-web.h"

struct sse_client {
	struct sse_client *next;
	char	 peer[64];
	char	*q;
	size_t	 len, cap;
	int	 dropped;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static struct sse_client *clients;	/* under mu */
static int nclients, max_clients, shut;
static size_t queue_max;

void
sse_init(int max, size_t qmax)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &a);
	pthread_condattr_destroy(&a);
	max_clients = max;
	queue_max = qmax;
}

/* Append; 0, or -ENOBUFS when the client is over its bound. */
static int
enqueue(struct sse_client *c, const char *p, size_t n)
{
	size_t cap;
	char *q;

	if (c->len + n > queue_max)
		return -ENOBUFS;
	if (c->len + n > c->cap) {
		cap = c->cap ? c->cap : 16384;
		while (cap < c->len + n)
			cap *= 2;
		if ((q = realloc(c->q, cap)) == NULL)
			return -ENOBUFS;
		c->q = q;
		c->cap = cap;
	}
	memcpy(c->q + c->len, p, n);
	c->len += n;
	return 0;
}

static void
drop(struct sse_client *c)
{
	c->dropped = 1;
	free(c->q);
	c->q = NULL;
	c->len = c->cap = 0;
}

/* A new client, or NULL when there are max_clients already. */
struct sse_client *
sse_open(const char *peer)
{
	struct sse_client *c;

	pthread_mutex_lock(&mu);
	if (nclients >= max_clients || shut ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		pthread_mutex_unlock(&mu);
		return NULL;
	}
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->next = clients;
	clients = c;
	nclients++;
	pthread_mutex_unlock(&mu);
	return c;
}

void
sse_close(struct sse_client *c)
{
	struct sse_client **pp;

	pthread_mutex_lock(&mu);
	for (pp = &clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			nclients--;
			break;
		}
	pthread_mutex_unlock(&mu);
	free(c->q);
	free(c);
}

int
sse_count(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = nclients;
	pthread_mutex_unlock(&mu);
	return n;
}

/*
 * Up to max bytes of the client's queue, waiting at most wait_ms for
 * some: the count, 0 when nothing came (the caller sends a keep-alive),
 * -1 when the client was dropped or hazmon-web stops.
 */
long
sse_read(struct sse_client *c, char *buf, size_t max, int wait_ms)
{
	struct timespec ts;
	long n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += wait_ms / 1000;
	ts.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&mu);
	while (c->len == 0 && !c->dropped && !shut)
		if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
			break;
	if (c->dropped || shut) {
		pthread_mutex_unlock(&mu);
		return -1;
	}
	n = (long)(c->len < max ? c->len : max);
	memcpy(buf, c->q, (size_t)n);
	c->len -= (size_t)n;
	memmove(c->q, c->q + n, c->len);
	pthread_mutex_unlock(&mu);
	return n;
}

/*
 * Queue "event: EVENT\ndata: DATA\n\n" (DATA has no newline) for one
 * client, under mu; a client over its bound is dropped.
 */
static void
queue_event(struct sse_client *c, const char *event, const char *data)
{
	char head[64];
	size_t hl = (size_t)snprintf(head, sizeof(head), "event: %s\ndata: ",
	    event), dl = strlen(data);

	if (c->dropped)
		return;
	if (c->len + hl + dl + 2 > queue_max ||
	    enqueue(c, head, hl) < 0 || enqueue(c, data, dl) < 0 ||
	    enqueue(c, "\n\n", 2) < 0) {
		log_warnx("event stream client %s does not read its stream "
		    "(%zu bytes waiting): dropped", c->peer, c->len);
		drop(c);
	}
}

void
sse_broadcast_one(struct sse_client *c, const char *event, const char *data)
{
	pthread_mutex_lock(&mu);
	queue_event(c, event, data);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

void
sse_broadcast(const char *event, const char *data)
{
	struct sse_client *c;

	pthread_mutex_lock(&mu);
	for (c = clients; c != NULL; c = c->next)
		queue_event(c, event, data);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

void
sse_shutdown(void)
{
	pthread_mutex_lock(&mu);
	shut = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}
