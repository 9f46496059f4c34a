/*
 * catalogue.c - the retained sensor catalogue (docs/mqtt.md): what every
 * sensor of the site is, so that a bureau receiving many sites needs no
 * copy of their configs.
 *
 * Built once per configuration that changes it, in one pass over the
 * sensors (10,000 of them make a few MB), and kept: every connect and
 * rebirth sends the kept bytes.  Its fingerprint is a digest of all of it
 * but the time it was built, so an unchanged configuration gives the
 * same fingerprint after a reload or a restart, and states and events
 * can name the catalogue they belong to in 16 characters.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"

static const char *
dir_name(enum hazmon_dir d)
{
	return d == HAZMON_ABOVE ? "above" : d == HAZMON_BELOW ? "below" :
	    "rate";
}

/*
 * A nested object or array, written into the same buffer: its members
 * are counted apart from the enclosing ones (returned, for nest_close).
 */
static int
nest_open(struct jw *w, const char *bracket)
{
	int outer = w->items;

	jw_put(w, bracket, 1);
	w->items = 0;
	return outer;
}

static void
nest_close(struct jw *w, const char *bracket, int outer)
{
	jw_put(w, bracket, 1);
	w->items = outer;
}

static void
put_level(struct jw *w, const struct hazmon_level *lv)
{
	int outer = nest_open(w, "{");

	jw_str(w, "name", lv->name);
	jw_str(w, "direction", dir_name(lv->dir));
	jw_num(w, "setpoint", lv->setpoint);
	jw_num(w, "deadband", lv->deadband);
	jw_num(w, "on_delay", lv->on_delay);
	jw_num(w, "off_delay", lv->off_delay);
	jw_str(w, "priority", lv->priority);
	jw_raw(w, "latch", lv->latch ? "true" : "false");
	nest_close(w, "}", outer);
}

/* The measuring range: null when the plugin knows neither end. */
static void
put_range(struct jw *w, const struct hz_setup *su)
{
	int outer;

	if (isnan(su->range_low) && isnan(su->range_high)) {
		jw_raw(w, "range", "null");
		return;
	}
	jw_key(w, "range");
	outer = nest_open(w, "{");
	jw_num(w, "low", su->range_low);
	jw_num(w, "high", su->range_high);
	nest_close(w, "}", outer);
}

static void
put_sensor(struct jw *w, const struct hz_config *c, const struct hz_sensor *s)
{
	int outer = nest_open(w, "{"), list;

	jw_str(w, "id", s->id);
	jw_str(w, "name", s->name);
	jw_str(w, "plugin", s->plugin->name);
	jw_str(w, "gas", s->setup.gas[0] ? s->setup.gas : NULL);
	jw_str(w, "unit", s->setup.unit);
	put_range(w, &s->setup);
	jw_str(w, "tag", s->tag);
	jw_str(w, "point_code", s->point_code);
	jw_str(w, "location", s->location);
	jw_str(w, "bus", c->buses[s->bus].name);
	jw_num(w, "interval", s->interval);
	jw_key(w, "levels");
	list = nest_open(w, "[");
	for (unsigned i = 0; i < s->n_levels; i++) {
		if (w->items++)
			jw_put(w, ",", 1);
		put_level(w, &s->levels[i]);
	}
	nest_close(w, "]", list);
	nest_close(w, "}", outer);
}

/* {"site":..,"name":.. and, when fp is given, "catalogue" and "ts". */
static void
put_head(struct jw *w, const struct hz_config *c, const char *fp,
    const char *ts)
{
	jw_put(w, "{", 1);
	jw_str(w, "site", c->site_id);
	jw_str(w, "name", c->site_name);
	if (fp) {
		jw_str(w, "catalogue", fp);
		jw_str(w, "ts", ts);
	}
}

/*
 * The document is {site, name, catalogue, ts, count, sensors}.  Its
 * body (count and sensors) is written once; the fingerprint is the
 * digest of the document without catalogue and ts, and the head with
 * them then goes in front of the body.
 */
struct hz_catalogue *
catalogue_build(const struct hz_config *c, int64_t ts_ms)
{
	struct hz_catalogue *k = xcalloc(1, sizeof(*k));
	struct jw body = { 0 }, doc = { 0 };
	char ts[32], n[24], *d;
	int list;

	body.items = 1;		/* the head's members come first */
	snprintf(n, sizeof(n), "%u", c->n_sensors);
	jw_raw(&body, "count", n);
	jw_key(&body, "sensors");
	list = nest_open(&body, "[");
	for (unsigned i = 0; i < c->n_sensors; i++) {
		if (body.items++)
			jw_put(&body, ",", 1);
		put_sensor(&body, c, &c->sensors[i]);
	}
	nest_close(&body, "]", list);
	jw_put(&body, "}", 1);

	put_head(&doc, c, NULL, NULL);
	jw_put(&doc, body.b.s, body.b.len);
	d = config_digest(doc.b.s, doc.b.len);
	memcpy(k->fp, d, HZ_CATALOGUE_FP);
	free(d);
	doc.b.len = 0;
	doc.items = 0;
	format_ts(ts_ms, ts, sizeof(ts));
	put_head(&doc, c, k->fp, ts);
	jw_put(&doc, body.b.s, body.b.len);
	free(body.b.s);
	k->json = doc.b.s;
	k->len = doc.b.len;
	return k;
}

void
catalogue_free(struct hz_catalogue *k)
{
	if (k == NULL)
		return;
	free(k->json);
	free(k);
}
