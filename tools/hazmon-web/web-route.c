/*
 * web-route.c - which page a request asks for, and the checks of the
 * history query before it becomes a request to hazmond.  Pure.
 *
 * hazmon-web only reads: every method but GET and HEAD is answered 405,
 * whatever the path, so no request can be mistaken for an action.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hazmon-web.h"

static const struct {
	const char *url;
	enum web_route route;
} routes[] = {
	{ "/", ROUTE_PAGE },
	{ "/index.html", ROUTE_PAGE },
	{ "/style.css", ROUTE_CSS },
	{ "/app.js", ROUTE_JS },
	{ "/events", ROUTE_EVENTS },
	{ "/metrics", ROUTE_METRICS },
	{ "/plan", ROUTE_PLAN },
	{ "/api/plan", ROUTE_API_PLAN },
	{ "/api/status", ROUTE_API_STATUS },
	{ "/api/sensors", ROUTE_API_SENSORS },
	{ "/api/alarms", ROUTE_API_ALARMS },
	{ "/api/history", ROUTE_API_HISTORY },
};

/* The URL without its query (libmicrohttpd splits that off). */
enum web_route
route_find(const char *url)
{
	size_t i;

	for (i = 0; url != NULL && i < sizeof(routes) / sizeof(*routes); i++)
		if (strcmp(url, routes[i].url) == 0)
			return routes[i].route;
	return ROUTE_NONE;
}

int
route_method_ok(const char *method)
{
	return method != NULL && (strcmp(method, "GET") == 0 ||
	    strcmp(method, "HEAD") == 0);
}

/* The characters hazmond allows in an id (hazmond.conf(5)), 1..64. */
int
route_sensor_id_ok(const char *id)
{
	size_t n = 0;

	for (; id[n] != '\0'; n++) {
		char c = id[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return n >= 1 && n <= 64;
}

static int
fail(char *err, size_t len, const char *msg)
{
	snprintf(err, len, "%s", msg);
	return -EINVAL;
}

/*
 * ?since=&sensor=&limit= into {"cmd":"history",...}.  since is a number
 * of seconds or an ISO 8601 time: hazmond checks its range, this only
 * keeps anything else (quotes, control characters) from the request.
 */
int
route_history(const char *since, const char *sensor, const char *limit,
    json_t **request, char *err, size_t errlen)
{
	json_t *r = json_pack("{s:s}", "cmd", "history");
	char *end;

	*request = NULL;
	if (r == NULL)
		return -ENOMEM;
	if (since != NULL) {
		double s = strtod(since, &end);
		size_t i;

		if (since[0] != '\0' && *end == '\0' && isfinite(s) && s >= 0) {
			json_object_set_new(r, "since", json_real(s));
		} else {
			for (i = 0; since[i] != '\0'; i++)
				if (strchr("0123456789-:.TZ", since[i]) == NULL)
					break;
			if (i == 0 || since[i] != '\0' || i > 32) {
				json_decref(r);
				return fail(err, errlen, "since: a number of "
				    "seconds or an ISO 8601 time");
			}
			json_object_set_new(r, "since", json_string(since));
		}
	}
	if (sensor != NULL) {
		if (!route_sensor_id_ok(sensor)) {
			json_decref(r);
			return fail(err, errlen, "sensor: not a sensor id");
		}
		json_object_set_new(r, "sensor", json_string(sensor));
	}
	if (limit != NULL) {
		long l = strtol(limit, &end, 10);

		if (limit[0] == '\0' || *end != '\0' || l < 1 || l > 1000) {
			json_decref(r);
			return fail(err, errlen, "limit: a whole number from 1 "
			    "to 1000");
		}
		json_object_set_new(r, "limit", json_integer(l));
	}
	*request = r;
	return 0;
}
