/*
 * config-levels.c - a sensor's alarm levels: read and checked from the
 * config, or the plugin's defaults when it sets none, and the plugin's
 * check of them against its standard (standard_override).
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confload.h"

/*
 * standard_override = "reason": the level may depart from the standard
 * its plugin checks (a set point above GB/T 50493's), and says why.  The
 * reason is logged, so it is one line of printable text.
 */
static void
load_override(struct hazmon_cfg *g, struct hazmon_level *lv)
{
	const char *why = NULL;
	int blank = 1;

	if (hz_host.get_string(g, "standard_override", &why) != 0)
		return;
	for (const char *p = why; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			hz_host.error(g, "standard_override", "must be one line "
			    "without control characters");
			return;
		}
		blank &= *p == ' ';
	}
	if (blank)
		hz_host.error(g, "standard_override", "needs a reason: why this "
		    "level departs from the standard, e.g. \"approved by the safety "
		    "officer, MOC-2026-031\"");
	else
		lv->standard_override = xstrdup(why);
}

static void
load_level(struct hazmon_cfg *g, struct hazmon_level *lv)
{
	static const char *const prios[] = { "low", "medium", "high", "urgent", NULL };
	const char *name = NULL, *prio = "high";
	double above = NAN, below = NAN, rate = NAN;
	int n_dir, ok = 0;

	if (hz_host.get_string(g, "name", &name) == 1)
		hz_host.error(g, NULL, "level needs 'name' (e.g. \"high\", \"first\")");
	else if (name && (strlen(name) == 0 || strlen(name) >= sizeof(lv->name)))
		hz_host.error(g, "name", "must be 1-%zu characters", sizeof(lv->name) - 1);
	else if (name && cfg__text(g, "name", name) == 0)
		snprintf(lv->name, sizeof(lv->name), "%s", name);
	n_dir = (hz_host.get_number(g, "above", &above) == 0) +
	    (hz_host.get_number(g, "below", &below) == 0) +
	    (hz_host.get_number(g, "rate", &rate) == 0);
	if (n_dir != 1)
		hz_host.error(g, NULL, "level needs exactly one of 'above', 'below' "
		    "or 'rate'");
	else if (rate == 0)
		hz_host.error(g, "rate", "must not be 0 (units per minute; negative "
		    "for a fall)");
	lv->dir = !isnan(above) ? HAZMON_ABOVE : !isnan(below) ? HAZMON_BELOW :
	    HAZMON_RATE;
	lv->setpoint = !isnan(above) ? above : !isnan(below) ? below : rate;
	lv->deadband = cfg__opt_number(g, "deadband", 0.0, 0.0, 1e12);
	lv->on_delay = cfg__opt_number(g, "on_delay", 0.0, 0.0, 86400.0);
	lv->off_delay = cfg__opt_number(g, "off_delay", 0.0, 0.0, 86400.0);
	(void)hz_host.get_bool(g, "latch", &lv->latch);
	if (hz_host.get_string(g, "priority", &prio) == 0) {
		for (int i = 0; prios[i]; i++)
			ok |= strcmp(prio, prios[i]) == 0;
		if (!ok)
			hz_host.error(g, "priority", "\"%s\" is not one of low, medium, "
			    "high, urgent", prio);
	}
	snprintf(lv->priority, sizeof(lv->priority), "%s", prio);
	load_override(g, lv);
	hostapi_check_unknown(g);
}

void
cfg__load_levels(struct loader *ld, struct hazmon_cfg *sg, config_setting_t *ss,
    struct hz_sensor *s)
{
	config_setting_t *list = config_setting_get_member(ss, "levels");

	hostapi_mark(sg, "levels");
	if (list == NULL)
		return;
	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		hz_host.error(sg, "levels", "must be a list: levels = ( { name = \"high\"; above = 50.0; } );");
		return;
	}
	s->n_levels = (unsigned)config_setting_length(list);
	s->levels = xcalloc(s->n_levels, sizeof(*s->levels));
	for (unsigned i = 0; i < s->n_levels; i++) {
		struct hazmon_cfg *g = cfg__list_group(ld, list, i);

		if (g == NULL)
			continue;
		s->levels[i].line = config_setting_source_line(config_setting_get_elem(list, i));
		load_level(g, &s->levels[i]);
		for (unsigned j = 0; j < i; j++)
			if (s->levels[i].name[0] &&
			    strcmp(s->levels[j].name, s->levels[i].name) == 0)
				hz_host.error(g, "name", "duplicate level \"%s\"",
				    s->levels[i].name);
		hostapi_free(g);
	}
}

/*
 * Plugin defaults apply when the config sets no levels; else the plugin
 * may check them.  An override on a level that departs from nothing is
 * stale (the set point was fixed, or the plugin checks no standard).
 */
void
cfg__apply_plugin_levels(struct hazmon_cfg *g, struct hz_sensor *s,
    const struct hazmon_sensor_setup *su)
{
	const struct hazmon_plugin *d = s->plugin->desc;

	if (s->n_levels == 0 && su->n_defaults > 0 &&
	    su->n_defaults <= HAZMON_MAX_DEFAULT_LEVELS) {
		free(s->levels);	/* "levels = ();" still got one from xcalloc */
		s->n_levels = su->n_defaults;
		s->levels = xcalloc(s->n_levels, sizeof(*s->levels));
		memcpy(s->levels, su->defaults, s->n_levels * sizeof(*s->levels));
		for (unsigned i = 0; i < s->n_levels; i++) {
			s->levels[i].line = 0;
			s->levels[i].standard_override = NULL;	/* not ours */
		}
		return;
	}
	hostapi_levels(g, s->levels, s->n_levels);
	if (s->n_levels > 0 && d->struct_size >=
	    offsetof(struct hazmon_plugin, check_levels) + sizeof(d->check_levels) &&
	    d->check_levels)
		d->check_levels(&hz_host, g, su->ctx, s->levels, s->n_levels);
	for (unsigned i = 0; i < s->n_levels; i++)
		if (s->levels[i].standard_override && !hostapi_departed(g, i))
			hz_host.warn(g, "levels", "level \"%s\" (line %d) has a "
			    "standard_override but departs from no standard plugin "
			    "\"%s\" checks; remove it", s->levels[i].name,
			    s->levels[i].line, s->plugin->name);
}
