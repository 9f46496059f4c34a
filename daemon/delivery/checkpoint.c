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
 * again, so the WAL stays about CKPT_PAGES long.
 *
 * Only the WAL's length starts a checkpoint, never the time: the commit
 * that starts the WAL over writes a new WAL header and, with synchronous
 * = FULL, syncs it before its own frames: a second fdatasync() on the
 * alarm path.  Checkpointing a second after every quiet commit made
 * almost every alarm of a calm plant that first commit (strace: two
 * syncs per alarm); by length it is one commit in CKPT_PAGES pages.
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
#define CKPT_PAGES	512	/* a WAL this long is copied back (2 MiB) */
#define CKPT_LOOK_MS	1000	/* a lost wake-up costs at most this */
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
		atomic_store(&k->pages, CKPT_PAGES);	/* again, soon */
		return;
	}
	if (wal >= 0 && copied >= wal)
		atomic_fetch_add(&k->done, 1);
	else	/* a reader held some back: again, soon */
		atomic_store(&k->pages, CKPT_PAGES);
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
 * A checkpoint once the WAL holds CKPT_PAGES, and at most every
 * CKPT_MIN_MS (each costs two syncs that share the disk with the
 * commits).
 */
static void *
run(void *arg)
{
	struct hz_ckpt *k = arg;
	struct timespec now, t;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		t = later(&now, CKPT_MIN_MS);
		while (!k->stop &&
		    pthread_cond_timedwait(&k->cv, &k->mu, &t) != ETIMEDOUT)
			;
		while (!k->stop && atomic_load(&k->pages) < CKPT_PAGES) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			t = later(&now, CKPT_LOOK_MS);
			(void)pthread_cond_timedwait(&k->cv, &k->mu, &t);
		}
		if (k->stop)
			break;
		atomic_store(&k->pages, 0);
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
 * From the ledger's WAL hook, on the core thread, with the WAL's length
 * after a commit: never waits.  A wake-up lost to a thread that is just
 * looking at the count costs at most one CKPT_LOOK_MS.
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
