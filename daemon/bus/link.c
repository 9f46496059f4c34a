/*
 * link.c - one bus's Modbus context: TCP or RTU, connect, backoff, read.
 *
 * Used only by the bus's own worker thread (libmodbus contexts are not
 * thread-safe).  Reconnects are ours, with a backoff from 250 ms doubling
 * to 5 s: libmodbus's own error recovery can retry forever.
 *
 * libmodbus opens the socket or serial port (connect timeout, termios,
 * RS-485 mode); the transactions are ours, on its file descriptor, so that
 * every reply is checked against its request (mbframe.c) and a whole
 * transaction has a deadline, not only each byte: a device that trickles
 * a reply cannot hold the bus, the watchdog or its neighbours.
 *
 * On RS-485 nothing in a reply names its request: a slave that answers
 * after our timeout would have its reply taken for the next request's.
 * So a request that timed out leaves the line owed that slave's reply for
 * one more timeout; before the next request to that slave the line is
 * drained until then and quiet, and what arrives is dropped and counted.
 * A reply followed at once by more bytes proves nothing and is refused.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <modbus.h>

#include "link.h"

#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	5000

void
link_init(struct hz_link *l, const struct hz_bus *b)
{
	memset(l, 0, sizeof(*l));
	l->bus = b;
	l->backoff_ms = BACKOFF_MIN_MS;
	l->fd = -1;
	l->down_err = ENOTCONN;
}

const char *
link_describe(const struct hz_link *l, char *buf, size_t len)
{
	const struct hz_bus *b = l->bus;

	if (b->type == HZ_BUS_TCP)
		snprintf(buf, len, "%s:%d", b->host, b->port);
	else
		snprintf(buf, len, "%s %d %d%c%d", b->device, b->baud, b->data_bits,
		    b->parity, b->stop_bits);
	return buf;
}

void
link_down(struct hz_link *l, int64_t now)
{
	if (l->mb) {
		modbus_close(l->mb);
		modbus_free(l->mb);
		l->mb = NULL;
	}
	l->fd = -1;
	l->rlen = 0;		/* the rest of a closed stream */
	l->connected = 0;	/* l->owed stays: a slave may answer a reopened port */
	l->retry_at = now + l->backoff_ms;
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    l->backoff_ms * 2;
}

static modbus_t *
new_context(const struct hz_bus *b)
{
	char port[8];

	if (b->type == HZ_BUS_RTU)
		return modbus_new_rtu(b->device, b->baud, b->parity, b->data_bits,
		    b->stop_bits);
	snprintf(port, sizeof(port), "%d", b->port);
	return modbus_new_tcp_pi(b->host, port);
}

/* Why the link is down, as a return value. */
static int
down(const struct hz_link *l)
{
	return -(l->down_err ? l->down_err : ENOTCONN);
}

/*
 * Connects unless connected or backing off.  Returns 0 when usable, or
 * -errno: why it is down.
 */
int
link_up(struct hz_link *l, int64_t now)
{
	const struct hz_bus *b = l->bus;
	uint32_t sec = (uint32_t)b->timeout_ms / 1000;
	uint32_t usec = (uint32_t)(b->timeout_ms % 1000) * 1000;
	char where[300];

	if (l->connected)
		return 0;
	if (now < l->retry_at)
		return down(l);		/* still down for the reason it went */
	if ((l->mb = new_context(b)) == NULL) {
		l->down_err = errno;
		log_warn("bus %s: cannot create a Modbus context for %s", b->name,
		    link_describe(l, where, sizeof(where)));
		link_down(l, now);
		return down(l);
	}
	/* Only the TCP connect uses libmodbus's timeout; reads are ours. */
	modbus_set_response_timeout(l->mb, sec, usec);
	if (modbus_connect(l->mb) != 0) {
		l->down_err = errno;
		if (!l->complained++)
			log_cmsg(HZ_LOG_WARNING, &(struct log_ctx){ .bus = b->name,
			    .slave = -1 }, "bus %s: cannot connect to %s: %s", b->name,
			    link_describe(l, where, sizeof(where)),
			    hz_strerror(errno));
		link_down(l, now);
		return down(l);
	}
	if (b->type == HZ_BUS_RTU && b->rs485 &&
	    modbus_rtu_set_serial_mode(l->mb, MODBUS_RTU_RS485) != 0)
		log_warnx("bus %s: %s: cannot switch to RS-485 mode: %s", b->name,
		    b->device, hz_strerror(errno));
	if (l->complained)
		log_cmsg(HZ_LOG_INFO, &(struct log_ctx){ .bus = b->name,
		    .slave = -1 }, "bus %s: connected to %s again", b->name,
		    link_describe(l, where, sizeof(where)));
	l->fd = modbus_get_socket(l->mb);
	l->connected = 1;
	l->complained = 0;
	l->backoff_ms = BACKOFF_MIN_MS;
	pause_ms(b->connect_pause_ms);
	return 0;
}

/* Errors after which the connection itself cannot be trusted. */
static int
link_error(int err)
{
	return err == ECONNRESET || err == EPIPE || err == EBADF ||
	    err == ENOTCONN || err == ECONNREFUSED || err == EIO ||
	    err == ECONNABORTED || err == ENXIO;
}

/* Milliseconds the line needs to carry n bytes (RTU), rounded up. */
static int64_t
line_ms(const struct hz_bus *b, size_t n)
{
	int64_t bits = 1 + b->data_bits + (b->parity != 'N') + b->stop_bits;

	if (b->type != HZ_BUS_RTU || b->baud <= 0)
		return 0;
	return ((int64_t)n * bits * 1000 + b->baud - 1) / b->baud;
}

/* The silent interval that ends an RTU frame (3.5 characters), at least 5 ms. */
static int
quiet_ms(const struct hz_bus *b)
{
	int64_t t = (line_ms(b, 7) + 1) / 2;

	return t > 5 ? (int)t : 5;
}

/* The longest one link_read() of a block can take: the poll's worst case. */
int64_t
link_worst_ms(const struct hz_bus *b)
{
	/* The largest read: 125 registers (RTU: 8-byte request, 255-byte reply). */
	int64_t frame = line_ms(b, 8 + 255) + quiet_ms(b);
	int64_t owed = b->type == HZ_BUS_RTU ? b->timeout_ms + frame : 0;

	return (int64_t)(b->retries + 2) * (b->pause_ms + b->timeout_ms + frame) +
	    owed;
}

/* Waits for the fd to become ready. Returns 1, 0 at the deadline, -errno. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_mono_ms();
		int rc = poll(&p, 1, left > 0 ? (int)left : 0);

		if (rc > 0)
			return 1;
		if (rc == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Reads what is there, up to n bytes: > 0, 0 at the deadline, -errno. */
static ssize_t
read_some(const struct hz_link *l, uint8_t *buf, size_t n, int64_t deadline)
{
	for (;;) {
		int w = wait_fd(l->fd, POLLIN, deadline);
		ssize_t r;

		if (w <= 0)
			return w;
		if ((r = read(l->fd, buf, n)) > 0)
			return r;
		if (r == 0)	/* peer closed (TCP) or hangup (a tty gives no 0 else) */
			return l->bus->type == HZ_BUS_TCP ? -ECONNRESET : -EIO;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
	}
}

static int
write_all(const struct hz_link *l, const uint8_t *buf, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t r = write(l->fd, buf, n);
		int w;

		if (r > 0) {
			buf += r;
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if ((w = wait_fd(l->fd, POLLOUT, deadline)) <= 0)
			return w < 0 ? w : -ETIMEDOUT;
	}
	return 0;
}

/*
 * Up to n bytes of the stream: RTU reads only what the frame needs (the
 * line's silence after it is checked apart); TCP takes what is there,
 * keeps what lies beyond n for the next call, and reads only when that
 * is used up.  Returns > 0, 0 at the deadline, or -errno.
 */
static ssize_t
take(struct hz_link *l, uint8_t *buf, size_t n, int64_t deadline)
{
	ssize_t r;

	if (l->bus->type != HZ_BUS_TCP)
		return read_some(l, buf, n, deadline);
	if (l->rlen == 0) {
		if ((r = read_some(l, l->rbuf, sizeof(l->rbuf), deadline)) <= 0)
			return r;
		l->rlen = (size_t)r;
	}
	if (n > l->rlen)
		n = l->rlen;
	memcpy(buf, l->rbuf, n);
	memmove(l->rbuf, l->rbuf + n, l->rlen - n);
	l->rlen -= n;
	return (ssize_t)n;
}

/* Reads one frame as mbframe.c delimits it. Returns its length or -errno. */
static int
recv_frame(struct hz_link *l, const struct mbf_req *q, uint8_t *buf,
    int64_t deadline)
{
	size_t have = 0;
	int want = mbf_frame_len(q, buf, 0);

	while ((size_t)want != have) {
		ssize_t r = take(l, buf + have, (size_t)want - have, deadline);

		if (r == 0)
			return have ? -HZ_ESLOW : -ETIMEDOUT;
		if (r < 0)
			return (int)r;
		have += (size_t)r;
		if ((want = mbf_frame_len(q, buf, have)) < 0)
			return want;
	}
	return want;
}

/*
 * Discards what arrives until the line has been quiet for quiet_ms and
 * `until` has passed, but never beyond `limit`. Returns bytes dropped.
 */
static size_t
drain(const struct hz_link *l, int64_t until, int64_t limit)
{
	uint8_t junk[256];
	size_t n = 0;
	int64_t last = now_mono_ms();

	for (;;) {
		int64_t d = last + quiet_ms(l->bus);
		ssize_t r;

		if (d < until)
			d = until;
		if (d > limit)
			d = limit;
		if ((r = read_some(l, junk, sizeof(junk), d)) <= 0)
			return n;
		n += (size_t)r;
		last = now_mono_ms();
	}
}

static void
note_dropped(struct hz_link *l, int slave, size_t bytes, const char *what)
{
	if (bytes == 0)
		return;
	l->dropped++;
	log_cmsg(HZ_LOG_WARNING, &(struct log_ctx){ .bus = l->bus->name,
	    .slave = slave }, "bus %s slave %d: dropped %s", l->bus->name, slave,
	    what);
}

/*
 * RTU, before a request to `slave`: the line may still owe that slave's
 * reply to a request that timed out.  Nothing in it would tell it from
 * the answer to this request (another slave's says its address, and is
 * refused as such), so wait that out, drop whatever comes, and start
 * from silence.
 */
static void
settle(struct hz_link *l, int slave)
{
	int64_t now = now_mono_ms(), until = 0;

	for (unsigned i = 0; i < LINK_OWED; i++) {
		if (l->owed[i].until <= now)
			l->owed[i].until = 0;
		else if (l->owed[i].slave == slave) {
			until = l->owed[i].until;
			l->owed[i].until = 0;
		}
	}
	if (until)
		note_dropped(l, slave, drain(l, until, until +
		    line_ms(l->bus, 260) + quiet_ms(l->bus)),
		    "a late reply that arrived after its request timed out");
	tcflush(l->fd, TCIFLUSH);
}

/* Notes that `slave` may still answer until `until`. */
static void
owe(struct hz_link *l, int slave, int64_t until)
{
	unsigned k = 0;

	for (unsigned i = 0; i < LINK_OWED; i++)
		if (l->owed[i].until == 0 || l->owed[i].slave == slave) {
			k = i;
			break;
		} else if (l->owed[i].until < l->owed[k].until)
			k = i;
	/* All taken by other slaves: pay the oldest debt now. */
	if (l->owed[k].until && l->owed[k].slave != slave)
		settle(l, l->owed[k].slave);
	l->owed[k].slave = slave;
	l->owed[k].until = until;
}

/* One attempt. Returns 0 or -errno; *sent is when the request went out. */
static int
transact(struct hz_link *l, struct mbf_req *q, uint16_t *regs, uint8_t *bits,
    int64_t *sent)
{
	const struct hz_bus *b = l->bus;
	uint8_t req[16], rsp[MBF_ADU_MAX];
	size_t n;
	int64_t deadline;
	int len, rc;

	if (!q->rtu)
		q->tid = ++l->tid;
	n = mbf_request(q, req);
	*sent = now_mono_ms();
	/* The whole reply by then: the device's time plus the line's. */
	deadline = *sent + b->timeout_ms + line_ms(b, n + mbf_reply_max(q));
	if ((rc = write_all(l, req, n, deadline)) != 0)
		return rc;
	for (;;) {
		if ((len = recv_frame(l, q, rsp, deadline)) < 0)
			break;
		rc = mbf_check(q, rsp, (size_t)len, regs, bits);
		/* TCP: a late reply to one of our last requests; ours may follow. */
		if (rc == -HZ_ETID &&
		    (uint16_t)(q->tid - (rsp[0] << 8 | rsp[1])) < 16) {
			note_dropped(l, q->unit, (size_t)len,
			    "a late reply to an earlier transaction");
			continue;
		}
		break;
	}
	if (len < 0)
		rc = len;
	if (q->rtu && rc != -ETIMEDOUT && !link_error(-rc)) {
		/* A whole reply must be followed by silence; garbage is dropped. */
		size_t more = drain(l, 0, now_mono_ms() + b->timeout_ms +
		    line_ms(b, 260));

		if (more && rc == 0)
			rc = -HZ_ETRAIL;
	}
	return rc;
}

/* Attempts worth repeating: the line may have garbled or lost the frame. */
static int
retryable(int err)
{
	return err == ETIMEDOUT || err == EMBBADCRC || err == HZ_EUNIT ||
	    err == HZ_ESLOW || err == HZ_ETRAIL;
}

/*
 * Reads one block, with the bus's retries.  Returns 0, or -errno:
 * -ETIMEDOUT for silence, EMBX... for an exception, EMB... or HZ_E... for a
 * reply that fails the checks (hz_strerror names them), a socket error
 * after which the link is already down.
 */
int
link_read(struct hz_link *l, int slave, const struct plan_block *b,
    uint16_t *regs, uint8_t *bits)
{
	int rtu = l->bus->type == HZ_BUS_RTU;
	int err = ENOTCONN, tries = l->bus->retries + 1, collided = 0, owed = 0;
	struct mbf_req q;
	int64_t sent = 0;

	if (!l->connected)
		goto out;
	mbf_init(&q, rtu, slave, b);
	if (rtu)
		settle(l, slave);
	for (int a = 0; a < tries; a++) {
		pause_ms(l->bus->pause_ms);
		if (rtu && a > 0)
			tcflush(l->fd, TCIFLUSH);	/* the same request again */
		err = -transact(l, &q, regs, bits, &sent);
		/*
		 * Once an attempt timed out, any later reply may be its late
		 * one (the same registers, so still this request's), and the
		 * reply to the last attempt may still be on its way.
		 */
		owed |= err == ETIMEDOUT || err == HZ_ESLOW || err == HZ_ETRAIL;
		if (err == 0)
			break;
		/* TCP: the stream lost its framing; only a new connection helps. */
		if (link_error(err) || (!rtu && (err == HZ_EMBAPLEN ||
		    err == HZ_ESLOW || err == HZ_ETID || err == HZ_EPROTOID))) {
			l->down_err = err;
			link_down(l, now_mono_ms());
			break;
		}
		/* Another slave's late reply is the line's fault, not this
		 * slave's: one extra attempt, once. */
		if (err == HZ_EUNIT && rtu && !collided++)
			tries++;
		if (!retryable(err))
			break;	/* the device answered: retrying won't help */
	}
	/* A late reply that starts by then is drained whole (settle). */
	if (rtu && owed && l->connected)
		owe(l, slave, sent + line_ms(l->bus, 8) + 2LL * l->bus->timeout_ms);
	if (err == 0)
		return 0;
out:
	return -err;
}
