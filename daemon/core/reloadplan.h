/*
 * reloadplan.h - what a reload changes, decided before anything changes
 * (reloadplan.c, pure: no I/O, no clock, no ledger, no threads, no
 * globals).  swap.c applies the plan; tests/unit/test_reloadplan.c checks
 * every decision.
 *
 * Return codes: reloadplan_make returns 0 or -ENOMEM.  A reload that
 * changes a setting only a restart may change is not an error of the
 * plan: it is made, with `fixed` naming the setting and nothing else.
 */
#ifndef HAZMON_RELOADPLAN_H
#define HAZMON_RELOADPLAN_H

#include "model.h"

/*
 * Configurations kept alive, besides the new one, for workers that a
 * reload left running (each keeps a whole configuration model in memory).
 */
#define RELOADPLAN_MAX_OLD_GENS	2

/* A configuration generation that workers may still read with. */
struct reloadplan_gen {
	unsigned id;
	const struct hz_config *c;
};

/* What the plan needs to know of the running daemon. */
struct reloadplan_run {
	const unsigned *bus_gen;	/* per old bus: its worker's generation */
	const struct reloadplan_gen *gens;	/* current (c is the old config) first */
	unsigned n_gens;
};

enum reloadplan_sensor {
	RELOADPLAN_ADDED,		/* an id the old configuration did not have */
	RELOADPLAN_CHANGED,		/* the id stayed, its settings changed */
	RELOADPLAN_SAME			/* the id and its settings stayed */
};

struct reloadplan {
	const char *fixed;	/* a setting only a restart changes, or NULL */
	/* Buses: a worker is kept, or the old one stops and a new one starts. */
	int *bus_from;		/* per new bus: the old bus whose worker it keeps, or -1 */
	int *bus_to;		/* per old bus: the new bus that keeps its worker, or -1 */
	/* MQTT destinations: a connection is kept, or closed and opened anew. */
	int *dest_from;		/* per new destination: the old one it keeps, or -1 */
	int *dest_to;		/* per old destination: the new one keeping it, or -1 */
	/* Sensors by id, their levels by name. */
	int *from;		/* per new sensor: its old index, or -1 */
	enum reloadplan_sensor *kind;	/* per new sensor */
	int *to;		/* per old sensor: its new index, or -1: removed */
	int **level_to;		/* [old sensor][level]: new level, or -1: removed;
				   the row is NULL for a removed sensor */
	int **gen_map;		/* [generation][its sensor]: new index, or -1 */
	/* for reloadplan_free */
	unsigned n_gens;
	int *level_buf;
};

int reloadplan_make(const struct hz_config *oc, const struct hz_config *nc,
    const struct reloadplan_run *run, struct reloadplan **out);
void reloadplan_free(struct reloadplan *p);

#endif
