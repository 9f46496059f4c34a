/*
 * checkpoint.c - WAL checkpoints off the alarm path.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses its
 * threshold: on the core thread, between an alarm's commit and its
 * publish, with two fsync()s and a copy of the whole WAL.  The ledger's
 * connection therefore never checkpoints (ledger.c replaces the
 * auto-checkpoint with a WAL hook that only counts); this thread, with a
 * connection of its own, copies the WAL back with PASSIVE checkpoints,
 * which never take a lock a writer needs.  Once a checkpoint has copied
 * everything, the core's next commit starts the WAL from its beginning
 * again, so the WAL stays as small as one checkpoint interval of writes.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#include "delivery.h"

#define CKPT_MIN_MS	100	/* between two checkpoints, at least */
#define CKPT_EVERY_MS	1000	/* a WAL with anything in it waits at most this */
#define CKPT_PAGES	1024	/* or until it holds this many pages (4 MiB) */
#define CKPT_WARN_PAGES	16384	/* a WAL this long (64 MiB) is not kept small */

struct hz_ckpt {
	sqlite3 *db;			/* this thread's own connection */
	char path[4096];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;			/* under mu */
	atomic_int pages;		/* in the WAL at the last commit; 0: nothing new */
	atomic_uint done;		/* checkpoints that copied every page */
	int warned;
};

static void
checkpoint(struct hz_ckpt *k)
{
	int wal = 0, copied = 0, rc;

	rc = sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &wal, &copied);
	if (rc != SQLITE_OK) {
		/* SQLITE_BUSY: the core is mid-commit; the next turn catches up. */
		if (rc != SQLITE_BUSY && !k->warned++)
			log_warnx("ledger %s: checkpoint: %s", k->path,
			    sqlite3_errmsg(k->db));
		atomic_store(&k->pages, 1);
		return;
	}
	if (wal >= 0 && copied >= wal)
		atomic_fetch_add(&k->done, 1);
	else
		atomic_store(&k->pages, 1);	/* a reader held some back */
	if (wal >= CKPT_WARN_PAGES && !k->warned++)
		log_warnx("ledger %s: the write-ahead log holds %d pages; "
		    "checkpoints fall behind (a slow disk?)", k->path, wal);
	else if (wal < CKPT_PAGES)
		k->warned = 0;
}

/* t + ms on the monotonic clock, for pthread_cond_timedwait. */
static struct timespec
later(const struct timespec *t, long ms)
{
	struct timespec r = *t;

	r.tv_sec += ms / 1000;
	r.tv_nsec += (ms % 1000) * 1000000L;
	if (r.tv_nsec >= 1000000000L) {
		r.tv_sec++;
		r.tv_nsec -= 1000000000L;
	}
	return r;
}

/*
 * A checkpoint at most every CKPT_MIN_MS (each costs two syncs that share
 * the disk with the commits), at least every CKPT_EVERY_MS while the WAL
 * has something in it, and sooner when it holds CKPT_PAGES.
 */
static void *
run(void *arg)
{
	struct hz_ckpt *k = arg;
	struct timespec last, soonest, latest;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		clock_gettime(CLOCK_MONOTONIC, &last);
		soonest = later(&last, CKPT_MIN_MS);
		latest = later(&last, CKPT_EVERY_MS);
		while (!k->stop &&
		    pthread_cond_timedwait(&k->cv, &k->mu, &soonest) != ETIMEDOUT)
			;
		while (!k->stop && atomic_load(&k->pages) < CKPT_PAGES &&
		    pthread_cond_timedwait(&k->cv, &k->mu, &latest) != ETIMEDOUT)
			;
		if (k->stop || atomic_exchange(&k->pages, 0) == 0)
			continue;
		pthread_mutex_unlock(&k->mu);
		checkpoint(k);
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

struct hz_ckpt *
ckpt_start(const char *path)
{
	struct hz_ckpt *k = xcalloc(1, sizeof(*k));
	pthread_condattr_t ca;

	snprintf(k->path, sizeof(k->path), "%s", path);
	if (sqlite3_open_v2(path, &k->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warnx("ledger %s: checkpoint connection: %s", path,
		    sqlite3_errmsg(k->db));
		sqlite3_close(k->db);
		free(k);
		return NULL;
	}
	/*
	 * A connection learns that the database is in WAL mode when it first
	 * reads it; before that a checkpoint is a silent no-op.
	 */
	if (sqlite3_exec(k->db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
	    NULL) != SQLITE_OK) {
		log_warnx("ledger %s: checkpoint connection: %s", path,
		    sqlite3_errmsg(k->db));
		sqlite3_close(k->db);
		free(k);
		return NULL;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&k->thread, NULL, run, k) != 0) {
		log_warnx("ledger %s: cannot start the checkpoint thread", path);
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->mu);
		sqlite3_close(k->db);
		free(k);
		return NULL;
	}
	return k;
}

/*
 * From the ledger's WAL hook, on the core thread: never waits.  A wake-up
 * lost to a thread that is just looking at the count costs at most one
 * CKPT_EVERY_MS.
 */
void
ckpt_note(struct hz_ckpt *k, int pages)
{
	if (pages <= 0)
		return;
	if (atomic_exchange(&k->pages, pages) < CKPT_PAGES && pages >= CKPT_PAGES &&
	    pthread_mutex_trylock(&k->mu) == 0) {
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
	}
}

unsigned
ckpt_done(struct hz_ckpt *k)
{
	return atomic_load(&k->done);
}

void
ckpt_stop(struct hz_ckpt *k)
{
	if (k == NULL)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	sqlite3_close(k->db);
	free(k);
}
