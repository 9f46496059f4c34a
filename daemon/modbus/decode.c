/*
 * decode.c - turn Modbus register words into numbers.
 *
 * Pure functions, shared by the core and (through struct hazmon_host) by
 * every plugin, so word orders are handled in exactly one place.  Values
 * are assembled byte by byte from the 16-bit words libmodbus returns in
 * host order; nothing depends on the host's own byte order.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mb.h"

static const char *const table_names[] = { "coil", "discrete", "holding", "input" };
static const char *const type_names[] = { "int16", "uint16", "int32", "uint32",
    "float32", "int64", "uint64", "float64", "bit" };
static const char *const order_names[] = { "ABCD", "CDAB", "BADC", "DCBA" };

static int
lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

int
decode_table_parse(const char *s, enum hazmon_table *out)
{
	int i = lookup(table_names, 4, s);

	if (i < 0)
		return -1;
	*out = (enum hazmon_table)i;
	return 0;
}

const char *
decode_table_name(enum hazmon_table t)
{
	return (unsigned)t < 4 ? table_names[t] : "?";
}

int
decode_type_parse(const char *s, enum hazmon_type *out)
{
	int i = lookup(type_names, 9, s);

	if (i < 0)
		return -1;
	*out = (enum hazmon_type)i;
	return 0;
}

int
decode_order_parse(const char *s, enum hazmon_order *out)
{
	int i = lookup(order_names, 4, s);

	if (i < 0)
		return -1;
	*out = (enum hazmon_order)i;
	return 0;
}

unsigned
decode_words(const struct hazmon_register *r)
{
	switch (r->type) {
	case HAZMON_TYPE_INT32: case HAZMON_TYPE_UINT32: case HAZMON_TYPE_FLOAT32:
		return 2;
	case HAZMON_TYPE_INT64: case HAZMON_TYPE_UINT64: case HAZMON_TYPE_FLOAT64:
		return 4;
	default:
		return 1;
	}
}

/* Assemble n words (n = 1, 2 or 4) into a big-endian unsigned integer. */
static uint64_t
assemble(const uint16_t *w, unsigned n, enum hazmon_order order)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		int swap_words = order == HAZMON_ORDER_CDAB ||
		    order == HAZMON_ORDER_DCBA;
		int swap_bytes = order == HAZMON_ORDER_BADC ||
		    order == HAZMON_ORDER_DCBA;
		uint16_t x = w[swap_words ? n - 1 - i : i];

		if (swap_bytes)
			x = (uint16_t)(x << 8 | x >> 8);
		v = v << 16 | x;
	}
	return v;
}

int
decode_register(const struct hazmon_register *r, uint16_t slice_address,
    const struct hazmon_slice *s, double *out)
{
	unsigned n = decode_words(r);
	unsigned off;
	double v;

	if (r->address < slice_address)
		return -1;
	off = (unsigned)(r->address - slice_address);
	if (off + n > s->count)
		return -1;
	if (r->type == HAZMON_TYPE_BIT || r->table == HAZMON_TABLE_COIL ||
	    r->table == HAZMON_TABLE_DISCRETE) {
		if (s->bits == NULL)
			return -1;
		v = s->bits[off] ? 1.0 : 0.0;
	} else {
		uint64_t u;
		uint32_t u32;
		float f;

		if (s->regs == NULL)
			return -1;
		u = assemble(s->regs + off, n, r->order);
		switch (r->type) {
		case HAZMON_TYPE_INT16:   v = (int16_t)u; break;
		case HAZMON_TYPE_UINT16:  v = (uint16_t)u; break;
		case HAZMON_TYPE_INT32:   v = (int32_t)(uint32_t)u; break;
		case HAZMON_TYPE_UINT32:  v = (uint32_t)u; break;
		case HAZMON_TYPE_INT64:   v = (double)(int64_t)u; break;
		case HAZMON_TYPE_UINT64:  v = (double)u; break;
		case HAZMON_TYPE_FLOAT32:
			u32 = (uint32_t)u;
			memcpy(&f, &u32, sizeof(f));
			v = f;
			break;
		case HAZMON_TYPE_FLOAT64:
			memcpy(&v, &u, sizeof(v));
			break;
		default:
			return -1;
		}
	}
	*out = v * r->scale + r->offset;
	return 0;
}
