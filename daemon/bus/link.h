/*
 * link.h - a bus's Modbus connection: for bus.c, hazmond --probe and the
 * reply fuzz target only.
 */
#ifndef HAZMON_LINK_H
#define HAZMON_LINK_H

#include "bus.h"

/* link.c: a bus's Modbus context (TCP or RTU), connect and backoff */
#define LINK_OWED 4
struct hz_link {
	const struct hz_bus *bus;
	void *mb;			/* modbus_t */
	int connected;
	int64_t retry_at;		/* monotonic ms */
	int backoff_ms;
	int complained;
	int fd;				/* the socket or serial port, or -1 */
	int down_err;			/* errno that took it down, or failed to connect */
	uint16_t tid;			/* TCP: the last transaction id sent */
	struct {			/* RTU: slaves whose late reply may come */
		int slave;
		int64_t until;		/* monotonic ms; 0 = free */
	} owed[4];
	uint64_t dropped;		/* late or unmatched replies dropped */
	/*
	 * TCP: what one read() brought beyond the frame it completed, in
	 * stream order; the next frame starts there.  A reply then costs
	 * one poll and one read, not a pair for its header and its body.
	 */
	uint8_t rbuf[MBF_ADU_MAX];
	size_t rlen;
};
void link_init(struct hz_link *l, const struct hz_bus *b);
int link_up(struct hz_link *l, int64_t now);
void link_down(struct hz_link *l, int64_t now);
int link_read(struct hz_link *l, int slave, const struct plan_block *b,
    uint16_t *regs, uint8_t *bits);
const char *link_describe(const struct hz_link *l, char *buf, size_t len);
int64_t link_worst_ms(const struct hz_bus *b);

#endif
