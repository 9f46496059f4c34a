/*
 * publish.c - one MQTT client per destination, driven from the core's poll
 * loop (no libmosquitto thread touches our state).
 *
 * Events are read from the ledger in seq order and published with QoS 1
 * or 2; a destination's cursor advances only when the broker acknowledged
 * every event up to it.  After a reconnect or a restart, everything past
 * the cursor is sent again, flagged "replayed", with its original seq and
 * ts.  Sensor states are best effort: retained, QoS 0, and skipped while
 * events are still waiting, so events always go first.
 *
 * libmosquitto resolves the broker's name inside its connect call, which
 * blocks for as long as DNS does.  So each connect attempt runs in a short
 * "dial" thread, and the core polls an eventfd for its end: a broker whose
 * name does not resolve never holds up alarms to the other destinations.
 * While a dial runs, the core does not touch that mosquitto instance.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <jansson.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "publish-int.h"

#define RETRY_MIN_MS	500
#define RETRY_MAX_MS	10000
#define CURSOR_SAVE_MS	500	/* a cursor moving in a burst is saved this often */

static void pub_flush_forgotten(struct hz_pub *p);

static char *
status_json(const struct hz_pub *p, const char *state)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "state", state,
	    "site", p->c->site_id, "name", p->c->site_name, "bdseq",
	    (json_int_t)p->bdseq, "version", PACKAGE_VERSION);
	char ts[32], *s;

	if (strcmp(state, "online") == 0) {
		format_ts(now_real_ms(), ts, sizeof(ts));
		json_object_set_new(o, "ts", json_string(ts));
		json_object_set_new(o, "health", json_pack("{s:i, s:b, s:i, s:i}",
		    "alarms_10min", (int)p->health.alarms_10min, "flood",
		    p->health.flood, "chattering", (int)p->health.chattering,
		    "stale", (int)p->health.stale));
		if (p->cat)
			json_object_set_new(o, "catalogue",
			    json_string(p->cat->fp));
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void
publish_status(struct hz_pub *p, const char *state)
{
	char *s = status_json(p, state);

	snprintf(p->topic, sizeof(p->topic), "%s/status", p->d->prefix);
	mosquitto_publish(p->m, NULL, p->topic, (int)strlen(s), s, 1, true);
	free(s);
}

/*
 * The retained catalogue: its kept bytes, as built once for the
 * configuration (a site of 10,000 sensors sends a few MB each time).
 */
static void
publish_catalogue(struct hz_pub *p)
{
	int rc;

	if (p->cat == NULL)
		return;
	snprintf(p->topic, sizeof(p->topic), "%s/catalogue", p->d->prefix);
	rc = mosquitto_publish(p->m, &p->cat_mid, p->topic, (int)p->cat->len,
	    p->cat->json, 1, true);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warnx("mqtt %s: cannot publish the catalogue (%zu bytes) to "
		    "%s:%d: %s", p->d->name, p->cat->len, p->d->host, p->d->port,
		    mosquitto_strerror(rc));
		return;
	}
	memcpy(p->cat_sent, p->cat->fp, sizeof(p->cat_sent));
}

/*
 * A new catalogue is published at once, an unchanged one is not.  The
 * status and every retained state are published again with it, so none
 * names the old catalogue for long (an unchanged state is refreshed only
 * once a minute).
 */
void
pub_set_catalogue(struct hz_pub *p, const struct hz_catalogue *k)
{
	p->cat = k;
	if (p->state == P_CONNECTED && k && strcmp(p->cat_sent, k->fp) != 0) {
		publish_catalogue(p);
		publish_status(p, "online");
		p->just_connected = 1;
	}
}

/* The alarm-system health rides on the retained status. */
void
pub_set_health(struct hz_pub *p, const struct hz_health *h)
{
	p->health = *h;
	if (p->state == P_CONNECTED)
		publish_status(p, "online");
}

static void
set_will(struct hz_pub *p)
{
	char *s;

	p->bdseq = ledger_next_counter(p->l, p->d->name);
	s = status_json(p, "offline");
	snprintf(p->topic, sizeof(p->topic), "%s/status", p->d->prefix);
	if (mosquitto_will_set(p->m, p->topic, (int)strlen(s), s, 1, true) !=
	    MOSQ_ERR_SUCCESS)
		log_warnx("mqtt %s: cannot set will", p->d->name);
	free(s);
}

static void
schedule_retry(struct hz_pub *p)
{
	p->state = P_IDLE;
	p->retry_at = now_mono_ms() + p->retry_ms;
	p->retry_ms = p->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : p->retry_ms * 2;
}

/*
 * TLS is set up again before every connect: libmosquitto checks the files
 * then, and a file that vanished since the config check (or since the last
 * connect) is a fault of this destination, logged and retried, not of the
 * daemon: alarms go on to the other destinations.
 */
static int
setup_tls(struct hz_pub *p)
{
	const struct hz_dest *d = p->d;
	const char *files[] = { d->ca_file, d->cert_file, d->key_file }, *bad = NULL;
	int rc, err = 0;

	rc = mosquitto_tls_set(p->m, d->ca_file, d->ca_path, d->cert_file,
	    d->key_file, NULL);
	/* Once: libmosquitto 2.0 leaks the old version string when repeated. */
	if (rc == MOSQ_ERR_SUCCESS && !p->tls_opts_set)
		rc = mosquitto_tls_opts_set(p->m, 1, d->tls_version, NULL);
	if (rc == MOSQ_ERR_SUCCESS && !p->tls_opts_set && d->tls_insecure)
		rc = mosquitto_tls_insecure_set(p->m, true);
	if (rc == MOSQ_ERR_SUCCESS) {
		p->tls_opts_set = 1;
		if (p->tls_failing)
			log_info("mqtt %s: TLS set-up for broker %s:%d works again",
			    d->name, d->host, d->port);
		p->tls_failing = 0;
		return 0;
	}
	err = errno;
	/* libmosquitto says only "invalid arguments": name the file. */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && !bad; i++)
		if (files[i] && access(files[i], R_OK) != 0) {
			bad = files[i];
			err = errno;
		}
	if (!p->tls_failing++)	/* when it starts; on_connect logs the end */
		log_msg(HZ_LOG_ERR, "mqtt %s: TLS set-up for broker %s:%d failed: "
		    "%s%s%s; retrying (events wait in the ledger)", d->name,
		    d->host, d->port, bad ? bad : "", bad ? ": " : "", bad ||
		    rc == MOSQ_ERR_ERRNO ? strerror(err) : mosquitto_strerror(rc));
	return -1;
}

static void *
dial_main(void *arg)
{
	struct hz_pub *p = arg;
	uint64_t one = 1;

	pause_ms(p->dial_delay_ms);		/* test hook; 0 normally */
	p->dial_rc = p->dial_reconnect ? mosquitto_reconnect_async(p->m) :
	    mosquitto_connect_async(p->m, p->dial_host, p->dial_port,
	    p->dial_keepalive);
	p->dial_errno = errno;
	(void)!write(p->dial_efd, &one, sizeof(one));
	return NULL;
}

static void
start_connect(struct hz_pub *p)
{
	int rc;

	if (p->d->tls && setup_tls(p) != 0) {
		schedule_retry(p);
		return;
	}
	set_will(p);
	p->since = now_mono_ms();
	p->dial_reconnect = mosquitto_socket(p->m) >= 0;
	p->dial_warned = 0;
	if ((rc = pthread_create(&p->dial_th, NULL, dial_main, p)) != 0) {
		errno = rc;
		log_warn("mqtt %s: cannot start a connect thread", p->d->name);
		schedule_retry(p);
		return;
	}
	p->state = P_DIALING;
}

/* The dial thread returned: the connect is under way, or it failed. */
static void
dial_done(struct hz_pub *p)
{
	uint64_t v;

	if (read(p->dial_efd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;			/* not yet */
	pthread_join(p->dial_th, NULL);
	if (p->dial_rc != MOSQ_ERR_SUCCESS) {
		if (!p->complained++)
			log_warnx("mqtt %s: cannot connect to broker %s:%d: %s",
			    p->d->name, p->d->host, p->d->port,
			    p->dial_rc == MOSQ_ERR_ERRNO ? strerror(p->dial_errno) :
			    mosquitto_strerror(p->dial_rc));
		schedule_retry(p);
		return;
	}
	p->state = P_CONNECTING;
	p->since = now_mono_ms();
}

static void
subscribe_command(struct hz_pub *p, const char *verb)
{
	snprintf(p->topic, sizeof(p->topic), "%s/command/%s", p->d->prefix, verb);
	/*
	 * MQTT 5 keeps a message's retain flag as published, so a command
	 * published retained while we are connected is refused too; 3.1.1
	 * brokers clear it on live delivery.
	 */
	if (p->v5)
		mosquitto_subscribe_v5(p->m, NULL, p->topic, 1,
		    MQTT_SUB_OPT_RETAIN_AS_PUBLISHED, NULL);
	else
		mosquitto_subscribe(p->m, NULL, p->topic, 1);
}

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct hz_pub *p = arg;

	(void)m;
	/*
	 * A broker that does not speak MQTT 5 answers with the 3.1.1 code
	 * "unacceptable protocol version" (1), a newer one may say 132.
	 */
	if (p->v5 && (rc == 1 || rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION)) {
		log_msg(HZ_LOG_WARNING, "mqtt %s: broker %s:%d does not speak "
		    "MQTT 5; using 3.1.1, where a command published retained "
		    "while hazmond is connected cannot be told from a live one "
		    "(docs/mqtt.md)", p->d->name, p->d->host, p->d->port);
		p->v5 = 0;
		mosquitto_int_option(p->m, MOSQ_OPT_PROTOCOL_VERSION,
		    MQTT_PROTOCOL_V311);
		return;		/* on_disconnect retries, now with 3.1.1 */
	}
	if (rc != 0) {
		if (!p->complained++)	/* logged when it starts, not every retry */
			log_msg(HZ_LOG_ERR, "mqtt %s: broker %s:%d refused the "
			    "connection: %s", p->d->name, p->d->host, p->d->port,
			    p->v5 ? mosquitto_reason_string(rc) :
			    mosquitto_connack_string(rc));
		return;		/* libmosquitto closes; on_disconnect retries */
	}
	log_info("mqtt %s: connected to %s:%d (bdseq %lld)", p->d->name,
	    p->d->host, p->d->port, (long long)p->bdseq);
	p->state = P_CONNECTED;
	p->just_connected = 1;
	p->complained = 0;
	p->retry_ms = RETRY_MIN_MS;
	publish_catalogue(p);
	publish_status(p, "online");
	subscribe_command(p, p->d->commands ? "+" : "rebirth");
	if (p->d->replay && !p->d->commands)
		subscribe_command(p, "replay");
	/* Unacknowledged events are sent again, in order. */
	pub__replay_rewind(p);
	p->fl_len = 0;
	p->sent = p->acked;
	p->replay_upto = ledger_last_seq(p->l);
	pub_pump(p);
}

/* Takes one command for the core, or says loudly why not. */
static void
queue_command(struct hz_pub *p, const char *verb,
    const struct mosquitto_message *msg)
{
	json_t *o = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	struct hz_command c;
	struct cmd_refusal r;
	const char *why;

	/* A configured actor is who answers for this broker's commands. */
	why = cmd_parse(verb, o, p->d->command_actor[0] ? p->d->command_actor :
	    NULL, &c, &r);
	json_decref(o);
	/*
	 * A retained command is history the broker keeps, never a request
	 * (docs/mqtt.md): under MQTT 5 the flag is as published; a 3.1.1
	 * broker sets it only on what it replays at subscription.
	 */
	if (why == NULL && msg->retain)
		why = "it is a retained message";
	if (why == NULL && p->n_cmds == CMDS)
		why = "too many commands at once";
	if (why != NULL) {
		/* No reply topic: the log is the answer; every one is logged. */
		log_cmsg(HZ_LOG_WARNING, &(struct log_ctx){ .sensor = c.sensor,
		    .slave = -1 }, "mqtt %s: command %s from broker %s:%d refused "
		    "(sensor \"%s\", actor \"%s\"): %s", p->d->name, verb,
		    p->d->host, p->d->port, c.sensor, c.actor, why);
		return;
	}
	p->cmds[p->n_cmds++] = c;
}

/*
 * <prefix>/command/rebirth: publish the status and every state again.
 * With `commands = true`: ack, shelve, unshelve and oos, for the core.
 */
static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	static const char *const verbs[] = { "ack", "shelve", "unshelve", "oos" };
	struct hz_pub *p = arg;
	size_t n = strlen(p->d->prefix);
	const char *verb;

	(void)m;
	if (strncmp(msg->topic, p->d->prefix, n) != 0 ||
	    strncmp(msg->topic + n, "/command/", 9) != 0)
		return;
	verb = msg->topic + n + 9;
	if (strcmp(verb, "rebirth") == 0) {
		if (msg->retain)
			return;	/* a retained rebirth is history, not a request */
		log_info("mqtt %s: rebirth requested", p->d->name);
		pub_rebirth(p);
		return;
	}
	if (strcmp(verb, "replay") == 0 && p->d->replay) {
		pub__replay_request(p, msg);
		return;
	}
	for (size_t i = 0; p->d->commands && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verb, verbs[i]) == 0) {
			queue_command(p, verb, msg);
			return;
		}
}

int
pub_take_command(struct hz_pub *p, struct hz_command *cmd)
{
	if (p->n_cmds == 0)
		return 0;
	*cmd = p->cmds[0];
	memmove(&p->cmds[0], &p->cmds[1], --p->n_cmds * sizeof(p->cmds[0]));
	return 1;
}

static void
on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct hz_pub *p = arg;

	(void)m;
	if (p->stopping) {
		/* Our own goodbye (rc 0 is "No error."): no warning, no retry. */
		log_debug("mqtt %s: disconnected from %s:%d", p->d->name,
		    p->d->host, p->d->port);
		p->state = P_IDLE;
		return;
	}
	if (p->state == P_CONNECTED)
		log_warnx("mqtt %s: lost connection to %s:%d (%s); %lld events "
		    "unacknowledged", p->d->name, p->d->host, p->d->port,
		    mosquitto_strerror(rc), (long long)(p->sent - p->acked));
	else if (!p->complained++)
		log_warnx("mqtt %s: cannot connect to broker %s:%d: %s",
		    p->d->name, p->d->host, p->d->port,
		    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	schedule_retry(p);
}

static void
on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct hz_pub *p = arg;

	(void)m;
	/* In flight, mids are unique: the catalogue's is no event's. */
	if (p->cat_mid && mid == p->cat_mid) {
		p->cat_mid = 0;
		p->cat_acked = 1;
	}
	pub__window_ack(p, mid);
	/* pub_io refills the window once per read, not once per PUBACK. */
}

/*
 * Fault injection for tests: HAZMOND_TEST_DIAL_DELAY=NAME:MS makes every
 * connect of destination NAME take MS longer, as a hanging DNS would.
 */
static void
dial_test_hook(struct hz_pub *p)
{
	const char *e = test_hooks()->dial_delay, *colon;

	if (e && (colon = strchr(e, ':')) != NULL &&
	    (size_t)(colon - e) == strlen(p->d->name) &&
	    strncmp(e, p->d->name, (size_t)(colon - e)) == 0)
		p->dial_delay_ms = atoi(colon + 1);
}

struct hz_pub *
pub_new(const struct hz_config *c, unsigned dest, struct hz_ledger *l)
{
	struct hz_pub *p = xcalloc(1, sizeof(*p));
	char id[2 * HZ_ID_MAX + 16];

	p->c = c;
	p->d = &c->dests[dest];
	p->l = l;
	p->retry_ms = RETRY_MIN_MS;
	/*
	 * A destination seen for the first time starts at the end of the
	 * ledger: it must not receive months of history as "replayed".
	 */
	p->acked = ledger_cursor(l, p->d->name);
	if (p->acked < 0) {
		p->acked = ledger_last_seq(l);
		ledger_set_cursor(l, p->d->name, p->acked);
	}
	p->timed = p->acked;	/* what was delivered before is not timed */
	snprintf(id, sizeof(id), "hazmond-%s-%s", c->site_id, p->d->name);
	p->m = mosquitto_new(id, true, p);
	if (p->m == NULL)
		fatal("mqtt %s: mosquitto_new", p->d->name);
	/*
	 * A destination that takes commands or replay requests speaks MQTT 5
	 * where the broker does (retain-as-published, above); the others keep
	 * 3.1.1, which every broker speaks.
	 */
	p->v5 = p->d->commands || p->d->replay;
	mosquitto_int_option(p->m, MOSQ_OPT_PROTOCOL_VERSION, p->v5 ?
	    MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	/*
	 * An alarm must not wait for Nagle: a small publish behind an
	 * unacknowledged one would sit out the broker's delayed ACK (~40 ms).
	 */
	mosquitto_int_option(p->m, MOSQ_OPT_TCP_NODELAY, 1);
	/*
	 * libmosquitto holds back what is past 20 unacknowledged QoS 1/2
	 * messages; a burst then goes at 20 per round trip, not at the
	 * WINDOW the pump keeps in flight.  An MQTT 5 broker's Receive
	 * Maximum (Mosquitto: max_inflight_messages) still lowers it.
	 */
	mosquitto_int_option(p->m, MOSQ_OPT_SEND_MAXIMUM, WINDOW);
	if (p->d->username && mosquitto_username_pw_set(p->m, p->d->username,
	    p->d->password) != MOSQ_ERR_SUCCESS)
		fatalx("mqtt %s: cannot set the user name", p->d->name);
	mosquitto_connect_callback_set(p->m, on_connect);
	mosquitto_disconnect_callback_set(p->m, on_disconnect);
	mosquitto_publish_callback_set(p->m, on_publish);
	mosquitto_message_callback_set(p->m, on_message);
	if ((p->dial_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		fatal("mqtt %s: eventfd", p->d->name);
	p->dial_host = xstrdup(p->d->host);
	p->dial_port = p->d->port;
	p->dial_keepalive = p->d->keepalive;
	dial_test_hook(p);
	start_connect(p);
	return p;
}

void
pub_free(struct hz_pub *p)
{
	if (p == NULL)
		return;
	if (p->state == P_DIALING) {
		/* A dial stuck in DNS still uses p: then p stays, on purpose. */
		if (join_within(p->dial_th, 2000) != 0) {
			log_msg(HZ_LOG_ERR, "mqtt %s: connect to %s still hangs "
			    "(DNS?); left behind", p->d->name, p->dial_host);
			return;
		}
	}
	close(p->dial_efd);
	free(p->dial_host);
	mosquitto_destroy(p->m);
	for (unsigned i = 0; i < p->n_forget; i++)
		free(p->forget[i]);
	free(p->forget);
	free(p);
}

int
pub_fd(struct hz_pub *p)
{
	if (p->state == P_DIALING)
		return p->dial_efd;
	return p->state == P_IDLE ? -1 : mosquitto_socket(p->m);
}

int
pub_want_write(struct hz_pub *p)
{
	return p->state >= P_CONNECTING && mosquitto_want_write(p->m);
}

int
pub_connected(const struct hz_pub *p)
{
	return p->state == P_CONNECTED;
}

/*
 * Saving the cursor costs a sync of the ledger, on the core thread, and a
 * burst's PUBACKs come in many small reads: while events are in flight it
 * is saved at most every CURSOR_SAVE_MS, else (and at a stop) at once.  A
 * cursor older than the truth after a crash only means events sent again
 * (replayed), never one lost.
 */
static void
flush_cursor(struct hz_pub *p, int now_anyway)
{
	int64_t now;

	if (!p->cursor_dirty)
		return;
	now = now_mono_ms();
	if (!now_anyway && p->fl_len > 0 && now < p->cursor_at)
		return;
	if (ledger_set_cursor(p->l, p->d->name, p->acked) == 0) {
		p->cursor_dirty = 0;
		p->cursor_at = now + CURSOR_SAVE_MS;
	}
}

void
pub_io(struct hz_pub *p, int readable, int writable)
{
	if (p->state == P_DIALING) {
		if (readable)
			dial_done(p);
		return;
	}
	if (readable && p->state != P_IDLE)
		mosquitto_loop_read(p->m, 1);
	if (writable && p->state != P_IDLE)
		mosquitto_loop_write(p->m, 1);
	pub_pump(p);
	flush_cursor(p, 0);
}

int64_t
pub_tick(struct hz_pub *p, int64_t now)
{
	if (p->state == P_IDLE && now >= p->retry_at)
		start_connect(p);
	if (p->state == P_CONNECTING &&
	    now - p->since > (int64_t)p->d->keepalive * 1000) {
		log_warnx("mqtt %s: no answer from broker %s:%d within %d s",
		    p->d->name, p->d->host, p->d->port, p->d->keepalive);
		mosquitto_disconnect(p->m);
		schedule_retry(p);
	}
	if (p->state == P_DIALING && !p->dial_warned &&
	    now - p->since > (int64_t)p->d->keepalive * 1000) {
		log_warnx("mqtt %s: connecting to broker %s:%d has taken over %d s "
		    "(name resolution?); alarms to other destinations go on, events "
		    "wait in the ledger", p->d->name, p->d->host, p->d->port,
		    p->d->keepalive);
		p->dial_warned = 1;
	}
	if (p->state >= P_CONNECTING && now >= p->misc_at) {
		mosquitto_loop_misc(p->m);	/* keepalive pings */
		p->misc_at = now + 1000;
	}
	if (p->n_forget)
		pub_flush_forgotten(p);
	flush_cursor(p, 0);
	if (p->state == P_IDLE)
		return p->retry_at;
	if (p->state == P_DIALING)
		return now + 1000;	/* its eventfd wakes us; this is for the warning */
	pub__replay_step(p, now);
	return pub__replay_due(p, now);
}


static int
send_event(void *arg, int64_t seq, const char *sensor, const char *payload)
{
	return pub__put_event(arg, seq, sensor, payload, 0);
}

/* Sends waiting events while the window has room. */
void
pub_pump(struct hz_pub *p)
{
	while (p->state == P_CONNECTED && p->fl_len < WINDOW &&
	    p->sent < ledger_last_seq(p->l)) {
		int64_t before = p->sent;

		if (ledger_scan(p->l, p->sent, (int)(WINDOW - p->fl_len),
		    send_event, p) <= 0 || p->sent == before)
			break;
	}
	pub__replay_step(p, now_mono_ms());
}

/* Whether a state could go out now: connected, no event waiting. */
int
pub_takes_state(struct hz_pub *p)
{
	return p->state == P_CONNECTED && p->sent >= ledger_last_seq(p->l);
}

/* Returns 1 when the state went out; 0 and the next reading tries again. */
int
pub_state(struct hz_pub *p, const char *sensor, const char *payload)
{
	if (!pub_takes_state(p))
		return 0;	/* events first */
	snprintf(p->topic, sizeof(p->topic), "%s/sensors/%s/state", p->d->prefix,
	    sensor);
	return mosquitto_publish(p->m, NULL, p->topic, (int)strlen(payload),
	    payload, 0, true) == MOSQ_ERR_SUCCESS;
}

int64_t
pub_acked(const struct hz_pub *p)
{
	return p->acked;
}

/*
 * True once after the broker acknowledged a catalogue: libmosquitto has
 * freed its two copies of it (a few MB at 10,000 sensors), and the heap
 * can give that back (core.c).
 */
int
pub_take_trim(struct hz_pub *p)
{
	int t = p->cat_acked;

	p->cat_acked = 0;
	return t;
}


/* True once after each successful connect: time to publish every state. */
int
pub_take_connected(struct hz_pub *p)
{
	int v = p->just_connected;

	p->just_connected = 0;
	return v;
}

/* Says goodbye: a clean disconnect does not fire the will. */
void
pub_shutdown(struct hz_pub *p)
{
	int64_t end = now_mono_ms() + 1000;

	p->stopping = 1;
	flush_cursor(p, 1);
	if (p->state != P_CONNECTED)
		return;
	publish_status(p, "offline");
	while (mosquitto_want_write(p->m) && now_mono_ms() < end)
		if (mosquitto_loop_write(p->m, 1) != MOSQ_ERR_SUCCESS)
			break;
	mosquitto_disconnect(p->m);
	mosquitto_loop_write(p->m, 1);
	flush_cursor(p, 1);
}

/* A reload kept this destination: it now reads the new configuration. */
void
pub_rebind(struct hz_pub *p, const struct hz_config *c, unsigned dest)
{
	p->c = c;
	p->d = &c->dests[dest];
}

/*
 * Rebirth (hazmonctl, command/rebirth): the catalogue, the status and
 * every state again, as after a connect.
 */
void
pub_rebirth(struct hz_pub *p)
{
	if (p->state != P_CONNECTED)
		return;		/* the next connect publishes them anyway */
	publish_catalogue(p);
	publish_status(p, "online");
	p->just_connected = 1;
}

/* Clears the retained state of removed sensors, now or once connected. */
void
pub_forget(struct hz_pub *p, const char *sensor)
{
	p->forget = xgrow(p->forget, &p->cap_forget, p->n_forget + 1,
	    sizeof(*p->forget));
	p->forget[p->n_forget++] = xstrdup(sensor);
	pub_flush_forgotten(p);
}

static void
pub_flush_forgotten(struct hz_pub *p)
{
	while (p->n_forget > 0 && p->state == P_CONNECTED) {
		char *s = p->forget[p->n_forget - 1];

		snprintf(p->topic, sizeof(p->topic), "%s/sensors/%s/state",
		    p->d->prefix, s);
		/* An empty retained message removes the retained one. */
		if (mosquitto_publish(p->m, NULL, p->topic, 0, NULL, 1, true) !=
		    MOSQ_ERR_SUCCESS)
			return;
		free(s);
		p->n_forget--;
	}
}
