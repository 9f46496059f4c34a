/*
 * sim-client - a tiny Modbus master (libmodbus) for the simulator's
 * tests: one request, the result on stdout, the error on stderr.
 * Test-only, never installed: commissioning a real device is
 * `hazmond --probe`, which reads with the daemon's own code.
 *
 *   sim-client (-t HOST:PORT | -r DEVICE [-b BAUD] [-y N|E|O] [-s 1|2])
 *              -u UNIT -f FC -a ADDR [-n COUNT] [-w V[,V...]] [-T MS]
 *
 * FC 1-4 read COUNT (default 1) bits or registers and print them in
 * decimal, space separated, on one line.  FC 5, 6, 15, 16 write the -w
 * values and print "ok".  -T sets the response and byte timeouts
 * (default 1000 ms).  On an RTU line the input is flushed first, so a
 * late reply meant for an earlier client is not taken for ours.
 * Exit status: 0 done, 1 Modbus error (libmodbus' text on stderr),
 * 2 usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modbus.h>

#define MAX_VALUES 2000         /* MODBUS_MAX_READ_BITS */

struct args {
    const char *tcp, *device;
    int baud, stopbits, unit, fc, addr, count, timeout_ms, nvalues;
    char parity;
    uint16_t values[MAX_VALUES];
};

static int usage(void)
{
    fputs("usage: sim-client (-t HOST:PORT | -r DEVICE [-b BAUD] [-y N|E|O] [-s 1|2])\n"
          "                  -u UNIT -f FC -a ADDR [-n COUNT] [-w V[,V...]] [-T MS]\n",
          stderr);
    return 2;
}

/* A whole decimal (or 0x hex) number in [min, max], else -1. */
static long number(const char *s, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 0);
    if (end == s || *end || errno || v < min || v > max)
        return -1;
    return v;
}

static int int_opt(const char *s, long min, long max, int *out)
{
    long v = number(s, min, max);

    if (v < 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_values(struct args *a, char *list)
{
    char *save = NULL;
    long v;

    for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (a->nvalues == MAX_VALUES || (v = number(p, 0, 65535)) < 0)
            return -1;
        a->values[a->nvalues++] = (uint16_t)v;
    }
    return a->nvalues > 0 ? 0 : -1;
}

static int parse_args(struct args *a, int argc, char **argv)
{
    int opt, rc = 0;

    while (rc == 0 && (opt = getopt(argc, argv, "t:r:b:y:s:u:f:a:n:w:T:")) != -1) {
        switch (opt) {
        case 't': a->tcp = optarg; break;
        case 'r': a->device = optarg; break;
        case 'y':
            rc = strlen(optarg) == 1 && strchr("NEO", optarg[0]) ? 0 : -1;
            a->parity = optarg[0];
            break;
        case 'w': rc = parse_values(a, optarg); break;
        case 'b': rc = int_opt(optarg, 1, 4000000, &a->baud); break;
        case 's': rc = int_opt(optarg, 1, 2, &a->stopbits); break;
        case 'u': rc = int_opt(optarg, 0, 255, &a->unit); break;
        case 'f': rc = int_opt(optarg, 1, 16, &a->fc); break;
        case 'a': rc = int_opt(optarg, 0, 65535, &a->addr); break;
        case 'n': rc = int_opt(optarg, 1, MAX_VALUES, &a->count); break;
        case 'T': rc = int_opt(optarg, 1, 600000, &a->timeout_ms); break;
        default: rc = -1; break;
        }
    }
    if (rc < 0 || optind < argc || !a->tcp == !a->device || a->unit < 0 || a->fc < 0 || a->addr < 0)
        return -1;
    if (a->fc > 6 && a->fc != 15 && a->fc != 16)
        return -1;
    if ((a->fc == 5 || a->fc == 6) && a->nvalues != 1)
        return -1;
    return (a->fc == 15 || a->fc == 16) && a->nvalues < 1 ? -1 : 0;
}

static modbus_t *open_ctx(const struct args *a)
{
    char host[256];
    const char *colon;
    long port;

    if (a->device)
        return modbus_new_rtu(a->device, a->baud, a->parity, 8, a->stopbits);
    colon = strrchr(a->tcp, ':');
    if (!colon || (size_t)(colon - a->tcp) >= sizeof host || (port = number(colon + 1, 1, 65535)) < 0) {
        errno = EINVAL;
        return NULL;
    }
    memcpy(host, a->tcp, (size_t)(colon - a->tcp));
    host[colon - a->tcp] = '\0';
    return modbus_new_tcp(host, (int)port);
}

/* Run the one request; prints the result.  Returns -1 with errno set. */
static int transact(modbus_t *ctx, const struct args *a)
{
    uint16_t regs[MAX_VALUES];
    uint8_t bits[MAX_VALUES];
    int rc = -1;

    switch (a->fc) {
    case 1: rc = modbus_read_bits(ctx, a->addr, a->count, bits); break;
    case 2: rc = modbus_read_input_bits(ctx, a->addr, a->count, bits); break;
    case 3: rc = modbus_read_registers(ctx, a->addr, a->count, regs); break;
    case 4: rc = modbus_read_input_registers(ctx, a->addr, a->count, regs); break;
    case 5: rc = modbus_write_bit(ctx, a->addr, a->values[0] != 0); break;
    case 6: rc = modbus_write_register(ctx, a->addr, a->values[0]); break;
    case 15:
        for (int i = 0; i < a->nvalues; i++)
            bits[i] = a->values[i] != 0;
        rc = modbus_write_bits(ctx, a->addr, a->nvalues, bits);
        break;
    case 16: rc = modbus_write_registers(ctx, a->addr, a->nvalues, a->values); break;
    default: errno = EINVAL; return -1;
    }
    if (rc < 0)
        return -1;
    if (a->fc > 4) {
        puts("ok");
        return 0;
    }
    for (int i = 0; i < rc; i++)
        printf(i ? " %u" : "%u", a->fc <= 2 ? (unsigned)bits[i] : (unsigned)regs[i]);
    putchar('\n');
    return 0;
}

int main(int argc, char **argv)
{
    static struct args a = { .baud = 9600, .stopbits = 1, .unit = -1, .fc = -1, .addr = -1,
                             .count = 1, .timeout_ms = 1000, .parity = 'N' };
    modbus_t *ctx;
    int rc;

    if (parse_args(&a, argc, argv) < 0)
        return usage();
    if (!(ctx = open_ctx(&a))) {
        fprintf(stderr, "sim-client: %s\n", modbus_strerror(errno));
        return a.device ? 1 : usage();
    }
    modbus_set_response_timeout(ctx, (uint32_t)(a.timeout_ms / 1000), (uint32_t)(a.timeout_ms % 1000) * 1000);
    modbus_set_byte_timeout(ctx, (uint32_t)(a.timeout_ms / 1000), (uint32_t)(a.timeout_ms % 1000) * 1000);
    rc = modbus_set_slave(ctx, a.unit) < 0 || modbus_connect(ctx) < 0 ? -1 : 0;
    if (rc == 0 && a.device)
        modbus_flush(ctx);
    if (rc == 0)
        rc = transact(ctx, &a);
    if (rc < 0)
        fprintf(stderr, "sim-client: %s\n", modbus_strerror(errno));
    modbus_close(ctx);
    modbus_free(ctx);
    return rc < 0 ? 1 : 0;
}
