/*
 * test_web.c - hazmon-web's pure modules: the model of the site from the
 * watch stream (web-model.c), the Prometheus text (web-metrics.c), the
 * routes and the history query's checks (web-route.c).
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

#include "hazmon-web.h"

#define NOW	1796000000.0

static int
feed_at(struct web_model *m, const char *line, double t)
{
	return model_line(m, line, strlen(line), t);
}

static int
feed(struct web_model *m, const char *line)
{
	return feed_at(m, line, NOW);
}

static const char *
ids(struct web_model *m)
{
	static char out[256];
	json_t *s = model_sensors(m), *e;
	size_t i;

	out[0] = '\0';
	json_array_foreach(s, i, e) {
		strcat(out, json_string_value(json_object_get(e, "id")));
		strcat(out, " ");
	}
	json_decref(s);
	return out;
}

static void
snapshot_then_synced(void **state)
{
	struct web_model m;

	(void)state;
	assert_int_equal(model_init(&m), 0);
	model_watch_started(&m, NOW);
	assert_int_equal(feed(&m, "{\"type\":\"state\",\"sensor\":\"a\","
	    "\"quality\":\"ok\",\"value\":1.5}"), MODEL_STATE);
	assert_int_equal(feed(&m, "{\"type\":\"state\",\"sensor\":\"b\","
	    "\"quality\":\"ok\",\"value\":2}"), MODEL_STATE);
	assert_false(m.synced);
	assert_int_equal(feed(&m, "{\"type\":\"synced\"}"), MODEL_SYNCED);
	assert_true(m.synced);
	assert_true(m.up);
	assert_string_equal(ids(&m), "a b ");
	/* a live line replaces the entry, in place */
	feed(&m, "{\"type\":\"state\",\"sensor\":\"a\",\"quality\":\"ok\","
	    "\"value\":9}");
	json_t *s = model_sensors(&m);
	assert_true(json_number_value(json_object_get(json_array_get(s, 0),
	    "value")) == 9);
	assert_null(json_object_get(json_array_get(s, 0), "type"));
	json_decref(s);
	assert_string_equal(ids(&m), "a b ");
	model_down(&m);
	assert_false(m.up);
	assert_false(m.synced);
	model_free(&m);
}

/* After a reload's snapshot, a sensor it did not name is gone. */
static void
reload_drops_removed(void **state)
{
	struct web_model m;

	(void)state;
	model_init(&m);
	model_watch_started(&m, NOW);
	feed(&m, "{\"type\":\"state\",\"sensor\":\"a\",\"quality\":\"ok\"}");
	feed(&m, "{\"type\":\"state\",\"sensor\":\"b\",\"quality\":\"ok\"}");
	feed(&m, "{\"type\":\"state\",\"sensor\":\"c\",\"quality\":\"ok\"}");
	feed(&m, "{\"type\":\"synced\"}");
	feed(&m, "{\"type\":\"state\",\"sensor\":\"c\",\"quality\":\"ok\"}");
	feed(&m, "{\"type\":\"state\",\"sensor\":\"a\",\"quality\":\"ok\"}");
	feed(&m, "{\"type\":\"state\",\"sensor\":\"d\",\"quality\":\"ok\"}");
	feed(&m, "{\"type\":\"synced\"}");
	assert_string_equal(ids(&m), "a c d ");
	/* with snapshot lines: a live line of the old configuration just
	 * before a reload's snapshot does not keep its sensor */
	feed(&m, "{\"type\":\"state\",\"sensor\":\"d\",\"quality\":\"ok\"}");
	assert_int_equal(feed(&m, "{\"type\":\"snapshot\"}"), MODEL_SNAPSHOT);
	assert_true(m.synced);	/* the picture stays valid meanwhile */
	feed(&m, "{\"type\":\"state\",\"sensor\":\"a\",\"quality\":\"ok\"}");
	feed(&m, "{\"type\":\"state\",\"sensor\":\"c\",\"quality\":\"ok\"}");
	feed(&m, "{\"type\":\"synced\"}");
	assert_string_equal(ids(&m), "a c ");
	model_free(&m);
}

static const char *
fault_since(struct web_model *m, const char *id)
{
	json_t *v = json_object_get(m->fault_since, id);

	return v == NULL ? "absent" : json_is_null(v) ? "null" :
	    json_string_value(v);
}

/* A fault's age: from its last good reading when found in a snapshot,
 * from the line's arrival when it starts live, gone when it clears. */
static void
fault_age(void **state)
{
	struct web_model m;

	(void)state;
	model_init(&m);
	model_watch_started(&m, NOW);
	feed(&m, "{\"type\":\"state\",\"sensor\":\"a\",\"quality\":\"fault\","
	    "\"fault\":\"comm_loss\",\"last_ok\":\"2026-12-01T10:00:00.000Z\"}");
	feed(&m, "{\"type\":\"state\",\"sensor\":\"b\",\"quality\":\"ok\","
	    "\"fault\":null}");
	feed(&m, "{\"type\":\"state\",\"sensor\":\"c\",\"quality\":\"stale\","
	    "\"fault\":null,\"last_ok\":null}");
	feed(&m, "{\"type\":\"synced\"}");
	assert_string_equal(fault_since(&m, "a"), "2026-12-01T10:00:00.000Z");
	assert_string_equal(fault_since(&m, "b"), "absent");
	assert_string_equal(fault_since(&m, "c"), "null");
	/* b fails now: its fault starts with this line */
	assert_int_equal(feed_at(&m, "{\"type\":\"state\",\"sensor\":\"b\","
	    "\"quality\":\"fault\",\"fault\":\"device_error\"}", NOW + 1.25),
	    MODEL_STATE);
	assert_string_equal(fault_since(&m, "b"), "2026-11-30T00:53:21.250Z");
	/* the same fault again keeps its start */
	feed_at(&m, "{\"type\":\"state\",\"sensor\":\"b\",\"quality\":"
	    "\"fault\",\"fault\":\"device_error\"}", NOW + 9);
	assert_string_equal(fault_since(&m, "b"), "2026-11-30T00:53:21.250Z");
	feed(&m, "{\"type\":\"state\",\"sensor\":\"a\",\"quality\":\"ok\","
	    "\"fault\":null}");
	assert_string_equal(fault_since(&m, "a"), "absent");
	model_free(&m);
}

static void
events_bounded_and_bad_lines(void **state)
{
	struct web_model m;
	char line[128];
	int i;

	(void)state;
	model_init(&m);
	for (i = 0; i < WEB_MAX_EVENTS + 5; i++) {
		snprintf(line, sizeof(line), "{\"type\":\"event\",\"event\":"
		    "{\"seq\":%d}}", i + 1);
		assert_int_equal(feed(&m, line), MODEL_EVENT);
	}
	assert_int_equal(json_array_size(m.events), WEB_MAX_EVENTS);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    m.events, 0), "seq")), 6);
	assert_int_equal(feed(&m, "not json"), -EINVAL);
	assert_int_equal(feed(&m, "[1,2]"), -EINVAL);
	assert_int_equal(feed(&m, "{\"no\":\"type\"}"), -EINVAL);
	assert_int_equal(feed(&m, "{\"type\":\"what\"}"), -EINVAL);
	assert_int_equal(feed(&m, "{\"type\":\"state\"}"), -EINVAL);
	assert_int_equal(feed(&m, "{\"type\":\"state\",\"sensor\":\"\"}"),
	    -EINVAL);
	assert_int_equal(feed(&m, "{\"type\":\"event\",\"event\":3}"), -EINVAL);
	assert_int_equal(feed(&m, "{\"type\":\"tick\",\"time\":\"x\"}"),
	    MODEL_TICK);
	model_free(&m);
}

/* A live model: one sensor a, status and alarms answers as given. */
static void
live_model(struct web_model *m, const char *sensor_line, const char *status,
    const char *alarms)
{
	json_t *j;

	model_init(m);
	model_watch_started(m, NOW);
	feed(m, sensor_line);
	feed(m, "{\"type\":\"synced\"}");
	j = json_loads(status, 0, NULL);
	assert_int_equal(model_set_status(m, j, NOW), 0);
	json_decref(j);
	j = json_loads(alarms, 0, NULL);
	assert_int_equal(model_set_alarms(m, j, NOW), 0);
	json_decref(j);
}

static char *
render(struct web_model *m, struct web_buf *b)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(metrics_render(m, b), 0);
	buf_printf(b, "%s", "");	/* NUL-terminated even when empty */
	return b->p;
}

static void
metrics_down_is_up_only(void **state)
{
	struct web_model m;
	struct web_buf b;

	(void)state;
	live_model(&m, "{\"type\":\"state\",\"sensor\":\"a\",\"value\":1}",
	    "{\"ok\":true}", "{\"ok\":true,\"alarms\":[]}");
	assert_non_null(strstr(render(&m, &b), "\nhazmon_up 1\n"));
	buf_free(&b);
	model_down(&m);
	assert_string_equal(render(&m, &b), "# HELP hazmon_up 1 while "
	    "hazmon-web has a live view of hazmond (then the other families "
	    "follow).\n# TYPE hazmon_up gauge\nhazmon_up 0\n");
	buf_free(&b);
	model_free(&m);
}

static void
metrics_labels_escaped(void **state)
{
	struct web_model m;
	struct web_buf b;

	(void)state;
	live_model(&m, "{\"type\":\"state\",\"sensor\":\"a\",\"value\":2.5,"
	    "\"unit\":\"x\\\"y\\\\z\\nw\",\"quality\":\"ok\"}", "{\"ok\":true}",
	    "{\"ok\":true,\"alarms\":[]}");
	assert_non_null(strstr(render(&m, &b),
	    "hazmon_sensor_value{sensor=\"a\",unit=\"x\\\"y\\\\z\\nw\"} 2.5\n"));
	assert_non_null(strstr(b.p,
	    "hazmon_sensor_quality{sensor=\"a\",quality=\"ok\"} 1\n"));
	buf_free(&b);
	model_free(&m);
}

static void
metrics_alarms_and_histogram(void **state)
{
	struct web_model m;
	struct web_buf b;

	(void)state;
	live_model(&m, "{\"type\":\"state\",\"sensor\":\"a\",\"fault\":"
	    "\"comm_loss\",\"quality\":\"fault\",\"value\":null}",
	    "{\"ok\":true,\"ledger\":{\"last_seq\":42},\"destinations\":[{"
	    "\"name\":\"d1\",\"connected\":true,\"undelivered\":3,"
	    "\"publish_latency\":{\"le\":[0.001,0.5],\"buckets\":[2,5],"
	    "\"count\":6,\"sum\":1.25,\"stages\":{\"count\":5,\"sum\":{"
	    "\"queue\":0.25,\"record\":0.75},\"max\":{\"queue\":0.1}}}}],"
	    "\"buses\":[{\"name\":\"b1\","
	    "\"connected\":false,\"requests\":10,\"failed\":4,\"slaves\":[{"
	    "\"slave\":7,\"last_ok\":\"2026-12-01T10:00:00.500Z\","
	    "\"failing\":true}]}]}",
	    "{\"ok\":true,\"alarms\":[{\"priority\":\"urgent\",\"state\":"
	    "\"active_unacknowledged\"},{\"priority\":\"urgent\",\"state\":"
	    "\"active_acknowledged\"},{\"priority\":\"low\",\"state\":"
	    "\"returned_unacknowledged\"}]}");
	render(&m, &b);
	static const char *const want[] = {
		"hazmon_alarms_active{priority=\"urgent\"} 2\n",
		"hazmon_alarms_active{priority=\"low\"} 0\n",
		"hazmon_alarms_unacknowledged{priority=\"urgent\"} 1\n",
		"hazmon_alarms_unacknowledged{priority=\"low\"} 1\n",
		"hazmon_faults{reason=\"comm_loss\"} 1\n",
		"hazmon_events_recorded_total 42\n",
		"hazmon_bus_connected{bus=\"b1\"} 0\n",
		"hazmon_bus_requests_total{bus=\"b1\"} 10\n",
		"hazmon_bus_request_failures_total{bus=\"b1\"} 4\n",
		"hazmon_slave_failing{bus=\"b1\",slave=\"7\"} 1\n",
		"hazmon_slave_last_good_read_timestamp_seconds{bus=\"b1\","
		    "slave=\"7\"} 1796119200.5\n",
		"hazmon_destination_undelivered_events{destination=\"d1\"} 3\n",
		"# TYPE hazmon_publish_latency_seconds histogram\n",
		"hazmon_publish_latency_seconds_bucket{destination=\"d1\","
		    "le=\"0.001\"} 2\n",
		"hazmon_publish_latency_seconds_bucket{destination=\"d1\","
		    "le=\"0.5\"} 5\n",
		"hazmon_publish_latency_seconds_bucket{destination=\"d1\","
		    "le=\"+Inf\"} 6\n",
		"hazmon_publish_latency_seconds_sum{destination=\"d1\"} 1.25\n",
		"hazmon_publish_latency_seconds_count{destination=\"d1\"} 6\n",
		"# TYPE hazmon_publish_stage_seconds summary\n",
		"hazmon_publish_stage_seconds_sum{destination=\"d1\","
		    "stage=\"queue\"} 0.25\n",
		"hazmon_publish_stage_seconds_count{destination=\"d1\","
		    "stage=\"queue\"} 5\n",
		"hazmon_publish_stage_seconds_sum{destination=\"d1\","
		    "stage=\"record\"} 0.75\n",
		"hazmon_publish_stage_seconds_count{destination=\"d1\","
		    "stage=\"record\"} 5\n",
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(*want); i++)
		if (strstr(b.p, want[i]) == NULL)
			fail_msg("missing: %s", want[i]);
	/* a value that is not trustworthy has no sample */
	assert_null(strstr(b.p, "hazmon_sensor_value{"));
	buf_free(&b);
	model_free(&m);
}

static void
routes(void **state)
{
	(void)state;
	assert_int_equal(route_find("/"), ROUTE_PAGE);
	assert_int_equal(route_find("/metrics"), ROUTE_METRICS);
	assert_int_equal(route_find("/api/history"), ROUTE_API_HISTORY);
	assert_int_equal(route_find("/api/ack"), ROUTE_NONE);
	assert_int_equal(route_find("/metrics/"), ROUTE_NONE);
	assert_int_equal(route_find(NULL), ROUTE_NONE);
	assert_true(route_method_ok("GET"));
	assert_true(route_method_ok("HEAD"));
	assert_false(route_method_ok("POST"));
	assert_false(route_method_ok("get"));
	assert_false(route_method_ok(NULL));
}

static void
history_query(void **state)
{
	(void)state;
	static const struct {
		const char *since, *sensor, *limit, *want;	/* NULL: refused */
	} t[] = {
		{ NULL, NULL, NULL, "{\"cmd\":\"history\"}" },
		{ "3600", "ch4", "10", "{\"cmd\":\"history\",\"since\":3600.0,"
		    "\"sensor\":\"ch4\",\"limit\":10}" },
		{ "2026-11-25T08:00:00Z", NULL, NULL, "{\"cmd\":\"history\","
		    "\"since\":\"2026-11-25T08:00:00Z\"}" },
		{ "1.5", NULL, "1000", "{\"cmd\":\"history\",\"since\":1.5,"
		    "\"limit\":1000}" },
		{ "-1", NULL, NULL, "{\"cmd\":\"history\",\"since\":\"-1\"}" },
		{ "inf", NULL, NULL, NULL },
		{ "nan", NULL, NULL, NULL },
		{ "", NULL, NULL, NULL },
		{ "2026\"x", NULL, NULL, NULL },
		{ NULL, "a\"b", NULL, NULL },
		{ NULL, "", NULL, NULL },
		{ NULL, "a b", NULL, NULL },
		{ NULL, NULL, "0", NULL },
		{ NULL, NULL, "1001", NULL },
		{ NULL, NULL, "10x", NULL },
		{ NULL, NULL, "", NULL },
	};
	char err[128];
	json_t *r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		int rc = route_history(t[i].since, t[i].sensor, t[i].limit, &r,
		    err, sizeof(err));

		if (t[i].want == NULL) {
			assert_int_equal(rc, -EINVAL);
			assert_null(r);
			assert_true(err[0] != '\0');
			continue;
		}
		assert_int_equal(rc, 0);
		char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
		json_t *w = json_loads(t[i].want, 0, NULL);
		char *ws = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);

		assert_string_equal(s, ws);
		free(s);
		free(ws);
		json_decref(w);
		json_decref(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snapshot_then_synced),
		cmocka_unit_test(reload_drops_removed),
		cmocka_unit_test(fault_age),
		cmocka_unit_test(events_bounded_and_bad_lines),
		cmocka_unit_test(metrics_down_is_up_only),
		cmocka_unit_test(metrics_labels_escaped),
		cmocka_unit_test(metrics_alarms_and_histogram),
		cmocka_unit_test(routes),
		cmocka_unit_test(history_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
