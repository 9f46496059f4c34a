/*
 * The reload plan (daemon/reloadplan.c), table-driven: every setting that
 * refuses a reload, every field that decides whether a bus keeps its
 * worker and a destination its connection, sensors and levels added,
 * removed, renamed and moved, the limit on old generations and the id
 * mapping of each generation.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hazmond.h"
#include "reloadplan.h"

#define MAX_N	8
#define N(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * A configuration built by hand from a line of text, items split by ';':
 *   bus NAME FP              dest NAME FP [PASSWORD]
 *   sensor ID BUS FP PLUGIN LEVEL,LEVEL,...   ("-": no levels)
 *   state DIR   socket PATH   group NAME   site FP
 * FP stands for the fingerprint config-fp.c would make of the setting.
 */
struct tconf {
	struct hz_config c;
	struct hz_bus buses[MAX_N];
	struct hz_dest dests[MAX_N];
	struct hz_sensor sensors[MAX_N];
	struct hz_plugin plugins[MAX_N];
	struct hazmon_level levels[MAX_N][MAX_N];
	char text[512];
};

static int
bus_index(const struct hz_config *c, const char *name)
{
	for (unsigned b = 0; b < c->n_buses; b++)
		if (strcmp(c->buses[b].name, name) == 0)
			return (int)b;
	fail_msg("no bus %s", name);
	return -1;
}

static void
add_sensor(struct tconf *t, char **w, int n)
{
	struct hz_config *c = &t->c;
	unsigned i = c->n_sensors++;
	struct hz_sensor *s = &t->sensors[i];
	char *save, *lv;

	assert_int_equal(n, 6);
	assert_true(i < MAX_N);
	snprintf(s->id, sizeof(s->id), "%s", w[1]);
	s->bus = (unsigned)bus_index(c, w[2]);
	s->fp = w[3];
	t->plugins[i].name = w[4];
	t->plugins[i].path = w[4];
	s->plugin = &t->plugins[i];
	s->levels = t->levels[i];
	for (lv = strtok_r(w[5], ",", &save); lv && strcmp(lv, "-") != 0;
	    lv = strtok_r(NULL, ",", &save)) {
		assert_true(s->n_levels < MAX_N);
		snprintf(s->levels[s->n_levels++].name, HAZMON_LEVEL_NAME_MAX, "%s", lv);
	}
}

static void
add_item(struct tconf *t, char **w, int n)
{
	struct hz_config *c = &t->c;

	if (strcmp(w[0], "bus") == 0) {
		assert_int_equal(n, 3);
		assert_true(c->n_buses < MAX_N);
		snprintf(t->buses[c->n_buses].name, HZ_ID_MAX, "%s", w[1]);
		t->buses[c->n_buses++].fp = w[2];
	} else if (strcmp(w[0], "dest") == 0) {
		assert_true(n == 3 || n == 4);
		assert_true(c->n_dests < MAX_N);
		snprintf(t->dests[c->n_dests].name, HZ_ID_MAX, "%s", w[1]);
		t->dests[c->n_dests].fp = w[2];
		t->dests[c->n_dests++].password = n == 4 ? w[3] : NULL;
	} else if (strcmp(w[0], "sensor") == 0)
		add_sensor(t, w, n);
	else if (n == 2 && strcmp(w[0], "state") == 0)
		c->state_dir = w[1];
	else if (n == 2 && strcmp(w[0], "socket") == 0)
		c->control_socket = w[1];
	else if (n == 2 && strcmp(w[0], "group") == 0)
		c->control_group = w[1];
	else if (n == 2 && strcmp(w[0], "rsocket") == 0)
		c->control_read_socket = strcmp(w[1], "none") ? w[1] : "";
	else if (n == 2 && strcmp(w[0], "rgroup") == 0)
		c->control_read_group = w[1];
	else if (n == 2 && strcmp(w[0], "site") == 0)
		c->fp = w[1];
	else
		fail_msg("bad item \"%s\"", w[0]);
}

static struct hz_config *
build(struct tconf *t, const char *spec)
{
	char *save, *item;

	memset(t, 0, sizeof(*t));
	t->c.path = "test.conf";
	t->c.state_dir = "/var/lib/hazmon";
	t->c.control_socket = "/run/hazmon/hazmond.sock";
	t->c.fp = "site";
	t->c.buses = t->buses;
	t->c.dests = t->dests;
	t->c.sensors = t->sensors;
	assert_true(strlen(spec) < sizeof(t->text));
	snprintf(t->text, sizeof(t->text), "%s", spec);
	for (item = strtok_r(t->text, ";", &save); item;
	    item = strtok_r(NULL, ";", &save)) {
		char *w[8], *ws;
		int n = 0;

		for (char *x = strtok_r(item, " ", &ws); x; x = strtok_r(NULL, " ", &ws)) {
			assert_true(n < (int)N(w));
			w[n++] = x;
		}
		if (n > 0)
			add_item(t, w, n);
	}
	return &t->c;
}

/* "0 -1 2": the integers of v, for comparing with a table's column. */
static const char *
ints(char *buf, size_t len, const int *v, unsigned n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? " " : "", v[i]);
	return buf;
}

static void
expect(const char *what, const char *column, const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		print_error("%s: %s is \"%s\", expected \"%s\"\n", what, column, got,
		    want);
		fail();
	}
}

/* A plan from oc to nc whose workers all read with the current generation. */
static struct reloadplan *
plan_of(const struct hz_config *oc, const struct hz_config *nc)
{
	static const unsigned zero[MAX_N];
	struct reloadplan_gen g = { 0, oc };
	struct reloadplan_run run = { zero, &g, 1 };
	struct reloadplan *p;

	assert_int_equal(reloadplan_make(oc, nc, &run, &p), 0);
	assert_non_null(p);
	return p;
}

/* ---- settings only a restart changes */

#define BASE_BUSES "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi"

static void
test_fixed_settings(void **state)
{
	static const struct {
		const char *what, *old, *new, *fixed;
	} cases[] = {
		{ "nothing changed", "", "", NULL },
		{ "state_dir", "", "state /srv/hazmon", "daemon.state_dir" },
		{ "control_socket", "", "socket /tmp/h.sock", "daemon.control_socket" },
		{ "control_group set", "", "group hazmon", "daemon.control_group" },
		{ "control_group unset", "group hazmon", "", "daemon.control_group" },
		{ "control_group other", "group hazmon", "group wheel",
		  "daemon.control_group" },
		{ "control_group same", "group hazmon", "group hazmon", NULL },
		{ "control_read_socket set", "", "rsocket /tmp/r.sock",
		  "daemon.control_read_socket" },
		{ "control_read_socket off", "", "rsocket none",
		  "daemon.control_read_socket" },
		{ "control_read_socket same", "rsocket /tmp/r.sock",
		  "rsocket /tmp/r.sock", NULL },
		{ "control_read_group set", "", "rgroup hazmon",
		  "daemon.control_read_group" },
		{ "control_read_group unset", "rgroup hazmon", "",
		  "daemon.control_read_group" },
		{ "state_dir before control_socket", "",
		  "state /srv; socket /tmp/h.sock", "daemon.state_dir" },
		{ "control_socket before control_group", "",
		  "socket /tmp/h.sock; group g", "daemon.control_socket" },
		{ "site and daemon groups: a reload", "", "site other", NULL },
		{ "buses and sensors: a reload", "", "bus c C; sensor s3 c F3 gas -",
		  NULL },
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct tconf o, n;
		char spec[256];
		struct reloadplan *p;

		snprintf(spec, sizeof(spec), "%s; %s", BASE_BUSES, cases[i].old);
		build(&o, spec);
		snprintf(spec, sizeof(spec), "%s; %s", BASE_BUSES, cases[i].new);
		build(&n, spec);
		p = plan_of(&o.c, &n.c);
		expect(cases[i].what, "fixed", p->fixed ? p->fixed : "(none)",
		    cases[i].fixed ? cases[i].fixed : "(none)");
		/* A refused reload plans nothing else. */
		if (p->fixed) {
			assert_null(p->bus_from);
			assert_null(p->from);
		} else
			assert_non_null(p->bus_from);
		reloadplan_free(p);
	}
}

/*
 * Reloads from old to new, and how they pair the new buses (or MQTT
 * destinations) with the old: "from" per new one, "to" per old one.
 */
struct pair_case {
	const char *what, *old, *new, *from, *to;
};

static void
check_pairs(const struct pair_case *cases, size_t n_cases, int dests)
{
	for (size_t i = 0; i < n_cases; i++) {
		struct tconf o, n;
		struct reloadplan *p = plan_of(build(&o, cases[i].old),
		    build(&n, cases[i].new));
		char buf[64];

		expect(cases[i].what, "from", ints(buf, sizeof(buf),
		    dests ? p->dest_from : p->bus_from,
		    dests ? n.c.n_dests : n.c.n_buses), cases[i].from);
		expect(cases[i].what, "to", ints(buf, sizeof(buf),
		    dests ? p->dest_to : p->bus_to,
		    dests ? o.c.n_dests : o.c.n_buses), cases[i].to);
		reloadplan_free(p);
	}
}

/* ---- buses: keep the worker, or stop it and start another */

static void
test_buses(void **state)
{
	static const struct pair_case cases[] = {
		{ "unchanged",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "0 1", "0 1" },
		{ "bus settings changed",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus a A2; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "-1 1", "-1 1" },
		{ "bus renamed",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus c A; bus b B; sensor s1 c F1 gas hi; sensor s2 b F2 gas hi",
		  "-1 1", "-1 1" },
		{ "bus order changed: each keeps its worker",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus b B; bus a A; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "1 0", "1 0" },
		{ "bus added",
		  "bus a A; sensor s1 a F1 gas hi",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "0 -1", "0" },
		{ "bus removed",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus b B; sensor s2 b F2 gas hi",
		  "1", "-1 0" },
		{ "sensor added on the bus",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi; "
		  "sensor s3 a F3 gas hi",
		  "-1 1", "-1 1" },
		{ "sensor removed from the bus",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s3 a F3 gas hi; "
		  "sensor s2 b F2 gas hi",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "-1 1", "-1 1" },
		{ "the bus's last sensor removed",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus a A; bus b B; sensor s2 b F2 gas hi",
		  "-1 1", "-1 1" },
		{ "sensor settings changed",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus a A; bus b B; sensor s1 a F1x gas hi; sensor s2 b F2 gas hi",
		  "-1 1", "-1 1" },
		{ "sensor's plugin file changed",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus a A; bus b B; sensor s1 a F1 gas2 hi; sensor s2 b F2 gas hi",
		  "-1 1", "-1 1" },
		{ "sensors of the bus reordered",
		  "bus a A; sensor s1 a F1 gas hi; sensor s3 a F3 gas hi",
		  "bus a A; sensor s3 a F3 gas hi; sensor s1 a F1 gas hi",
		  "-1", "-1" },
		{ "sensor moved to another bus: both restart",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "bus a A; bus b B; sensor s1 b F1 gas hi; sensor s2 b F2 gas hi",
		  "-1 -1", "-1 -1" },
		{ "sensors of other buses in between: same bus",
		  "bus a A; bus b B; sensor s1 a F1 gas hi; sensor s2 b F2 gas hi; "
		  "sensor s3 a F3 gas hi",
		  "bus a A; bus b B; sensor s2 b F2 gas hi; sensor s1 a F1 gas hi; "
		  "sensor s3 a F3 gas hi",
		  "0 1", "0 1" },
		{ "a bus without sensors",
		  "bus a A; bus e E; sensor s1 a F1 gas hi",
		  "bus a A; bus e E; sensor s1 a F1 gas hi",
		  "0 1", "0 1" },
		{ "the site changed: buses keep their workers",
		  "bus a A; sensor s1 a F1 gas hi",
		  "site other; bus a A; sensor s1 a F1 gas hi",
		  "0", "0" },
	};
	(void)state;
	check_pairs(cases, N(cases), 0);
}

/* ---- MQTT destinations: keep the connection, or reconnect */

static void
test_dests(void **state)
{
	static const struct pair_case cases[] = {
		{ "unchanged", "dest m M; dest n N", "dest m M; dest n N", "0 1", "0 1" },
		{ "settings changed", "dest m M; dest n N", "dest m M2; dest n N",
		  "-1 1", "-1 1" },
		{ "renamed", "dest m M; dest n N", "dest o M; dest n N", "-1 1", "-1 1" },
		{ "order changed", "dest m M; dest n N", "dest n N; dest m M",
		  "1 0", "1 0" },
		{ "added", "dest m M", "dest m M; dest n N", "0 -1", "0" },
		{ "removed", "dest m M; dest n N", "dest n N", "1", "-1 0" },
		{ "password set", "dest m M", "dest m M secret", "-1", "-1" },
		{ "password unset", "dest m M secret", "dest m M", "-1", "-1" },
		{ "password changed", "dest m M secret", "dest m M other", "-1", "-1" },
		{ "password the same", "dest m M secret", "dest m M secret", "0", "0" },
		{ "site or daemon groups changed: all reconnect",
		  "dest m M; dest n N", "site other; dest m M; dest n N",
		  "-1 -1", "-1 -1" },
		{ "buses and sensors are not the destination's business",
		  "dest m M; bus a A; sensor s1 a F1 gas hi",
		  "dest m M; bus a A2; sensor s2 a F2 gas lo", "0", "0" },
	};
	(void)state;
	check_pairs(cases, N(cases), 1);
}

/* ---- sensors by id, levels by name */

/* "+ ~ =": added, changed, same, per new sensor. */
static const char *
kinds(char *buf, const struct reloadplan *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		buf[i] = "+~="[p->kind[i]];
	buf[n] = '\0';
	return buf;
}

/* "0,-1 x": per old sensor, its levels' new indices ("x": sensor gone). */
static const char *
levels(char *buf, size_t len, const struct reloadplan *p,
    const struct hz_config *oc)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned j = 0; j < oc->n_sensors && o < len; j++) {
		o += (size_t)snprintf(buf + o, len - o, "%s", j ? " " : "");
		if (p->to[j] < 0) {
			assert_null(p->level_to[j]);
			o += (size_t)snprintf(buf + o, len - o, "x");
			continue;
		}
		for (unsigned l = 0; l < oc->sensors[j].n_levels && o < len; l++)
			o += (size_t)snprintf(buf + o, len - o, "%s%d", l ? "," : "",
			    p->level_to[j][l]);
	}
	return buf;
}

static void
test_sensors(void **state)
{
	static const struct {
		const char *what, *old, *new, *from, *kind, *to, *levels;
	} cases[] = {
		{ "unchanged",
		  "sensor s1 a F1 gas hi,lo; sensor s2 a F2 gas hi",
		  "sensor s1 a F1 gas hi,lo; sensor s2 a F2 gas hi",
		  "0 1", "==", "0 1", "0,1 0" },
		{ "added",
		  "sensor s1 a F1 gas hi",
		  "sensor s1 a F1 gas hi; sensor s2 a F2 gas hi",
		  "0 -1", "=+", "0", "0" },
		{ "removed",
		  "sensor s1 a F1 gas hi; sensor s2 a F2 gas hi",
		  "sensor s2 a F2 gas hi",
		  "1", "=", "-1 0", "x 0" },
		{ "renamed: one removed, one added",
		  "sensor s1 a F1 gas hi",
		  "sensor t1 a F1 gas hi",
		  "-1", "+", "-1", "x" },
		{ "settings changed: keeps its id",
		  "sensor s1 a F1 gas hi",
		  "sensor s1 a F1x gas hi",
		  "0", "~", "0", "0" },
		{ "order changed",
		  "sensor s1 a F1 gas hi; sensor s2 a F2 gas hi; sensor s3 a F3 gas hi",
		  "sensor s3 a F3 gas hi; sensor s1 a F1 gas hi; sensor s2 a F2 gas hi",
		  "2 0 1", "===", "1 2 0", "0 0 0" },
		{ "moved to another bus: keeps its id",
		  "sensor s1 a F1 gas hi; sensor s2 b F2 gas hi",
		  "sensor s1 b F1b gas hi; sensor s2 b F2 gas hi",
		  "0 1", "~=", "0 1", "0 0" },
		{ "ids sort apart from config order",
		  "sensor zz a F1 gas hi; sensor aa a F2 gas hi; sensor mm a F3 gas hi",
		  "sensor mm a F3 gas hi; sensor zz a F1 gas hi; sensor new a F4 gas hi",
		  "2 0 -1", "==+", "1 -1 0", "0 x 0" },
		{ "level removed",
		  "sensor s1 a F1 gas hi,lo",
		  "sensor s1 a F1x gas hi",
		  "0", "~", "0", "0,-1" },
		{ "level renamed",
		  "sensor s1 a F1 gas hi,lo",
		  "sensor s1 a F1x gas hi,low",
		  "0", "~", "0", "0,-1" },
		{ "levels reordered",
		  "sensor s1 a F1 gas hi,lo,mid",
		  "sensor s1 a F1x gas mid,hi,lo",
		  "0", "~", "0", "1,2,0" },
		{ "level added",
		  "sensor s1 a F1 gas hi",
		  "sensor s1 a F1x gas lo,hi",
		  "0", "~", "0", "1" },
		{ "all levels removed",
		  "sensor s1 a F1 gas hi,lo; sensor s2 a F2 gas -",
		  "sensor s1 a F1x gas -; sensor s2 a F2 gas hi",
		  "0 1", "~=", "0 1", "-1,-1 " },
		{ "none before, none after",
		  "", "", "", "", "", "" },
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct tconf o, n;
		char spec[256], buf[64];
		struct reloadplan *p;

		snprintf(spec, sizeof(spec), "bus a A; bus b B; %s", cases[i].old);
		build(&o, spec);
		snprintf(spec, sizeof(spec), "bus a A; bus b B; %s", cases[i].new);
		build(&n, spec);
		p = plan_of(&o.c, &n.c);
		expect(cases[i].what, "from", ints(buf, sizeof(buf), p->from,
		    n.c.n_sensors), cases[i].from);
		expect(cases[i].what, "kind", kinds(buf, p, n.c.n_sensors),
		    cases[i].kind);
		expect(cases[i].what, "to", ints(buf, sizeof(buf), p->to,
		    o.c.n_sensors), cases[i].to);
		expect(cases[i].what, "levels", levels(buf, sizeof(buf), p, &o.c),
		    cases[i].levels);
		/* The current generation's map is the old config's. */
		expect(cases[i].what, "gen_map[0]", ints(buf, sizeof(buf),
		    p->gen_map[0], o.c.n_sensors), cases[i].to);
		reloadplan_free(p);
	}
}

/* ---- how many old generations stay */

static void
parse_uints(const char *s, unsigned *v, unsigned *n)
{
	char *end;

	for (*n = 0; *s; s = end) {
		v[(*n)++] = (unsigned)strtoul(s, &end, 10);
		assert_true(end != s);
	}
}

static void
test_generation_limit(void **state)
{
	/*
	 * Old buses a..e on one line of sensors each; `changed` names the
	 * buses whose settings change (they restart whatever their
	 * generation); bus_gen is each old worker's generation; gens the
	 * generations there are, current first.
	 */
	static const struct {
		const char *what, *changed, *bus_gen, *gens, *bus_from;
	} cases[] = {
		{ "one generation", "", "7 7 7 7 7", "7", "0 1 2 3 4" },
		{ "two old generations may stay", "", "7 7 6 6 6", "7 6",
		  "0 1 2 3 4" },
		{ "three: the one with the fewest workers restarts", "",
		  "7 7 6 5 5", "7 6 5", "0 1 -1 3 4" },
		{ "... even the current one", "", "7 6 6 5 5", "7 6 5",
		  "-1 1 2 3 4" },
		{ "... of those tied, the newest", "", "7 7 7 6 5", "7 6 5",
		  "0 1 2 -1 4" },
		{ "... tied three ways", "b d", "7 7 6 6 5", "7 6 5",
		  "-1 -1 2 -1 4" },
		{ "four: two restart, one after the other", "", "7 7 6 5 4",
		  "7 6 5 4", "0 1 -1 -1 4" },
		{ "a changed bus does not count for its generation", "c",
		  "7 7 6 6 5", "7 6 5", "0 1 -1 -1 4" },
		{ "... and may bring them under the limit", "a b", "7 7 6 5 5",
		  "7 6 5", "-1 -1 2 3 4" },
		{ "a generation no longer there does not count", "",
		  "7 7 6 3 3", "7 6", "0 1 2 3 4" },
	};
	static const char *const bus[] = { "a", "b", "c", "d", "e" };
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct tconf o, n;
		char ospec[400] = "", nspec[400] = "", buf[64];
		unsigned bus_gen[MAX_N], ids[MAX_N], n_bus, n_gen;
		struct reloadplan_gen gens[MAX_N];
		struct reloadplan_run run = { bus_gen, gens, 0 };
		struct reloadplan *p;

		for (size_t b = 0; b < N(bus); b++) {
			char one[80];
			int changed = strstr(cases[i].changed, bus[b]) != NULL;

			snprintf(one, sizeof(one), "bus %s B%s; ", bus[b], bus[b]);
			strcat(ospec, one);
			snprintf(one, sizeof(one), "bus %s B%s%s; ", bus[b], bus[b],
			    changed ? "x" : "");
			strcat(nspec, one);
		}
		for (size_t b = 0; b < N(bus); b++) {
			char one[80];

			snprintf(one, sizeof(one), "sensor s%s %s F gas hi; ", bus[b],
			    bus[b]);
			strcat(ospec, one);
			strcat(nspec, one);
		}
		build(&o, ospec);
		build(&n, nspec);
		parse_uints(cases[i].bus_gen, bus_gen, &n_bus);
		assert_int_equal(n_bus, o.c.n_buses);
		parse_uints(cases[i].gens, ids, &n_gen);
		for (unsigned g = 0; g < n_gen; g++)
			gens[g] = (struct reloadplan_gen){ ids[g], &o.c };
		run.n_gens = n_gen;
		assert_int_equal(reloadplan_make(&o.c, &n.c, &run, &p), 0);
		expect(cases[i].what, "bus_from", ints(buf, sizeof(buf), p->bus_from,
		    n.c.n_buses), cases[i].bus_from);
		/* bus_to says the same from the other side. */
		for (unsigned b = 0; b < n.c.n_buses; b++)
			if (p->bus_from[b] >= 0)
				assert_int_equal(p->bus_to[p->bus_from[b]], (int)b);
		for (unsigned ob = 0; ob < o.c.n_buses; ob++)
			if (p->bus_to[ob] >= 0)
				assert_int_equal(p->bus_from[p->bus_to[ob]], (int)ob);
		reloadplan_free(p);
	}
}

/* ---- where the sensors of each old generation are now */

static void
test_generation_maps(void **state)
{
	struct tconf g6, g7, n;
	unsigned bus_gen[] = { 7, 6 };
	struct reloadplan_gen gens[2];
	struct reloadplan_run run = { bus_gen, gens, 2 };
	struct reloadplan *p;
	char buf[64];

	(void)state;
	build(&g6, "bus a A; bus b B; sensor s1 a F1 gas hi; sensor old b F0 gas hi; "
	    "sensor s2 b F2 gas hi");
	build(&g7, "bus a A; bus b B; sensor s2 b F2 gas hi; sensor s1 a F1 gas hi");
	build(&n, "bus a A; bus b B; sensor s3 a F3 gas hi; sensor s1 a F1 gas hi; "
	    "sensor s2 b F2 gas hi");
	gens[0] = (struct reloadplan_gen){ 7, &g7.c };
	gens[1] = (struct reloadplan_gen){ 6, &g6.c };
	assert_int_equal(reloadplan_make(&g7.c, &n.c, &run, &p), 0);
	assert_int_equal(p->n_gens, 2);
	expect("current generation", "gen_map[0]", ints(buf, sizeof(buf),
	    p->gen_map[0], g7.c.n_sensors), "2 1");
	expect("older generation", "gen_map[1]", ints(buf, sizeof(buf),
	    p->gen_map[1], g6.c.n_sensors), "1 -1 2");
	expect("new sensors", "from", ints(buf, sizeof(buf), p->from,
	    n.c.n_sensors), "-1 1 0");
	reloadplan_free(p);
}

/* ---- nothing at all, and freeing nothing */

static void
test_empty(void **state)
{
	struct tconf o, n;
	struct reloadplan_run run = { NULL, NULL, 0 };
	struct reloadplan *p;

	(void)state;
	build(&o, "");
	build(&n, "");
	assert_int_equal(reloadplan_make(&o.c, &n.c, &run, &p), 0);
	assert_null(p->fixed);
	assert_int_equal(p->n_gens, 0);
	reloadplan_free(p);
	reloadplan_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_settings),
		cmocka_unit_test(test_buses),
		cmocka_unit_test(test_dests),
		cmocka_unit_test(test_sensors),
		cmocka_unit_test(test_generation_limit),
		cmocka_unit_test(test_generation_maps),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
