/*
 * swap.c - the swap of a reload (reload.c): a validated configuration
 * takes over from the one in force, on the core thread.
 *
 * What the operator left unchanged keeps running: a bus whose settings and
 * sensors are the same (same text, config-fp.c) keeps its worker thread and
 * its Modbus connection; an MQTT destination keeps its connection.  Sensors
 * that keep their id keep their alarm states, delays, faults and shelves.
 * A removed sensor or level closes what was open with a "removed" event.
 */
#include "config.h"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "hazmond.h"
#include "core.h"
#include "batch.h"

#define MAX_OLD_GENS	2	/* configurations kept alive for old workers */

/* Sensor ids of a configuration, sorted, for lookups by id (util.c). */
struct idx {
	const struct hz_config *c;
	unsigned *ord;
};

static void
idx_build(struct idx *x, const struct hz_config *c)
{
	x->c = c;
	x->ord = ids_sort(c);
}

static int
idx_find(const struct idx *x, const char *id)
{
	return ids_find(x->c, x->ord, id);
}

/* The same bus, read the same way, for the same sensors: keep the worker. */
static int
same_bus(const struct hz_config *oc, unsigned ob, const struct hz_config *nc,
    unsigned nb)
{
	unsigned i = 0, j = 0;

	if (strcmp(oc->buses[ob].fp, nc->buses[nb].fp) != 0)
		return 0;
	for (;;) {
		while (i < oc->n_sensors && oc->sensors[i].bus != ob)
			i++;
		while (j < nc->n_sensors && nc->sensors[j].bus != nb)
			j++;
		if (i == oc->n_sensors || j == nc->n_sensors)
			return i == oc->n_sensors && j == nc->n_sensors;
		if (strcmp(oc->sensors[i].fp, nc->sensors[j].fp) != 0 ||
		    strcmp(oc->sensors[i].plugin->path, nc->sensors[j].plugin->path) != 0)
			return 0;
		i++, j++;
	}
}

static int
same_dest(const struct hz_config *oc, unsigned od, const struct hz_config *nc,
    unsigned nd)
{
	const char *op = oc->dests[od].password, *np = nc->dests[nd].password;

	return strcmp(oc->fp, nc->fp) == 0 &&
	    strcmp(oc->dests[od].fp, nc->dests[nd].fp) == 0 &&
	    ((op == NULL && np == NULL) || (op && np && strcmp(op, np) == 0));
}

/* What needs a restart rather than a reload. */
const char *
swap__fixed_setting(const struct hz_config *oc, const struct hz_config *nc)
{
	if (strcmp(oc->state_dir, nc->state_dir) != 0)
		return "daemon.state_dir";
	if (strcmp(oc->control_socket, nc->control_socket) != 0)
		return "daemon.control_socket";
	if ((oc->control_group == NULL) != (nc->control_group == NULL) ||
	    (oc->control_group && strcmp(oc->control_group, nc->control_group)))
		return "daemon.control_group";
	return NULL;
}

/* Old generations: where their sensors are now; the unused ones go. */
static void
remap_generations(struct core *k, struct gen *ng, const struct idx *nx)
{
	struct gen **pp = &ng->next;

	while (*pp) {
		struct gen *g = *pp;

		if (g->workers == 0) {
			*pp = g->next;
			config_free(g->c);
			free(g->map);
			free(g);
			continue;
		}
		free(g->map);
		g->map = xcalloc(g->c->n_sensors ? g->c->n_sensors : 1, sizeof(*g->map));
		for (unsigned j = 0; j < g->c->n_sensors; j++)
			g->map[j] = idx_find(nx, g->c->sensors[j].id);
		pp = &g->next;
	}
	k->gens = ng;
}

static struct gen *
gen_of(struct core *k, unsigned id)
{
	for (struct gen *g = k->gens; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

/*
 * Each generation a kept worker reads with keeps a whole configuration
 * model alive.  Reloads that each change another bus would pile them up,
 * so at most MAX_OLD_GENS stay: the workers of the generation with the
 * fewest of them are restarted with the new configuration instead (a
 * reconnect, no lost alarm: their sensors' states carry over like all).
 */
static void
limit_generations(struct core *k, const struct hz_config *oc, int *kept,
    struct hz_worker **nw)
{
	for (;;) {
		unsigned live = 0, fewest = 0, least = UINT_MAX;

		for (struct gen *g = k->gens; g; g = g->next) {
			unsigned n = 0;

			for (unsigned ob = 0; ob < oc->n_buses; ob++)
				n += kept[ob] && k->worker_gen[ob] == g->id;
			if (n == 0)
				continue;
			live++;
			if (n < least) {
				least = n;
				fewest = g->id;
			}
		}
		if (live <= MAX_OLD_GENS)
			return;
		for (unsigned ob = 0; ob < oc->n_buses; ob++)
			if (kept[ob] && k->worker_gen[ob] == fewest) {
				nw[kept[ob] - 1] = NULL;
				kept[ob] = 0;
			}
	}
}

/*
 * What the state topics show carries over for sensors whose settings did
 * not change: a reload must not send 10,000 retained states nobody needs.
 * The shown alarm name is compared by pointer later, so it is pointed at
 * the new configuration's copy (the old one is about to be freed).  New
 * and changed sensors publish at their next reading.
 */
static void
carry_shown(struct core *k, const struct hz_config *oc,
    const struct hz_config *nc, const int *from)
{
	struct shown *sh = xcalloc(nc->n_sensors ? nc->n_sensors : 1, sizeof(*sh));

	for (unsigned i = 0; i < nc->n_sensors; i++) {
		struct hz_state_view v;

		if (from[i] < 0 || strcmp(oc->sensors[from[i]].fp, nc->sensors[i].fp))
			continue;
		sh[i] = k->shown[from[i]];
		eval_view(&k->ev, i, &v);
		if (sh[i].alarm && v.alarm && strcmp(sh[i].alarm, v.alarm) == 0)
			sh[i].alarm = v.alarm;
		else if (sh[i].alarm)
			sh[i].published = 0;	/* publish it again */
	}
	free(k->shown);
	k->shown = sh;
}

/*
 * The swap.  Called with a validated configuration nc; cannot fail (every
 * step that could is done before it or only logs).
 */
void
swap__in(struct core *k, struct hz_config *nc, json_t *rep)
{
	struct hz_config *oc = k->c;
	struct idx ox, nx;
	int *from = xcalloc(nc->n_sensors ? nc->n_sensors : 1, sizeof(*from));
	struct hz_worker **nw = xcalloc(nc->n_buses ? nc->n_buses : 1, sizeof(*nw));
	unsigned *nwg = xcalloc(nc->n_buses ? nc->n_buses : 1, sizeof(*nwg));
	struct hz_pub **np = xcalloc(nc->n_dests, sizeof(*np));
	int *kept = xcalloc(oc->n_buses ? oc->n_buses : 1, sizeof(*kept));
	int *pkept = xcalloc(oc->n_dests ? oc->n_dests : 1, sizeof(*pkept));
	json_t *added = json_array(), *removed = json_array(),
	    *changed = json_array(), *restarted = json_array();
	struct gen *ng = xcalloc(1, sizeof(*ng));
	struct hz_eval nev;
	int64_t ts = now_real_ms(), t0 = now_mono_ms();

	idx_build(&ox, oc);
	idx_build(&nx, nc);
	ng->id = k->gens->id + 1;
	ng->c = nc;
	ng->next = k->gens;

	/* 1. Which workers stay; the others stop now. */
	for (unsigned b = 0; b < nc->n_buses; b++)
		for (unsigned ob = 0; ob < oc->n_buses; ob++)
			if (!kept[ob] && strcmp(oc->buses[ob].name, nc->buses[b].name) == 0 &&
			    same_bus(oc, ob, nc, b)) {
				kept[ob] = (int)b + 1;
				nw[b] = k->workers[ob];
				nwg[b] = k->worker_gen[ob];
				break;
			}
	limit_generations(k, oc, kept, nw);
	for (unsigned ob = 0; ob < oc->n_buses; ob++) {
		struct gen *g = gen_of(k, k->worker_gen[ob]);

		if (kept[ob] || k->workers[ob] == NULL)
			continue;
		/* An abandoned worker keeps its configuration alive for good. */
		if (bus_stop(k->workers[ob]) == 0 && g)
			g->workers--;
	}
	/* 2. What the stopped workers read last counts, under the old config. */
	core__drain(k);

	/* 3. Removed sensors and levels close what they had open. */
	batch_begin(k->batch);
	for (unsigned j = 0; j < oc->n_sensors; j++) {
		int i = idx_find(&nx, oc->sensors[j].id);

		if (i < 0) {
			eval_remove(&k->ev, j, NULL, ts);
			json_array_append_new(removed, json_string(oc->sensors[j].id));
			continue;
		}
		for (unsigned l = 0; l < oc->sensors[j].n_levels; l++) {
			const char *name = oc->sensors[j].levels[l].name;
			int found = 0;

			for (unsigned m = 0; m < nc->sensors[i].n_levels; m++)
				found |= strcmp(nc->sensors[i].levels[m].name, name) == 0;
			if (!found)
				eval_remove(&k->ev, j, name, ts);
		}
	}
	batch_end(k->batch);

	/* 4. Alarm runtime carries over by sensor id and level name. */
	for (unsigned i = 0; i < nc->n_sensors; i++) {
		from[i] = idx_find(&ox, nc->sensors[i].id);
		if (from[i] < 0)
			json_array_append_new(added, json_string(nc->sensors[i].id));
		else if (strcmp(oc->sensors[from[i]].fp, nc->sensors[i].fp) != 0)
			json_array_append_new(changed, json_string(nc->sensors[i].id));
	}
	eval_init(&nev, nc, &k->ev.sink, 1);
	eval_carry(&nev, &k->ev, from);
	batch_begin(k->batch);		/* forgets a refused batch lost */
	eval_orphans(&nev, ts, 0);
	batch_end(k->batch);
	eval_free(&k->ev);
	k->ev = nev;
	carry_shown(k, oc, nc, from);

	/* 5. MQTT: unchanged destinations keep their connection. */
	for (unsigned d = 0; d < nc->n_dests; d++)
		for (unsigned od = 0; od < oc->n_dests; od++)
			if (!pkept[od] && strcmp(oc->dests[od].name, nc->dests[d].name) == 0 &&
			    same_dest(oc, od, nc, d)) {
				pkept[od] = 1;
				np[d] = k->pubs[od];
				pub_rebind(np[d], nc, d);
				break;
			}
	for (unsigned od = 0; od < oc->n_dests; od++)
		if (!pkept[od]) {
			pub_shutdown(k->pubs[od]);
			pub_free(k->pubs[od]);
		}
	for (unsigned d = 0; d < nc->n_dests; d++)
		if (np[d] == NULL)
			np[d] = pub_new(nc, d, k->l);
	for (unsigned j = 0; j < oc->n_sensors; j++)
		if (idx_find(&nx, oc->sensors[j].id) < 0)
			for (unsigned d = 0; d < nc->n_dests; d++)
				pub_forget(np[d], oc->sensors[j].id);

	/* 6. New and changed buses start, reading with the new config. */
	for (unsigned b = 0; b < nc->n_buses; b++) {
		if (nw[b])
			continue;
		if ((nw[b] = bus_start(nc, b, &k->q, ng->id)) != NULL) {
			ng->workers++;
			json_array_append_new(restarted, json_string(nc->buses[b].name));
		}
		nwg[b] = ng->id;
	}
	free(k->workers);
	free(k->worker_gen);
	free(k->pubs);
	k->workers = nw;
	k->worker_gen = nwg;
	k->pubs = np;
	k->c = nc;
	remap_generations(k, ng, &nx);
	malloc_trim(0);		/* what the old model held goes back to the system */
	if (!k->debug)
		log_set_level(nc->log_level);
	/* A new destination got everything on connecting; nothing else to send. */
	for (unsigned d = 0; d < nc->n_dests; d++)
		pub_set_health(np[d], &k->health);

	log_msg(HZ_LOG_NOTICE, "reloaded %s: %zu sensors added, %zu removed, %zu "
	    "changed; %zu buses (re)started; now %u sensors on %u buses; the "
	    "swap held the core %lld ms", nc->path, json_array_size(added),
	    json_array_size(removed), json_array_size(changed),
	    json_array_size(restarted), nc->n_sensors, nc->n_buses,
	    (long long)(now_mono_ms() - t0));
	if (rep) {
		json_object_set_new(rep, "added", added);
		json_object_set_new(rep, "removed", removed);
		json_object_set_new(rep, "changed", changed);
		json_object_set_new(rep, "buses_restarted", restarted);
	} else {
		json_decref(added);
		json_decref(removed);
		json_decref(changed);
		json_decref(restarted);
	}
	free(ox.ord);
	free(nx.ord);
	free(from);
	free(kept);
	free(pkept);
}
