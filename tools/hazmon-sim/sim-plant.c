/*
 * sim-plant.c - the simulated devices: units and their tables, flapping
 * values and per-unit faults, as changed by commands.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <math.h>
#include <string.h>

#include "hazmon-sim.h"

/* Units are created on first mention so scenarios need no declarations. */
modbus_mapping_t *
get_unit(struct sim *s, int id)
{
	if (!s->units[id] &&
	    !(s->units[id] = modbus_mapping_new(s->size, s->size, s->size,
	          s->size)))
		complain("cannot create unit %d: %s", id,
		    modbus_strerror(errno));
	return s->units[id];
}

static void
store_words(struct sim *s, int unit, enum table table, int addr, int nwords,
    const uint16_t *words)
{
	modbus_mapping_t *m = get_unit(s, unit);
	uint16_t *regs = NULL;

	if (!m)
		return;
	if (table == TAB_COIL)
		m->tab_bits[addr] = (uint8_t)words[0];
	else if (table == TAB_DISCRETE)
		m->tab_input_bits[addr] = (uint8_t)words[0];
	else
		regs = table == TAB_HOLDING ? m->tab_registers :
		                              m->tab_input_registers;
	for (int i = 0; regs && i < nwords; i++)
		regs[addr + i] = words[i];
	if (!s->verbose)
		return;
	fprintf(stderr, "set unit=%d", unit);
	for (int i = 0; i < nwords; i++)
		fprintf(stderr, regs ? " %s[%d]=0x%04X" : " %s[%d]=%u",
		    sim_table_names[table], addr + i, (unsigned)words[i]);
	fputc('\n', stderr);
}

/* Remove the flaps that share a register or bit with [addr, addr+n):
 * a later set or flap on any part of a value takes it over. */
static int
cancel_flaps(struct sim *s, int unit, enum table table, int addr, int n)
{
	int removed = 0;

	for (int i = 0; i < s->nflaps;) {
		const struct flap *f = &s->flaps[i];
		if (f->unit == unit && f->table == table &&
		    f->addr < addr + n && addr < f->addr + f->nwords) {
			s->flaps[i] = s->flaps[--s->nflaps];
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

static void
add_flap(struct sim *s, const struct command *c, double now)
{
	struct flap *f;

	cancel_flaps(s, c->unit, c->table, c->addr, c->nwords);
	if (s->nflaps == MAX_FLAPS) {
		complain("more than %d flapping values; flap ignored",
		    MAX_FLAPS);
		return;
	}
	f = &s->flaps[s->nflaps++];
	*f = (struct flap){ .unit = c->unit,
		.table = c->table,
		.addr = c->addr,
		.nwords = c->nwords,
		.phase = -1,
		.start = now,
		.period = c->seconds };
	memcpy(f->v[0], c->words, sizeof f->v[0]);
	memcpy(f->v[1], c->words2, sizeof f->v[1]);
	flaps_tick(s, now); /* V1 from now on, not from the next turn */
}

/* The phase is computed from the start time, never accumulated, so the
 * flips do not drift and a late loop turn still lands on the right value. */
void
flaps_tick(struct sim *s, double now)
{
	for (int i = 0; i < s->nflaps; i++) {
		struct flap *f = &s->flaps[i];
		int phase = (int)fmod(floor((now - f->start) / f->period), 2.0);
		if (phase != f->phase) {
			f->phase = phase;
			store_words(s, f->unit, f->table, f->addr, f->nwords,
			    f->v[phase]);
		}
	}
}

/* When the next flip is due, or HUGE_VAL without flaps. */
double
flaps_next(const struct sim *s, double now)
{
	double next = HUGE_VAL;

	for (int i = 0; i < s->nflaps; i++) {
		const struct flap *f = &s->flaps[i];
		double t = f->start +
		    (floor((now - f->start) / f->period) + 1) * f->period;
		if (t < next)
			next = t;
	}
	return next;
}

static void
set_fault(struct sim *s, const struct command *c)
{
	s->faults[c->unit] = c->fault;
	if (!s->verbose)
		return;
	fprintf(stderr, "fault unit=%d %s", c->unit,
	    sim_fault_names[c->fault.kind]);
	if (c->fault.kind == FAULT_DELAY || c->fault.arg)
		fprintf(stderr, " %d", c->fault.arg);
	fputs(c->fault.free_line ? " free\n" : "\n", stderr);
}

void
plant_exec(struct sim *s, const struct command *c, double now)
{
	switch (c->kind) {
	case CMD_UNIT: get_unit(s, c->unit); break;
	case CMD_SET:
		cancel_flaps(s, c->unit, c->table, c->addr, c->nwords);
		store_words(s, c->unit, c->table, c->addr, c->nwords, c->words);
		break;
	case CMD_FLAP: add_flap(s, c, now); break;
	case CMD_FLAP_OFF:
		if (!cancel_flaps(s, c->unit, c->table, c->addr, 1))
			complain("flap %d %s %d off: no flap there", c->unit,
			    sim_table_names[c->table], c->addr);
		break;
	case CMD_FAULT: set_fault(s, c); break;
	case CMD_STATS: stats_print(s); break;
	case CMD_STATS_RESET: stats_reset(s); break;
	default: break;
	}
}
