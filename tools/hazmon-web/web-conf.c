/*
 * web-conf.c - hazmon-web's configuration file (hazmon-web(8)): where to
 * listen, which socket to read, and the optional plant plan.  Every error
 * is reported with file:line, all of them before giving up, and an
 * unknown key is an error: a misspelt plan position must not silently
 * leave a detector off the map.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hazmon-web.h"

#define PLAN_MAX	(16 * 1024 * 1024)	/* bytes of plan image */

static int nerrors;

static void conf_error(const config_setting_t *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
conf_error(const config_setting_t *s, const char *fmt, ...)
{
	const char *file = config_setting_source_file(s);
	va_list ap;

	fprintf(stderr, "hazmon-web: %s:%u: ", file ? file : "?",
	    config_setting_source_line(s));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	nerrors++;
}

static void
known_keys(const config_setting_t *g, const char *const *keys)
{
	int i, n = config_setting_length(g);
	size_t k;

	for (i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);

		for (k = 0; keys[k] != NULL; k++)
			if (name != NULL && strcmp(name, keys[k]) == 0)
				break;
		if (keys[k] == NULL)
			conf_error(s, "unknown setting \"%s\"", name ? name : "");
	}
}

static char *
opt_string(const config_setting_t *g, const char *key, const char *def)
{
	config_setting_t *s = config_setting_get_member(g, key);

	if (s == NULL)
		return def ? strdup(def) : NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_error(s, "%s must be a string", key);
		return def ? strdup(def) : NULL;
	}
	return strdup(config_setting_get_string(s));
}

static const char *
image_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot == NULL)
		return NULL;
	if (strcasecmp(dot, ".png") == 0)
		return "image/png";
	if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
		return "image/jpeg";
	if (strcasecmp(dot, ".svg") == 0)
		return "image/svg+xml";
	return NULL;
}

static double
coord(const config_setting_t *p, const char *key)
{
	config_setting_t *s = config_setting_get_member(p, key);
	double v;

	if (s == NULL) {
		conf_error(p, "a plan point needs %s", key);
		return 0;
	}
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else {
		conf_error(s, "%s must be a number from 0 to 1", key);
		return 0;
	}
	if (!(v >= 0 && v <= 1))
		conf_error(s, "%s must be from 0 to 1 (a fraction of the "
		    "image)", key);
	return v;
}

static void
load_plan(struct web_conf *c, const config_setting_t *plan)
{
	static const char *const keys[] = { "image", "points", NULL };
	static const char *const pkeys[] = { "sensor", "x", "y", NULL };
	config_setting_t *pts, *p;
	json_t *points;
	int i, n;
	FILE *f;

	known_keys(plan, keys);
	c->plan_image = opt_string(plan, "image", NULL);
	if (c->plan_image == NULL) {
		conf_error(plan, "plan needs an image");
		return;
	}
	if ((c->plan_type = (char *)image_type(c->plan_image)) == NULL)
		conf_error(config_setting_get_member(plan, "image"),
		    "%s: the plan image must be .png, .jpg or .svg",
		    c->plan_image);
	else if ((f = fopen(c->plan_image, "rb")) == NULL)
		conf_error(config_setting_get_member(plan, "image"),
		    "%s: cannot be read", c->plan_image);
	else
		fclose(f);
	points = json_object();
	pts = config_setting_get_member(plan, "points");
	if (pts != NULL && config_setting_type(pts) != CONFIG_TYPE_LIST) {
		conf_error(pts, "points must be a list ( { sensor = ...; x = ...; "
		    "y = ...; }, ... )");
		pts = NULL;
	}
	n = pts ? config_setting_length(pts) : 0;
	for (i = 0; i < n; i++) {
		const char *id = NULL;
		double x, y;

		p = config_setting_get_elem(pts, (unsigned)i);
		if (config_setting_type(p) != CONFIG_TYPE_GROUP) {
			conf_error(p, "a plan point is a group { sensor = ...; "
			    "x = ...; y = ...; }");
			continue;
		}
		known_keys(p, pkeys);
		if (!config_setting_lookup_string(p, "sensor", &id) ||
		    !route_sensor_id_ok(id)) {
			conf_error(p, "a plan point needs a sensor id");
			continue;
		}
		x = coord(p, "x");
		y = coord(p, "y");
		if (json_object_get(points, id) != NULL)
			conf_error(p, "sensor %s is on the plan twice", id);
		json_object_set_new(points, id, json_pack("[f,f]", x, y));
	}
	c->plan = json_pack("{s:s, s:o}", "image", "/plan", "points", points);
}

int
address_ok(const char *a)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, a, &a4) == 1 ||
	    inet_pton(AF_INET6, a, &a6) == 1;
}

const char *
conf_default_socket(void)
{
	return "/run/hazmon/hazmond-read.sock";
}

/*
 * Defaults first, then the file (if path is not NULL).  Returns 0, or
 * -EINVAL after reporting every error on stderr.
 */
int
conf_load(struct web_conf *c, const char *path)
{
	static const char *const keys[] = { "listen", "port", "socket",
	    "max_clients", "stream_queue", "plan", NULL };
	config_t cfg;
	config_setting_t *root, *s;
	int v;

	memset(c, 0, sizeof(*c));
	c->port = WEB_DEFAULT_PORT;
	c->max_clients = 32;
	c->stream_queue = 1024 * 1024;
	nerrors = 0;
	if (path == NULL) {
		c->listen = strdup(WEB_DEFAULT_LISTEN);
		c->socket = strdup(conf_default_socket());
		return 0;
	}
	config_init(&cfg);
	if (!config_read_file(&cfg, path)) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			fprintf(stderr, "hazmon-web: %s: cannot be read: %s\n",
			    path, strerror(errno));
		else
			fprintf(stderr, "hazmon-web: %s:%d: %s\n",
			    config_error_file(&cfg) ? config_error_file(&cfg) :
			    path, config_error_line(&cfg), config_error_text(&cfg));
		config_destroy(&cfg);
		return -EINVAL;
	}
	root = config_root_setting(&cfg);
	known_keys(root, keys);
	c->listen = opt_string(root, "listen", WEB_DEFAULT_LISTEN);
	c->socket = opt_string(root, "socket", conf_default_socket());
	if ((s = config_setting_get_member(root, "port")) != NULL) {
		v = config_setting_type(s) == CONFIG_TYPE_INT ?
		    config_setting_get_int(s) : -1;
		if (v < 1 || v > 65535)
			conf_error(s, "port must be a whole number from 1 to "
			    "65535");
		else
			c->port = v;
	}
	if ((s = config_setting_get_member(root, "max_clients")) != NULL) {
		v = config_setting_type(s) == CONFIG_TYPE_INT ?
		    config_setting_get_int(s) : -1;
		if (v < 1 || v > 256)
			conf_error(s, "max_clients must be from 1 to 256");
		else
			c->max_clients = v;
	}
	if ((s = config_setting_get_member(root, "stream_queue")) != NULL) {
		v = config_setting_type(s) == CONFIG_TYPE_INT ?
		    config_setting_get_int(s) : -1;
		if (v < 16384 || v > 64 * 1024 * 1024)
			conf_error(s, "stream_queue must be from 16384 to "
			    "67108864 (bytes)");
		else
			c->stream_queue = (size_t)v;
	}
	if (c->listen != NULL && !address_ok(c->listen))
		conf_error(config_setting_get_member(root, "listen"),
		    "listen: \"%s\" is not a numeric IPv4 or IPv6 address",
		    c->listen);
	if (c->socket != NULL && c->socket[0] != '/')
		conf_error(config_setting_get_member(root, "socket"),
		    "socket must be an absolute path");
	if ((s = config_setting_get_member(root, "plan")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			conf_error(s, "plan must be a group { image = ...; "
			    "points = ( ... ); }");
		else
			load_plan(c, s);
	}
	config_destroy(&cfg);
	return nerrors ? -EINVAL : 0;
}

void
conf_free(struct web_conf *c)
{
	free(c->listen);
	free(c->socket);
	free(c->plan_image);
	json_decref(c->plan);
	memset(c, 0, sizeof(*c));
}
