/*
 * core.h - the core thread's state, shared by the files that act on it on
 * that thread only: core.c (the loop), ctlcmd.c (hazmonctl commands) and
 * reload.c (SIGHUP).  Nothing here is touched by a bus worker.
 */
#ifndef HAZMON_CORE_H
#define HAZMON_CORE_H

#include "hazmond.h"

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
	struct hz_batch *batch;		/* batch.c: events into the ledger, then out */
	int64_t prune_at, tick_at;	/* monotonic ms */
	int64_t wd_every, wd_at;	/* systemd watchdog; 0 = not asked for */
	int wd_withheld;
	int64_t started, reloaded;	/* realtime ms; reloaded 0: never */
	unsigned reloads;
};

/* core.c */
void core__eval_init(struct core *k);
void core__publish_state(struct core *k, unsigned i, int64_t now);
void core__republish_all(struct core *k);
void core__drain(struct core *k);
int core__action(struct core *k, const struct hz_command *cmd);
void core__status_line(struct core *k);

/* ctlcmd.c: one control request -> one response (malloc'd JSON line) */
char *ctlcmd_run(struct core *k, const char *line, const char *actor,
    int *hangup, const struct ctl_ticket *t);

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
