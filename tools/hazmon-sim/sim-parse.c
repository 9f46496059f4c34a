/*
 * sim-parse.c - hazmon-sim's command language: one line -> struct command.
 *
 * Parsing has no side effects, so a whole script can be checked before
 * the simulator serves anything (see validate_script()).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hazmon-sim.h"

#define FLAP_MIN_PERIOD 0.01 /* a shorter period would only burn CPU */
#define FLAP_MAX_PERIOD 1e6

const char *const sim_table_names[4] = { "coil", "discrete", "holding",
	"input" };
const char *const sim_fault_names[8] = { "none", "noreply", "delay",
	"exception", "badcrc", "disconnect", "short", "truncate" };
char sim_parse_error[256]; /* why the last parse failed */

static const char *const order_names[] = { "ABCD", "BADC", "CDAB", "DCBA" };
static const char *const type_names[] = { "uint16", "int16", "uint32", "int32",
	"float32", "uint64", "int64", "float64" };
static const int type_bytes[] = { 2, 2, 4, 4, 4, 8, 8, 8 };
static const char type_kind[] = "uiuifuif"; /* unsigned, signed int, float */

/* Record a parse error; returns -1 so callers can `return fail(...)`. */
__attribute__((format(printf, 1, 2))) static int
fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sim_parse_error, sizeof sim_parse_error, fmt, ap);
	va_end(ap);
	return -1;
}

static int
lookup(const char *word, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(word, names[i]) == 0)
			return i;
	return -1;
}

/* Parse an integer in [min, max] (max may be UINT64_MAX when min >= 0).
 * Decimal, or hex with 0x; octal is deliberately refused so "010" in a
 * scenario means ten.  Returns 0, -1 (not a number), -2 (out of range). */
int
parse_int(const char *s, long long min, unsigned long long max, uint64_t *out)
{
	const char *digits = s + (*s == '-' || *s == '+');
	int hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
	int base = hex ? 16 : 10;
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
	if (errno == ERANGE ||
	    (min < 0 ? v < min || (v > 0 && (unsigned long long)v > max) :
	               *s == '-' || u < (unsigned long long)min || u > max))
		return -2;
	*out = min < 0 ? (uint64_t)v : u; /* signed: two's complement */
	return 0;
}

static int
parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end)
		return -1;
	return (errno == ERANGE && isinf(*out)) ? -2 : 0;
}

/* Convert VALUE to type t's bit pattern, right-aligned in *raw. */
static int
parse_value(const char *s, int t, uint64_t *raw)
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
		*raw &= mask; /* two's complement, truncated to the width */
	} else if ((rc = parse_double(s, &d)) == 0 && bits == 64) {
		memcpy(raw, &d,
		    sizeof d); /* IEEE bits; no byte order involved */
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
static void
encode_words(uint64_t raw, int nbytes, enum order ord, uint16_t *words)
{
	uint8_t b[8] = { 0 }; /* b[0] = most significant byte */
	int nw = nbytes / 2, swap_words = ord == ORD_CDAB || ord == ORD_DCBA;
	int swap_bytes = ord == ORD_BADC || ord == ORD_DCBA;

	for (int i = 0; i < nbytes; i++)
		b[i] = (uint8_t)(raw >> (8 * (nbytes - 1 - i)));
	for (int i = 0; i < nw; i++) {
		int w = swap_words ? nw - 1 - i : i;
		words[i] = (uint16_t)(b[2 * w + swap_bytes] << 8 |
		    b[2 * w + !swap_bytes]);
	}
}

static int
parse_unit(const char *s, int *unit)
{
	uint64_t v;
	if (parse_int(s, 1, 255, &v) < 0)
		return fail("unit '%s' is not in 1..255", s);
	*unit = (int)v;
	return 0;
}

/* UNIT TABLE ADDR, shared by set and flap. */
static int
parse_target(char **av, struct command *c)
{
	int tab;
	uint64_t addr;

	if (parse_unit(av[0], &c->unit) < 0)
		return -1;
	if ((tab = lookup(av[1], sim_table_names, 4)) < 0)
		return fail("unknown table '%s' (coil, discrete, holding, "
		            "input)",
		    av[1]);
	c->table = (enum table)tab;
	if (parse_int(av[2], 0, 65535, &addr) < 0)
		return fail("address '%s' is not in 0..65535", av[2]);
	c->addr = (int)addr;
	return 0;
}

/* Encode VALUE for c->table, with optional TYPE and ORDER (NULL when
 * absent), into words; sets c->nwords and checks it fits the table. */
static int
encode_value(struct command *c, const char *value, const char *type,
    const char *order, int size, uint16_t *words)
{
	int t = 0, ord = ORD_ABCD;
	uint64_t raw;

	if (c->table == TAB_COIL || c->table == TAB_DISCRETE) {
		if (type)
			return fail("TYPE/ORDER do not apply to %s",
			    sim_table_names[c->table]);
		if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
			return fail("%s value must be 0 or 1",
			    sim_table_names[c->table]);
		words[0] = (uint16_t)(value[0] - '0');
		c->nwords = 1;
	} else {
		if (type && (t = lookup(type, type_names, 8)) < 0)
			return fail("unknown type '%s'", type);
		if (order && (ord = lookup(order, order_names, 4)) < 0)
			return fail("unknown order '%s' (ABCD, BADC, CDAB, "
			            "DCBA)",
			    order);
		if (parse_value(value, t, &raw) < 0)
			return -1;
		encode_words(raw, type_bytes[t], (enum order)ord, words);
		c->nwords = type_bytes[t] / 2;
	}
	if (c->addr + c->nwords > size)
		return fail("address %d + %d exceeds table size %d", c->addr,
		    c->nwords, size);
	return 0;
}

/* set UNIT TABLE ADDR VALUE [TYPE [ORDER]] */
static int
parse_set(char **av, int ac, int size, struct command *c)
{
	if (ac < 5 || ac > 7)
		return fail("usage: set UNIT TABLE ADDR VALUE [TYPE [ORDER]]");
	c->kind = CMD_SET;
	if (parse_target(av + 1, c) < 0)
		return -1;
	return encode_value(c, av[4], ac > 5 ? av[5] : NULL,
	    ac > 6 ? av[6] : NULL, size, c->words);
}

/* flap UNIT TABLE ADDR V1 V2 PERIOD [TYPE [ORDER]]  |  flap UNIT TABLE ADDR off */
static int
parse_flap(char **av, int ac, int size, struct command *c)
{
	const char *type = ac > 7 ? av[7] : NULL,
	           *order = ac > 8 ? av[8] : NULL;

	if (ac == 5 && strcmp(av[4], "off") == 0) {
		c->kind = CMD_FLAP_OFF;
		return parse_target(av + 1, c);
	}
	if (ac < 7 || ac > 9)
		return fail("usage: flap UNIT TABLE ADDR V1 V2 PERIOD [TYPE "
		            "[ORDER]] | flap UNIT TABLE ADDR off");
	c->kind = CMD_FLAP;
	if (parse_target(av + 1, c) < 0 ||
	    encode_value(c, av[4], type, order, size, c->words) < 0 ||
	    encode_value(c, av[5], type, order, size, c->words2) < 0)
		return -1;
	if (parse_double(av[6], &c->seconds) < 0 ||
	    !(c->seconds >= FLAP_MIN_PERIOD && c->seconds <= FLAP_MAX_PERIOD))
		return fail("flap period must be %g..%g seconds, got '%s'",
		    FLAP_MIN_PERIOD, FLAP_MAX_PERIOD, av[6]);
	return 0;
}

/* fault UNIT none|noreply|badcrc|disconnect|short
 * fault UNIT delay MS [busy|free] | exception CODE | truncate BYTES */
static int
parse_fault(char **av, int ac, struct command *c)
{
	static const long long arg_max[8] = { 0, 0, DELAY_MAX_MS, 11, 0, 0, 0,
		TRUNCATE_MAX };
	static const long long arg_min[8] = { 0, 0, 0, 1, 0, 0, 0, 1 };
	int k;
	uint64_t v;

	if (ac < 3)
		return fail("usage: fault UNIT KIND [ARG]");
	c->kind = CMD_FAULT;
	if (parse_unit(av[1], &c->unit) < 0)
		return -1;
	if ((k = lookup(av[2], sim_fault_names, 8)) < 0)
		return fail("unknown fault '%s' (none, noreply, delay, "
		            "exception, badcrc, "
		            "disconnect, short, truncate)",
		    av[2]);
	c->fault = (struct fault){ .kind = (enum fault_kind)k,
		.arg = 0,
		.free_line = 0 };
	if (k == FAULT_DELAY && ac == 5) {
		if (strcmp(av[4], "busy") != 0 && strcmp(av[4], "free") != 0)
			return fail("fault delay MS takes busy or free after "
			            "MS, got '%s'",
			    av[4]);
		c->fault.free_line = av[4][0] == 'f';
		ac--;
	}
	if (ac != (arg_max[k] ? 4 : 3))
		return fail(arg_max[k] ? "fault %s takes one argument" :
		                         "fault %s takes no argument",
		    av[2]);
	if (arg_max[k] &&
	    parse_int(av[3], arg_min[k], (unsigned long long)arg_max[k], &v) <
	        0)
		return fail("fault %s needs %lld..%lld, got '%s'", av[2],
		    arg_min[k], arg_max[k], av[3]);
	if (arg_max[k])
		c->fault.arg = (int)v;
	return 0;
}

/* unit N | sleep SECONDS | stats [reset] | quit | repeat */
static int
parse_simple(char **av, int ac, int in_script, struct command *c)
{
	static const char *const names[] = { "unit", "sleep", "quit",
		"repeat" };
	int i = lookup(av[0], names, 4), nargs = i < 2 ? 1 : 0;

	if (strcmp(av[0], "stats") == 0) {
		if (ac > 2 || (ac == 2 && strcmp(av[1], "reset") != 0))
			return fail("usage: stats [reset]");
		c->kind = ac == 2 ? CMD_STATS_RESET : CMD_STATS;
		return 0;
	}
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
	    (parse_double(av[1], &c->seconds) < 0 ||
	        !(c->seconds >= 0 && c->seconds <= 1e9)))
		return fail("sleep needs seconds >= 0, got '%s'", av[1]);
	return 0;
}

/* Parse one line.  Blank lines and comments yield CMD_NONE.  A word
 * starting with '#' ends a command, except echo, whose text is the rest
 * of the line verbatim. */
int
parse_command(const char *line, int size, int in_script, struct command *c)
{
	char *av[MAX_ARGS], *save = NULL, *p;
	int ac = 0;

	c->kind = CMD_NONE;
	if (strlen(line) >= sizeof c->buf)
		return fail("line too long");
	strcpy(c->buf, line);
	p = c->buf + strspn(c->buf, " \t");
	if (strncmp(p, "echo", 4) == 0 &&
	    (p[4] == '\0' || p[4] == ' ' || p[4] == '\t')) {
		c->kind = CMD_ECHO;
		c->text = p + 4 + strspn(p + 4, " \t");
		return 0;
	}
	for (p = strtok_r(c->buf, " \t\r", &save); p && p[0] != '#';
	     p = strtok_r(NULL, " \t\r", &save)) {
		if (ac == MAX_ARGS)
			return fail("too many words");
		av[ac++] = p;
	}
	if (ac == 0)
		return 0;
	if (strcmp(av[0], "set") == 0)
		return parse_set(av, ac, size, c);
	if (strcmp(av[0], "flap") == 0)
		return parse_flap(av, ac, size, c);
	if (strcmp(av[0], "fault") == 0)
		return parse_fault(av, ac, c);
	return parse_simple(av, ac, in_script, c);
}
