/*
 * mbframe.c - Modbus read requests and the proof that a reply answers them.
 *
 * Pure: bytes in, words or an error code out; no I/O and no clock.  A
 * reply is taken only when every field that ties it to its request
 * agrees: on TCP the transaction id, protocol id, MBAP length and unit
 * id; on RTU the CRC and the slave address; on both the function code
 * and the byte count of the quantity asked.  libmodbus 3.1.6 checks only
 * some of these, so link.c frames the transaction itself.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <modbus.h>

#include "mb.h"

_Static_assert(HZ_EBASE > EMBBADSLAVE, "own codes follow libmodbus's");

static const uint8_t fc_of[] = {
	[HAZMON_TABLE_COIL] = 0x01, [HAZMON_TABLE_DISCRETE] = 0x02,
	[HAZMON_TABLE_HOLDING] = 0x03, [HAZMON_TABLE_INPUT] = 0x04,
};

/* CRC-16/MODBUS: polynomial 0xA001 (reflected 0x8005), initial 0xFFFF. */
uint16_t
mbf_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;

	while (n--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = crc & 1 ? (uint16_t)((crc >> 1) ^ 0xA001) : crc >> 1;
	}
	return crc;
}

void
mbf_init(struct mbf_req *q, int rtu, int unit, const struct plan_block *b)
{
	memset(q, 0, sizeof(*q));
	q->rtu = rtu;
	q->unit = (uint8_t)unit;
	q->fc = fc_of[b->table];
	q->bits = b->table == HAZMON_TABLE_COIL || b->table == HAZMON_TABLE_DISCRETE;
	q->address = b->address;
	q->count = b->count;
}

/* Data bytes a correct reply carries. */
static unsigned
data_bytes(const struct mbf_req *q)
{
	return q->bits ? (q->count + 7u) / 8u : 2u * q->count;
}

size_t
mbf_reply_max(const struct mbf_req *q)
{
	return (q->rtu ? 5 : 9) + data_bytes(q);
}

size_t
mbf_request(const struct mbf_req *q, uint8_t *adu)
{
	uint8_t *p = adu;

	if (!q->rtu) {
		*p++ = (uint8_t)(q->tid >> 8);
		*p++ = (uint8_t)q->tid;
		*p++ = 0;			/* protocol id: Modbus */
		*p++ = 0;
		*p++ = 0;			/* length: unit + PDU */
		*p++ = 6;
	}
	*p++ = q->unit;
	*p++ = q->fc;
	*p++ = (uint8_t)(q->address >> 8);
	*p++ = (uint8_t)q->address;
	*p++ = (uint8_t)(q->count >> 8);
	*p++ = (uint8_t)q->count;
	if (q->rtu) {
		uint16_t crc = mbf_crc16(adu, (size_t)(p - adu));

		*p++ = (uint8_t)crc;		/* CRC goes low byte first */
		*p++ = (uint8_t)(crc >> 8);
	}
	return (size_t)(p - adu);
}

/*
 * How long the frame whose first `have` bytes are in buf is, as far as
 * they tell: a value above `have` asks for more bytes, `have` itself
 * means the frame is whole, a negative value is an error (the frame's
 * end cannot be known: the stream is out of step).
 */
int
mbf_frame_len(const struct mbf_req *q, const uint8_t *buf, size_t have)
{
	unsigned len, fc;

	if (!q->rtu) {
		if (have < 6)
			return 6;
		len = (unsigned)buf[4] << 8 | buf[5];
		/* unit + function code at least; a PDU is at most 253 bytes */
		if (len < 2 || len > 254)
			return -HZ_EMBAPLEN;
		return (int)(6 + len);
	}
	if (have < 2)
		return 2;
	fc = buf[1];
	if (fc & 0x80)
		return 5;			/* unit, fc, code, CRC */
	if (fc < 0x01 || fc > 0x04)
		return -HZ_EFUNC;		/* not a read reply: no known length */
	if (have < 3)
		return 3;
	return 3 + buf[2] + 2;
}

/* An exception code as an errno value, as libmodbus maps them. */
static int
exception_err(uint8_t code)
{
	if (code >= MODBUS_EXCEPTION_ILLEGAL_FUNCTION &&
	    code <= MODBUS_EXCEPTION_GATEWAY_TARGET)
		return MODBUS_ENOBASE + code;
	return EMBUNKEXC;
}

/*
 * Checks a whole frame (as mbf_frame_len delimited it) against its
 * request and copies the data out.  Returns 0, or a negative errno:
 * -HZ_ETID for a reply to another transaction (TCP: a late reply; drop
 * it and wait on), an exception as -EMBX*, any other mismatch as -HZ_E*
 * or -EMBBADCRC.  regs/bits are written only when it returns 0.
 */
int
mbf_check(const struct mbf_req *q, const uint8_t *adu, size_t len,
    uint16_t *regs, uint8_t *bits)
{
	const uint8_t *pdu;
	size_t pdu_len;
	unsigned n = data_bytes(q);

	if (q->rtu) {
		if (len < 5)
			return -HZ_ESHORT;
		if (mbf_crc16(adu, len - 2) != (adu[len - 2] | adu[len - 1] << 8))
			return -EMBBADCRC;
		if (adu[0] != q->unit)
			return -HZ_EUNIT;
		pdu = adu + 1;
		pdu_len = len - 3;
	} else {
		if (len < 8)
			return -HZ_ESHORT;
		if ((adu[0] << 8 | adu[1]) != q->tid)
			return -HZ_ETID;
		if (adu[2] != 0 || adu[3] != 0)
			return -HZ_EPROTOID;
		if ((size_t)(adu[4] << 8 | adu[5]) != len - 6)
			return -HZ_EMBAPLEN;
		if (adu[6] != q->unit)
			return -HZ_EUNIT;
		pdu = adu + 7;
		pdu_len = len - 7;
	}
	if (pdu[0] == (q->fc | 0x80))
		return pdu_len == 2 ? -exception_err(pdu[1]) : -HZ_EMBAPLEN;
	if (pdu[0] != q->fc)
		return -HZ_EFUNC;
	if (pdu_len < 2 || pdu[1] != n)
		return -HZ_ECOUNT;
	if (pdu_len != 2 + n)
		return q->rtu ? -HZ_ECOUNT : -HZ_EMBAPLEN;
	if (q->bits)
		for (unsigned i = 0; i < q->count; i++)
			bits[i] = (pdu[2 + i / 8] >> (i % 8)) & 1;
	else
		for (unsigned i = 0; i < q->count; i++)
			regs[i] = (uint16_t)(pdu[2 + 2 * i] << 8 | pdu[3 + 2 * i]);
	return 0;
}

/* Did something answer (the device refused or garbled), or nothing? */
int
mbf_answered(int err)
{
	return (err >= EMBXILFUN && err <= EMBBADSLAVE) ||
	    (err > HZ_EBASE && err < HZ_ELAST);
}

const char *
hz_strerror(int err)
{
	switch (err) {
	case HZ_ETID: return "reply to another transaction (late reply)";
	case HZ_EPROTOID: return "reply with a protocol id other than 0";
	case HZ_EMBAPLEN: return "reply whose MBAP length disagrees with its PDU";
	case HZ_EUNIT: return "reply from another unit id";
	case HZ_EFUNC: return "reply with another function code";
	case HZ_ECOUNT: return "reply whose byte count is not the quantity asked";
	case HZ_ESHORT: return "reply too short to be a Modbus frame";
	case HZ_ESLOW: return "reply not complete within the transaction deadline";
	case EMBUNKEXC: return "exception with a code Modbus does not define";
	/* libmodbus names every code from 1 to 11 but the unassigned 9 */
	case MODBUS_ENOBASE + 9: return "Modbus exception 9 (undefined)";
	case HZ_ETRAIL: return "more bytes after the reply (two frames: cannot tell "
	    "which answers the request)";
	default: return modbus_strerror(err);
	}
}
