/*
 * link.c - one bus's Modbus context: TCP or RTU, connect, backoff, read.
 *
 * Used only by the bus's own worker thread (libmodbus contexts are not
 * thread-safe).  Reconnects are ours, with a backoff from 250 ms doubling
 * to 5 s: libmodbus's own error recovery can retry forever.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <modbus.h>

#include "hazmond.h"

#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	5000

void
link_init(struct hz_link *l, const struct hz_bus *b)
{
	memset(l, 0, sizeof(*l));
	l->bus = b;
	l->backoff_ms = BACKOFF_MIN_MS;
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
	l->connected = 0;
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

/* Connects unless connected or backing off. Returns 0 when usable. */
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
		return -1;
	if ((l->mb = new_context(b)) == NULL) {
		log_warn("bus %s: cannot create a Modbus context for %s", b->name,
		    link_describe(l, where, sizeof(where)));
		link_down(l, now);
		return -1;
	}
	modbus_set_response_timeout(l->mb, sec, usec);
	/* Between bytes of one frame the gap is short; a stalled frame is a failure. */
	modbus_set_byte_timeout(l->mb, sec, usec);
	if (modbus_connect(l->mb) != 0) {
		if (!l->complained++)
			log_cmsg(HZ_LOG_WARNING, &(struct log_ctx){ .bus = b->name,
			    .slave = -1 }, "bus %s: cannot connect to %s: %s", b->name,
			    link_describe(l, where, sizeof(where)),
			    modbus_strerror(errno));
		link_down(l, now);
		return -1;
	}
	if (b->type == HZ_BUS_RTU && b->rs485 &&
	    modbus_rtu_set_serial_mode(l->mb, MODBUS_RTU_RS485) != 0)
		log_warnx("bus %s: %s: cannot switch to RS-485 mode: %s", b->name,
		    b->device, modbus_strerror(errno));
	if (l->complained)
		log_cmsg(HZ_LOG_INFO, &(struct log_ctx){ .bus = b->name,
		    .slave = -1 }, "bus %s: connected to %s again", b->name,
		    link_describe(l, where, sizeof(where)));
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

static int
read_once(modbus_t *mb, const struct plan_block *b, uint16_t *regs, uint8_t *bits)
{
	switch (b->table) {
	case HAZMON_TABLE_HOLDING:
		return modbus_read_registers(mb, b->address, b->count, regs);
	case HAZMON_TABLE_INPUT:
		return modbus_read_input_registers(mb, b->address, b->count, regs);
	case HAZMON_TABLE_COIL:
		return modbus_read_bits(mb, b->address, b->count, bits);
	case HAZMON_TABLE_DISCRETE:
		return modbus_read_input_bits(mb, b->address, b->count, bits);
	}
	errno = EINVAL;
	return -1;
}

/*
 * Reads one block, with the bus's retries.  Returns 0, or -1 with errno
 * set (ETIMEDOUT for silence, EMB* for Modbus-level errors, a socket
 * error after which the link is already down).
 */
int
link_read(struct hz_link *l, int slave, const struct plan_block *b,
    uint16_t *regs, uint8_t *bits)
{
	int rc = -1, err = ENOTCONN, tries = l->bus->retries + 1, collided = 0;

	if (!l->connected)
		goto out;
	modbus_set_slave(l->mb, slave);
	for (int a = 0; a < tries; a++) {
		pause_ms(l->bus->pause_ms);
		rc = read_once(l->mb, b, regs, bits);
		err = errno;
		if (rc == b->count)
			return 0;
		if (rc >= 0)
			err = EMBBADDATA;	/* a reply of the wrong size */
		if (link_error(err)) {
			link_down(l, now_mono_ms());
			break;
		}
		/*
		 * On a serial line a slave that answers after our timeout
		 * jams the next transaction: give its late reply a moment to
		 * arrive, then drop it, so one slow slave does not make its
		 * neighbours fail too.
		 */
		if (err == ETIMEDOUT && l->bus->type == HZ_BUS_RTU)
			pause_ms(l->bus->timeout_ms / 2 > 100 ? 100 : l->bus->timeout_ms / 2);
		/* Drop whatever is left of a late or garbled reply. */
		if (err == ETIMEDOUT || err == EMBBADCRC || err == EMBBADDATA ||
		    err == EMBBADSLAVE)
			modbus_flush(l->mb);
		/* Another slave's late reply is the line's fault, not this
		 * slave's: one extra attempt, once. */
		if (err == EMBBADSLAVE && !collided++)
			tries++;
		if (err != ETIMEDOUT && err != EMBBADCRC && err != EMBBADSLAVE)
			break;	/* the device answered: retrying won't help */
	}
out:
	errno = err;
	return -1;
}
