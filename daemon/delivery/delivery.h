/*
 * delivery.h - durable events and MQTT.
 *
 *   ledger.c   the event ledger and saved alarm states (SQLite, WAL)
 *   checkpoint.c  the ledger's WAL checkpoints, in a thread of their own
 *   event.c    the JSON documents of the MQTT contract (docs/mqtt.md)
 *   batch.c    durability policy: each step of the core is one ledger
 *              transaction, committed before anything of it is published;
 *              events the ledger refused are kept and retried (batch.h)
 *   publish.c  MQTT destinations, driven from the core's poll loop
 *   window.c   a destination's events in flight, its acknowledged
 *              cursor, its latency histogram (publish-int.h)
 *   replay-send.c  a destination's replays on request: requests,
 *              replies, the paced sending (publish-int.h)
 *   latency.c  the publish-latency histogram of a destination (pure)
 *   replay.c   a consumer's request to send a range of events again: its
 *              check, the queue of accepted ones, the replies (pure)
 *   catalogue.c  the retained sensor catalogue and its fingerprint
 */
#ifndef HAZMON_DELIVERY_H
#define HAZMON_DELIVERY_H

#include <stdint.h>

#include "alarm.h"

/* ledger.c: durable events (SQLite) */
struct hz_ledger;
struct hz_ledger *ledger_open(const char *dir);
void ledger_close(struct hz_ledger *l);
int ledger_begin(struct hz_ledger *l);
int ledger_commit(struct hz_ledger *l);
void ledger_rollback(struct hz_ledger *l);
int64_t ledger_reserve_seq(struct hz_ledger *l);
int ledger_append(struct hz_ledger *l, const struct hz_event *e,
    const char *payload);
int ledger_append_again(struct hz_ledger *l, const struct hz_event *e,
    const char *payload);
int64_t ledger_last_seq(struct hz_ledger *l);
typedef int (*ledger_fn)(void *arg, int64_t seq, const char *sensor,
    const char *payload);
int ledger_scan(struct hz_ledger *l, int64_t after, int limit, ledger_fn fn,
    void *arg);
int64_t ledger_cursor(struct hz_ledger *l, const char *dest);	/* -1: none yet */
int ledger_set_cursor(struct hz_ledger *l, const char *dest, int64_t seq);
int64_t ledger_next_counter(struct hz_ledger *l, const char *key);	/* -1: failed */
int ledger_prune(struct hz_ledger *l, int64_t before_ms, int64_t delivered);
int ledger_save_level(struct hz_ledger *l, const char *sensor,
    const char *level, const struct hz_level_state *ls);
int ledger_save_sensor(struct hz_ledger *l, const char *sensor,
    const struct hz_sensor_alarm *sa);
int ledger_load_levels(struct hz_ledger *l, saved_level_fn fn, void *arg);
int ledger_load_sensors(struct hz_ledger *l, saved_sensor_fn fn, void *arg);
int ledger_history(struct hz_ledger *l, int64_t since_ms, const char *sensor,
    int limit, ledger_fn fn, void *arg);
int64_t ledger_count_after(struct hz_ledger *l, int64_t seq);	/* -1: failed */
int ledger_forget(struct hz_ledger *l, const char *sensor, const char *level);
int ledger_start_checkpoints(struct hz_ledger *l);
unsigned ledger_checkpoints(struct hz_ledger *l);	/* complete ones so far */

/* checkpoint.c: for ledger.c only */
struct hz_ckpt;
struct hz_ckpt *ckpt_start(const char *path);
void ckpt_note(struct hz_ckpt *k, int pages);
unsigned ckpt_done(struct hz_ckpt *k);
void ckpt_stop(struct hz_ckpt *k);
int64_t ledger_first_seq(struct hz_ledger *l);	/* last + 1: none kept */

/*
 * event.c: JSON documents of the MQTT contract.  cat: the fingerprint
 * of the catalogue in force (catalogue.c), or NULL: none in the document.
 */
struct json_t;
char *event_json(const char *site, const char *cat, const struct hz_event *e);
char *event_obj(const char *site, const char *cat, const struct hz_event *e);
char *event_seal(char *rest, const char *site, int64_t seq);
char *state_json(const char *site, const char *cat,
    const struct hz_state_view *v);
void event_set_error(struct json_t *o, int err, const char *reason);
/*
 * event.c: the JSON writer behind them, as jansson's json_dumps(
 * JSON_COMPACT | JSON_REAL_PRECISION(10)) writes; for delivery's files.
 */
struct jw {
	struct hz_str b;
	int items;		/* members written so far */
};
void jw_put(struct jw *w, const char *s, size_t n);
void jw_key(struct jw *w, const char *key);
void jw_strval(struct jw *w, const char *s);
void jw_str(struct jw *w, const char *key, const char *s);	/* NULL: null */
void jw_raw(struct jw *w, const char *key, const char *text);
void jw_num(struct jw *w, const char *key, double v);	/* NaN: null */

/*
 * catalogue.c: the retained sensor catalogue of a configuration
 * (docs/mqtt.md), built once per change; its bytes are kept and sent
 * as they are on every connect and rebirth.
 */
#define HZ_CATALOGUE_FP	16	/* hex digits of its fingerprint */
struct hz_catalogue {
	char *json;
	size_t len;
	char fp[HZ_CATALOGUE_FP + 1];	/* a digest of all but its ts */
};
struct hz_catalogue *catalogue_build(const struct hz_config *c, int64_t ts_ms);
void catalogue_free(struct hz_catalogue *k);

/* latency.c: reading -> publish latency, per destination (pure) */
#define LATENCY_BUCKETS	13	/* 1 ms .. 10 s, then +Inf */
#define LATENCY_ORIGINS	4096	/* fresh events remembered, by seq */
extern const double latency_le[LATENCY_BUCKETS];	/* seconds */
/*
 * Where a fresh event's time went (docs/control.md): its reading waiting
 * for the core, the batch's evaluation, the ledger's writes and commit,
 * and the hand-over to libmosquitto after the commit.
 */
enum { STAGE_QUEUE, STAGE_EVALUATE, STAGE_RECORD, STAGE_HAND_OVER, STAGES };
extern const char *const latency_stage[STAGES];
struct hz_latency {
	uint64_t n[LATENCY_BUCKETS + 1];	/* per bucket, not cumulative */
	uint64_t count;
	uint64_t sum_us;
	uint64_t staged;		/* events timed stage by stage */
	uint64_t stage_sum_us[STAGES], stage_max_us[STAGES];
};
struct hz_origin {
	uint32_t seq;			/* the low 32 bits of its seq */
	uint32_t batch;			/* the batch that numbered it */
	int64_t mono_us;		/* when its poll completed, or 0 */
};
#define LATENCY_BATCHES	256	/* recent batches' stamps */
struct hz_batch_stamps {
	uint32_t id;
	int64_t taken_us;		/* the core took its readings */
	int64_t evaluated_us;		/* evaluated: its writes begin */
	int64_t committed_us;		/* the ledger committed it; 0: not yet */
};
struct hz_origins {
	struct hz_origin r[LATENCY_ORIGINS];
	struct hz_batch_stamps b[LATENCY_BATCHES];
	uint32_t batch;			/* the latest batch's id */
};
unsigned latency_bucket(int64_t us);
void latency_add(struct hz_latency *h, int64_t us);
uint64_t latency_cumulative(const struct hz_latency *h, unsigned i);
void origins_batch(struct hz_origins *o, int64_t taken_us,
    int64_t evaluated_us);
void origins_note(struct hz_origins *o, int64_t seq, int64_t mono_us);
void origins_committed(struct hz_origins *o, int64_t mono_us);
int64_t latency_of(const struct hz_origins *o, int64_t seq,
    const char *payload, int64_t now_mono_us, int64_t now_real_ms);
void latency_stages(struct hz_latency *h, const struct hz_origins *o,
    int64_t seq, int64_t now_mono_us);
/* replay.c: replay on request (pure) */
#define HZ_REPLAY_MAX_RANGE	10000	/* events per request */
#define HZ_REPLAY_QUEUE		4	/* accepted requests per destination */
#define REPLAY_REQ_BURST	5	/* requests at once, then */
#define REPLAY_REQ_EVERY_MS	2000	/* one per this */
struct hz_replay {
	int64_t from, to;		/* inclusive */
	int64_t next;			/* the next seq to send */
	int64_t high;			/* the highest seq sent so far */
	int64_t sent;			/* events of the range found and sent */
	char request_id[65];		/* "": none given */
};
struct hz_replayq {
	struct hz_replay r[HZ_REPLAY_QUEUE];
	unsigned head, n;
	int64_t req_at;			/* request rate limit (monotonic ms) */
};
struct replay_answer {
	const char *code;		/* refused: bad_request, invalid, ... */
	char why[160];
	int64_t from, to, oldest, last;
	char request_id[65];
};
int replay_check(const struct json_t *o, const char *site, int64_t oldest,
    int64_t last, struct hz_replay *r, struct replay_answer *a);
int replay_push(struct hz_replayq *q, const struct hz_replay *r,
    struct replay_answer *a);
struct hz_replay *replay_head(struct hz_replayq *q);
void replay_pop(struct hz_replayq *q);
int replay_req_allowed(struct hz_replayq *q, int64_t now);
char *replay_reply_json(const char *site, const char *result,
    const struct replay_answer *a, int64_t sent);

/* publish.c: MQTT destinations, driven from the core's poll loop */
struct hz_pub;
struct hz_pub *pub_new(const struct hz_config *c, unsigned dest,
    struct hz_ledger *l);
void pub_free(struct hz_pub *p);
int pub_fd(struct hz_pub *p);
int pub_want_write(struct hz_pub *p);
void pub_io(struct hz_pub *p, int readable, int writable);
int64_t pub_tick(struct hz_pub *p, int64_t now);	/* returns next due */
void pub_pump(struct hz_pub *p);
int pub_takes_state(struct hz_pub *p);
int pub_state(struct hz_pub *p, const char *sensor, const char *payload);
int pub_take_connected(struct hz_pub *p);
int64_t pub_acked(const struct hz_pub *p);
int pub_take_trim(struct hz_pub *p);
int pub_take_command(struct hz_pub *p, struct hz_command *cmd);
void pub_set_health(struct hz_pub *p, const struct hz_health *h);
void pub_live(struct hz_pub *p, const char *sensor, const char *payload);
void pub_shutdown(struct hz_pub *p);
int pub_connected(const struct hz_pub *p);
void pub_rebind(struct hz_pub *p, const struct hz_config *c, unsigned dest);
void pub_rebirth(struct hz_pub *p);
void pub_set_catalogue(struct hz_pub *p, const struct hz_catalogue *k);
void pub_forget(struct hz_pub *p, const char *sensor);
void pub_set_origins(struct hz_pub *p, const struct hz_origins *o);
const struct hz_latency *pub_latency(const struct hz_pub *p);
int pub_replay(struct hz_pub *p, const struct json_t *req, const char *by,
    struct replay_answer *a);

#endif
