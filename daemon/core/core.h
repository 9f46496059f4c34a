/*
 * core.h - the core thread's state, shared by the files that act on it on
 * that thread only.  Nothing here is touched by a bus worker.
 *
 *   core.c     the poll loop: readings, batches, publishing, housekeeping
 *   control.c  the hazmonctl socket: clients, limits, deadlines
 *   ctlcmd.c   one control request -> one answer (docs/control.md); it
 *              sees the core only through ctlcmd.h's struct ctl_env
 *   reload.c   SIGHUP and `hazmonctl reload`: the loader thread
 *   reloadplan.c  what a reload keeps, restarts and carries (pure;
 *              reloadplan.h)
 *   swap.c     a validated new configuration swapped in: applies the plan
 */
#ifndef HAZMON_CORE_H
#define HAZMON_CORE_H

#include "delivery.h"

/* control.c: the hazmonctl sockets (docs/control.md) */
struct hz_ctl;
#define CTL_CLIENTS	16		/* clients at once; see control.c's evict */
#define CTL_POLLFDS	(2 + CTL_CLIENTS)	/* two listeners and each client */
struct pollfd;
/* Who waits for a deferred answer (a reload): stale once the client left. */
struct ctl_ticket {
	unsigned slot;
	uint64_t serial;
};
/* Who asks, and where (ctlcmd.h's struct ctl_env takes these on). */
struct ctl_peer {
	const char *actor;		/* the user name, or "uid U" */
	const char *who;		/* "uid U pid P (name)", for the log */
	int read_only;			/* on daemon.control_read_socket */
	int warned;			/* a refusal there was logged already */
	int watch_full;			/* CTL_WATCHERS streams run already */
};
/*
 * Answers one request line; sets CTL_HANGUP, CTL_WATCH, CTL_WARNED
 * (ctlcmd.h) in *then.  Returns NULL to answer later with ctl_answer(t):
 * the client's next requests wait until then.
 */
typedef char *(*ctl_handler)(void *arg, const char *line,
    const struct ctl_peer *peer, int *then, const struct ctl_ticket *t);
/* A watch snapshot's line for sensor i (malloc'd), NULL past the last. */
typedef char *(*ctl_snapshot)(void *arg, unsigned i);
/* The sockets: path NULL or "" for none; a group makes it mode 0660. */
struct ctl_socket {
	const char *path, *group;
	int read_only;			/* mode 0666 without a group */
};
struct hz_ctl *ctl_open(const struct ctl_socket *socks, unsigned n,
    ctl_handler fn, ctl_snapshot snap, void *arg);
void ctl_close(struct hz_ctl *x);
unsigned ctl_pollfds(struct hz_ctl *x, struct pollfd *pfd, unsigned max);
void ctl_io(struct hz_ctl *x, const struct pollfd *pfd, unsigned n, int64_t now);
void ctl_answer(struct hz_ctl *x, const struct ctl_ticket *t, const char *resp);
unsigned ctl_watchers(const struct hz_ctl *x);
void ctl_watch_line(struct hz_ctl *x, const char *line, size_t len);
void ctl_watch_state(struct hz_ctl *x, const char *line, size_t len);
void ctl_watch_again(struct hz_ctl *x);

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
	struct hz_catalogue *cat;	/* of c, sent to every destination */
	struct hz_worker **workers;	/* per bus of c */
	unsigned *worker_gen;		/* the generation each worker reads with */
	struct hz_eval ev;
	struct shown *shown;		/* per sensor */
	struct hz_health health;
	struct hz_msg *buf;
	size_t bufcap;
	int sigfd;
	int stop;
	struct hz_ctl *ctl;		/* the hazmonctl sockets, or NULL */
	struct shown *watched;		/* per sensor: what watch streams saw */
	unsigned n_watched, watched_gen;	/* of the generation watched_gen */
	struct hz_reload *reload;	/* reload.c */
	struct hz_batch *batch;		/* batch.c: events into the ledger, then out */
	int64_t prune_at, tick_at;	/* monotonic ms */
	int64_t wd_every, wd_at;	/* systemd watchdog; 0 = not asked for */
	int wd_withheld;
	int64_t started, reloaded;	/* realtime ms; reloaded 0: never */
	unsigned reloads;
};

/* core.c */
void core__eval_init(struct core *k);

/*
 * What reload.c and swap.c have the loop that owns them (core.c) do,
 * handed to reload_new: they call nothing in core.c, so the core's files
 * call each other in no cycle (core -> ctlcmd, core -> reload -> swap).
 */
struct reload_ops {
	void (*drain)(struct core *k);		/* evaluate the readings queued */
	void (*status_line)(struct core *k);	/* systemd's STATUS= */
};

/* reload.c: the file is read in a loader thread, swapped in on ours */
struct hz_reload *reload_new(struct core *k, const struct reload_ops *ops);
void reload_request(struct core *k, const struct ctl_ticket *t);
int reload_fd(const struct core *k);		/* -1: none running */
void reload_done(struct core *k);
void reload_free(struct core *k);

/* swap.c: applies a reload's plan (reloadplan.c) */
struct json_t;
struct reloadplan;
struct reloadplan *swap__plan(struct core *k, const struct hz_config *nc);
void swap__in(struct core *k, struct hz_config *nc, struct hz_catalogue *cat,
    const struct reloadplan *p, const struct reload_ops *ops, int64_t t0,
    struct json_t *rep);

#endif
