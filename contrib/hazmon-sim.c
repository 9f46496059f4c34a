/*
 * hazmon-sim - Modbus TCP plant simulator for hazmon tests and demos.
 *
 * Serves several Modbus unit ids behind one TCP port, each with its own
 * register tables, whose values are changed while it runs by a command
 * script (-f) and/or commands written into a FIFO (-c).  The command
 * language and the register byte orders are documented in
 * docs/simulator.md.
 *
 * Build: gcc -std=c11 -Wall -Wextra -O2 -D_GNU_SOURCE -o hazmon-sim \
 *            contrib/hazmon-sim.c $(pkg-config --cflags --libs libmodbus)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, getline, mkfifo */
#endif

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <modbus.h>

#define MAX_CLIENTS 64
#define NUM_UNITS 256           /* unit ids 0..255; 0 is never created */
#define NUM_FC 256
#define LINE_LEN 4096
#define MAX_ARGS 8
#define POLL_MAX_MS 100         /* bounds signal and timer latency */
#define IO_TIMEOUT_US 100000    /* libmodbus indication/byte timeout */
#define CMD_BUDGET 1000         /* commands per source per loop turn */
#define MBAP_PREFIX 6           /* MBAP bytes before the unit id */

enum table { TAB_COIL, TAB_DISCRETE, TAB_HOLDING, TAB_INPUT };
enum order { ORD_ABCD, ORD_BADC, ORD_CDAB, ORD_DCBA };
enum cmd_kind { CMD_NONE, CMD_UNIT, CMD_SLEEP, CMD_STATS, CMD_QUIT, CMD_REPEAT, CMD_SET, CMD_ECHO };

static const char *const table_names[] = { "coil", "discrete", "holding", "input" };
static const char *const order_names[] = { "ABCD", "BADC", "CDAB", "DCBA" };
static const char *const type_names[] = {
    "uint16", "int16", "uint32", "int32", "float32", "uint64", "int64", "float64"
};
static const int type_bytes[] = { 2, 2, 4, 4, 4, 8, 8, 8 };
static const char type_kind[] = "uiuifuif";     /* unsigned, signed int, float */

/* One parsed command line.  Never copied: text points into buf. */
struct command {
    enum cmd_kind kind;
    enum table table;
    int unit, addr, nwords;     /* nwords: registers to store, 1 for a bit */
    uint16_t words[4];
    double seconds;
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
    double due;                 /* monotonic time the next line may run */
    char part[LINE_LEN];        /* FIFO: unfinished line */
    size_t partlen;
    int overlong;               /* FIFO: skipping an over-long line */
};

struct sim {
    modbus_t *ctx;
    int listen_fd, nclients, size, verbose, quit, port, portfile_written;
    int clients[MAX_CLIENTS];   /* connected sockets */
    modbus_mapping_t *units[NUM_UNITS];
    unsigned long requests[NUM_UNITS][NUM_FC], items[NUM_UNITS][NUM_FC], total;
    const char *addr, *portfile;
    struct source script, fifo;
};

static volatile sig_atomic_t got_signal;
static struct sim the_sim;      /* static: the counters are ~1 MiB */
static struct command the_cmd;  /* static: 4 KiB; single-threaded */
static char parse_error[256];   /* why the last parse failed */

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record a parse error; returns -1 so callers can `return fail(...)`. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(parse_error, sizeof parse_error, fmt, ap);
    va_end(ap);
    return -1;
}

/* Print a runtime error to stderr; returns -1 like fail(). */
__attribute__((format(printf, 1, 2))) static int complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hazmon-sim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

static int lookup(const char *word, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(word, names[i]) == 0)
            return i;
    return -1;
}

/* Parse an integer in [min, max] (max may be UINT64_MAX when min >= 0).
 * Decimal, or hex with 0x; octal is deliberately refused so "010" in a
 * scenario means ten.  Returns 0, -1 (not a number), -2 (out of range). */
static int parse_int(const char *s, long long min, unsigned long long max, uint64_t *out)
{
    const char *digits = s + (*s == '-' || *s == '+');
    int base = (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) ? 16 : 10;
    char *end;
    long long v = 0;
    unsigned long long u = 0;

    errno = 0;
    if (min < 0)
        v = strtoll(s, &end, base);
    else
        u = strtoull(s, &end, base);
    if (end == s || *end)
        return -1;
    /* The *s test: strtoull accepts "-1" and negates it. */
    if (errno == ERANGE || (min < 0 ? v < min || (v > 0 && (unsigned long long)v > max)
                                    : *s == '-' || u < (unsigned long long)min || u > max))
        return -2;
    *out = min < 0 ? (uint64_t)v : u;   /* signed: two's complement */
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    if (end == s || *end)
        return -1;
    return (errno == ERANGE && isinf(*out)) ? -2 : 0;
}

/* Convert VALUE to type t's bit pattern, right-aligned in *raw. */
static int parse_value(const char *s, int t, uint64_t *raw)
{
    int bits = 8 * type_bytes[t], rc;
    uint64_t mask = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;
    double d = 0;
    float f;
    uint32_t u;

    *raw = 0;
    if (type_kind[t] == 'u') {
        rc = parse_int(s, 0, mask, raw);
    } else if (type_kind[t] == 'i') {
        rc = parse_int(s, -(long long)(mask >> 1) - 1, mask >> 1, raw);
        *raw &= mask;           /* two's complement, truncated to the width */
    } else if ((rc = parse_double(s, &d)) == 0 && bits == 64) {
        memcpy(raw, &d, sizeof d);      /* IEEE bits; no byte order involved */
    } else if (rc == 0) {
        if (isfinite(d) && (d > FLT_MAX || d < -FLT_MAX))
            rc = -2;
        f = (float)d;
        memcpy(&u, &f, sizeof u);
        *raw = u;
    }
    if (rc == -2)
        return fail("value %s out of range for %s", s, type_names[t]);
    return rc < 0 ? fail("value '%s' is not a number", s) : 0;
}

/* Lay out an nbytes-wide value as registers in the given order (see
 * docs/simulator.md).  Explicit shifts keep this independent of host
 * byte order.  libmodbus 3.1.6's modbus_set_float_*() are not: on a
 * little-endian host "abcd" yields BADC words, so they are not used. */
static void encode_words(uint64_t raw, int nbytes, enum order ord, uint16_t *words)
{
    uint8_t b[8] = { 0 };       /* b[0] = most significant byte */
    int nw = nbytes / 2, swap_words = ord == ORD_CDAB || ord == ORD_DCBA;
    int swap_bytes = ord == ORD_BADC || ord == ORD_DCBA;

    for (int i = 0; i < nbytes; i++)
        b[i] = (uint8_t)(raw >> (8 * (nbytes - 1 - i)));
    for (int i = 0; i < nw; i++) {
        int w = swap_words ? nw - 1 - i : i;
        words[i] = (uint16_t)(b[2 * w + swap_bytes] << 8 | b[2 * w + !swap_bytes]);
    }
}

static int parse_unit(const char *s, int *unit)
{
    uint64_t v;
    if (parse_int(s, 1, 255, &v) < 0)
        return fail("unit '%s' is not in 1..255", s);
    *unit = (int)v;
    return 0;
}

/* set UNIT TABLE ADDR VALUE [TYPE [ORDER]] */
static int parse_set(char **av, int ac, int size, struct command *c)
{
    int t = 0, ord = ORD_ABCD, tab;
    uint64_t addr, raw;

    if (ac < 5 || ac > 7)
        return fail("usage: set UNIT TABLE ADDR VALUE [TYPE [ORDER]]");
    if (parse_unit(av[1], &c->unit) < 0)
        return -1;
    if ((tab = lookup(av[2], table_names, 4)) < 0)
        return fail("unknown table '%s' (coil, discrete, holding, input)", av[2]);
    c->table = (enum table)tab;
    if (parse_int(av[3], 0, 65535, &addr) < 0)
        return fail("address '%s' is not in 0..65535", av[3]);
    if (c->table == TAB_COIL || c->table == TAB_DISCRETE) {
        if (ac > 5)
            return fail("TYPE/ORDER do not apply to %s", av[2]);
        if (strcmp(av[4], "0") != 0 && strcmp(av[4], "1") != 0)
            return fail("%s value must be 0 or 1", av[2]);
        c->words[0] = (uint16_t)(av[4][0] - '0');
        c->nwords = 1;
    } else {
        if (ac > 5 && (t = lookup(av[5], type_names, 8)) < 0)
            return fail("unknown type '%s'", av[5]);
        if (ac > 6 && (ord = lookup(av[6], order_names, 4)) < 0)
            return fail("unknown order '%s' (ABCD, BADC, CDAB, DCBA)", av[6]);
        if (parse_value(av[4], t, &raw) < 0)
            return -1;
        encode_words(raw, type_bytes[t], (enum order)ord, c->words);
        c->nwords = type_bytes[t] / 2;
    }
    if (addr + (uint64_t)c->nwords > (uint64_t)size)
        return fail("address %d + %d exceeds table size %d", (int)addr, c->nwords, size);
    c->addr = (int)addr;
    return 0;
}

/* unit N | sleep SECONDS | stats | quit | repeat */
static int parse_simple(char **av, int ac, int in_script, struct command *c)
{
    static const char *const names[] = { "unit", "sleep", "stats", "quit", "repeat" };
    int i = lookup(av[0], names, 5), nargs = i < 2 ? 1 : 0;

    if (i < 0)
        return fail("unknown command '%s'", av[0]);
    if (ac != nargs + 1)
        return fail("%s takes %d argument(s)", av[0], nargs);
    c->kind = (enum cmd_kind)(CMD_UNIT + i);
    if (c->kind == CMD_UNIT)
        return parse_unit(av[1], &c->unit);
    if (c->kind == CMD_REPEAT && !in_script)
        return fail("repeat is only allowed in scripts");
    if (c->kind == CMD_SLEEP &&
        (parse_double(av[1], &c->seconds) < 0 || !(c->seconds >= 0 && c->seconds <= 1e9)))
        return fail("sleep needs seconds >= 0, got '%s'", av[1]);
    return 0;
}

/* Parse one line.  Blank lines and comments yield CMD_NONE.  A word
 * starting with '#' ends a command, except echo, whose text is the rest
 * of the line verbatim. */
static int parse_command(const char *line, int size, int in_script, struct command *c)
{
    char *av[MAX_ARGS], *save = NULL, *p;
    int ac = 0;

    c->kind = CMD_NONE;
    if (strlen(line) >= sizeof c->buf)
        return fail("line too long");
    strcpy(c->buf, line);
    p = c->buf + strspn(c->buf, " \t");
    if (strncmp(p, "echo", 4) == 0 && (p[4] == '\0' || p[4] == ' ' || p[4] == '\t')) {
        c->kind = CMD_ECHO;
        c->text = p + 4 + strspn(p + 4, " \t");
        return 0;
    }
    for (p = strtok_r(c->buf, " \t\r", &save); p && p[0] != '#'; p = strtok_r(NULL, " \t\r", &save)) {
        if (ac == MAX_ARGS)
            return fail("too many words");
        av[ac++] = p;
    }
    if (ac == 0)
        return 0;
    if (strcmp(av[0], "set") != 0)
        return parse_simple(av, ac, in_script, c);
    c->kind = CMD_SET;
    return parse_set(av, ac, size, c);
}

/* Units are created on first mention so scenarios need no declarations. */
static modbus_mapping_t *get_unit(struct sim *s, int id)
{
    if (!s->units[id] && !(s->units[id] = modbus_mapping_new(s->size, s->size, s->size, s->size)))
        complain("cannot create unit %d: %s", id, modbus_strerror(errno));
    return s->units[id];
}

static void store_value(struct sim *s, const struct command *c)
{
    modbus_mapping_t *m = get_unit(s, c->unit);
    uint16_t *regs = NULL;

    if (!m)
        return;
    if (c->table == TAB_COIL)
        m->tab_bits[c->addr] = (uint8_t)c->words[0];
    else if (c->table == TAB_DISCRETE)
        m->tab_input_bits[c->addr] = (uint8_t)c->words[0];
    else
        regs = c->table == TAB_HOLDING ? m->tab_registers : m->tab_input_registers;
    for (int i = 0; regs && i < c->nwords; i++)
        regs[c->addr + i] = c->words[i];
    if (!s->verbose)
        return;
    fprintf(stderr, "set unit=%d", c->unit);
    for (int i = 0; i < c->nwords; i++)
        fprintf(stderr, regs ? " %s[%d]=0x%04X" : " %s[%d]=%u", table_names[c->table],
                c->addr + i, (unsigned)c->words[i]);
    fputc('\n', stderr);
}

static void print_stats(const struct sim *s)
{
    for (int u = 0; u < NUM_UNITS; u++)
        for (int fc = 0; fc < NUM_FC; fc++)
            if (s->requests[u][fc])
                printf("stats unit=%d fc=%d requests=%lu items=%lu\n", u, fc,
                       s->requests[u][fc], s->items[u][fc]);
    printf("stats total requests=%lu\n", s->total);
    fflush(stdout);
}

static void exec_command(struct sim *s, struct source *src, const struct command *c, double now)
{
    switch (c->kind) {
    case CMD_NONE: break;
    case CMD_UNIT: get_unit(s, c->unit); break;
    case CMD_SET: store_value(s, c); break;
    case CMD_ECHO: printf("%s\n", c->text); fflush(stdout); break;
    case CMD_STATS: print_stats(s); break;
    case CMD_QUIT: s->quit = 1; break;
    case CMD_REPEAT: src->next = 0; break;
    case CMD_SLEEP:
        /* Advance from the previous due time, so a looping script keeps
         * its period; re-anchor if we fell behind by more than a sleep. */
        src->due += c->seconds;
        if (src->due < now)
            src->due = now + c->seconds;
        break;
    }
}

static void report(const struct source *src, size_t lineno, const char *msg)
{
    if (src->is_script)
        fprintf(stderr, "%s:%zu: %s\n", src->path, lineno, msg);
    else
        fprintf(stderr, "%s: %s\n", src->path, msg);
}

static int push_line(struct source *src, const char *line)
{
    if (src->nlines == src->cap) {
        size_t cap = src->cap ? 2 * src->cap : 64;
        char **p = realloc(src->lines, cap * sizeof *p);
        if (!p)
            return -1;
        src->lines = p;
        src->cap = cap;
    }
    if (!(src->lines[src->nlines] = strdup(line)))
        return -1;
    src->nlines++;
    return 0;
}

static void clear_lines(struct source *src)
{
    for (size_t i = 0; i < src->nlines; i++)
        free(src->lines[i]);
    src->nlines = src->next = 0;
}

/* Run the lines of src that are due, up to a budget so a burst of
 * commands cannot starve the Modbus clients. */
static void run_source(struct sim *s, struct source *src, double now)
{
    for (int budget = CMD_BUDGET; budget > 0 && !s->quit && src->next < src->nlines &&
         now >= src->due; budget--) {
        size_t idx = src->next++;
        if (parse_command(src->lines[idx], s->size, src->is_script, &the_cmd) < 0)
            report(src, idx + 1, parse_error);
        else
            exec_command(s, src, &the_cmd, now);
    }
    if (!src->is_script && src->next == src->nlines)
        clear_lines(src);
}

/* Check the whole script before serving, so a typo in a test scenario
 * fails loudly at startup instead of minutes into a run. */
static int validate_script(struct source *src, int size)
{
    double slept = 0;
    int bad = 0;

    for (size_t i = 0; i < src->nlines; i++) {
        const char *err = NULL;
        if (parse_command(src->lines[i], size, 1, &the_cmd) < 0)
            err = parse_error;
        else if (the_cmd.kind == CMD_SLEEP)
            slept += the_cmd.seconds;
        else if (the_cmd.kind == CMD_REPEAT && !(slept > 0))
            err = "repeat needs a sleep > 0 before it, or the script would spin";
        if (err) {
            report(src, i + 1, err);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static int load_script(struct source *src, int size)
{
    FILE *f = fopen(src->path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    if (!f)
        return complain("%s: %s", src->path, strerror(errno));
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[n - 1] = '\0';
        rc = push_line(src, line);
    }
    free(line);
    fclose(f);
    return rc < 0 ? complain("%s: out of memory", src->path) : validate_script(src, size);
}

/* O_RDWR keeps a writer open ourselves, so the FIFO never reports EOF
 * and writers never block waiting for a reader. */
static int fifo_open(struct source *src)
{
    struct stat st;

    if (mkfifo(src->path, 0600) == 0)
        src->created = 1;
    else if (errno != EEXIST)
        return complain("%s: %s", src->path, strerror(errno));
    if ((src->fd = open(src->path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0 || fstat(src->fd, &st) < 0)
        return complain("%s: %s", src->path, strerror(errno));
    return S_ISFIFO(st.st_mode) ? 0 : complain("%s: exists and is not a FIFO", src->path);
}

/* Queue one complete FIFO line (in part[]). */
static void fifo_queue_line(struct source *src, double now)
{
    src->part[src->partlen] = '\0';
    /* An idle queue's due time is stale: a new sleep counts from now. */
    if (src->next == src->nlines && src->due < now)
        src->due = now;
    if (src->overlong)
        report(src, 0, "line too long, ignored");
    else if (push_line(src, src->part) < 0)
        report(src, 0, "out of memory, line dropped");
    src->partlen = 0;
    src->overlong = 0;
}

/* Split FIFO input into lines; an unfinished line waits in part[]. */
static void fifo_read(struct source *src, double now)
{
    char buf[LINE_LEN];
    ssize_t n;

    while ((n = read(src->fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\n')
                fifo_queue_line(src, now);
            else if (src->partlen < sizeof src->part - 1)
                src->part[src->partlen++] = buf[i];
            else
                src->overlong = 1;
}

/* Start address and quantity of a request, or -1 for FCs without a
 * range.  *read_max is the protocol limit for reads (FC 23: its read
 * part) and 0 for writes, so only reads within limits count as items. */
static int request_span(const uint8_t *pdu, int pdu_len, int *addr, int *read_max)
{
    *addr = pdu_len < 5 ? 0 : pdu[1] << 8 | pdu[2];
    *read_max = 0;
    switch (pdu[0]) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_READ_DISCRETE_INPUTS: *read_max = MODBUS_MAX_READ_BITS; break;
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_READ_INPUT_REGISTERS:
    case MODBUS_FC_WRITE_AND_READ_REGISTERS: *read_max = MODBUS_MAX_READ_REGISTERS; break;
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS: break;
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
    case MODBUS_FC_MASK_WRITE_REGISTER: return 1;
    default: return -1;
    }
    return pdu_len < 5 ? -1 : pdu[3] << 8 | pdu[4];
}

/* Count, log and answer one complete request; -1 if the reply failed. */
static int answer(struct sim *s, const uint8_t *q, int len)
{
    int hlen = modbus_get_header_length(s->ctx), addr, max;
    int unit = q[hlen - 1], fc = q[hlen], n = request_span(q + hlen, len - hlen, &addr, &max);
    modbus_mapping_t *m = s->units[unit];

    s->requests[unit][fc]++;
    s->total++;
    if (m && n >= 1 && n <= max && addr + n <= s->size)
        s->items[unit][fc] += (unsigned long)n;
    if (s->verbose)
        fprintf(stderr, n >= 0 ? "req unit=%d fc=%d addr=%d count=%d\n" : "req unit=%d fc=%d\n",
                unit, fc, addr, n);
    if (!m)
        return modbus_reply_exception(s->ctx, q, MODBUS_EXCEPTION_GATEWAY_TARGET) < 0 ? -1 : 0;
    return modbus_reply(s->ctx, q, len, m) < 0 ? -1 : 0;
}

/* Read and answer one request.  Returns 0 to keep the client, -1 to
 * drop it.  A frame arriving in pieces makes modbus_receive() wait, but
 * at most IO_TIMEOUT_US per piece. */
static int serve_client(struct sim *s, int fd)
{
    uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
    int rc, len;

    modbus_set_socket(s->ctx, fd);
    if ((rc = modbus_receive(s->ctx, q)) <= 0)
        return rc;
    /* libmodbus frames by function code and ignores the MBAP header;
     * check it agrees, so garbage is dropped rather than answered. */
    len = MBAP_PREFIX + (q[4] << 8 | q[5]);
    if (q[2] || q[3] || len < rc || len > MODBUS_TCP_MAX_ADU_LENGTH)
        return -1;
    /* Longer: bytes libmodbus did not consume (an unknown function
     * code's data); skip them so the next frame starts where it should. */
    if (len > rc && recv(fd, q + rc, (size_t)(len - rc), MSG_DONTWAIT) != len - rc)
        return -1;
    return answer(s, q, rc);
}

static void drop_client(struct sim *s, int i, const char *why)
{
    if (s->verbose)
        complain("client fd=%d dropped: %s", s->clients[i], why);
    close(s->clients[i]);
    s->clients[i] = s->clients[--s->nclients];
}

static void accept_clients(struct sim *s)
{
    int fd, one = 1;

    while ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        if (s->nclients == MAX_CLIENTS) {
            complain("too many clients, connection refused");
            close(fd);
            continue;
        }
        /* Answers must not wait for Nagle when clients pipeline. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s->clients[s->nclients++] = fd;
    }
}

static int poll_timeout(const struct sim *s, double now)
{
    const struct source *srcs[2] = { &s->script, &s->fifo };
    double wait = POLL_MAX_MS / 1000.0;

    for (int i = 0; i < 2; i++)
        if (srcs[i]->next < srcs[i]->nlines && srcs[i]->due - now < wait)
            wait = srcs[i]->due - now;
    /* +1 ms so we wake just after the due time, not just before it. */
    return wait <= 0 ? 0 : wait >= POLL_MAX_MS / 1000.0 ? POLL_MAX_MS : (int)(wait * 1000.0) + 1;
}

static int serve(struct sim *s)
{
    struct pollfd pfd[2 + MAX_CLIENTS];

    while (!s->quit && !got_signal) {
        double now = now_sec();
        int n;

        pfd[0] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = s->fifo.fd, .events = POLLIN };   /* -1: ignored */
        for (int i = 0; i < s->nclients; i++)
            pfd[2 + i] = (struct pollfd){ .fd = s->clients[i], .events = POLLIN };
        if ((n = poll(pfd, 2 + (nfds_t)s->nclients, poll_timeout(s, now))) < 0 && errno != EINTR)
            return complain("poll: %s", strerror(errno));
        now = now_sec();
        /* Backwards, so drop_client()'s swap-with-last skips nobody. */
        for (int i = s->nclients - 1; n > 0 && i >= 0; i--)
            if (pfd[2 + i].revents && serve_client(s, s->clients[i]) < 0)
                drop_client(s, i, "closed, error or bad frame");
        if (n > 0 && (pfd[0].revents & POLLIN))
            accept_clients(s);
        if (n > 0 && (pfd[1].revents & POLLIN))
            fifo_read(&s->fifo, now);
        run_source(s, &s->script, now);
        run_source(s, &s->fifo, now);
    }
    return 0;
}

static int start_listening(struct sim *s)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;

    if (inet_pton(AF_INET, s->addr, &sa.sin_addr) != 1)
        return complain("'%s' is not an IPv4 address", s->addr);
    if (!(s->ctx = modbus_new_tcp(s->addr, s->port)))
        return complain("modbus_new_tcp: %s", modbus_strerror(errno));
    /* Bound how long one half-sent frame can hold up the loop. */
    modbus_set_indication_timeout(s->ctx, 0, IO_TIMEOUT_US);
    modbus_set_byte_timeout(s->ctx, 0, IO_TIMEOUT_US);
    if ((s->listen_fd = modbus_tcp_listen(s->ctx, MAX_CLIENTS)) < 0)
        return complain("cannot listen on %s:%d: %s", s->addr, s->port, modbus_strerror(errno));
    /* Non-blocking, so a client vanishing between poll() and accept()
     * cannot stall the loop. */
    fcntl(s->listen_fd, F_SETFL, fcntl(s->listen_fd, F_GETFL) | O_NONBLOCK);
    fcntl(s->listen_fd, F_SETFD, FD_CLOEXEC);
    if (getsockname(s->listen_fd, (struct sockaddr *)&sa, &salen) == 0)
        s->port = ntohs(sa.sin_port);
    printf("hazmon-sim: listening on %s:%d\n", s->addr, s->port);
    fflush(stdout);
    return 0;
}

/* Write then rename, so a test polling for the file never reads it
 * half-written. */
static int write_portfile(struct sim *s)
{
    char tmp[4096];
    FILE *f = NULL;
    int bad;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", s->portfile) >= sizeof tmp)
        errno = ENAMETOOLONG;
    else
        f = fopen(tmp, "w");
    if (!f)
        return complain("%s: %s", s->portfile, strerror(errno));
    bad = fprintf(f, "%d\n", s->port) < 0;
    if (fclose(f) != 0 || bad || rename(tmp, s->portfile) != 0) {
        unlink(tmp);
        return complain("%s: %s", s->portfile, strerror(errno));
    }
    s->portfile_written = 1;
    return 0;
}

static void cleanup(struct sim *s)
{
    for (int i = 0; i < s->nclients; i++)
        close(s->clients[i]);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    modbus_free(s->ctx);
    for (int u = 0; u < NUM_UNITS; u++)
        modbus_mapping_free(s->units[u]);
    clear_lines(&s->script);
    clear_lines(&s->fifo);
    free(s->script.lines);
    free(s->fifo.lines);
    if (s->fifo.fd >= 0)
        close(s->fifo.fd);
    if (s->fifo.created)
        unlink(s->fifo.path);
    /* A stale port file would send the next test run to a dead port. */
    if (s->portfile_written)
        unlink(s->portfile);
}

static void usage(FILE *out)
{
    fputs("usage: hazmon-sim [-a ADDR] [-p PORT] [-P PORTFILE] [-f SCRIPT] [-c FIFO]\n"
          "                  [-n SIZE] [-v] [-h]\n"
          "  -a ADDR      IPv4 listen address (default 127.0.0.1)\n"
          "  -p PORT      TCP port (default 1502; 0 = any free port)\n"
          "  -P PORTFILE  write the port to PORTFILE once ready\n"
          "  -f SCRIPT    run a command script (checked before serving)\n"
          "  -c FIFO      read commands from FIFO (created if absent)\n"
          "  -n SIZE      registers/bits per table per unit (default 1000, max 65536)\n"
          "  -v           log requests and sets to stderr\n"
          "See docs/simulator.md for the command language.\n", out);
}

/* Returns 0 to run, 1 after -h, -1 on a usage error. */
static int parse_args(struct sim *s, int argc, char **argv)
{
    uint64_t v;
    int opt;

    while ((opt = getopt(argc, argv, "a:p:P:f:c:n:vh")) != -1) {
        switch (opt) {
        case 'a': s->addr = optarg; break;
        case 'P': s->portfile = optarg; break;
        case 'c': s->fifo.path = optarg; break;
        case 'v': s->verbose = 1; break;
        case 'h': usage(stdout); return 1;
        case 'f':
            if (s->script.path)
                return complain("-f may be given only once");
            s->script.path = optarg;
            break;
        case 'p':
            if (parse_int(optarg, 0, 65535, &v) < 0)
                return complain("bad port '%s'", optarg);
            s->port = (int)v;
            break;
        case 'n':
            if (parse_int(optarg, 1, 65536, &v) < 0)
                return complain("size must be 1..65536, got '%s'", optarg);
            s->size = (int)v;
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    return optind < argc ? complain("unexpected argument '%s'", argv[optind]) : 0;
}

int main(int argc, char **argv)
{
    struct sim *s = &the_sim;
    struct sigaction sa;
    int rc;

    s->addr = "127.0.0.1";
    s->port = 1502;
    s->size = 1000;
    s->listen_fd = s->script.fd = s->fifo.fd = -1;
    s->script.is_script = 1;
    if ((rc = parse_args(s, argc, argv)) != 0)
        return rc > 0 ? 0 : 2;
    if (s->script.path && load_script(&s->script, s->size) < 0) {
        cleanup(s);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;  /* no SA_RESTART: poll() must wake up */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;    /* a vanished client must not kill us */
    sigaction(SIGPIPE, &sa, NULL);

    rc = (s->fifo.path && fifo_open(&s->fifo) < 0) || start_listening(s) < 0 ? -1 : 0;
    if (rc == 0) {
        /* Run the script's leading commands before announcing readiness,
         * so a test that waits for PORTFILE sees the initial values. */
        s->script.due = now_sec();
        run_source(s, &s->script, s->script.due);
        if (s->portfile)
            rc = write_portfile(s);
    }
    if (rc == 0)
        rc = serve(s);
    cleanup(s);
    return rc < 0 ? 1 : 0;
}
