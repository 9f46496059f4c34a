/*
 * sim-reply.c - answer one complete request, TCP or RTU: count it, let
 * libmodbus build the reply, then shape it by the unit's fault (drop,
 * delay, exception, bad CRC, disconnect/garbage, short, truncated).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <sys/socket.h>

#include "hazmon-sim.h"

/* Modbus RTU CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF); sent
 * low byte first. */
uint16_t
crc16(const uint8_t *b, int n)
{
	uint16_t crc = 0xFFFF;

	for (int i = 0; i < n; i++) {
		crc ^= b[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc & 1) ? (uint16_t)(crc >> 1 ^ 0xA001) :
			                  (uint16_t)(crc >> 1);
	}
	return crc;
}

/* Start address and quantity of a request, or -1 for FCs without a
 * range.  *read_max is the protocol limit for reads (FC 23: its read
 * part) and 0 for writes, so only reads within limits count as items. */
static int
request_span(const uint8_t *pdu, int pdu_len, int *addr, int *read_max)
{
	*addr = pdu_len < 5 ? 0 : pdu[1] << 8 | pdu[2];
	*read_max = 0;
	switch (pdu[0]) {
	case MODBUS_FC_READ_COILS:
	case MODBUS_FC_READ_DISCRETE_INPUTS:
		*read_max = MODBUS_MAX_READ_BITS;
		break;
	case MODBUS_FC_READ_HOLDING_REGISTERS:
	case MODBUS_FC_READ_INPUT_REGISTERS:
	case MODBUS_FC_WRITE_AND_READ_REGISTERS:
		*read_max = MODBUS_MAX_READ_REGISTERS;
		break;
	case MODBUS_FC_WRITE_MULTIPLE_COILS:
	case MODBUS_FC_WRITE_MULTIPLE_REGISTERS: break;
	case MODBUS_FC_WRITE_SINGLE_COIL:
	case MODBUS_FC_WRITE_SINGLE_REGISTER:
	case MODBUS_FC_MASK_WRITE_REGISTER: return 1;
	default: return -1;
	}
	return pdu_len < 5 ? -1 : pdu[3] << 8 | pdu[4];
}

/* libmodbus writes a reply straight to the context's socket.  Point it
 * at one end of a socketpair instead and read the bytes back, so that a
 * fault can hold, corrupt or cut the reply before it goes out.  Returns
 * the reply length (0: libmodbus chose not to reply, e.g. broadcast). */
static int
build_reply(struct sim *s, const uint8_t *q, int len, modbus_mapping_t *m,
    int exception, uint8_t *r)
{
	int fd = modbus_get_socket(s->ctx), rc, n = 0;
	ssize_t got;

	modbus_set_socket(s->ctx, s->capture[0]);
	if (exception)
		rc = modbus_reply_exception(s->ctx, q, (unsigned)exception);
	else
		rc = modbus_reply(s->ctx, q, len, m);
	modbus_set_socket(s->ctx, fd);
	/* Drain whatever was written, even after an error, so no stale byte
	 * can precede the next reply. */
	while (n < ADU_MAX &&
	    (got = recv(s->capture[1], r + n, (size_t)(ADU_MAX - n),
	         MSG_DONTWAIT)) > 0)
		n += (int)got;
	if (rc < 0)
		return complain("building a reply failed: %s",
		    modbus_strerror(errno));
	return n;
}

/* After the PDU (ending at pdu_end) changed length: fix the MBAP length
 * or recompute the CRC, so the frame is consistent again. */
static int
rewrap(const struct sim *s, uint8_t *r, int pdu_end)
{
	uint16_t crc;

	if (!s->rtu) {
		r[4] = (uint8_t)((pdu_end - MBAP_PREFIX) >> 8);
		r[5] = (uint8_t)(pdu_end - MBAP_PREFIX);
		return pdu_end;
	}
	crc = crc16(r, pdu_end);
	r[pdu_end] = (uint8_t)crc;
	r[pdu_end + 1] = (uint8_t)(crc >> 8);
	return pdu_end + 2;
}

/* A well-formed reply carrying less than asked: a read loses its last
 * register (or its last byte of bits) and its byte count says so; any
 * other reply loses the last byte of its PDU.  Never below the FC. */
static int
make_short(const struct sim *s, uint8_t *r, int n, int hlen)
{
	int pdu_end = n - (s->rtu ? 2 : 0), fc = r[hlen], cut = 1;
	int is_read = fc == MODBUS_FC_READ_COILS ||
	    fc == MODBUS_FC_READ_DISCRETE_INPUTS ||
	    fc == MODBUS_FC_READ_HOLDING_REGISTERS ||
	    fc == MODBUS_FC_READ_INPUT_REGISTERS ||
	    fc == MODBUS_FC_WRITE_AND_READ_REGISTERS;

	if (is_read && pdu_end - hlen >= 3) {
		cut = fc <= MODBUS_FC_READ_DISCRETE_INPUTS ? 1 : 2;
		if (cut > r[hlen + 1])
			cut = r[hlen + 1];
		r[hlen + 1] = (uint8_t)(r[hlen + 1] - cut);
	}
	if (pdu_end - cut <= hlen)
		cut = pdu_end - hlen - 1;
	return cut > 0 ? rewrap(s, r, pdu_end - cut) : n;
}

/* Change the reply r[0..n) as the fault says; returns its new length. */
static int
apply_fault(const struct sim *s, const struct fault *f, uint8_t *r, int n,
    int hlen)
{
	switch (f->kind) {
	case FAULT_BADCRC:
		if (s->rtu) { /* both CRC bytes inverted: surely wrong */
			r[n - 2] ^= 0xFF;
			r[n - 1] ^= 0xFF;
		} else { /* TCP has no CRC: a protocol id that is not 0 */
			r[2] = r[3] = 0xFF;
		}
		return n;
	case FAULT_DISCONNECT: /* RTU only (TCP closes): line noise */
		for (int i = 0; i < n; i++)
			r[i] ^= 0xFF;
		return n;
	case FAULT_SHORT: return make_short(s, r, n, hlen);
	case FAULT_TRUNCATE: return f->arg < n ? n - f->arg : 1;
	default: return n;
	}
}

/* RTU broadcast: every unit that is listening applies a write; nobody
 * answers, and a broadcast read is simply ignored. */
static void
broadcast(struct sim *s, const uint8_t *q, int len)
{
	uint8_t r[ADU_MAX];

	for (int u = 1; u < NUM_UNITS; u++)
		if (s->units[u] && s->faults[u].kind != FAULT_NOREPLY)
			build_reply(s, q, len, s->units[u], 0, r);
}

static void
log_request(const struct sim *s, int unit, int fc, int addr, int n)
{
	const struct fault *f = &s->faults[unit];

	fprintf(stderr,
	    n >= 0 ? "req unit=%d fc=%d addr=%d count=%d" : "req unit=%d fc=%d",
	    unit, fc, addr, n);
	if (s->rtu && (unit == 0 || !s->units[unit]))
		fputs(unit ? " (no such unit: silent)" : " (broadcast)",
		    stderr);
	else if (f->kind != FAULT_NONE)
		fprintf(stderr, " fault=%s", sim_fault_names[f->kind]);
	fputc('\n', stderr);
}

/* Count and answer one complete request q[0..len) (TCP: MBAP header and
 * PDU; RTU: unit, PDU and CRC, already checked) that came from fd.
 * Returns 0, or -1 when a TCP client must be dropped (disconnect fault,
 * or the reply could not be sent). */
int
handle_request(struct sim *s, int fd, const uint8_t *q, int len, double now)
{
	int hlen = modbus_get_header_length(s->ctx), addr, max, n,
	    exception = 0;
	int unit = q[hlen - 1], fc = q[hlen],
	    count = request_span(q + hlen, len - hlen, &addr, &max);
	const struct fault *f = &s->faults[unit];
	modbus_mapping_t *m = s->units[unit];
	uint8_t r[ADU_MAX];

	s->st.requests[unit][fc]++;
	s->st.total++;
	if (s->verbose)
		log_request(s, unit, fc, addr, count);
	if (s->rtu && unit == 0) {
		broadcast(s, q, len);
		return 0;
	}
	if (s->rtu && !m)
		return 0; /* no device with this id on the line */
	if (f->kind == FAULT_NOREPLY)
		return 0;
	if (f->kind == FAULT_DISCONNECT && !s->rtu)
		return -1;
	if (f->kind == FAULT_EXCEPTION)
		exception = f->arg;
	else if (!m)
		exception = MODBUS_EXCEPTION_GATEWAY_TARGET;
	if ((n = build_reply(s, q, len, m, exception, r)) <= 0)
		return n < 0 && !s->rtu ? -1 : 0;
	/* Items are registers or bits actually delivered: intact replies to
	 * reads within limits (an exception reply has bit 7 of the FC set). */
	if (!(r[hlen] & 0x80) && count >= 1 && count <= max &&
	    (f->kind == FAULT_NONE || f->kind == FAULT_DELAY))
		s->st.items[unit][fc] += (unsigned long)count;
	n = apply_fault(s, f, r, n, hlen);
	if (f->kind == FAULT_DELAY && f->arg > 0) {
		defer_reply(s, fd, r, n, now + f->arg / 1000.0,
		    s->rtu && !f->free_line);
		return 0;
	}
	return send_reply(s, fd, r, n);
}
