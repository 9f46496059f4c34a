/*
 * core.h - the core thread's state, shared by the files that act on it on
 * that thread only.  Nothing here is touched by a bus worker.
 *
 *   core.c     the poll loop: readings, batches, publishing, housekeeping
 *   control.c  the hazmonctl socket: clients, limits, deadlines
 *   ctlcmd.c   one control request -> one answer (docs/control.md); it
 *              sees the core only through ctlcmd.h's struct ctl_env
 *   reload.c   SIGHUP and `hazmonctl reload`: the loader thread
 *   swap.c     a validated new configuration swapped in
 */
#ifndef HAZMON_CORE_H
#define HAZMON_CORE_H

#include "delivery.h"

/* control.c: the hazmonctl socket (docs/control.md) */
struct hz_ctl;
struct pollfd;
/* Who waits for a deferred answer (a reload): stale once the client left. */
struct ctl_ticket {
	unsigned slot;
	uint64_t serial;
};
/*
 * Answers one request line; sets *hangup to end the connection after it.
 * Returns NULL to answer later with ctl_answer(t): the client's next
 * requests wait until then.
 */
typedef char *(*ctl_handler)(void *arg, const char *line, const char *actor,
    int *hangup, const struct ctl_ticket *t);
struct hz_ctl *ctl_open(const char *path, const char *group, ctl_handler fn,
    void *arg);
void ctl_close(struct hz_ctl *x);
unsigned ctl_pollfds(struct hz_ctl *x, struct pollfd *pfd, unsigned max);
void ctl_io(struct hz_ctl *x, const struct pollfd *pfd, unsigned n, int64_t now);
void ctl_answer(struct hz_ctl *x, const struct ctl_ticket *t, const char *resp);

/* core.c: the daemon's main loop, until SIGTERM (hazmond.h) */
int core_run(struct hz_config *c, const char *plugin_dir_override, int debug);

/* What a sensor's state topic shows now. */
struct shown {
	int published;
	struct hazmon_reading r;
	const char *alarm, *alarm_state;
	unsigned unack;
	int64_t shelved_until;
	int oos;
	int64_t at;			/* monotonic ms */
	int stale;
};

/* An event of the current batch, or one the ledger could not take yet. */
struct pending {
	struct hz_event e;
	char sensor[HZ_ID_MAX], level[HAZMON_LEVEL_NAME_MAX];
	char *payload;
	int appended;
};

/*
 * A configuration generation.  Bus workers that a reload left running
 * still read with the configuration they were started with, and their
 * readings carry its sensor indices: map[] turns those into the current
 * configuration's (-1: the sensor is gone).  A generation is freed when
 * no worker uses it any more.
 */
struct gen {
	unsigned id;
	struct hz_config *c;
	int *map;			/* NULL for the current generation */
	unsigned workers;		/* running workers started with c */
	struct gen *next;
};

struct core {
	struct hz_config *c;		/* the current configuration */
	const char *plugin_dir_override;	/* hazmond -P, kept over reloads */
	int debug;			/* hazmond -d: log_level is ignored */
	struct gen *gens;		/* current first */
	struct hz_ledger *l;
	struct hz_queue q;
	struct hz_pub **pubs;
	struct hz_worker **workers;	/* per bus of c */
	unsigned *worker_gen;		/* the generation each worker reads with */
	struct hz_eval ev;
	struct shown *shown;		/* per sensor */
	struct hz_health health;
	struct hz_msg *buf;
	size_t bufcap;
	int sigfd;
	int stop;
	struct hz_ctl *ctl;		/* the hazmonctl socket, or NULL */
	struct hz_reload *reload;	/* reload.c */
	unsigned n_events;		/* since start */
	struct pending *batch, *unrec;	/* this batch; not yet in the ledger */
	size_t n_batch, cap_batch, n_unrec, cap_unrec;
	int resave;			/* a refused batch took alarm states along */
	int64_t retry_at, prune_at, tick_at;	/* monotonic ms */
	int64_t wd_every, wd_at;	/* systemd watchdog; 0 = not asked for */
	int wd_withheld;
	int64_t started, reloaded;	/* realtime ms; reloaded 0: never */
	unsigned reloads;
};

/* core.c */
void core__record(void *arg, struct hz_event *e);
void core__publish_state(struct core *k, unsigned i, int64_t now);
void core__republish_all(struct core *k);
void core__drain(struct core *k);
void core__end_batch(struct core *k, int began);
void core__status_line(struct core *k);

/* reload.c: the file is read in a loader thread, swapped in on ours */
struct hz_reload *reload_new(struct core *k);
void reload_request(struct core *k, const struct ctl_ticket *t);
int reload_fd(const struct core *k);		/* -1: none running */
void reload_done(struct core *k);
void reload_free(struct core *k);

/* swap.c */
struct json_t;
const char *swap__fixed_setting(const struct hz_config *oc,
    const struct hz_config *nc);
void swap__in(struct core *k, struct hz_config *nc, struct json_t *rep);

#endif
