/*
 * sim-rtu.c - hazmon-sim on a serial line (Modbus RTU), e.g. one end of
 * a pseudo-terminal pair made by socat.
 *
 * Frames are cut here rather than by modbus_receive(): libmodbus' RTU
 * server filters on one slave id and blocks while a frame trickles in,
 * but a line carries many unit ids and the loop must never block.  Like
 * a real device, a frame ends when its function code says so, or (for
 * codes whose length is unknown) when the line falls silent; after
 * garbage or a CRC error every byte is ignored until the line has been
 * silent, which resynchronises on the next frame.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "hazmon-sim.h"

/* How long the line must be quiet to end a frame.  Far above the 3.5
 * character times of the standard (4 ms at 9600 baud): a pty relayed by
 * socat on a loaded CI machine can pause inside a frame.  Far below any
 * master's response timeout. */
#define RTU_SILENCE 0.05
#define RTU_MIN_FRAME 4 /* unit, function code, CRC */

int
rtu_open(struct sim *s)
{
	int fd;

	if (!(s->ctx = modbus_new_rtu(s->device, s->baud, s->parity, 8,
	          s->stopbits)))
		return complain("%s: %s", s->device, modbus_strerror(errno));
	/* libmodbus opens the device and sets speed, parity and raw mode. */
	if (modbus_connect(s->ctx) < 0)
		return complain("%s: %s", s->device, modbus_strerror(errno));
	fd = s->line.fd = modbus_get_socket(s->ctx);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* Bytes written before we were listening are not a request to us. */
	modbus_flush(s->ctx);
	printf("hazmon-sim: serving RTU on %s (%d baud, 8%c%d)\n", s->device,
	    s->baud, s->parity, s->stopbits);
	fflush(stdout);
	return 0;
}

/* Total length of the request frame at b (n bytes so far): 0 = too few
 * bytes to tell yet, -1 = function code of unknown length. */
static int
frame_length(const uint8_t *b, int n)
{
	if (n < 2)
		return 0;
	switch (b[1]) {
	case MODBUS_FC_READ_COILS:
	case MODBUS_FC_READ_DISCRETE_INPUTS:
	case MODBUS_FC_READ_HOLDING_REGISTERS:
	case MODBUS_FC_READ_INPUT_REGISTERS:
	case MODBUS_FC_WRITE_SINGLE_COIL:
	case MODBUS_FC_WRITE_SINGLE_REGISTER:
	case 0x08: /* diagnostics: sub-function and one word */ return 8;
	case MODBUS_FC_READ_EXCEPTION_STATUS:
	case 0x0B: /* get comm event counter */
	case 0x0C: /* get comm event log */
	case MODBUS_FC_REPORT_SLAVE_ID: return RTU_MIN_FRAME;
	case MODBUS_FC_WRITE_MULTIPLE_COILS:
	case MODBUS_FC_WRITE_MULTIPLE_REGISTERS: return n < 7 ? 0 : 9 + b[6];
	case MODBUS_FC_MASK_WRITE_REGISTER: return 10;
	case MODBUS_FC_WRITE_AND_READ_REGISTERS: return n < 11 ? 0 : 13 + b[10];
	default: return -1;
	}
}

/* Read what the line has.  Returns -1 only when the line is gone. */
int
rtu_input(struct sim *s, double now)
{
	struct rtu_line *l = &s->line;
	struct pollfd p = { .fd = l->fd, .events = POLLIN };
	ssize_t n = read(l->fd, l->buf + l->len,
	    sizeof l->buf - (size_t)l->len);

	if (n > 0) {
		l->last = now;
		l->len = l->resync ? 0 : l->len + (int)n;
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/* A raw tty reads 0 bytes when there is nothing; only a hangup
	 * (the other end of a pty closed for good) ends the simulator,
	 * which would otherwise spin on it. */
	if (n == 0 &&
	    (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLHUP | POLLERR))))
		return 0;
	return complain("%s: serial line lost: %s", s->device,
	    n < 0 ? strerror(errno) : "hangup");
}

static void
bad_frame(struct sim *s, const char *why, int resync)
{
	struct rtu_line *l = &s->line;

	s->st.bad_frames++;
	if (s->verbose)
		fprintf(stderr, "rtu: %d byte(s) dropped: %s\n", l->len, why);
	l->len = 0;
	l->resync = resync;
}

/* Cut and answer the frames received so far.  Nothing is taken off the
 * line while it is busy with a delayed reply (see line_busy()). */
void
rtu_process(struct sim *s, double now)
{
	struct rtu_line *l = &s->line;
	int quiet = now - l->last >= RTU_SILENCE;

	if (l->resync && quiet)
		l->resync = 0;
	while (l->len > 0 && !line_busy(s)) {
		int need = frame_length(l->buf, l->len);

		if (need < 0 && (quiet || l->len == RTU_BUF))
			need =
			    l->len; /* unknown length: silence ends the frame */
		if (need <= 0 ||
		    (need <= MODBUS_RTU_MAX_ADU_LENGTH && l->len < need)) {
			if (quiet)
				bad_frame(s, "incomplete frame", 0);
			return; /* else the rest may still be on its way */
		}
		if (need < RTU_MIN_FRAME || need > MODBUS_RTU_MAX_ADU_LENGTH) {
			bad_frame(s, "garbled frame", 1);
			return;
		}
		if (crc16(l->buf, need - 2) !=
		    (l->buf[need - 2] | l->buf[need - 1] << 8)) {
			bad_frame(s, "CRC error", 1);
			return;
		}
		handle_request(s, l->fd, l->buf, need, now);
		l->len -= need;
		memmove(l->buf, l->buf + need, (size_t)l->len);
	}
}

/* When buffered bytes must be judged (frame end or end of resync). */
double
rtu_deadline(const struct sim *s)
{
	const struct rtu_line *l = &s->line;

	if (line_busy(s) || (l->len == 0 && !l->resync))
		return HUGE_VAL;
	return l->last + RTU_SILENCE;
}
