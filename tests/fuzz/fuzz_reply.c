/*
 * fuzz_reply.c - Modbus replies from bytes, then the plugins' decode.
 *
 * One input is one poll of one slave:
 *   1. a sensor: a plugin and one of its representative settings, whose
 *      holes (table, address, type, order, scale, masks, ...) are filled
 *      from input bytes, parsed through the host API as config_load does;
 *   2. a bus (TCP or RTU, unit id, coalescing, gap, request limits) and up
 *      to two neighbouring needs of other sensors; plan_build coalesces;
 *   3. per request block, a reply: either raw bytes, or a well-formed reply
 *      carrying input words with one field tampered with (so every check
 *      of mbf_check is reached, not only those random bytes pass), read
 *      the way link.c's recv_frame reads a stream, and mbf_check'ed;
 *   4. when every block of the sensor was accepted, its slices go to the
 *      plugin's decode, as bus.c's member_decode hands them over.
 * What must hold is checked at each step (fz_fail aborts with a message).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <modbus.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Settings per plugin, from docs/plugins.md and the unit tests.  Each
 * $X is replaced from the input: $R table, $A/$B address, $T type, $O
 * order, $S scale, $F offset, $P a positive number, $N an integer, $M a
 * mask, $G a gas, $U a unit.
 */
static const struct {
	const char *plugin;
	const char *text;
} sensors[] = {
	{ "gas", "register = { table = \"$R\"; address = $A; type = \"$T\"; "
	    "order = \"$O\"; scale = $S; }; range = $P;" },
	{ "gas", "gas = \"$G\"; register = { table = \"$R\"; address = $A; "
	    "type = \"$T\"; order = \"$O\"; scale = $S; offset = $F; }; "
	    "drift_limit = -$P;" },
	{ "gas", "register = { table = \"$R\"; address = $A; type = \"$T\"; }; "
	    "decimals = { table = \"$R\"; address = $B; type = \"$T\"; };" },
	{ "gas", "register = { table = \"$R\"; address = $A; type = \"$T\"; "
	    "order = \"$O\"; }; status = { table = \"$R\"; address = $B; "
	    "type = \"$T\"; fault_mask = $M; alarm_mask = $M; warmup_mask = $M; "
	    "calibration_mask = $M; }; gas = \"$G\"; range = $P;" },
	{ "gas", "current = { table = \"$R\"; address = $A; type = \"$T\"; "
	    "order = \"$O\"; }; current_unit = \"$U\"; range = $P; gas = \"$G\";" },
	{ "smoke", "input = { table = \"$R\"; address = $A; };" },
	{ "smoke", "input = { table = \"$R\"; address = $A; }; "
	    "fault_input = { table = \"$R\"; address = $B; };" },
	{ "smoke", "input = { table = \"$R\"; address = $A; type = \"$T\"; "
	    "alarm_mask = $M; fault_mask = $M; };" },
	{ "temperature", "register = { table = \"$R\"; address = $A; "
	    "type = \"$T\"; order = \"$O\"; scale = $S; offset = $F; }; "
	    "open_circuit = $N; short_circuit = $N; min = -$P; max = $P;" },
	{ "temperature", "register = { table = \"$R\"; address = $A; "
	    "type = \"$T\"; order = \"$O\"; }; sentinels = [ $N, $N, $N ];" },
	{ "temperature", "register = { table = \"$R\"; address = $A; "
	    "type = \"$T\"; scale = $S; }; unit = \"$U\";" },
	{ "generic", "register = { table = \"$R\"; address = $A; type = \"$T\"; "
	    "order = \"$O\"; scale = $S; offset = $F; }; unit = \"$U\"; "
	    "min = -$P; max = $P;" },
	{ "generic", "register = { table = \"$R\"; address = $A; type = \"$T\"; "
	    "order = \"$O\"; };" },
};
#define N_SENSORS (sizeof(sensors) / sizeof(sensors[0]))
#define PICK(tab, in) ((tab)[fz_u8(in) % (sizeof(tab) / sizeof((tab)[0]))])

static const char *const tables[] = { "holding", "input", "coil", "discrete" };
static const char *const types[] = { "int16", "uint16", "int32", "uint32",
    "float32", "int64", "uint64", "float64", "bit", "int8" };
static const char *const orders[] = { "ABCD", "CDAB", "BADC", "DCBA" };
static const char *const scales[] = { "1", "0.1", "0.01", "10", "-1",
    "0.001", "1e6", "0" };
static const char *const offsets[] = { "0", "-50", "273.15", "-40", "1e3" };
static const char *const positives[] = { "100", "25", "5", "1000", "1e9",
    "0.5", "1", "65535" };
static const char *const gases[] = { "CH4", "H2S", "O2", "CO", "NH3", "H2",
    "C3H8", "XYZ" };
static const char *const units[] = { "mA", "uA", "ppm", "%LEL", "degC", "" };

/* Fills the holes of one sensor's settings from the input. */
static void
settings(const char *tmpl, struct fz_in *in, char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = tmpl; *p && n + 32 < len; p++) {
		uint16_t v;

		if (*p != '$') {
			out[n++] = *p;
			continue;
		}
		switch (*++p) {
		case 'R': n += (size_t)snprintf(out + n, len - n, "%s", PICK(tables, in)); break;
		case 'T': n += (size_t)snprintf(out + n, len - n, "%s", PICK(types, in)); break;
		case 'O': n += (size_t)snprintf(out + n, len - n, "%s", PICK(orders, in)); break;
		case 'S': n += (size_t)snprintf(out + n, len - n, "%s", PICK(scales, in)); break;
		case 'F': n += (size_t)snprintf(out + n, len - n, "%s", PICK(offsets, in)); break;
		case 'P': n += (size_t)snprintf(out + n, len - n, "%s", PICK(positives, in)); break;
		case 'G': n += (size_t)snprintf(out + n, len - n, "%s", PICK(gases, in)); break;
		case 'U': n += (size_t)snprintf(out + n, len - n, "%s", PICK(units, in)); break;
		case 'A':
		case 'B':
			/* Mostly near each other, so that needs coalesce. */
			v = fz_u16(in);
			n += (size_t)snprintf(out + n, len - n, "%u",
			    v & 0x8000 ? v : v % 64u);
			break;
		case 'N':
			n += (size_t)snprintf(out + n, len - n, "%d", (int16_t)fz_u16(in));
			break;
		case 'M':
			n += (size_t)snprintf(out + n, len - n, "0x%X", fz_u16(in));
			break;
		default:
			fz_fail("template hole $%c", *p);
		}
	}
	out[n] = '\0';
}

/* Parses settings as config_load does for one sensor; 0 when accepted. */
static int
configure(const struct hazmon_plugin *pl, const char *text,
    struct hazmon_sensor_setup *su)
{
	config_t lc;
	struct hazmon_cfg *g;
	int errors = 0, rc;

	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE)
		fz_fail("template does not parse: %s", text);
	g = hostapi_wrap(config_root_setting(&lc), "fuzz", &errors);
	memset(su, 0, sizeof(*su));
	su->id = "fuzz";
	su->n_config_levels = 1;
	rc = pl->configure(&hz_host, g, su);
	if (rc != 0 && errors == 0)
		fz_fail("%s refused without a message: %s", pl->name, text);
	if (rc != 0 && su->ctx != NULL)
		fz_fail("%s refused but kept a context", pl->name);
	if (rc == 0 && su->ctx == NULL)
		fz_fail("%s accepted without a context", pl->name);
	hostapi_check_unknown(g);
	hostapi_free(g);
	config_destroy(&lc);
	if (errors && su->ctx) {	/* the core drops the sensor */
		pl->free_ctx(su->ctx);
		su->ctx = NULL;
	}
	return errors ? -1 : 0;
}

/* What check_needs in config.c refuses; 0 when the core would take it. */
static int
needs_ok(const struct hazmon_sensor_setup *su)
{
	if (su->n_needs < 1 || su->n_needs > HAZMON_MAX_NEEDS)
		fz_fail("a plugin declared %u needs", su->n_needs);
	for (unsigned i = 0; i < su->n_needs; i++) {
		const struct hazmon_need *n = &su->needs[i];
		int bits = n->table == HAZMON_TABLE_COIL ||
		    n->table == HAZMON_TABLE_DISCRETE;

		if ((unsigned)n->table > HAZMON_TABLE_INPUT || n->count == 0 ||
		    n->count > (bits ? 2000 : 125) ||
		    (unsigned)n->address + n->count > 65536)
			return -1;
	}
	return 0;
}

/* A reply to q as a device would send it, data from the input. */
static size_t
good_reply(const struct mbf_req *q, struct fz_in *in, uint8_t *f)
{
	unsigned n = q->bits ? (q->count + 7u) / 8u : 2u * q->count;
	size_t len = 0, got;
	const uint8_t *d;

	if (!q->rtu) {
		f[len++] = (uint8_t)(q->tid >> 8);
		f[len++] = (uint8_t)q->tid;
		f[len++] = 0;
		f[len++] = 0;
		f[len++] = (uint8_t)((3 + n) >> 8);
		f[len++] = (uint8_t)(3 + n);
	}
	f[len++] = q->unit;
	f[len++] = q->fc;
	f[len++] = (uint8_t)n;
	d = fz_take(in, n, &got);
	memcpy(f + len, d, got);
	memset(f + len + got, 0, n - got);
	len += n;
	if (q->rtu) {
		uint16_t crc = mbf_crc16(f, len);

		f[len++] = (uint8_t)crc;
		f[len++] = (uint8_t)(crc >> 8);
	}
	return len;
}

enum { T_NONE, T_TID, T_PROTO, T_MBAPLEN, T_UNIT, T_FC, T_EXCEPTION,
    T_COUNT, T_CRC, T_SHORT, T_LONG, T_N };

/* One field of a good reply changed; the error mbf_check must give, or 1
 * when more than one answer is right. */
static int
tamper(const struct mbf_req *q, int how, struct fz_in *in, uint8_t *f,
    size_t *len)
{
	size_t h = q->rtu ? 0 : 6;	/* where the unit id is */
	uint8_t b = fz_u8(in), x = b | 1;	/* x: never 0, a change */
	int want = 1;

	switch (how) {
	case T_NONE:
		return 0;
	case T_TID:
		if (q->rtu)
			return 0;
		f[1] ^= x;
		return -HZ_ETID;
	case T_PROTO:
		if (q->rtu)
			return 0;
		f[2 + (b & 1)] = x;
		return -HZ_EPROTOID;
	case T_MBAPLEN:
		if (q->rtu)
			return 0;
		f[5] = (uint8_t)(f[5] + x);
		break;		/* the framer may read on, or stop short */
	case T_UNIT:
		f[h] ^= x;
		want = -HZ_EUNIT;
		break;
	case T_FC:
		f[h + 1] ^= x & 0x7f;	/* maybe another read reply */
		break;
	case T_EXCEPTION:
		f[h + 1] = q->fc | 0x80;
		f[h + 2] = b;
		*len = q->rtu ? 5 : 9;
		if (!q->rtu) {
			f[4] = 0;
			f[5] = 3;
		}
		want = -(b >= 1 && b <= 0x0b ? MODBUS_ENOBASE + b : EMBUNKEXC);
		break;
	case T_COUNT:
		f[h + 2] = (uint8_t)(f[h + 2] + x);
		want = 1;
		break;
	case T_CRC:
		if (!q->rtu)
			return 0;
		f[*len - 1 - (x & 1)] ^= x;
		return -EMBBADCRC;
	case T_SHORT:
		*len -= 1 + x % *len;
		return 1;
	case T_LONG:
		memset(f + *len, x, 4);
		*len += 4;
		return 1;
	}
	if (q->rtu) {			/* the CRC follows, so the change is seen */
		uint16_t crc = mbf_crc16(f, *len - 2);

		f[*len - 2] = (uint8_t)crc;
		f[*len - 1] = (uint8_t)(crc >> 8);
	}
	return want;
}

/*
 * Reads one frame from the stream s as recv_frame (link.c) does, into a
 * buffer of exactly MBF_ADU_MAX bytes.  Returns its length, or -errno.
 */
static int
read_frame(const struct mbf_req *q, const uint8_t *s, size_t n, uint8_t *buf)
{
	size_t have = 0;
	int want = mbf_frame_len(q, buf, 0);

	while ((size_t)want != have) {
		if (want < 0)
			return want;
		if ((size_t)want < have || want > MBF_ADU_MAX)
			fz_fail("frame length %d with %zu bytes read (buffer %d)",
			    want, have, MBF_ADU_MAX);
		if (have == n)
			return have ? -HZ_ESLOW : -ETIMEDOUT;
		size_t k = (size_t)want - have;

		if (k > n - have)
			k = n - have;
		memcpy(buf + have, s + have, k);
		have += k;
		want = mbf_frame_len(q, buf, have);
	}
	return want;
}

/* One request and its reply; returns mbf_check's answer. */
static int
transact(const struct mbf_req *q, struct fz_in *in, uint16_t *regs, uint8_t *bits)
{
	uint8_t req[16], frame[MBF_ADU_MAX + 8], *buf = malloc(MBF_ADU_MAX);
	uint8_t mode = fz_u8(in);
	size_t n, got;
	int len, rc, want = 1;

	n = mbf_request(q, req);
	if (n != (q->rtu ? 8u : 12u) ||
	    (q->rtu && mbf_crc16(req, 8) != 0))	/* a good CRC leaves 0 */
		fz_fail("request of %zu bytes", n);
	if (mode & 0x80) {		/* raw bytes */
		const uint8_t *raw = fz_take(in, fz_u8(in) + (mode & 1 ? 255u : 0u),
		    &got);

		memcpy(frame, raw, got < sizeof(frame) ? got : sizeof(frame));
		n = got < sizeof(frame) ? got : sizeof(frame);
	} else {
		n = good_reply(q, in, frame);
		want = tamper(q, mode % T_N, in, frame, &n);
	}
	if ((len = read_frame(q, frame, n, buf)) < 0)
		rc = len;
	else if ((rc = mbf_check(q, buf, (size_t)len, regs, bits)) == 0 &&
	    (size_t)len != mbf_reply_max(q))
		fz_fail("reply of %d bytes accepted, %zu expected", len,
		    mbf_reply_max(q));
	if (want != 1 && rc != want)
		fz_fail("mode %u: error %d, %d expected (%s)", mode, -rc, -want,
		    hz_strerror(-rc));
	if (want == 0 && len >= 0) {	/* the data came through unchanged */
		size_t d = q->rtu ? 3 : 9;

		for (unsigned i = 0; i < q->count; i++)
			if (q->bits ? bits[i] != ((frame[d + i / 8] >> (i % 8)) & 1) :
			    regs[i] != (frame[d + 2 * i] << 8 | frame[d + 2 * i + 1]))
				fz_fail("word %u changed on the way", i);
	}
	if (rc != 0 && rc != -ETIMEDOUT &&
	    (!mbf_answered(-rc) || hz_strerror(-rc) == NULL))
		fz_fail("error %d is not an answer", -rc);
	free(buf);
	return rc;
}

/* The reading decode() produced must be one the core can trust. */
static void
check_reading(const char *plugin, const struct hazmon_reading *r)
{
	if ((unsigned)r->quality > HAZMON_Q_FAULT)
		fz_fail("%s: quality %d", plugin, r->quality);
	if ((r->flags & HAZMON_F_BAD_VALUE) && !isnan(r->value))
		fz_fail("%s: bad_value with value %g", plugin, r->value);
	if ((r->flags & ~(uint32_t)HAZMON_F_DEVICE_ALARM) &&
	    r->quality == HAZMON_Q_OK)
		fz_fail("%s: flags 0x%x with quality ok", plugin, r->flags);
	if (r->quality == HAZMON_Q_OK && !isfinite(r->value))
		fz_fail("%s: value %g with quality ok", plugin, r->value);
	if (r->flags & (HAZMON_F_COMM | HAZMON_F_FROZEN | HAZMON_F_DEVICE_ERROR))
		fz_fail("%s set a flag only the core sets: 0x%x", plugin, r->flags);
}

/*
 * Decodes as bus.c does (quality and flags zero, the value NaN), and again
 * from another value: decode runs on a bus worker with a read-only
 * context, so both must come out the same (a value left unset shows
 * here), and be one the core can trust.
 */
static void
decode(const struct hazmon_plugin *pl, const void *ctx,
    const struct hazmon_slice *sl)
{
	struct hazmon_reading r = { .value = NAN }, again = { .value = -1.0 };

	pl->decode(&hz_host, ctx, sl, &r);
	pl->decode(&hz_host, ctx, sl, &again);
	if (memcmp(&r.value, &again.value, sizeof(r.value)) != 0 ||
	    r.quality != again.quality || r.flags != again.flags)
		fz_fail("%s: two decodes of the same words differ (%g/%g, "
		    "quality %d/%d, flags 0x%x/0x%x): a field left unset?",
		    pl->name, r.value, again.value, r.quality, again.quality,
		    r.flags, again.flags);
	check_reading(pl->name, &r);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct hazmon_sensor_setup su;
	struct hazmon_need needs[HAZMON_MAX_NEEDS + 2];
	struct plan_block blocks[HAZMON_MAX_NEEDS + 2];
	struct plan_ref refs[HAZMON_MAX_NEEDS + 2];
	struct hazmon_slice sl[HAZMON_MAX_NEEDS];
	struct plan_opts o;
	uint16_t *regs[HAZMON_MAX_NEEDS + 2] = { 0 };
	uint8_t *bits[HAZMON_MAX_NEEDS + 2] = { 0 }, ok[HAZMON_MAX_NEEDS + 2];
	const struct hazmon_plugin *pl;
	char text[1024];
	unsigned s = fz_u8(&in) % N_SENSORS, n, nb, extra;
	int rtu, unit, all = 1;

	pl = fz_plugin(sensors[s].plugin);
	settings(sensors[s].text, &in, text, sizeof(text));
	fz_log_begin();
	if (configure(pl, text, &su) != 0 || needs_ok(&su) != 0)
		goto out;
	if (pl->describe) {
		char d[512];

		memset(d, 'x', sizeof(d));
		d[0] = '\0';
		pl->describe(&hz_host, su.ctx, d, sizeof(d));
		if (memchr(d, '\0', sizeof(d)) == NULL)
			fz_fail("%s: describe left no NUL", pl->name);
	}
	/* The bus, and needs of other sensors on the same slave. */
	rtu = fz_u8(&in) & 1;
	unit = 1 + fz_u8(&in) % (rtu ? 247 : 255);
	o.coalesce = fz_u8(&in) & 1;
	o.gap = fz_u8(&in) % 64;
	o.max_regs = 1 + fz_u8(&in) % 125;
	o.max_bits = 1 + fz_u16(&in) % 2000;
	n = su.n_needs;
	memcpy(needs, su.needs, n * sizeof(needs[0]));
	for (extra = fz_u8(&in) % 3; extra > 0; extra--) {
		struct hazmon_need *x = &needs[n++];

		x->table = (enum hazmon_table)(fz_u8(&in) % 4);
		x->address = fz_u16(&in) % 128;
		x->count = 1 + fz_u8(&in) % 16;
	}
	for (unsigned i = 0; i < n; i++) {	/* config.c refuses more */
		int b = needs[i].table <= HAZMON_TABLE_DISCRETE;

		if (b && needs[i].count > o.max_bits)
			o.max_bits = needs[i].count;
		if (!b && needs[i].count > o.max_regs)
			o.max_regs = needs[i].count;
	}
	nb = plan_build(needs, n, &o, blocks, refs);
	if (nb < 1 || nb > n)
		fz_fail("%u needs in %u blocks", n, nb);
	for (unsigned i = 0; i < n; i++) {
		const struct plan_block *b = &blocks[refs[i].block];

		if (refs[i].block >= nb || b->table != needs[i].table ||
		    (unsigned)b->address + refs[i].offset != needs[i].address ||
		    (unsigned)refs[i].offset + needs[i].count > b->count ||
		    b->count > (b->table <= HAZMON_TABLE_DISCRETE ? o.max_bits :
		    o.max_regs))
			fz_fail("need %u not in its block", i);
	}
	for (unsigned b = 0; b < nb; b++) {
		struct mbf_req q;

		mbf_init(&q, rtu, unit, &blocks[b]);
		q.tid = fz_u16(&in);
		if (q.bits)
			bits[b] = calloc(blocks[b].count, 1);
		else
			regs[b] = calloc(blocks[b].count, sizeof(uint16_t));
		ok[b] = transact(&q, &in, regs[b], bits[b]) == 0;
	}
	for (unsigned k = 0; k < su.n_needs; k++) {
		const struct plan_ref *ref = &refs[k];

		all &= ok[ref->block];
		sl[k].regs = regs[ref->block] ? regs[ref->block] + ref->offset : NULL;
		sl[k].bits = bits[ref->block] ? bits[ref->block] + ref->offset : NULL;
		sl[k].count = su.needs[k].count;
	}
	if (all)
		decode(pl, su.ctx, sl);
	for (unsigned b = 0; b < nb; b++) {
		free(regs[b]);
		free(bits[b]);
	}
	pl->free_ctx(su.ctx);
out:
	free(fz_log_end());
	return 0;
}
