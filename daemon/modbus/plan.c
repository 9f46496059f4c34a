/*
 * plan.c - coalesce the register needs of the sensors polled together into
 * as few Modbus requests as possible.
 *
 * Pure: needs in, blocks and slice references out.  Neighbouring or
 * overlapping needs of one table merge while the block stays within the
 * bus's limit (at most 125 registers / 2000 bits per request); gaps of up
 * to `gap` unused registers or bits are read too when that saves a request.
 */
#include "config.h"

#include <stdlib.h>

#include "mb.h"

static int
is_bits(enum hazmon_table t)
{
	return t == HAZMON_TABLE_COIL || t == HAZMON_TABLE_DISCRETE;
}

/* Insertion sort of need indices by (table, address): n is small per group. */
static void
sort_needs(const struct hazmon_need *needs, unsigned n, unsigned *idx)
{
	for (unsigned i = 0; i < n; i++)
		idx[i] = i;
	for (unsigned i = 1; i < n; i++) {
		unsigned v = idx[i], j = i;

		while (j > 0 && (needs[idx[j - 1]].table > needs[v].table ||
		    (needs[idx[j - 1]].table == needs[v].table &&
		    needs[idx[j - 1]].address > needs[v].address))) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

unsigned
plan_build(const struct hazmon_need *needs, unsigned n, const struct plan_opts *o,
    struct plan_block *blocks, struct plan_ref *refs)
{
	unsigned *idx = xcalloc(n, sizeof(*idx));
	unsigned nb = 0;

	sort_needs(needs, n, idx);
	for (unsigned k = 0; k < n; k++) {
		const struct hazmon_need *nd = &needs[idx[k]];
		struct plan_block *b = nb ? &blocks[nb - 1] : NULL;
		unsigned max = is_bits(nd->table) ? o->max_bits : o->max_regs;
		unsigned end = nd->address + nd->count;

		if (b && o->coalesce && b->table == nd->table &&
		    nd->address <= (unsigned)b->address + b->count + o->gap) {
			unsigned bend = (unsigned)b->address + b->count;

			if (end <= bend) {		/* already covered */
				refs[idx[k]] = (struct plan_ref){ nb - 1,
				    (uint16_t)(nd->address - b->address) };
				continue;
			}
			if (end - b->address <= max) {
				b->count = (uint16_t)(end - b->address);
				refs[idx[k]] = (struct plan_ref){ nb - 1,
				    (uint16_t)(nd->address - b->address) };
				continue;
			}
		}
		blocks[nb] = (struct plan_block){ nd->table, nd->address, nd->count };
		refs[idx[k]] = (struct plan_ref){ nb, 0 };
		nb++;
	}
	free(idx);
	return nb;
}
