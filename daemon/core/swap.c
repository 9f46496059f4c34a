/*
 * swap.c - the swap of a reload (reload.c): a validated configuration
 * takes over from the one in force, on the core thread.
 *
 * reloadplan.c decides what changes; this file only applies its plan.
 * What the operator left unchanged keeps running: a bus keeps its worker
 * thread and its Modbus connection, an MQTT destination its connection.
 * Sensors that keep their id keep their alarm states, delays, faults and
 * shelves.  A removed sensor or level closes what was open with a
 * "removed" event.
 */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "core.h"
#include "reloadplan.h"
#include "batch.h"

/* One swap: the plan, and what is built for the new configuration. */
struct swap {
	struct core *k;
	struct hz_config *oc, *nc;
	struct hz_catalogue *cat;	/* nc's (the loader built it) */
	const struct reloadplan *p;
	const struct reload_ops *ops;	/* what core.c does for the swap */
	struct hz_worker **nw;		/* per new bus */
	unsigned *nwg;			/* the generation each reads with */
	struct hz_pub **np;		/* per new destination */
	struct gen *ng;			/* the new configuration's generation */
	json_t *added, *removed, *changed, *restarted;
	int64_t ts;			/* realtime ms, of the removed events */
};

/*
 * The plan of swapping nc in.  Its generations are k->gens in their
 * order, which remap_generations relies on.
 */
struct reloadplan *
swap__plan(struct core *k, const struct hz_config *nc)
{
	struct reloadplan_gen *gens;
	struct reloadplan_run run;
	struct reloadplan *p;
	unsigned n = 0;

	for (struct gen *g = k->gens; g; g = g->next)
		n++;
	gens = xcalloc(n, sizeof(*gens));
	n = 0;
	for (struct gen *g = k->gens; g; g = g->next)
		gens[n++] = (struct reloadplan_gen){ g->id, g->c };
	run = (struct reloadplan_run){ k->worker_gen, gens, n };
	if (reloadplan_make(k->c, nc, &run, &p) != 0)
		fatalx("out of memory planning a reload");
	free(gens);
	return p;
}

static struct gen *
gen_of(struct core *k, unsigned id)
{
	for (struct gen *g = k->gens; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

/* Kept workers go over to the new buses; the others stop now. */
static void
stop_replaced_workers(struct swap *s)
{
	struct core *k = s->k;

	for (unsigned b = 0; b < s->nc->n_buses; b++)
		if (s->p->bus_from[b] >= 0) {
			s->nw[b] = k->workers[s->p->bus_from[b]];
			s->nwg[b] = k->worker_gen[s->p->bus_from[b]];
		}
	for (unsigned ob = 0; ob < s->oc->n_buses; ob++) {
		struct gen *g = gen_of(k, k->worker_gen[ob]);

		if (s->p->bus_to[ob] >= 0 || k->workers[ob] == NULL)
			continue;
		/* An abandoned worker keeps its configuration alive for good. */
		if (bus_stop(k->workers[ob]) == 0 && g)
			g->workers--;
	}
}

/* What the answer and the log list: sensors added, removed, changed. */
static void
list_sensor_changes(struct swap *s)
{
	for (unsigned j = 0; j < s->oc->n_sensors; j++)
		if (s->p->to[j] < 0)
			json_array_append_new(s->removed,
			    json_string(s->oc->sensors[j].id));
	for (unsigned i = 0; i < s->nc->n_sensors; i++)
		if (s->p->kind[i] == RELOADPLAN_ADDED)
			json_array_append_new(s->added,
			    json_string(s->nc->sensors[i].id));
		else if (s->p->kind[i] == RELOADPLAN_CHANGED)
			json_array_append_new(s->changed,
			    json_string(s->nc->sensors[i].id));
}

/* Removed sensors and levels close what they had open, in one batch. */
static void
close_removed(struct swap *s)
{
	struct core *k = s->k;
	batch_begin(k->batch);
	for (unsigned j = 0; j < s->oc->n_sensors; j++) {
		const struct hz_sensor *os = &s->oc->sensors[j];

		if (s->p->to[j] < 0) {
			eval_remove(&k->ev, j, NULL, s->ts);
			continue;
		}
		for (unsigned l = 0; l < os->n_levels; l++)
			if (s->p->level_to[j][l] < 0)
				eval_remove(&k->ev, j, os->levels[l].name, s->ts);
	}
	batch_end(k->batch);
}

/*
 * What the state topics show carries over for sensors whose settings did
 * not change: a reload must not send 10,000 retained states nobody needs.
 * The shown alarm name is compared by pointer later, so it is pointed at
 * the new configuration's copy (the old one is about to be freed).  New
 * and changed sensors publish at their next reading.
 */
static void
carry_shown(struct swap *s)
{
	struct core *k = s->k;
	struct shown *sh = xcalloc(s->nc->n_sensors, sizeof(*sh));

	for (unsigned i = 0; i < s->nc->n_sensors; i++) {
		struct hz_state_view v;

		if (s->p->kind[i] != RELOADPLAN_SAME)
			continue;
		sh[i] = k->shown[s->p->from[i]];
		eval_view(&k->ev, i, &v);
		if (sh[i].alarm && v.alarm && strcmp(sh[i].alarm, v.alarm) == 0)
			sh[i].alarm = v.alarm;
		else if (sh[i].alarm)
			sh[i].published = 0;	/* publish it again */
	}
	free(k->shown);
	k->shown = sh;
}

/* Alarm runtime carries over by sensor id and level name. */
static void
carry_states(struct swap *s)
{
	struct core *k = s->k;
	struct hz_eval nev;

	eval_init(&nev, s->nc, &k->ev.sink, 1);
	eval_carry(&nev, &k->ev, s->p->from);
	batch_begin(k->batch);		/* forgets a refused batch lost */
	eval_orphans(&nev, s->ts, 0);
	batch_end(k->batch);
	eval_free(&k->ev);
	k->ev = nev;
	carry_shown(s);
}

/* MQTT: unchanged destinations keep their connection. */
static void
reconnect_destinations(struct swap *s)
{
	struct core *k = s->k;
	const struct reloadplan *p = s->p;

	for (unsigned d = 0; d < s->nc->n_dests; d++)
		if (p->dest_from[d] >= 0) {
			s->np[d] = k->pubs[p->dest_from[d]];
			pub_rebind(s->np[d], s->nc, d);
		}
	for (unsigned od = 0; od < s->oc->n_dests; od++)
		if (p->dest_to[od] < 0) {
			pub_shutdown(k->pubs[od]);
			pub_free(k->pubs[od]);
		}
	for (unsigned d = 0; d < s->nc->n_dests; d++)
		if (s->np[d] == NULL) {
			s->np[d] = pub_new(s->nc, d, k->l);
			pub_set_origins(s->np[d], batch_origins(k->batch));
		}
	for (unsigned j = 0; j < s->oc->n_sensors; j++)
		if (p->to[j] < 0)
			for (unsigned d = 0; d < s->nc->n_dests; d++)
				pub_forget(s->np[d], s->oc->sensors[j].id);
}

/*
 * The catalogue of the new configuration (built by the loader thread):
 * published by every destination when it changed, and not when it did
 * not (the old one, with its ts, is kept).  The events of the swap so
 * far (removed) carry the old one, which still describes their sensors.
 */
static void
update_catalogue(struct swap *s)
{
	struct core *k = s->k;
	struct hz_catalogue *nk = s->cat, *old = NULL;

	if (k->cat && strcmp(nk->fp, k->cat->fp) == 0)
		catalogue_free(nk);
	else {
		old = k->cat;
		k->cat = nk;
		log_info("catalogue %s: %u sensors, %zu bytes", nk->fp,
		    s->nc->n_sensors, nk->len);
	}
	for (unsigned d = 0; d < s->nc->n_dests; d++)
		pub_set_catalogue(s->np[d], k->cat);
	catalogue_free(old);		/* no destination points to it now */
}

/* New and changed buses start, reading with the new config. */
static void
start_new_workers(struct swap *s)
{
	for (unsigned b = 0; b < s->nc->n_buses; b++) {
		if (s->nw[b])
			continue;
		if ((s->nw[b] = bus_start(s->nc, b, &s->k->q, s->ng->id)) != NULL) {
			s->ng->workers++;
			json_array_append_new(s->restarted,
			    json_string(s->nc->buses[b].name));
		}
		s->nwg[b] = s->ng->id;
	}
}

/* Old generations: where their sensors are now; the unused ones go. */
static void
remap_generations(struct swap *s)
{
	struct gen **pp = &s->ng->next;

	for (unsigned i = 0; *pp; i++) {	/* the plan's generations, in order */
		struct gen *g = *pp;
		unsigned n = g->c->n_sensors;

		if (g->workers == 0) {
			*pp = g->next;
			config_free(g->c);
			free(g->map);
			free(g);
			continue;
		}
		free(g->map);
		g->map = xcalloc(n, sizeof(*g->map));
		memcpy(g->map, s->p->gen_map[i], n * sizeof(*g->map));
		pp = &g->next;
	}
	s->k->gens = s->ng;
}

/* The core takes the new configuration, workers and destinations. */
static void
install(struct swap *s)
{
	struct core *k = s->k;

	free(k->workers);
	free(k->worker_gen);
	free(k->pubs);
	k->workers = s->nw;
	k->worker_gen = s->nwg;
	k->pubs = s->np;
	k->c = s->nc;
	remap_generations(s);
	malloc_trim(0);		/* what the old model held goes back to the system */
	if (!k->debug)
		log_set_level(s->nc->log_level);
	/* A new destination got everything on connecting; nothing else to send. */
	for (unsigned d = 0; d < s->nc->n_dests; d++)
		pub_set_health(s->np[d], &k->health);
}

static void
report(struct swap *s, int64_t t0, json_t *rep)
{
	log_msg(HZ_LOG_NOTICE, "reloaded %s: %zu sensors added, %zu removed, %zu "
	    "changed; %zu buses (re)started; now %u sensors on %u buses; the "
	    "swap held the core %lld ms", s->nc->path, json_array_size(s->added),
	    json_array_size(s->removed), json_array_size(s->changed),
	    json_array_size(s->restarted), s->nc->n_sensors, s->nc->n_buses,
	    (long long)(now_mono_ms() - t0));
	if (rep) {
		json_object_set_new(rep, "added", s->added);
		json_object_set_new(rep, "removed", s->removed);
		json_object_set_new(rep, "changed", s->changed);
		json_object_set_new(rep, "buses_restarted", s->restarted);
	} else {
		json_decref(s->added);
		json_decref(s->removed);
		json_decref(s->changed);
		json_decref(s->restarted);
	}
}

/*
 * The swap of plan p (swap__plan, without a fixed setting), begun at
 * monotonic t0 (the plan's making included); ops are the core loop's
 * drain and end of a batch.  Called with a validated configuration nc
 * and its catalogue cat, both its own from then on;
 * cannot fail (every step that could is done before it or only logs).
 */
void
swap__in(struct core *k, struct hz_config *nc, struct hz_catalogue *cat,
    const struct reloadplan *p, const struct reload_ops *ops, int64_t t0,
    json_t *rep)
{
	struct swap s = { .k = k, .oc = k->c, .nc = nc, .cat = cat, .p = p,
	    .ops = ops, .ts = now_real_ms() };

	s.nw = xcalloc(nc->n_buses, sizeof(*s.nw));
	s.nwg = xcalloc(nc->n_buses, sizeof(*s.nwg));
	s.np = xcalloc(nc->n_dests, sizeof(*s.np));
	s.added = json_array();
	s.removed = json_array();
	s.changed = json_array();
	s.restarted = json_array();
	s.ng = xcalloc(1, sizeof(*s.ng));
	s.ng->id = k->gens->id + 1;
	s.ng->c = nc;
	s.ng->next = k->gens;
	stop_replaced_workers(&s);
	ops->drain(k);		/* what they read last counts, under the old config */
	list_sensor_changes(&s);
	close_removed(&s);
	carry_states(&s);
	reconnect_destinations(&s);
	update_catalogue(&s);
	start_new_workers(&s);
	install(&s);
	report(&s, t0, rep);
}
