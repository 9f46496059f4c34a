/*
 * hazmon-sim.h - shared state of hazmon-sim, the Modbus device simulator.
 *
 * The simulator is one single-threaded poll() loop.  Its files, one
 * concern each:
 *   hazmon-sim.c   options, start-up, readiness file, shutdown
 *   sim-parse.c    the command language: one line -> struct command
 *   sim-plant.c    units, values, flaps and faults: what commands change
 *   sim-source.c   command streams: the -f script and the -c FIFO
 *   sim-reply.c    one request -> its reply, shaped by the unit's fault
 *   sim-server.c   the poll loop, TCP clients, the delayed-reply queue
 *   sim-rtu.c      the serial line: RTU framing, CRC check, silence
 *   sim-stats.c    request counters: stdout and the -S file
 * The command language is documented in docs/simulator.md.
 */
#ifndef HAZMON_SIM_H
#define HAZMON_SIM_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include <modbus.h>

#define MAX_CLIENTS 1024 /* a plant of 200+ devices, one connection each */
#define NUM_UNITS 256 /* unit ids 0..255; 0 is never created */
#define NUM_FC 256
#define LINE_LEN 4096
#define MAX_ARGS 10 /* flap takes 9 words */
#define POLL_MAX_MS 100 /* bounds signal and timer latency */
#define IO_TIMEOUT_US 100000 /* libmodbus indication/byte timeout (TCP) */
#define CMD_BUDGET 1000 /* commands per source per loop turn */
#define MBAP_PREFIX 6 /* MBAP bytes before the unit id */
#define ADU_MAX 512 /* > any Modbus ADU (TCP 260, RTU 256) */
#define MAX_PENDING 256 /* delayed replies in flight */
#define MAX_FLAPS 256
#define RTU_BUF 512
#define DELAY_MAX_MS 600000
#define TRUNCATE_MAX 255

enum table { TAB_COIL, TAB_DISCRETE, TAB_HOLDING, TAB_INPUT };
enum order { ORD_ABCD, ORD_BADC, ORD_CDAB, ORD_DCBA };
enum cmd_kind {
	CMD_NONE,
	CMD_UNIT,
	CMD_SLEEP,
	CMD_QUIT,
	CMD_REPEAT,
	CMD_SET,
	CMD_ECHO,
	CMD_STATS,
	CMD_STATS_RESET,
	CMD_FAULT,
	CMD_FLAP,
	CMD_FLAP_OFF
};
enum fault_kind {
	FAULT_NONE,
	FAULT_NOREPLY,
	FAULT_DELAY,
	FAULT_EXCEPTION,
	FAULT_BADCRC,
	FAULT_DISCONNECT,
	FAULT_SHORT,
	FAULT_TRUNCATE
};

struct fault {
	enum fault_kind kind;
	int arg; /* delay: ms; exception: code; truncate: bytes */
	int free_line; /* delay on RTU: other units answer meanwhile */
};

/* One parsed command line.  Never copied: text points into buf. */
struct command {
	enum cmd_kind kind;
	enum table table;
	int unit, addr, nwords; /* nwords: registers to store, 1 for a bit */
	uint16_t words[4]; /* set: the value; flap: V1 */
	uint16_t words2[4]; /* flap: V2 */
	double seconds; /* sleep; flap period */
	struct fault fault;
	const char *text;
	char buf[LINE_LEN];
};

/* A command stream: the -f script (all lines kept, so `repeat` can
 * rewind) or the -c FIFO (a queue of received lines). */
struct source {
	const char *path;
	int is_script, fd, created; /* created: FIFO made by us, remove it */
	char **lines;
	size_t nlines, cap, next;
	double due; /* monotonic time the next line may run */
	char part[LINE_LEN]; /* FIFO: unfinished line */
	size_t partlen;
	int overlong; /* FIFO: skipping an over-long line */
};

/* A value alternating between two encodings; phase -1 = not yet written. */
struct flap {
	int unit, addr, nwords, phase;
	enum table table;
	uint16_t v[2][4];
	double start, period;
};

/* A reply held back by a delay fault, due at a monotonic time. */
struct pending {
	int fd, len;
	int holds_line; /* RTU: nothing is read until it is sent */
	double due;
	uint8_t adu[ADU_MAX];
};

/* Bytes received on the serial line that do not form a frame yet. */
struct rtu_line {
	int fd, len;
	int resync; /* after garbage: drop bytes until silence */
	double last; /* when the last byte arrived */
	uint8_t buf[RTU_BUF];
};

struct counters {
	unsigned long requests[NUM_UNITS][NUM_FC], items[NUM_UNITS][NUM_FC];
	unsigned long total, bad_frames;
};

struct sim {
	modbus_t *ctx; /* TCP or RTU; its socket is swapped per reply */
	int rtu; /* serving RTU on device, not TCP */
	int capture[2]; /* socketpair that libmodbus replies into */
	int listen_fd, nclients, size, verbose, quit, port, portfile_written;
	int clients[MAX_CLIENTS]; /* connected sockets */
	const char *addr, *portfile, *statsfile, *device;
	int baud, stopbits;
	char parity;
	struct rtu_line line;
	modbus_mapping_t *units[NUM_UNITS];
	struct fault faults[NUM_UNITS];
	struct flap flaps[MAX_FLAPS];
	int nflaps, npending;
	struct pending pending[MAX_PENDING]; /* sorted by due time */
	struct counters st;
	struct source script, fifo;
};

extern volatile sig_atomic_t sim_got_signal;
extern const char *const sim_table_names[4];
extern const char *const sim_fault_names[8];
extern char sim_parse_error[256];

/* hazmon-sim.c */
double now_sec(void);
int complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
FILE *atomic_open(const char *path, char *tmp, size_t len); /* sim-stats.c */
int atomic_commit(FILE *f, const char *tmp, const char *path);

/* sim-parse.c */
int parse_int(const char *s, long long min, unsigned long long max,
    uint64_t *out);
int parse_command(const char *line, int size, int in_script, struct command *c);

/* sim-plant.c */
modbus_mapping_t *get_unit(struct sim *s, int id);
void plant_exec(struct sim *s, const struct command *c, double now);
void flaps_tick(struct sim *s, double now);
double flaps_next(const struct sim *s, double now);

/* sim-source.c */
int load_script(struct source *src, int size);
int fifo_open(struct source *src);
void fifo_read(struct source *src, double now);
void run_source(struct sim *s, struct source *src, double now);
void source_free(struct source *src);

/* sim-reply.c */
uint16_t crc16(const uint8_t *b, int n);
int handle_request(struct sim *s, int fd, const uint8_t *q, int len,
    double now);

/* sim-server.c */
int serve(struct sim *s);
int start_listening(struct sim *s);
int send_reply(struct sim *s, int fd, const uint8_t *b, int n);
void defer_reply(struct sim *s, int fd, const uint8_t *b, int n, double due,
    int holds_line);
int line_busy(const struct sim *s);
void close_clients(struct sim *s);

/* sim-rtu.c */
int rtu_open(struct sim *s);
int rtu_input(struct sim *s, double now);
void rtu_process(struct sim *s, double now);
double rtu_deadline(const struct sim *s);

/* sim-stats.c */
void stats_print(struct sim *s);
void stats_reset(struct sim *s);

#endif
