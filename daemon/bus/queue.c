/*
 * queue.c - readings from bus workers to the core thread.
 *
 * A mutex-protected array and an eventfd: workers append and signal, the
 * core swaps the whole array out in one lock hold, so the lock is never
 * held while anything slow happens.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus.h"

int
queue_init(struct hz_queue *q)
{
	memset(q, 0, sizeof(*q));
	if ((q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -errno;
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

void
queue_destroy(struct hz_queue *q)
{
	pthread_mutex_destroy(&q->lock);
	if (q->efd >= 0)
		close(q->efd);
	free(q->items);
}

/*
 * Queues n readings at once: a poll's readings reach the core together,
 * in one batch (one commit), with one wake-up.
 */
int
queue_push(struct hz_queue *q, const struct hz_msg *m, size_t n)
{
	uint64_t one = 1;
	int was_empty;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&q->lock);
	if (q->len + n > q->cap) {
		size_t cap = q->cap ? q->cap : 64;
		struct hz_msg *t;

		while (cap < q->len + n)
			cap *= 2;
		if ((t = realloc(q->items, cap * sizeof(*t))) == NULL) {
			pthread_mutex_unlock(&q->lock);
			return -ENOMEM;
		}
		q->items = t;
		q->cap = cap;
	}
	memcpy(q->items + q->len, m, n * sizeof(*m));
	was_empty = q->len == 0;
	q->len += n;
	pthread_mutex_unlock(&q->lock);
	if (was_empty)
		(void)!write(q->efd, &one, sizeof(one));
	return 0;
}


/*
 * Takes everything queued.  The caller's buffer is swapped with the
 * queue's, so steady state allocates nothing.
 */
size_t
queue_take(struct hz_queue *q, struct hz_msg **buf, size_t *cap)
{
	uint64_t v;
	size_t n;
	struct hz_msg *t;

	(void)!read(q->efd, &v, sizeof(v));
	pthread_mutex_lock(&q->lock);
	n = q->len;
	t = q->items;
	q->items = *buf;
	*buf = t;
	v = q->cap;
	q->cap = *cap;
	*cap = v;
	q->len = 0;
	pthread_mutex_unlock(&q->lock);
	return n;
}
