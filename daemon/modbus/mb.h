/*
 * mb.h - the Modbus data model, pure (no I/O, no clock, no threads): what
 * the configuration checks, the bus worker sends and the fuzz targets try.
 *
 *   decode.c   register words -> numbers; shared with plugins via the host
 *   plan.c     coalescing of register needs into read requests
 *   mbframe.c  read requests and the checks of their replies; error codes
 */
#ifndef HAZMON_MB_H
#define HAZMON_MB_H

#include <stddef.h>
#include <stdint.h>

#include "hazmon-plugin.h"
#include "base.h"

/* decode.c: register values -> numbers; pure, shared with plugins via host */
unsigned decode_words(const struct hazmon_register *r);
int decode_register(const struct hazmon_register *r, uint16_t slice_address,
    const struct hazmon_slice *s, double *out);
int decode_type_parse(const char *s, enum hazmon_type *out);
int decode_order_parse(const char *s, enum hazmon_order *out);
int decode_table_parse(const char *s, enum hazmon_table *out);
const char *decode_table_name(enum hazmon_table t);

/* plan.c: coalescing of register needs into requests (pure) */
struct plan_opts {
	unsigned max_regs;		/* per request, <= 125 */
	unsigned max_bits;		/* per request, <= 2000 */
	unsigned gap;			/* unused registers/bits read to merge */
	int coalesce;			/* 0: one request per need */
};
struct plan_block {
	enum hazmon_table table;
	uint16_t address;
	uint16_t count;
};
struct plan_ref {
	unsigned block;			/* which block holds the need */
	uint16_t offset;		/* where in it the need starts */
};
/* blocks and refs have room for n entries; returns the number of blocks. */
unsigned plan_build(const struct hazmon_need *needs, unsigned n,
    const struct plan_opts *o, struct plan_block *blocks, struct plan_ref *refs);

/*
 * mbframe.c: Modbus read requests and the checks of their replies (pure).
 * Error codes of its own, in errno space after libmodbus's (EMB*); one
 * hz_strerror() names them and libmodbus's alike.
 */
enum {
	HZ_EBASE = 112345678 + 100,	/* MODBUS_ENOBASE + 100 */
	HZ_ETID,			/* TCP: another transaction's reply */
	HZ_EPROTOID,			/* TCP: protocol id not 0 */
	HZ_EMBAPLEN,			/* TCP: MBAP length impossible or wrong */
	HZ_EUNIT,			/* another unit id / slave address */
	HZ_EFUNC,			/* another function code */
	HZ_ECOUNT,			/* byte count not the quantity asked */
	HZ_ESHORT,			/* shorter than any frame */
	HZ_ESLOW,			/* not whole by the transaction deadline */
	HZ_ETRAIL,			/* RTU: more bytes right after the reply */
	HZ_ELAST
};
struct mbf_req {
	int rtu;			/* RTU framing (else TCP) */
	uint16_t tid;			/* TCP transaction id */
	uint8_t unit;
	uint8_t fc;
	int bits;			/* coils/discrete inputs */
	uint16_t address, count;
};
#define MBF_ADU_MAX	260		/* TCP: 7 + 253 */
void mbf_init(struct mbf_req *q, int rtu, int unit, const struct plan_block *b);
size_t mbf_request(const struct mbf_req *q, uint8_t *adu);
size_t mbf_reply_max(const struct mbf_req *q);
int mbf_frame_len(const struct mbf_req *q, const uint8_t *buf, size_t have);
int mbf_check(const struct mbf_req *q, const uint8_t *adu, size_t len,
    uint16_t *regs, uint8_t *bits);
uint16_t mbf_crc16(const uint8_t *p, size_t n);
int mbf_answered(int err);
const char *hz_strerror(int err);

#endif
