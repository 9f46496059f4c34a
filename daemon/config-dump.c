/*
 * config-dump.c - hazmond -t -v: the effective configuration, defaults
 * included, so an operator sees the levels and timings really in force.
 */
#include "config.h"

#include <stdio.h>

#include "hazmond.h"

/* Prints the effective configuration, defaults included (hazmond -t -v). */
void
config_dump(const struct hz_config *c)
{
	printf("site %s \"%s\"\n", c->site_id, c->site_name);
	printf("plugin_dir %s\nstate_dir %s\nretention_days %d\n", c->plugin_dir,
	    c->state_dir, c->retention_days);
	printf("control_socket %s\ncontrol_group %s\n", c->control_socket[0] ?
	    c->control_socket : "(none)", c->control_group ? c->control_group :
	    "(the daemon's)");
	for (unsigned i = 0; i < c->n_dests; i++) {
		const struct hz_dest *d = &c->dests[i];

		printf("mqtt %s %s:%d prefix %s qos %d keepalive %d", d->name,
		    d->host, d->port, d->prefix, d->qos, d->keepalive);
		if (d->username)	/* never the password */
			printf(" username %s%s", d->username, d->password ?
			    " password (from file)" : "");
		if (d->tls)
			printf(" tls%s%s%s", d->ca_file ? " ca_file " : "",
			    d->ca_file ? d->ca_file : "", d->cert_file ?
			    " client-cert" : "");
		printf("\n");
	}
	for (unsigned i = 0; i < c->n_buses; i++) {
		const struct hz_bus *b = &c->buses[i];

		if (b->type == HZ_BUS_TCP)
			printf("bus %s tcp %s:%d", b->name, b->host, b->port);
		else
			printf("bus %s rtu %s %d %d%c%d%s", b->name, b->device, b->baud,
			    b->data_bits, b->parity, b->stop_bits,
			    b->rs485 ? " rs485" : "");
		printf(" timeout %d ms retries %d fault_after %d pause %d ms "
		    "connect_pause %d ms max_registers %u max_bits %u gap %u%s\n",
		    b->timeout_ms, b->retries, b->fault_after, b->pause_ms,
		    b->connect_pause_ms, b->plan.max_regs, b->plan.max_bits,
		    b->plan.gap, b->plan.coalesce ? "" : " no-coalesce");
	}
	for (unsigned i = 0; i < c->n_sensors; i++) {
		const struct hz_sensor *s = &c->sensors[i];

		printf("sensor %s plugin %s bus %s slave %d interval %gs unit %s\n",
		    s->id, s->plugin->name, c->buses[s->bus].name, s->slave,
		    s->interval, s->setup.unit);
		for (unsigned j = 0; j < s->setup.n_needs; j++)
			printf("  read %s %u+%u\n",
			    decode_table_name(s->setup.needs[j].table),
			    s->setup.needs[j].address, s->setup.needs[j].count);
		for (unsigned j = 0; j < s->n_levels; j++) {
			const struct hazmon_level *l = &s->levels[j];

			printf("  level %s %s %g deadband %g on_delay %gs off_delay %gs "
			    "priority %s%s%s", l->name, l->dir == HAZMON_ABOVE ?
			    "above" : l->dir == HAZMON_BELOW ? "below" :
			    "rate (per minute)", l->setpoint, l->deadband, l->on_delay,
			    l->off_delay, l->priority, l->latch ? " latch" : "",
			    l->line ? "" : " (plugin default)");
			if (l->standard_override)
				printf(" standard_override \"%s\"", l->standard_override);
			printf("\n");
		}
	}
}
