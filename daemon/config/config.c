/*
 * config.c - read hazmond.conf (libconfig) into a validated model.
 *
 * The whole file is checked before anything uses it, and every error is
 * reported (file:line: message) before giving up, like a compiler, so an
 * operator fixes a config in one pass.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <grp.h>

#include "confload.h"

#ifndef HZ_PLUGIN_DIR
#define HZ_PLUGIN_DIR "/usr/lib/hazmon"
#endif
#ifndef HZ_CONTROL_SOCKET
#define HZ_CONTROL_SOCKET "/run/hazmon/hazmond.sock"
#endif
#ifndef HZ_STATE_DIR
#define HZ_STATE_DIR "/var/lib/hazmon"
#endif


static int
valid_id(const char *s, int allow_upper_dot)
{
	size_t n = strlen(s);

	if (n == 0 || n >= HZ_ID_MAX)
		return 0;
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-')
			continue;
		if (allow_upper_dot && ((*s >= 'A' && *s <= 'Z') || *s == '.'))
			continue;
		return 0;
	}
	return 1;
}

/* Reads an optional string into a malloc'ed copy, or the default. */
char *
cfg__opt_string(struct hazmon_cfg *g, const char *key, const char *def)
{
	const char *s = def;

	(void)hz_host.get_string(g, key, &s);
	return s ? xstrdup(s) : NULL;
}

/* Reads an optional whole number and checks its range. */
int
cfg__opt_int(struct hazmon_cfg *g, const char *key, int def, int lo, int hi)
{
	long long v = def;

	if (hz_host.get_int(g, key, &v) == 0 && (v < lo || v > hi)) {
		hz_host.error(g, key, "%lld is outside %d..%d", v, lo, hi);
		return def;
	}
	return (int)v;
}

double
cfg__opt_number(struct hazmon_cfg *g, const char *key, double def, double lo,
    double hi)
{
	double v = def;

	if (hz_host.get_number(g, key, &v) == 0 && (v < lo || v > hi)) {
		hz_host.error(g, key, "%g is outside %g..%g", v, lo, hi);
		return def;
	}
	return v;
}

/* Reads a required identifier into buf. */
void
cfg__req_id(struct hazmon_cfg *g, const char *key, char *buf, int allow_upper_dot,
    const char *what)
{
	const char *s = NULL;
	int rc = hz_host.get_string(g, key, &s);

	if (rc == 1)
		hz_host.error(g, NULL, "%s needs '%s'", what, key);
	else if (rc == 0 && !valid_id(s, allow_upper_dot))
		hz_host.error(g, key, "\"%s\" is not a valid id (1-%d of %s)", s,
		    HZ_ID_MAX - 1, allow_upper_dot ? "A-Z a-z 0-9 . _ -" :
		    "a-z 0-9 _ -");
	else if (rc == 0)
		snprintf(buf, HZ_ID_MAX, "%s", s);
}

/*
 * Returns the named list, or NULL.  A group where a list is expected is
 * the commonest libconfig slip, so it gets its own hint.
 */
config_setting_t *
cfg__get_list(struct loader *ld, struct hazmon_cfg *root, const char *key)
{
	config_setting_t *s = config_setting_get_member(config_root_setting(&ld->lc), key);

	hostapi_mark(root, key); /* marks the key as known */
	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		hz_host.error(root, key, "must be a list of groups: %s = ( { ... }, { ... } );",
		    key);
		return NULL;
	}
	return s;
}

/* Wraps the i'th element of a list, which must be a group. */
struct hazmon_cfg *
cfg__list_group(struct loader *ld, config_setting_t *list, unsigned i)
{
	config_setting_t *e = config_setting_get_elem(list, i);

	if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
		log_msg(HZ_LOG_ERR, "%s:%d: each element of '%s' must be a group { ... }",
		    ld->c->path, config_setting_source_line(e), config_setting_name(list));
		ld->errors++;
		return NULL;
	}
	return hostapi_wrap(e, ld->c->path, &ld->errors);
}

static void
load_site(struct loader *ld, struct hazmon_cfg *root)
{
	config_setting_t *s = config_setting_get_member(config_root_setting(&ld->lc), "site");
	struct hazmon_cfg *g;

	hostapi_mark(root, "site");
	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_GROUP) {
		hz_host.error(root, s ? "site" : NULL,
		    "a 'site = { id = \"...\"; };' group is required");
		return;
	}
	g = hostapi_wrap(s, ld->c->path, &ld->errors);
	cfg__req_id(g, "id", ld->c->site_id, 0, "site");
	ld->c->site_name = cfg__opt_text(g, "name", ld->c->site_id,
	    HZ_NAME_MAX);
	hostapi_check_unknown(g);
	hostapi_free(g);
}

/* Under systemd, StateDirectory= is where the unit lets us write. */
static char *
default_state_dir(void)
{
	const char *env = getenv("STATE_DIRECTORY");

	char *d;

	if (env == NULL || *env == '\0')
		return xstrdup(HZ_STATE_DIR);
	if ((d = strndup(env, strcspn(env, ":"))) == NULL)
		fatal("strndup");
	return d;
}

/* Under systemd, RuntimeDirectory= is where the socket belongs. */
static char *
default_control_socket(void)
{
	const char *env = getenv("RUNTIME_DIRECTORY");
	char buf[4096];

	if (env == NULL || *env == '\0')
		return xstrdup(HZ_CONTROL_SOCKET);
	snprintf(buf, sizeof(buf), "%.*s/hazmond.sock", (int)strcspn(env, ":"), env);
	return xstrdup(buf);
}

/* A socket path: absolute, or "" for none; it must fit in sun_path. */
static char *
socket_path(struct hazmon_cfg *g, const char *key)
{
	struct sockaddr_un sun;
	char *path = cfg__opt_string(g, key, NULL);

	if (path == NULL)
		return NULL;
	if (strlen(path) >= sizeof(sun.sun_path))
		hz_host.error(g, key, "longer than %zu characters",
		    sizeof(sun.sun_path) - 1);
	else if (path[0] != '/' && path[0] != '\0')
		hz_host.error(g, key, "must be an absolute path (or \"\" for no "
		    "socket)");
	return path;
}

static char *
socket_group(struct hazmon_cfg *g, const char *key)
{
	char *group = cfg__opt_string(g, key, NULL);

	if (group && getgrnam(group) == NULL)
		hz_host.error(g, key, "no such group \"%s\"", group);
	return group;
}

/*
 * control_socket = "" turns the socket off; the group must exist.  The
 * read-only socket left unset goes beside the main one (core.c: where
 * that one really is).
 */
static void
load_control(struct hazmon_cfg *g, struct hz_config *c)
{
	if ((c->control_socket = socket_path(g, "control_socket")) == NULL)
		c->control_socket = default_control_socket();
	c->control_group = socket_group(g, "control_group");
	c->control_read_socket = socket_path(g, "control_read_socket");
	c->control_read_group = socket_group(g, "control_read_group");
}

static void
load_daemon(struct loader *ld, struct hazmon_cfg *root)
{
	config_setting_t *s = config_setting_get_member(config_root_setting(&ld->lc), "daemon");
	struct hz_config *c = ld->c;
	struct hazmon_cfg *g;
	const char *lvl = "info";

	hostapi_mark(root, "daemon");
	c->log_level = HZ_LOG_INFO;
	if (s != NULL && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		hz_host.error(root, "daemon", "must be a group { ... }");
		s = NULL;
	}
	c->retention_days = 180;
	if (s == NULL) {
		c->plugin_dir = xstrdup(HZ_PLUGIN_DIR);
		c->state_dir = default_state_dir();
		c->control_socket = default_control_socket();
		goto override;
	}
	g = hostapi_wrap(s, c->path, &ld->errors);
	c->plugin_dir = cfg__opt_string(g, "plugin_dir", HZ_PLUGIN_DIR);
	c->state_dir = cfg__opt_string(g, "state_dir", NULL);
	if (c->state_dir == NULL)
		c->state_dir = default_state_dir();
	c->retention_days = cfg__opt_int(g, "retention_days", 180, 1, 36500);
	load_control(g, c);
	if (hz_host.get_string(g, "log_level", &lvl) == 0 &&
	    (c->log_level = log_level_parse(lvl)) < 0) {
		hz_host.error(g, "log_level", "\"%s\" is not one of debug, info, "
		    "notice, warning, err", lvl);
		c->log_level = HZ_LOG_INFO;
	}
	hostapi_check_unknown(g);
	hostapi_free(g);
override:
	if (ld->plugin_dir_override) {
		free(c->plugin_dir);
		c->plugin_dir = xstrdup(ld->plugin_dir_override);
	}
}

/* Checks what a plugin declared: a bad declaration is the plugin's bug. */
static void
check_needs(struct hazmon_cfg *g, const struct hz_sensor *s, const struct hz_bus *b)
{
	const struct hz_setup *su = &s->setup;

	if (su->n_needs == 0 || su->n_needs > HAZMON_MAX_NEEDS) {
		hz_host.error(g, "plugin", "plugin \"%s\" declared %u register blocks "
		    "(must be 1..%d)", s->plugin->name, su->n_needs, HAZMON_MAX_NEEDS);
		return;
	}
	for (unsigned i = 0; i < su->n_needs; i++) {
		const struct hazmon_need *n = &su->needs[i];
		int bits = n->table == HAZMON_TABLE_COIL || n->table == HAZMON_TABLE_DISCRETE;
		unsigned max = bits ? 2000 : 125;

		if ((unsigned)n->table > HAZMON_TABLE_INPUT || n->count == 0 ||
		    n->count > max || (unsigned)n->address + n->count > 65536)
			hz_host.error(g, NULL, "impossible register range: %s address "
			    "%u count %u (at most %u, below 65536)",
			    decode_table_name(n->table), n->address, n->count, max);
		else if (b && n->count > (bits ? b->plan.max_bits : b->plan.max_regs))
			hz_host.error(g, NULL, "reads %u %s at once but bus \"%s\" allows "
			    "at most %u per request", n->count, bits ? "bits" :
			    "registers", b->name, bits ? b->plan.max_bits :
			    b->plan.max_regs);
	}
}


/*
 * A serial line addresses slaves 1..247 (248..255 are reserved by the
 * Modbus serial line spec); over TCP the unit id is a byte, and 255 is
 * what a device that is no gateway expects.  0 is a broadcast on both: a
 * gateway passes it to its serial line, and nobody answers it.
 */
static void
load_slave(struct hazmon_cfg *g, struct hz_sensor *s, const struct hz_bus *b)
{
	int rtu = b != NULL && b->type == HZ_BUS_RTU, hi = rtu ? 247 : 255;
	long long v;

	s->slave = -1;
	switch (hz_host.get_int(g, "slave", &v)) {
	case 1:
		hz_host.error(g, NULL, "sensor needs 'slave' (Modbus unit id: "
		    "1..247 on an rtu bus, 1..255 on a tcp bus)");
		return;
	case -1:
		return;			/* reported: one error, not two */
	}
	if (v == 0)
		hz_host.error(g, "slave", "0 is the broadcast address and gets no "
		    "reply");
	else if (v < 1 || v > hi)
		hz_host.error(g, "slave", "%lld is outside 1..%d (%s)", v, hi,
		    rtu ? "on an rtu bus; 248..255 are reserved" :
		    "a Modbus unit id");
	else
		s->slave = (int)v;
}

/* What the sensor keeps of what its plugin's configure() filled in. */
static void
keep_setup(struct hz_sensor *s, const struct hazmon_sensor_setup *su)
{
	memcpy(s->setup.needs, su->needs, sizeof(s->setup.needs));
	s->setup.n_needs = su->n_needs;
	memcpy(s->setup.unit, su->unit, sizeof(s->setup.unit));
	s->setup.unit[sizeof(s->setup.unit) - 1] = '\0';
	s->setup.ctx = su->ctx;
	s->setup.gas[0] = '\0';
	s->setup.range_low = s->setup.range_high = NAN;
	/* An older plugin's struct ends before these: ours kept the defaults. */
	if ((s->plugin->desc->abi & 0xffff) >= 3) {
		memcpy(s->setup.gas, su->gas, sizeof(s->setup.gas));
		s->setup.gas[sizeof(s->setup.gas) - 1] = '\0';
		s->setup.range_low = su->range_low;
		s->setup.range_high = su->range_high;
	}
}

/*
 * Whether s, the value of key, is text a consumer can show as written:
 * one line of valid UTF-8 without control characters.  It goes into JSON
 * documents and onto screens (names, units, labels); a Latin-1 byte would
 * make every message that carries it invalid.  -1 when not (reported).
 */
int
cfg__text(struct hazmon_cfg *g, const char *key, const char *s)
{
	const unsigned char *p, *u = (const unsigned char *)s;
	size_t n = strlen(s), k;

	for (p = u; *p; p += k) {
		k = 1;
		if (*p < 0x20 || *p == 0x7f) {
			hz_host.error(g, key, "must be one line without control "
			    "characters (byte %zu)", (size_t)(p - u) + 1);
			return -1;
		}
		if (*p >= 0x80 && (k = utf8_len(p, n - (size_t)(p - u))) == 0) {
			hz_host.error(g, key, "is not valid UTF-8 (byte %zu)",
			    (size_t)(p - u) + 1);
			return -1;
		}
	}
	return 0;
}

/*
 * An optional text of 1..max bytes (cfg__text), or a copy of def when
 * absent; NULL when wrong (reported) or when absent without a default.
 */
char *
cfg__opt_text(struct hazmon_cfg *g, const char *key, const char *def,
    size_t max)
{
	const char *s;
	size_t n;

	if (hz_host.get_string(g, key, &s) != 0)
		return def ? xstrdup(def) : NULL;
	n = strlen(s);
	if (n == 0 || n > max) {
		hz_host.error(g, key, "must be 1-%zu bytes (UTF-8)", max);
		return NULL;
	}
	return cfg__text(g, key, s) == 0 ? xstrdup(s) : NULL;
}

static void
load_sensor(struct loader *ld, struct hazmon_cfg *g, config_setting_t *ss,
    struct hz_sensor *s)
{
	struct hz_config *c = ld->c;
	struct hazmon_sensor_setup su;
	const char *plugin = NULL, *bus = NULL;
	char err[1024];
	int errs0 = ld->errors, errs, rc;

	cfg__req_id(g, "id", s->id, 1, "a sensor");
	s->name = cfg__opt_text(g, "name", s->id, HZ_NAME_MAX);
	s->tag = cfg__opt_text(g, "tag", NULL, HZ_TAG_MAX);
	s->point_code = cfg__opt_text(g, "point_code", NULL,
	    HZ_POINT_CODE_MAX);
	s->location = cfg__opt_text(g, "location", NULL, HZ_LOCATION_MAX);
	if (hz_host.get_string(g, "bus", &bus) == 1)
		hz_host.error(g, NULL, "sensor needs 'bus'");
	s->bus = c->n_buses;
	for (unsigned i = 0; bus && i < c->n_buses; i++)
		if (strcmp(c->buses[i].name, bus) == 0)
			s->bus = i;
	if (bus && s->bus == c->n_buses)
		hz_host.error(g, "bus", "no bus named \"%s\"", bus);
	load_slave(g, s, s->bus < c->n_buses ? &c->buses[s->bus] : NULL);
	s->interval = cfg__opt_number(g, "interval", 1.0, 0.05, 86400.0);
	s->frozen_after = cfg__opt_number(g, "frozen_after", 0.0, 0.0, 30 * 86400.0);
	if (s->frozen_after > 0 && s->frozen_after < 2 * s->interval)
		hz_host.error(g, "frozen_after", "%g s is shorter than two poll intervals",
		    s->frozen_after);
	cfg__load_levels(ld, g, ss, s);
	if (hz_host.get_string(g, "plugin", &plugin) == 1)
		hz_host.error(g, NULL, "sensor needs 'plugin' (e.g. \"gas\")");
	if (plugin && (s->plugin = plugin_get(&c->plugins, c->plugin_dir, plugin,
	    err, sizeof(err))) == NULL)
		hz_host.error(g, "plugin", "%s (the sensor's other keys are "
		    "checked once it loads)", err);
	/* Without its plugin, nobody knows the sensor's keys: none is "unknown". */
	if (s->plugin == NULL)
		return;
	su = (struct hazmon_sensor_setup){ .id = s->id,
	    .n_config_levels = s->n_levels, .range_low = NAN,
	    .range_high = NAN };
	errs = ld->errors;
	rc = s->plugin->desc->configure(&hz_host, g, &su);
	keep_setup(s, &su);		/* ctx too: config_free frees it */
	/* From the config or the plugin's default, into every state and event. */
	(void)cfg__text(g, "unit", s->setup.unit);
	if (rc != 0 && ld->errors == errs)
		hz_host.error(g, "plugin", "plugin \"%s\" rejected the sensor "
		    "without saying why", plugin);
	if (ld->errors == errs)
		check_needs(g, s, s->bus < c->n_buses ? &c->buses[s->bus] : NULL);
	if (ld->errors == errs)
		cfg__apply_plugin_levels(g, s, &su);
	hostapi_check_unknown(g);
	if (s->n_levels == 0 && ld->errors == errs0)
		hz_host.warn(g, NULL, "sensor \"%s\" has no alarm levels: it reports "
		    "values and faults only", s->id);
}

static void
load_sensors(struct loader *ld, struct hazmon_cfg *root)
{
	config_setting_t *list = cfg__get_list(ld, root, "sensors");
	struct hz_config *c = ld->c;

	if (list == NULL || config_setting_length(list) == 0) {
		if (list || !config_setting_get_member(config_root_setting(&ld->lc), "sensors"))
			hz_host.error(root, list ? "sensors" : NULL,
			    "a non-empty 'sensors = ( ... );' list is required");
		return;
	}
	c->n_sensors = (unsigned)config_setting_length(list);
	c->sensors = xcalloc(c->n_sensors, sizeof(*c->sensors));
	for (unsigned i = 0; i < c->n_sensors; i++) {
		struct hazmon_cfg *g = cfg__list_group(ld, list, i);
		struct hz_sensor *s = &c->sensors[i];

		s->bus = c->n_buses;
		if (g == NULL)
			continue;
		s->line = config_setting_source_line(config_setting_get_elem(list, i));
		load_sensor(ld, g, config_setting_get_elem(list, i), s);
		for (unsigned j = 0; j < i; j++)
			if (s->id[0] && strcmp(c->sensors[j].id, s->id) == 0)
				hz_host.error(g, "id", "duplicate sensor id \"%s\" (first "
				    "at line %d)", s->id, c->sensors[j].line);
		hostapi_free(g);
	}
}

/* What a reload compares (config-fp.c). */
static void
fingerprints(struct loader *ld)
{
	config_setting_t *root = config_root_setting(&ld->lc), *l;
	struct hz_config *c = ld->c;
	char *site = cfg__fingerprint(config_setting_get_member(root, "site"));
	size_t n = strlen(site) + strlen(c->plugin_dir) + 2;
	char *both = xcalloc(1, n);

	snprintf(both, n, "%s\n%s", site, c->plugin_dir);
	c->fp = config_digest(both, strlen(both));
	free(both);
	free(site);
	l = config_setting_get_member(root, "mqtt");
	for (unsigned i = 0; i < c->n_dests; i++)
		c->dests[i].fp = cfg__fingerprint(config_setting_get_elem(l, i));
	l = config_setting_get_member(root, "buses");
	for (unsigned i = 0; i < c->n_buses; i++)
		c->buses[i].fp = cfg__fingerprint(config_setting_get_elem(l, i));
	l = config_setting_get_member(root, "sensors");
	for (unsigned i = 0; i < c->n_sensors; i++)
		c->sensors[i].fp = cfg__fingerprint(config_setting_get_elem(l, i));
}

struct hz_config *
config_load(const char *path, const char *plugin_dir_override, int *n_errors)
{
	struct loader ld = { .plugin_dir_override = plugin_dir_override };
	struct hazmon_cfg *root;

	ld.c = xcalloc(1, sizeof(*ld.c));
	ld.c->path = xstrdup(path);
	config_init(&ld.lc);
	if (config_read_file(&ld.lc, path) != CONFIG_TRUE) {
		if (config_error_type(&ld.lc) == CONFIG_ERR_FILE_IO)
			log_msg(HZ_LOG_ERR, "%s: cannot read: %s", path, strerror(errno));
		else
			log_msg(HZ_LOG_ERR, "%s:%d: %s",
			    config_error_file(&ld.lc) ? config_error_file(&ld.lc) : path,
			    config_error_line(&ld.lc), config_error_text(&ld.lc));
		ld.errors = 1;
		goto out;
	}
	root = hostapi_wrap(config_root_setting(&ld.lc), path, &ld.errors);
	load_site(&ld, root);
	load_daemon(&ld, root);
	cfg__load_mqtt(&ld, root);
	cfg__load_buses(&ld, root);
	load_sensors(&ld, root);
	hostapi_check_unknown(root);
	hostapi_free(root);
	if (ld.errors == 0)
		fingerprints(&ld);
out:
	config_destroy(&ld.lc);
	*n_errors = ld.errors;
	if (ld.errors) {
		config_free(ld.c);
		return NULL;
	}
	return ld.c;
}

void
config_free(struct hz_config *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n_sensors; i++) {
		struct hz_sensor *s = &c->sensors[i];

		if (s->plugin && s->plugin->desc->free_ctx && s->setup.ctx)
			s->plugin->desc->free_ctx(s->setup.ctx);
		free(s->name);
		free(s->tag);
		free(s->point_code);
		free(s->location);
		for (unsigned j = 0; j < s->n_levels; j++)
			free((char *)s->levels[j].standard_override);
		free(s->levels);
		free(s->fp);
	}
	for (unsigned i = 0; i < c->n_dests; i++) {
		struct hz_dest *d = &c->dests[i];

		free(d->host);
		free(d->prefix);
		free(d->username);
		if (d->password)
			explicit_bzero(d->password, strlen(d->password));
		free(d->password);
		free(d->ca_file);
		free(d->ca_path);
		free(d->cert_file);
		free(d->key_file);
		free(d->tls_version);
		free(d->fp);
	}
	for (unsigned i = 0; i < c->n_buses; i++) {
		free(c->buses[i].host);
		free(c->buses[i].device);
		free(c->buses[i].fp);
	}
	plugin_unload_all(c->plugins);
	free(c->sensors);
	free(c->dests);
	free(c->buses);
	free(c->path);
	free(c->site_name);
	free(c->plugin_dir);
	free(c->state_dir);
	free(c->control_socket);
	free(c->control_group);
	free(c->control_read_socket);
	free(c->control_read_group);
	free(c->fp);
	free(c);
}
