/*
 * mqtt-relay.c - translate hazmond's JSON alarm events into the plain
 * "ALARM ..." / "CLEAR ..." messages that ../shared/bench-peers/analyze.py
 * matches (topic bench/daemon/alarm/<device>/gas), so hazmond is measured
 * by the same harness as the other peers without changing its contract.
 *
 *   mqtt-relay HOST PORT
 *
 * One persistent connection; the extra broker hop is counted in hazmond's
 * latency (it can only make hazmond look slower).  Sensor ids are
 * "<device>-<register>", e.g. "dev07-gas".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <mosquitto.h>

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	(void)arg;
	if (rc == 0)
		mosquitto_subscribe(m, NULL, "hazmon/+/events/#", 1);
}

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	json_t *o = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	const char *kind, *event, *sensor;
	char topic[256], dev[64], payload[256];
	size_t n;

	(void)arg;
	if (o == NULL)
		return;
	kind = json_string_value(json_object_get(o, "kind"));
	event = json_string_value(json_object_get(o, "event"));
	sensor = json_string_value(json_object_get(o, "sensor"));
	if (kind && event && sensor && strcmp(kind, "alarm") == 0) {
		n = strcspn(sensor, "-");
		snprintf(dev, sizeof(dev), "%.*s", (int)(n < 63 ? n : 63), sensor);
		snprintf(topic, sizeof(topic), "bench/daemon/alarm/%s/gas", dev);
		snprintf(payload, sizeof(payload), "%s %s seq=%lld value=%g",
		    strcmp(event, "raised") == 0 ? "ALARM" : "CLEAR", sensor,
		    (long long)json_integer_value(json_object_get(o, "seq")),
		    json_number_value(json_object_get(o, "value")));
		mosquitto_publish(m, NULL, topic, (int)strlen(payload), payload, 0,
		    false);
	}
	json_decref(o);
}

int
main(int argc, char **argv)
{
	struct mosquitto *m;

	if (argc != 3) {
		fprintf(stderr, "usage: mqtt-relay HOST PORT\n");
		return 2;
	}
	mosquitto_lib_init();
	m = mosquitto_new("hazmon-bench-relay", true, NULL);
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_message_callback_set(m, on_message);
	if (mosquitto_connect(m, argv[1], atoi(argv[2]), 30) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt-relay: cannot connect to %s:%s\n", argv[1], argv[2]);
		return 1;
	}
	mosquitto_loop_forever(m, -1, 1);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return 0;
}
