/*
 * probe.c - hazmond --probe: read sensors once and show every step.
 *
 * For commissioning: is the detector wired, addressed and decoded the way
 * the configuration says?  It reads with the daemon's own code (link.c,
 * plan.c, the plugin's decode) and prints what was asked, what came back
 * and what it means.  Nothing else runs: no ledger, no MQTT, no control
 * socket, no alarm evaluation.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <modbus.h>

#include "hazmond.h"
#include "link.h"

static const char *
quality_text(enum hazmon_quality q)
{
	switch (q) {
	case HAZMON_Q_OK: return "ok";
	case HAZMON_Q_OUT_OF_SERVICE: return "out_of_service";
	default: return "fault";
	}
}

/* Every flag set, by the names events and states use. */
static void
print_flags(uint32_t flags)
{
	const char *sep = " (";

	for (uint32_t bit = 1; bit != 0; bit <<= 1) {
		const char *name;

		if (!(flags & bit))
			continue;
		name = event_fault_reason(bit);
		if (bit == HAZMON_F_DEVICE_ALARM)
			name = "device_alarm";
		else if (bit == HAZMON_F_DEVICE_ERROR)
			name = "device_error";
		if (strcmp(name, "fault") == 0)
			printf("%s0x%04x", sep, (unsigned)bit);
		else
			printf("%s%s", sep, name);
		sep = ", ";
	}
	if (flags)
		printf(")");
}

static void
print_block(const struct plan_block *b, const uint16_t *regs,
    const uint8_t *bits)
{
	if (bits) {
		printf(" bits");
		for (unsigned i = 0; i < b->count; i++)
			printf(" %u", bits[i]);
		return;
	}
	printf(" words");
	for (unsigned i = 0; i < b->count; i++)
		printf(" %u", regs[i]);
	printf(" [hex");
	for (unsigned i = 0; i < b->count; i++)
		printf(" %04x", regs[i]);
	printf("]");
}

/*
 * The needs of every sensor the daemon polls together with sensor i (same
 * bus, slave and interval), in configuration order as bus.c takes them,
 * so the requests are exactly those hazmond sends.  *first is where i's
 * own needs start.
 */
static unsigned
group_needs(const struct hz_config *c, unsigned i, struct hazmon_need *needs,
    unsigned *first)
{
	const struct hz_sensor *s = &c->sensors[i];
	long long ms = llround(s->interval * 1000.0);
	unsigned n = 0;

	for (unsigned j = 0; j < c->n_sensors; j++) {
		const struct hz_sensor *t = &c->sensors[j];

		if (t->bus != s->bus || t->slave != s->slave ||
		    llround(t->interval * 1000.0) != ms)
			continue;
		if (j == i)
			*first = n;
		for (unsigned k = 0; k < t->setup.n_needs; k++)
			needs[n++] = t->setup.needs[k];
	}
	return n;
}

/* Reads and decodes sensor i once; prints the story.  Returns 0 when ok. */
static int
probe_one(const struct hz_config *c, unsigned i, struct hz_link *l)
{
	const struct hz_sensor *s = &c->sensors[i];
	const struct hz_bus *bus = &c->buses[s->bus];
	struct hazmon_need *needs = xcalloc(c->n_sensors * HAZMON_MAX_NEEDS,
	    sizeof(*needs));
	struct plan_block *blocks = xcalloc(c->n_sensors * HAZMON_MAX_NEEDS,
	    sizeof(*blocks));
	struct plan_ref *refs = xcalloc(c->n_sensors * HAZMON_MAX_NEEDS,
	    sizeof(*refs));
	uint16_t *regs[HAZMON_MAX_NEEDS] = { NULL };
	uint8_t *bits[HAZMON_MAX_NEEDS] = { NULL };
	unsigned used[HAZMON_MAX_NEEDS], n_used = 0, first = 0, n;
	struct hazmon_slice sl[HAZMON_MAX_NEEDS];
	struct hazmon_reading r = { .value = NAN };
	char where[300];
	int rc = 0, err;

	printf("%s: bus %s (%s) slave %d, plugin %s\n", s->id, bus->name,
	    link_describe(l, where, sizeof(where)), s->slave, s->plugin->name);
	n = group_needs(c, i, needs, &first);
	(void)plan_build(needs, n, &bus->plan, blocks, refs);
	/* Only the blocks this sensor's needs fall in, each read once. */
	for (unsigned k = 0; k < s->setup.n_needs; k++) {
		unsigned b = refs[first + k].block, u;

		for (u = 0; u < n_used && used[u] != b; u++)
			;
		if (u == n_used)
			used[n_used++] = b;
	}
	for (unsigned u = 0; u < n_used && rc == 0; u++) {
		const struct plan_block *b = &blocks[used[u]];
		int isbits = b->table == HAZMON_TABLE_COIL ||
		    b->table == HAZMON_TABLE_DISCRETE;

		if (isbits)
			bits[u] = xcalloc(b->count, 1);
		else
			regs[u] = xcalloc(b->count, sizeof(uint16_t));
		printf("  request %s address %u count %u:",
		    decode_table_name(b->table), b->address, b->count);
		if (!l->connected) {
			link_down(l, 0);
			link_init(l, bus);	/* a fresh attempt, no backoff */
		}
		if (link_up(l, now_mono_ms()) != 0) {
			printf(" failed: cannot connect to %s\n", where);
			rc = -1;
		} else if ((err = link_read(l, s->slave, b, regs[u], bits[u])) != 0) {
			printf(" failed: %s (bus %s slave %d)\n", hz_strerror(-err),
			    bus->name, s->slave);
			rc = -1;
		} else {
			print_block(b, regs[u], bits[u]);
			printf("\n");
		}
	}
	if (rc == 0) {
		for (unsigned k = 0; k < s->setup.n_needs; k++) {
			const struct plan_ref *ref = &refs[first + k];
			unsigned u;

			for (u = 0; used[u] != ref->block; u++)
				;
			sl[k].regs = regs[u] ? regs[u] + ref->offset : NULL;
			sl[k].bits = bits[u] ? bits[u] + ref->offset : NULL;
			sl[k].count = s->setup.needs[k].count;
		}
		s->plugin->desc->decode(&hz_host, s->setup.ctx, sl, &r);
		if (isfinite(r.value))
			printf("  value %.10g", r.value);
		else
			printf("  value null");
		printf("%s%s, quality %s", *s->setup.unit ? " " : "", s->setup.unit,
		    quality_text(r.quality));
		print_flags(r.flags);
		printf("\n");
		if (r.quality != HAZMON_Q_OK)
			rc = -1;
	} else
		printf("  no reading: bus %s slave %d did not answer as "
		    "configured\n", bus->name, s->slave);
	for (unsigned u = 0; u < n_used; u++) {
		free(regs[u]);
		free(bits[u]);
	}
	free(needs);
	free(blocks);
	free(refs);
	return rc;
}

/*
 * Probes the sensors named (all of them when n is 0).  Returns the exit
 * status: 0 every one read ok, 1 any failed or is not ok, 2 an unknown
 * sensor id (nothing is read then).
 */
int
probe_run(const struct hz_config *c, char *const *ids, int n)
{
	unsigned *ord = ids_sort(c), *pick, n_pick = 0, n_bad = 0;
	struct hz_link *links;
	int bad_id = 0;

	pick = xcalloc(n > 0 ? (size_t)n : c->n_sensors + 1, sizeof(*pick));
	for (int a = 0; a < n; a++) {
		int i = ids_find(c, ord, ids[a]);

		if (i < 0) {
			log_msg(HZ_LOG_ERR, "probe: no sensor \"%s\" in %s", ids[a],
			    c->path);
			bad_id = 1;
		} else
			pick[n_pick++] = (unsigned)i;
	}
	for (unsigned i = 0; n == 0 && i < c->n_sensors; i++)
		pick[n_pick++] = i;
	free(ord);
	if (bad_id) {
		free(pick);
		return 2;
	}
	links = xcalloc(c->n_buses ? c->n_buses : 1, sizeof(*links));
	for (unsigned b = 0; b < c->n_buses; b++)
		link_init(&links[b], &c->buses[b]);
	for (unsigned k = 0; k < n_pick; k++)
		n_bad += probe_one(c, pick[k], &links[c->sensors[pick[k]].bus]) != 0;
	for (unsigned b = 0; b < c->n_buses; b++)
		link_down(&links[b], 0);
	printf("%u of %u sensors read ok\n", n_pick - n_bad, n_pick);
	free(links);
	free(pick);
	return n_bad ? 1 : 0;
}
