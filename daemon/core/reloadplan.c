/*
 * reloadplan.c - the decisions of a reload (reloadplan.h), made on the two
 * configurations and on which generation each running worker reads with.
 *
 * What the operator left unchanged keeps running: a bus whose settings and
 * sensors are the same (same text, config-fp.c) keeps its worker; an MQTT
 * destination whose settings, site and daemon groups are the same keeps its
 * connection.  Sensors are matched by id and their levels by name, so what
 * keeps its id keeps its alarm states.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "reloadplan.h"

/* A configuration's sensor ids, sorted, for lookups by id. */
struct byid {
	const char *id;
	unsigned i;
};

static int
byid_cmp(const void *a, const void *b)
{
	return strcmp(((const struct byid *)a)->id, ((const struct byid *)b)->id);
}

static struct byid *
byid_sort(const struct hz_config *c)
{
	struct byid *x = calloc(c->n_sensors ? c->n_sensors : 1, sizeof(*x));

	if (x == NULL)
		return NULL;
	for (unsigned i = 0; i < c->n_sensors; i++)
		x[i] = (struct byid){ c->sensors[i].id, i };
	qsort(x, c->n_sensors, sizeof(*x), byid_cmp);
	return x;
}

/* The index of sensor id in c, or -1 (ids are unique: config.c). */
static int
byid_find(const struct byid *x, unsigned n, const char *id)
{
	const struct byid key = { id, 0 }, *hit;

	hit = bsearch(&key, x, n, sizeof(*x), byid_cmp);
	return hit ? (int)hit->i : -1;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* What needs a restart rather than a reload. */
static const char *
fixed_setting(const struct hz_config *oc, const struct hz_config *nc)
{
	if (strcmp(oc->state_dir, nc->state_dir) != 0)
		return "daemon.state_dir";
	if (strcmp(oc->control_socket, nc->control_socket) != 0)
		return "daemon.control_socket";
	if (!same_str(oc->control_group, nc->control_group))
		return "daemon.control_group";
	if (!same_str(oc->control_read_socket, nc->control_read_socket))
		return "daemon.control_read_socket";
	if (!same_str(oc->control_read_group, nc->control_read_group))
		return "daemon.control_read_group";
	return NULL;
}

/* The same bus, read the same way, for the same sensors: keep the worker. */
static int
same_bus(const struct hz_config *oc, unsigned ob, const struct hz_config *nc,
    unsigned nb)
{
	unsigned i = 0, j = 0;

	if (strcmp(oc->buses[ob].name, nc->buses[nb].name) != 0 ||
	    strcmp(oc->buses[ob].fp, nc->buses[nb].fp) != 0)
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

/*
 * The same destination, for the same site: keep the connection.  The
 * password is compared apart: it comes from password_file, which the
 * fingerprint does not read.
 */
static int
same_dest(const struct hz_config *oc, unsigned od, const struct hz_config *nc,
    unsigned nd)
{
	return strcmp(oc->dests[od].name, nc->dests[nd].name) == 0 &&
	    strcmp(oc->fp, nc->fp) == 0 &&
	    strcmp(oc->dests[od].fp, nc->dests[nd].fp) == 0 &&
	    same_str(oc->dests[od].password, nc->dests[nd].password);
}

typedef int (*same_fn)(const struct hz_config *oc, unsigned o,
    const struct hz_config *nc, unsigned n);

/*
 * Pairs each new bus or destination with the first old one not taken yet
 * that is the same: from[n] and to[o] are -1 where there is none.
 */
static void
pair(int *from, unsigned n_new, int *to, unsigned n_old, same_fn same,
    const struct hz_config *oc, const struct hz_config *nc)
{
	for (unsigned o = 0; o < n_old; o++)
		to[o] = -1;
	for (unsigned n = 0; n < n_new; n++) {
		from[n] = -1;
		for (unsigned o = 0; o < n_old; o++)
			if (to[o] < 0 && same(oc, o, nc, n)) {
				to[o] = (int)n;
				from[n] = (int)o;
				break;
			}
	}
}

/*
 * Each generation a kept worker reads with keeps a whole configuration
 * model alive.  Reloads that each change another bus would pile them up,
 * so at most RELOADPLAN_MAX_OLD_GENS stay: the workers of the generation
 * with the fewest of them (the newest of those tied) are restarted with
 * the new configuration instead (a reconnect, no lost alarm: their
 * sensors' states carry over like all).
 */
static void
limit_generations(struct reloadplan *p, const struct hz_config *oc,
    const struct reloadplan_run *run)
{
	for (;;) {
		unsigned live = 0, fewest = 0, least = UINT_MAX;

		for (unsigned g = 0; g < run->n_gens; g++) {
			unsigned n = 0;

			for (unsigned ob = 0; ob < oc->n_buses; ob++)
				n += p->bus_to[ob] >= 0 && run->bus_gen[ob] == run->gens[g].id;
			if (n == 0)
				continue;
			live++;
			if (n < least) {
				least = n;
				fewest = run->gens[g].id;
			}
		}
		if (live <= RELOADPLAN_MAX_OLD_GENS)
			return;
		for (unsigned ob = 0; ob < oc->n_buses; ob++)
			if (p->bus_to[ob] >= 0 && run->bus_gen[ob] == fewest) {
				p->bus_from[p->bus_to[ob]] = -1;
				p->bus_to[ob] = -1;
			}
	}
}

/* The index of level `name` in sensor s, or -1 (names are unique). */
static int
level_of(const struct hz_sensor *s, const char *name)
{
	for (unsigned m = 0; m < s->n_levels; m++)
		if (strcmp(s->levels[m].name, name) == 0)
			return (int)m;
	return -1;
}

static void
plan_sensors(struct reloadplan *p, const struct hz_config *oc,
    const struct hz_config *nc, const struct byid *nx)
{
	int *row = p->level_buf;

	for (unsigned i = 0; i < nc->n_sensors; i++)
		p->from[i] = -1;
	for (unsigned j = 0; j < oc->n_sensors; j++) {
		const struct hz_sensor *os = &oc->sensors[j];
		int i = byid_find(nx, nc->n_sensors, os->id);

		p->to[j] = i;
		if (i < 0)
			continue;
		p->from[i] = (int)j;
		p->level_to[j] = row;
		for (unsigned l = 0; l < os->n_levels; l++)
			*row++ = level_of(&nc->sensors[i], os->levels[l].name);
	}
	for (unsigned i = 0; i < nc->n_sensors; i++)
		p->kind[i] = p->from[i] < 0 ? RELOADPLAN_ADDED :
		    strcmp(oc->sensors[p->from[i]].fp, nc->sensors[i].fp) != 0 ?
		    RELOADPLAN_CHANGED : RELOADPLAN_SAME;
}

/* Old generations: where their sensors are in the new configuration. */
static void
plan_gen_maps(struct reloadplan *p, const struct reloadplan_run *run,
    const struct hz_config *nc, const struct byid *nx)
{
	for (unsigned g = 0; g < run->n_gens; g++) {
		const struct hz_config *gc = run->gens[g].c;

		for (unsigned j = 0; j < gc->n_sensors; j++)
			p->gen_map[g][j] = byid_find(nx, nc->n_sensors,
			    gc->sensors[j].id);
	}
}

/* n elements of size, at least one; sets *bad when there is no memory. */
static void *
alloc(size_t n, size_t size, int *bad)
{
	void *v = calloc(n ? n : 1, size);

	if (v == NULL)
		*bad = 1;
	return v;
}

static int
alloc_all(struct reloadplan *p, const struct hz_config *oc,
    const struct hz_config *nc, const struct reloadplan_run *run)
{
	size_t n_levels = 0;
	int bad = 0;

	for (unsigned j = 0; j < oc->n_sensors; j++)
		n_levels += oc->sensors[j].n_levels;
	p->bus_from = alloc(nc->n_buses, sizeof(int), &bad);
	p->bus_to = alloc(oc->n_buses, sizeof(int), &bad);
	p->dest_from = alloc(nc->n_dests, sizeof(int), &bad);
	p->dest_to = alloc(oc->n_dests, sizeof(int), &bad);
	p->from = alloc(nc->n_sensors, sizeof(int), &bad);
	p->kind = alloc(nc->n_sensors, sizeof(*p->kind), &bad);
	p->to = alloc(oc->n_sensors, sizeof(int), &bad);
	p->level_to = alloc(oc->n_sensors, sizeof(int *), &bad);
	p->level_buf = alloc(n_levels, sizeof(int), &bad);
	p->gen_map = alloc(run->n_gens, sizeof(int *), &bad);
	p->n_gens = bad ? 0 : run->n_gens;
	for (unsigned g = 0; g < p->n_gens; g++)
		p->gen_map[g] = alloc(run->gens[g].c->n_sensors, sizeof(int), &bad);
	return bad ? -ENOMEM : 0;
}

/*
 * The plan of a reload from oc to nc; run tells which generation each of
 * oc's workers reads with, and which generations there are.  Returns 0
 * with *out set (free it with reloadplan_free), or -ENOMEM.
 */
int
reloadplan_make(const struct hz_config *oc, const struct hz_config *nc,
    const struct reloadplan_run *run, struct reloadplan **out)
{
	struct reloadplan *p = calloc(1, sizeof(*p));
	struct byid *nx = NULL;

	*out = NULL;
	if (p == NULL)
		return -ENOMEM;
	if ((p->fixed = fixed_setting(oc, nc)) != NULL) {
		*out = p;
		return 0;
	}
	if (alloc_all(p, oc, nc, run) != 0 || (nx = byid_sort(nc)) == NULL) {
		reloadplan_free(p);
		return -ENOMEM;
	}
	pair(p->bus_from, nc->n_buses, p->bus_to, oc->n_buses, same_bus, oc, nc);
	limit_generations(p, oc, run);
	pair(p->dest_from, nc->n_dests, p->dest_to, oc->n_dests, same_dest, oc,
	    nc);
	plan_sensors(p, oc, nc, nx);
	plan_gen_maps(p, run, nc, nx);
	free(nx);
	*out = p;
	return 0;
}

void
reloadplan_free(struct reloadplan *p)
{
	if (p == NULL)
		return;
	free(p->bus_from);
	free(p->bus_to);
	free(p->dest_from);
	free(p->dest_to);
	free(p->from);
	free(p->kind);
	free(p->to);
	free(p->level_to);
	free(p->level_buf);
	for (unsigned g = 0; g < p->n_gens; g++)
		free(p->gen_map[g]);
	free(p->gen_map);
	free(p);
}
