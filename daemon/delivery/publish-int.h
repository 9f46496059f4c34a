/*
 * publish-int.h - between publish.c (the MQTT client of a destination),
 * window.c (what it has in flight) and replay-send.c (what it sends on a
 * consumer's request) only.  Calls go publish.c -> replay-send.c ->
 * window.c, and publish.c -> window.c: never back.
 */
#ifndef HAZMON_PUBLISH_INT_H
#define HAZMON_PUBLISH_INT_H

#include <pthread.h>
#include <stdint.h>
#include <mosquitto.h>

#include "delivery.h"

#define WINDOW		64	/* events in flight per destination */
#define CMDS		64	/* received commands the core has not taken yet */

enum pstate { P_IDLE, P_DIALING, P_CONNECTING, P_CONNECTED };

struct inflight {
	int mid;
	int64_t seq;
	int done;
	int replay;		/* sent on request: says nothing of the cursor */
};

struct hz_pub {
	const struct hz_config *c;
	const struct hz_dest *d;
	struct hz_ledger *l;
	struct mosquitto *m;
	enum pstate state;
	int64_t retry_at, retry_ms, since, misc_at;
	int64_t acked;		/* every event <= acked is delivered */
	int64_t sent;		/* highest seq handed to libmosquitto */
	int64_t replay_upto;	/* events <= this are sent as replayed */
	int64_t bdseq;
	int cursor_dirty;
	int64_t cursor_at;	/* monotonic ms: the cursor may be saved again */
	int just_connected;
	int stopping;		/* pub_shutdown: the disconnect is ours */
	struct hz_health health;
	struct hz_command cmds[CMDS];	/* received, not yet taken by the core */
	unsigned n_cmds;
	int complained;
	int v5;				/* MQTT 5 (commands: retain-as-published) */
	int tls_failing;		/* setup_tls failed since it last worked */
	int tls_opts_set;		/* version and insecure, set once */
	char **forget;			/* state topics to clear (removed sensors) */
	unsigned n_forget;
	size_t cap_forget;
	pthread_t dial_th;		/* P_DIALING: the connect call runs there */
	int dial_efd;			/* written when it returns */
	int dial_rc, dial_errno, dial_reconnect, dial_warned;
	char *dial_host;		/* own copies: a reload may free the config */
	int dial_port, dial_keepalive;
	int dial_delay_ms;		/* test hook: a name that resolves slowly */
	struct inflight fl[WINDOW];
	unsigned fl_head, fl_len;
	struct hz_replayq rq;		/* replays on request; the head is sent */
	double rp_credit;		/* events it may send now (replay_rate) */
	int64_t rp_at;			/* when rp_credit was counted */
	int rp_stalled;			/* a publish failed: try at the next turn */
	unsigned rp_flooded;		/* refused as too many, not yet logged */
	char topic[512];
	const struct hz_catalogue *cat;	/* the core's; NULL: none yet */
	char cat_sent[HZ_CATALOGUE_FP + 1];	/* fingerprint last published */
	int cat_mid;			/* its message id until its PUBACK, or 0 */
	int cat_acked;			/* that PUBACK came: pub_take_trim */
	const struct hz_origins *origins;	/* where events began, or NULL */
	struct hz_latency lat;		/* reading -> first hand-over */
	int64_t timed;			/* highest seq counted in lat */
};

/* window.c */
int pub__put_event(struct hz_pub *p, int64_t seq, const char *sensor,
    const char *payload, int replay);
void pub__window_ack(struct hz_pub *p, int mid);

/* replay-send.c */
void pub__replay_request(struct hz_pub *p, const struct mosquitto_message *msg);
void pub__replay_rewind(struct hz_pub *p);
void pub__replay_step(struct hz_pub *p, int64_t now);
int64_t pub__replay_due(struct hz_pub *p, int64_t now);

#endif
