/*
 * ids.c - sensor ids sorted, for lookups by id (the evaluator, the swap,
 * hazmond --probe).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "model.h"

static const struct hz_config *sort_cfg;	/* qsort has no argument */

static int
by_id(const void *a, const void *b)
{
	return strcmp(sort_cfg->sensors[*(const unsigned *)a].id,
	    sort_cfg->sensors[*(const unsigned *)b].id);
}

/* The sensor indices of c sorted by id (malloc'd); core thread only. */
unsigned *
ids_sort(const struct hz_config *c)
{
	unsigned *ord = xcalloc(c->n_sensors ? c->n_sensors : 1, sizeof(*ord));

	for (unsigned i = 0; i < c->n_sensors; i++)
		ord[i] = i;
	sort_cfg = c;
	qsort(ord, c->n_sensors, sizeof(*ord), by_id);
	return ord;
}

/* The index of sensor id in c, by binary search in ord, or -1. */
int
ids_find(const struct hz_config *c, const unsigned *ord, const char *id)
{
	size_t lo = 0, hi = c->n_sensors;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = strcmp(id, c->sensors[ord[mid]].id);

		if (cmp == 0)
			return (int)ord[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}
