/*
 * hazmond.h - internal interfaces of the daemon, grouped by file.
 */
#ifndef HAZMOND_H
#define HAZMOND_H

#include <stdarg.h>
#include <stdint.h>
#include <stdatomic.h>
#include <pthread.h>
#include <libconfig.h>

#include "hazmon-plugin.h"

#define HZ_ID_MAX	64
#define HZ_MAX_DESTS	16	/* mqtt destinations */

/* log.c */
enum { HZ_LOG_ERR = 3, HZ_LOG_WARNING = 4, HZ_LOG_NOTICE = 5,
	HZ_LOG_INFO = 6, HZ_LOG_DEBUG = 7 };
void log_init(const char *progname, int level);
void log_set_level(int level);
int log_level_parse(const char *s);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int prio, const char *fmt, va_list ap);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/*
 * Structured fields of one message, sent to the journal as SENSOR=, BUS=,
 * SLAVE=, EVENT_SEQ= (and shown nowhere else: the text says it too).
 * NULL strings, slave < 0 and seq <= 0 mean "not about one".
 */
struct log_ctx {
	const char *sensor;
	const char *bus;
	int slave;
	int64_t seq;
};
void log_cmsg(int prio, const struct log_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Collects this thread's messages of priority <= prio (reload errors). */
void log_capture_begin(int prio);
char *log_capture_end(void);	/* malloc'd lines, or NULL when none */
/* Once a second from the core: reports repeats suppressed in ended windows. */
void log_tick(void);
/* Between log.c and log-limit.c only. */
#define HZ_LOG_TEXT_MAX	2048		/* one message, with its NUL */
int log__max(void);
void log__emit(int prio, const struct log_ctx *x, const char *text, size_t len);
int log__limit(int prio, const struct log_ctx *x, const char *text, size_t len);
void log__limit_reset(int burst, int window_ms);
/* Outside text made one printable line (\n, \\, \xNN); returns its length. */
size_t log_escape(const char *in, size_t n, char *buf, size_t size);

/* util.c */
int64_t now_mono_ms(void);
int64_t now_real_ms(void);
void format_ts(int64_t ms, char *buf, size_t len);	/* ISO 8601 UTC, ms */
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
struct hz_config;
void pause_ms(int ms);			/* sleeps, EINTR or not */
unsigned *ids_sort(const struct hz_config *c);
int ids_find(const struct hz_config *c, const unsigned *ord, const char *id);

/* decode.c: register values -> numbers; pure, shared with plugins via host */
unsigned decode_words(const struct hazmon_register *r);
int decode_register(const struct hazmon_register *r, uint16_t slice_address,
    const struct hazmon_slice *s, double *out);
int decode_type_parse(const char *s, enum hazmon_type *out);
int decode_order_parse(const char *s, enum hazmon_order *out);
int decode_table_parse(const char *s, enum hazmon_table *out);
const char *decode_table_name(enum hazmon_table t);

/* plan.c: coalescing of register needs into requests (pure) */
struct plan_opts {
	unsigned max_regs;		/* per request, <= 125 */
	unsigned max_bits;		/* per request, <= 2000 */
	unsigned gap;			/* unused registers/bits read to merge */
	int coalesce;			/* 0: one request per need */
};
struct plan_block {
	enum hazmon_table table;
	uint16_t address;
	uint16_t count;
};
struct plan_ref {
	unsigned block;			/* which block holds the need */
	uint16_t offset;		/* where in it the need starts */
};
/* blocks and refs have room for n entries; returns the number of blocks. */
unsigned plan_build(const struct hazmon_need *needs, unsigned n,
    const struct plan_opts *o, struct plan_block *blocks, struct plan_ref *refs);

/* The validated configuration model. */

struct hz_plugin {
	char *name;
	char *path;
	void *handle;
	const struct hazmon_plugin *desc;
	struct hz_plugin *next;
};

enum hz_bus_type { HZ_BUS_TCP, HZ_BUS_RTU };

struct hz_bus {
	char name[HZ_ID_MAX];
	enum hz_bus_type type;
	char *host;			/* tcp */
	int port;
	char *device;			/* rtu */
	int baud;
	char parity;			/* 'N', 'E', 'O' */
	int data_bits;
	int stop_bits;
	int rs485;			/* switch the port to RS-485 mode */
	int timeout_ms;
	int retries;
	int fault_after;		/* failed polls before a comm-loss fault */
	int pause_ms;			/* between requests */
	int connect_pause_ms;		/* after connecting */
	struct plan_opts plan;
	char *fp;			/* config-fp.c: unchanged across a reload? */
	int line;
};

struct hz_sensor {
	char id[HZ_ID_MAX];
	char *name;
	struct hz_plugin *plugin;
	unsigned bus;			/* index into config buses */
	int slave;
	double interval;		/* seconds */
	double frozen_after;		/* seconds; 0 = no frozen-value check */
	struct hazmon_sensor_setup setup;
	struct hazmon_level *levels;
	unsigned n_levels;
	char *fp;
	int line;
};

struct hz_dest {
	char name[HZ_ID_MAX];
	char *host;
	int port;
	char *prefix;
	int qos;
	int keepalive;
	int commands;			/* accept operator commands over MQTT */
	char command_actor[64];		/* "": the actor a command names */
	char *username;
	char *password;			/* read from password_file, never logged */
	int tls;			/* a tls group is present */
	char *ca_file, *ca_path, *cert_file, *key_file, *tls_version;
	int tls_insecure;		/* skip the host name check (testing only) */
	char *fp;
	int line;
};

struct hz_config {
	char *path;
	char site_id[HZ_ID_MAX];
	char *site_name;
	char *plugin_dir;
	char *state_dir;
	int log_level;
	char *control_socket;		/* the hazmonctl socket, or NULL: none */
	char *control_group;		/* its group, or NULL: ours */
	char *fp;			/* site and daemon groups */
	int retention_days;		/* delivered events kept this long */
	struct hz_dest *dests;
	unsigned n_dests;
	struct hz_bus *buses;
	unsigned n_buses;
	struct hz_sensor *sensors;
	unsigned n_sensors;
	struct hz_plugin *plugins;
};

/* config.c */
struct hz_config *config_load(const char *path, const char *plugin_dir_override,
    int *n_errors);
void config_free(struct hz_config *c);
void config_dump(const struct hz_config *c);

/* hostapi.c: the struct hazmon_host handed to plugins */
extern const struct hazmon_host hz_host;
struct hazmon_cfg *hostapi_wrap(config_setting_t *s, const char *file,
    int *errors);
void hostapi_mark(struct hazmon_cfg *g, const char *key);
int hostapi_check_unknown(struct hazmon_cfg *g, const char *const *core_keys);
void hostapi_free(struct hazmon_cfg *g);
/* The levels a plugin's check_levels sees, and which of them departs. */
void hostapi_levels(struct hazmon_cfg *g, const struct hazmon_level *lv,
    unsigned n);
int hostapi_departed(const struct hazmon_cfg *g, unsigned i);
/* Collects this thread's config warnings (a reload's answer). */
void hostapi_warnings_begin(void);
char *hostapi_warnings_end(void);	/* malloc'd lines, or NULL when none */

/* plugin.c */
struct hz_plugin *plugin_get(struct hz_plugin **list, const char *dir,
    const char *name, char *err, size_t errlen);
void plugin_unload_all(struct hz_plugin *list);

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

/* queue.c: bus workers -> core */
struct hz_msg {
	unsigned sensor;		/* index into config sensors */
	unsigned gen;			/* of that config: reloads change indices */
	struct hazmon_reading r;
	int64_t ts_ms;			/* realtime, when read */
	/*
	 * A failed read (HAZMON_F_COMM or HAZMON_F_DEVICE_ERROR): the errno
	 * of its last attempt (ETIMEDOUT, ECONNREFUSED, EMBXILADD, ...,
	 * EMBBADDATA, or one of link.c's reply checks); 0 otherwise.
	 */
	int err;
};

struct hz_queue {
	pthread_mutex_t lock;
	struct hz_msg *items;
	size_t len, cap;
	int efd;			/* eventfd the core polls */
};
int queue_init(struct hz_queue *q);
void queue_destroy(struct hz_queue *q);
int queue_push(struct hz_queue *q, const struct hz_msg *m);
size_t queue_take(struct hz_queue *q, struct hz_msg **buf, size_t *cap);

/* bus.c: one worker thread per bus */
struct hz_worker;
struct hz_bus_stats {
	uint64_t polls;			/* group polls attempted (progress) */
	uint64_t requests;		/* Modbus requests sent */
	uint64_t failed;		/* requests that failed */
	uint64_t readings;		/* readings queued */
	unsigned requests_per_cycle;	/* sum over groups of blocks per poll */
	int connected;
};
struct hz_worker *bus_start(const struct hz_config *c, unsigned bus,
    struct hz_queue *q, unsigned gen);
struct hz_slave_stat {
	int slave;
	int64_t last_ok;		/* realtime ms of the last good read, 0: never */
	int failing;			/* its last poll failed */
};
unsigned bus_slaves(const struct hz_worker *w, struct hz_slave_stat *out,
    unsigned max);
int bus_stop(struct hz_worker *w);	/* -1: stuck, abandoned */
void bus_stats(const struct hz_worker *w, struct hz_bus_stats *out);
int64_t bus_stuck_ms(const struct hz_worker *w, int64_t now);
const char *bus_name(const struct hz_worker *w);

/*
 * mbframe.c: Modbus read requests and the checks of their replies (pure).
 * Error codes of its own, in errno space after libmodbus's (EMB*); one
 * mbf_strerror() names them and libmodbus's alike.
 */
enum {
	HZ_EBASE = 112345678 + 100,	/* MODBUS_ENOBASE + 100 */
	HZ_ETID,			/* TCP: another transaction's reply */
	HZ_EPROTOID,			/* TCP: protocol id not 0 */
	HZ_EMBAPLEN,			/* TCP: MBAP length impossible or wrong */
	HZ_EUNIT,			/* another unit id / slave address */
	HZ_EFUNC,			/* another function code */
	HZ_ECOUNT,			/* byte count not the quantity asked */
	HZ_ESHORT,			/* shorter than any frame */
	HZ_ESLOW,			/* not whole by the transaction deadline */
	HZ_ETRAIL,			/* RTU: more bytes right after the reply */
	HZ_ELAST
};
struct mbf_req {
	int rtu;			/* RTU framing (else TCP) */
	uint16_t tid;			/* TCP transaction id */
	uint8_t unit;
	uint8_t fc;
	int bits;			/* coils/discrete inputs */
	uint16_t address, count;
};
#define MBF_ADU_MAX	260		/* TCP: 7 + 253 */
void mbf_init(struct mbf_req *q, int rtu, int unit, const struct plan_block *b);
size_t mbf_request(const struct mbf_req *q, uint8_t *adu);
size_t mbf_reply_max(const struct mbf_req *q);
int mbf_frame_len(const struct mbf_req *q, const uint8_t *buf, size_t have);
int mbf_check(const struct mbf_req *q, const uint8_t *adu, size_t len,
    uint16_t *regs, uint8_t *bits);
uint16_t mbf_crc16(const uint8_t *p, size_t n);
int mbf_answered(int err);
const char *mbf_strerror(int err);

/* link.c: a bus's Modbus context (TCP or RTU), connect and backoff */
#define LINK_OWED 4
struct hz_link {
	const struct hz_bus *bus;
	void *mb;			/* modbus_t */
	int connected;
	int64_t retry_at;		/* monotonic ms */
	int backoff_ms;
	int complained;
	int fd;				/* the socket or serial port, or -1 */
	int down_err;			/* errno that took it down, or failed to connect */
	uint16_t tid;			/* TCP: the last transaction id sent */
	struct {			/* RTU: slaves whose late reply may come */
		int slave;
		int64_t until;		/* monotonic ms; 0 = free */
	} owed[4];
	uint64_t dropped;		/* late or unmatched replies dropped */
};
void link_init(struct hz_link *l, const struct hz_bus *b);
int link_up(struct hz_link *l, int64_t now);
void link_down(struct hz_link *l, int64_t now);
int link_read(struct hz_link *l, int slave, const struct plan_block *b,
    uint16_t *regs, uint8_t *bits);
const char *link_describe(const struct hz_link *l, char *buf, size_t len);
int64_t link_worst_ms(const struct hz_bus *b);

/* ledger.c: durable events (SQLite) */
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
int64_t ledger_cursor(struct hz_ledger *l, const char *dest);
int ledger_set_cursor(struct hz_ledger *l, const char *dest, int64_t seq);
int64_t ledger_next_counter(struct hz_ledger *l, const char *key);
int ledger_prune(struct hz_ledger *l, int64_t before_ms, int64_t delivered);
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
int ledger_save_level(struct hz_ledger *l, const char *sensor,
    const char *level, const struct hz_level_state *ls);
int ledger_save_sensor(struct hz_ledger *l, const char *sensor,
    const struct hz_sensor_alarm *sa);
typedef void (*ledger_level_fn)(void *arg, const char *sensor,
    const char *level, const struct hz_level_state *ls);
typedef void (*ledger_sensor_fn)(void *arg, const char *sensor,
    const struct hz_sensor_alarm *sa);
int ledger_load_levels(struct hz_ledger *l, ledger_level_fn fn, void *arg);
int ledger_load_sensors(struct hz_ledger *l, ledger_sensor_fn fn, void *arg);
int ledger_history(struct hz_ledger *l, int64_t since_ms, const char *sensor,
    int limit, ledger_fn fn, void *arg);
int64_t ledger_count_after(struct hz_ledger *l, int64_t seq);
int ledger_forget(struct hz_ledger *l, const char *sensor, const char *level);

/* event.c: JSON documents of the MQTT contract */
char *event_json(const char *site, const struct hz_event *e);
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
char *state_json(const char *site, const struct hz_state_view *v);
const char *event_fault_reason(uint32_t flags);
struct json_t;
void event_set_error(struct json_t *o, int err, const char *reason);
double event_value(const struct hazmon_reading *r);
const char *view_quality(const struct hz_state_view *v);
const char *view_fault(const struct hz_state_view *v);
double view_value(const struct hz_state_view *v);

/* sensor.c: readings -> alarm and fault events, operator actions, health */
#define SHELVE_MAX_S	(24 * 3600.0)	/* shelving is always bounded */
/*
 * Everything the evaluator reports, and the only way it writes: events,
 * and the alarm and fault states a restart restores.  The caller runs each
 * step of the evaluator (a reading, an action, the tick, a reload's
 * removals) as one batch, so that the states are durable exactly as far
 * as the events that changed them.  batch.c gives the real sink (ledger
 * and batch); the unit tests a fake one.
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
	int (*load)(void *arg, ledger_level_fn level, ledger_sensor_fn sensor,
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
	size_t n_orphans;
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
void eval_tick(struct hz_eval *ev, int64_t ts);
void eval_stale(struct hz_eval *ev, int64_t now_mono,
    void (*changed)(void *arg, unsigned i), void *arg);
int64_t eval_stale_ms(const struct hz_config *c, unsigned i);
void eval_view(const struct hz_eval *ev, unsigned i, struct hz_state_view *v);
void eval_health(struct hz_eval *ev, int64_t now, struct hz_health *h);
void health_note_raise(struct hz_eval *ev, int64_t ts);
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
int pub_take_command(struct hz_pub *p, struct hz_command *cmd);
void pub_set_health(struct hz_pub *p, const struct hz_health *h);
void pub_live(struct hz_pub *p, const char *sensor, const char *payload);
void pub_shutdown(struct hz_pub *p);
int pub_connected(const struct hz_pub *p);
void pub_rebind(struct hz_pub *p, const struct hz_config *c, unsigned dest);
void pub_rebirth(struct hz_pub *p);
void pub_forget(struct hz_pub *p, const char *sensor);
void pub_flush_forgotten(struct hz_pub *p);

/* command.c: operator actions from the control socket and MQTT (pure) */
struct json_t;
int cmd_number(const struct json_t *v, double lo, double hi, double *out);
struct cmd_refusal {
	const char *code;		/* bad_request | invalid | no_sensor | no_level */
	char why[160];
};
const char *cmd_parse(const char *verb, const struct json_t *o,
    const char *actor, struct hz_command *c, struct cmd_refusal *r);

/* control.c: the hazmonctl socket (docs/control.md) */
struct hz_ctl;
struct pollfd;
/* Who waits for a deferred answer (a reload): stale once the client left. */
struct ctl_ticket {
	unsigned slot;
	uint64_t serial;
};
/*
 * Answers one request line; sets *hangup to end the connection after it.
 * Returns NULL to answer later with ctl_answer(t): the client's next
 * requests wait until then.
 */
typedef char *(*ctl_handler)(void *arg, const char *line, const char *actor,
    int *hangup, const struct ctl_ticket *t);
struct hz_ctl *ctl_open(const char *path, const char *group, ctl_handler fn,
    void *arg);
void ctl_close(struct hz_ctl *x);
unsigned ctl_pollfds(struct hz_ctl *x, struct pollfd *pfd, unsigned max);
void ctl_io(struct hz_ctl *x, const struct pollfd *pfd, unsigned n, int64_t now);
void ctl_answer(struct hz_ctl *x, const struct ctl_ticket *t, const char *resp);

/* probe.c: hazmond --probe */
int probe_run(const struct hz_config *c, char *const *ids, int n);

/* core.c */
int core_run(struct hz_config *c, const char *plugin_dir_override, int debug);

#endif /* HAZMOND_H */
