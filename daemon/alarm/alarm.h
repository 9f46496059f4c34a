/*
 * alarm.h - from readings to alarm and fault events, and operator actions.
 *
 *   alarm.c    the alarm state machine of one sensor's levels (pure)
 *   eval.c     the evaluator: readings -> events and saved states; ack,
 *              shelve, out of service, frozen, stale, orphans, health
 *   view.c     what a reading and a state show: fault reason, value,
 *              quality (pure)
 *   command.c  operator actions as JSON -> struct hz_command, for the
 *              control socket and MQTT alike (pure)
 */
#ifndef HAZMON_ALARM_H
#define HAZMON_ALARM_H

#include <stdint.h>

#include "bus.h"

/* alarm.c: the alarm state machine; pure, no I/O and no clock reads */
enum hz_astate {
	HZ_A_NORMAL = 0,
	HZ_A_ACTIVE_UNACK,		/* raised, nobody has seen it yet */
	HZ_A_ACTIVE_ACK,		/* raised and acknowledged */
	HZ_A_RTN_UNACK			/* condition gone, never acknowledged */
};

struct hz_level_state {
	uint8_t cond;			/* condition holds (after delays) */
	uint8_t state;			/* enum hz_astate */
	uint8_t pending;		/* a condition flip waits for its delay */
	int64_t pending_since;		/* ms */
	int64_t active_since;		/* ms, when last raised */
	double prev_value;		/* rate levels: the previous reading */
	int64_t prev_ts;		/* ms */
	uint8_t have_prev;
};

enum hz_transition_kind { HZ_T_RAISED, HZ_T_CLEARED, HZ_T_ACKED };
struct hz_transition {
	unsigned level;
	enum hz_transition_kind kind;
};

/* `out` needs room for 2 * n transitions. */
unsigned alarm_eval(const struct hazmon_level *levels, unsigned n,
    struct hz_level_state *st, double value, int64_t ts_ms, int suppressed,
    struct hz_transition *out);
unsigned alarm_reconcile(const struct hazmon_level *levels, unsigned n,
    struct hz_level_state *st, int64_t ts_ms, struct hz_transition *out);
unsigned alarm_ack(const struct hazmon_level *levels, unsigned n,
    struct hz_level_state *st, int level, struct hz_transition *out);
int alarm_priority_rank(const char *priority);
int alarm_highest_active(const struct hazmon_level *levels, unsigned n,
    const struct hz_level_state *st);
const char *alarm_state_name(enum hz_astate s);
/* What every display asks of a level's state; one answer for all. */
int alarm_active(enum hz_astate s);	/* raised, acknowledged or not */
int alarm_unacked(enum hz_astate s);	/* waiting for an acknowledgement */

/* An event, as the evaluator makes it and the ledger keeps it. */
struct hz_event {
	int64_t seq;
	int64_t ts_ms;
	const char *sensor;
	const char *kind;		/* "alarm" | "fault" */
	const char *event;		/* raised, cleared, acknowledged, ... */
	const char *level;
	const char *priority;
	double value;
	const char *unit;
	double setpoint;		/* NaN when none */
	const char *actor;		/* who did it (operator actions), or NULL */
	const char *reason;		/* shelving reason, or NULL */
	int64_t until_ms;		/* shelved until, or 0 */
	int err;			/* fault: errno of the failed read, or 0 */
};

/* Shelving, out-of-service and the raised fault of one sensor, as saved. */
struct hz_sensor_alarm {
	int64_t shelved_until;		/* ms; 0 = not shelved */
	const char *shelve_reason, *shelve_actor;
	int oos;
	const char *oos_actor;
	int fault;			/* a fault event was raised, not cleared */
	uint32_t fault_flags;		/* of the reading that raised it */
	int fault_err;			/* its errno, or 0 */
	double frozen_value;		/* frozen: the value that stopped moving */
	int64_t frozen_since;		/* ms, realtime */
};
/* Saved states handed back one by one, at start (the ledger, the sink). */
typedef void (*saved_level_fn)(void *arg, const char *sensor,
    const char *level, const struct hz_level_state *ls);
typedef void (*saved_sensor_fn)(void *arg, const char *sensor,
    const struct hz_sensor_alarm *sa);

/* view.c */
struct hz_state_view {
	const char *sensor;
	const struct hazmon_reading *r;
	const char *unit;
	const char *alarm;		/* most severe active level, or NULL */
	const char *alarm_state;	/* of that level, or "normal" */
	unsigned unacknowledged;	/* levels waiting for an acknowledgement */
	int64_t shelved_until;		/* ms, 0 when not shelved */
	int out_of_service;
	int stale;			/* no reading for longer than allowed */
	int err;			/* errno of the latest reading, or 0 */
	int64_t last_ok;		/* realtime ms of the last ok reading, 0: none */
	int64_t ts_ms;			/* of the latest reading, 0: none */
};
const char *event_fault_reason(uint32_t flags);
double event_value(const struct hazmon_reading *r);
const char *view_quality(const struct hz_state_view *v);
const char *view_fault(const struct hz_state_view *v);
double view_value(const struct hz_state_view *v);

/* eval.c */
#define SHELVE_MAX_S	(24 * 3600.0)	/* shelving is always bounded */
/*
 * Everything the evaluator reports, and the only way it writes: events,
 * and the alarm and fault states a restart restores.  The caller runs each
 * step of the evaluator (a reading, an action, the tick, a reload's
 * removals) as one batch, so that the states are durable exactly as far
 * as the events that changed them.  delivery/batch.c gives the real sink
 * (ledger and batch); the unit tests a fake one.
 *
 * Writes return 0 or -errno.  The evaluator goes on either way: a batch
 * the ledger refused is noticed by batch.c, which has eval_save_all write
 * every state again once the ledger takes writes.
 */
struct hz_sink {
	void *arg;
	/* An event; the sink sets e->seq.  e and its strings are only lent. */
	void (*event)(void *arg, struct hz_event *e);
	/* The state of one of a sensor's alarm levels. */
	int (*save_level)(void *arg, const char *sensor, const char *level,
	    const struct hz_level_state *ls);
	/* A sensor's shelving, out-of-service and raised fault. */
	int (*save_sensor)(void *arg, const char *sensor,
	    const struct hz_sensor_alarm *sa);
	/*
	 * Drops the saved states of a sensor and its levels (level NULL), or
	 * of one level: what left the configuration.
	 */
	int (*forget)(void *arg, const char *sensor, const char *level);
	/*
	 * At eval_init: every saved level state to level(), then every saved
	 * sensor state to sensor(), each with fn_arg.
	 */
	int (*load)(void *arg, saved_level_fn level, saved_sensor_fn sensor,
	    void *fn_arg);
};
struct srt;
struct hz_eval {
	const struct hz_config *c;
	struct hz_sink sink;
	struct srt *rt;			/* per sensor */
	int quiet;			/* a reload: restored states are not news */
	unsigned *by_id;		/* sensor indices sorted by id (eval_find) */
	struct orphan *orphans;		/* saved states the config no longer has */
	size_t n_orphans, cap_orphans;
	int64_t *raises;		/* raise times of the last 10 minutes */
	size_t n_raises, cap_raises;
};
struct hz_health {
	unsigned alarms_10min;
	int flood;			/* more than 10 alarms in 10 minutes */
	unsigned chattering;		/* levels raised 3 times within a minute */
	unsigned stale;			/* levels active for more than 24 h */
};
void eval_init(struct hz_eval *ev, const struct hz_config *c,
    const struct hz_sink *sink, int quiet);
void eval_free(struct hz_eval *ev);
void eval_reading(struct hz_eval *ev, const struct hz_msg *m);
int eval_find(const struct hz_eval *ev, const char *sensor);
int eval_ack(struct hz_eval *ev, const char *sensor, const char *level,
    const char *actor, int64_t ts);
int eval_shelve(struct hz_eval *ev, const char *sensor, double seconds,
    const char *reason, const char *actor, int64_t ts);
int eval_unshelve(struct hz_eval *ev, const char *sensor, const char *actor,
    int64_t ts);
int eval_oos(struct hz_eval *ev, const char *sensor, int on, const char *actor,
    int64_t ts);
struct hz_command;
int eval_command(struct hz_eval *ev, const struct hz_command *cmd, int64_t ts);
void eval_tick(struct hz_eval *ev, int64_t ts);
void eval_stale(struct hz_eval *ev, int64_t now_mono,
    void (*changed)(void *arg, unsigned i), void *arg);
int64_t eval_stale_ms(const struct hz_config *c, unsigned i);
void eval_view(const struct hz_eval *ev, unsigned i, struct hz_state_view *v);
void eval_health(struct hz_eval *ev, int64_t now, struct hz_health *h);
const struct hz_level_state *eval_levels(const struct hz_eval *ev, unsigned i);
void eval_remove(struct hz_eval *ev, unsigned i, const char *level, int64_t ts);
void eval_carry(struct hz_eval *ev, const struct hz_eval *old, const int *from);
void eval_save_all(struct hz_eval *ev);
void eval_orphans(struct hz_eval *ev, int64_t ts, int announce);

/* An operator action received on a command topic. */
struct hz_command {
	char verb[16];			/* ack | shelve | unshelve | oos */
	char sensor[HZ_ID_MAX];
	char level[HAZMON_LEVEL_NAME_MAX];	/* "" = all levels */
	char actor[64];
	char reason[128];
	double seconds;			/* shelve */
	int on;				/* oos */
};
/* Shelving from hazmonctl or MQTT: at least this long (at most 24 h). */
#define HZ_SHELVE_MIN_S	1.0
#define HZ_SHELVE_MAX_S	86400.0

/* command.c: operator actions from the control socket and MQTT (pure) */
struct json_t;
int cmd_number(const struct json_t *v, double lo, double hi, double *out);
struct cmd_refusal {
	const char *code;		/* bad_request | invalid | no_sensor | no_level */
	char why[160];
};
const char *cmd_parse(const char *verb, const struct json_t *o,
    const char *actor, struct hz_command *c, struct cmd_refusal *r);

#endif
