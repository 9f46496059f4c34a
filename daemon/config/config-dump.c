/*
 * config-dump.c - hazmond -t -v: the effective configuration, defaults
 * included, so an operator sees the levels and timings really in force.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* What the plugin says it understood (ABI 1.2 describe), indented. */
static void
dump_plugin(const struct hz_sensor *s)
{
	const struct hazmon_plugin *d = s->plugin->desc;
	char buf[4096];
	const char *p;

	if ((d->abi & 0xffff) < 2 || d->describe == NULL)
		return;
	buf[0] = '\0';
	d->describe(&hz_host, s->setup.ctx, buf, sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	for (p = buf; *p; ) {
		size_t n = strcspn(p, "\n");

		printf("  %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/*
 * The requests that go on the wire, as bus.c builds them: sensors of one
 * slave with the same interval form a poll group, whose needs plan.c
 * coalesces with the bus's options.
 */
static void
dump_requests(const struct hz_config *c, unsigned bus)
{
	const struct hz_bus *b = &c->buses[bus];
	unsigned *done = xcalloc(c->n_sensors ? c->n_sensors : 1, sizeof(*done));
	struct hazmon_need *needs = xcalloc(c->n_sensors * HAZMON_MAX_NEEDS + 1,
	    sizeof(*needs));
	struct plan_block *blocks = xcalloc(c->n_sensors * HAZMON_MAX_NEEDS + 1,
	    sizeof(*blocks));
	struct plan_ref *refs = xcalloc(c->n_sensors * HAZMON_MAX_NEEDS + 1,
	    sizeof(*refs));
	unsigned *owner = xcalloc(c->n_sensors * HAZMON_MAX_NEEDS + 1,
	    sizeof(*owner));

	for (unsigned i = 0; i < c->n_sensors; i++) {
		const struct hz_sensor *s = &c->sensors[i];
		long long ms = llround(s->interval * 1000.0);
		unsigned n = 0, nb, members = 0;

		if (s->bus != bus || done[i])
			continue;
		for (unsigned j = i; j < c->n_sensors; j++) {
			const struct hz_sensor *t = &c->sensors[j];

			if (t->bus != bus || done[j] || t->slave != s->slave ||
			    llround(t->interval * 1000.0) != ms)
				continue;
			done[j] = 1;
			members++;
			for (unsigned k = 0; k < t->setup.n_needs; k++) {
				owner[n] = j;
				needs[n++] = t->setup.needs[k];
			}
		}
		nb = plan_build(needs, n, &b->plan, blocks, refs);
		printf("poll bus %s slave %d every %lld ms: %u sensor%s, %u need%s, "
		    "%u request%s\n", b->name, s->slave, ms, members,
		    members == 1 ? "" : "s", n, n == 1 ? "" : "s", nb,
		    nb == 1 ? "" : "s");
		for (unsigned k = 0; k < nb; k++) {
			unsigned last = c->n_sensors;	/* a sensor's needs are a run */

			printf("  request %s %u+%u for", decode_table_name(blocks[k].table),
			    blocks[k].address, blocks[k].count);
			for (unsigned m = 0; m < n; m++)
				if (refs[m].block == k && owner[m] != last)
					printf(" %s", c->sensors[last = owner[m]].id);
			printf("\n");
		}
	}
	free(done);
	free(needs);
	free(blocks);
	free(refs);
	free(owner);
}

/* Prints the effective configuration, defaults included (hazmond -t -v). */
/* What the retained catalogue says of the sensor beyond its levels. */
static void
dump_catalogue(const struct hz_sensor *s)
{
	printf("  catalogue name \"%s\"", s->name);
	if (s->tag)
		printf(" tag \"%s\"", s->tag);
	if (s->point_code)
		printf(" point_code \"%s\"", s->point_code);
	if (s->location)
		printf(" location \"%s\"", s->location);
	printf(" gas %s", s->setup.gas[0] ? s->setup.gas : "(not known)");
	if (isnan(s->setup.range_low) && isnan(s->setup.range_high))
		printf(" range (not known)\n");
	else
		printf(" range %g..%g\n", s->setup.range_low, s->setup.range_high);
}

void
config_dump(const struct hz_config *c)
{
	printf("site %s \"%s\"\n", c->site_id, c->site_name);
	printf("plugin_dir %s\nstate_dir %s\nretention_days %d\n", c->plugin_dir,
	    c->state_dir, c->retention_days);
	printf("control_socket %s\ncontrol_group %s\n", c->control_socket[0] ?
	    c->control_socket : "(none)", c->control_group ? c->control_group :
	    "(the daemon's)");
	printf("control_read_socket %s\ncontrol_read_group %s\n",
	    c->control_read_socket == NULL ? "(beside control_socket)" :
	    c->control_read_socket[0] ? c->control_read_socket : "(none)",
	    c->control_read_group ? c->control_read_group : "(none: mode 0666)");
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
		dump_plugin(s);
		dump_catalogue(s);
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
	for (unsigned i = 0; i < c->n_buses; i++)
		dump_requests(c, i);
}
