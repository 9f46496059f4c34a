/* Word orders and types of register values (daemon/modbus/decode.c). */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hazmond.h"

struct vec {
	const char *type, *order;
	uint16_t words[4];
	double expect;
};

/* Expected words computed by hand from the IEEE/two's complement bytes. */
static const struct vec vecs[] = {
	{ "float32", "ABCD", { 0x3F80, 0x0000 }, 1.0 },
	{ "float32", "CDAB", { 0x0000, 0x3F80 }, 1.0 },
	{ "float32", "BADC", { 0x803F, 0x0000 }, 1.0 },
	{ "float32", "DCBA", { 0x0000, 0x803F }, 1.0 },
	{ "float32", "ABCD", { 0x42F6, 0xE979 }, 123.456001281738 },
	{ "float32", "CDAB", { 0xE979, 0x42F6 }, 123.456001281738 },
	{ "uint32", "ABCD", { 0x0001, 0x0002 }, 65538 },
	{ "uint32", "CDAB", { 0x0002, 0x0001 }, 65538 },
	{ "int32", "ABCD", { 0xFFFF, 0xFFFE }, -2 },
	{ "int32", "DCBA", { 0xFEFF, 0xFFFF }, -2 },
	{ "int16", "ABCD", { 0xFFF6 }, -10 },
	{ "int16", "BADC", { 0xF6FF }, -10 },
	{ "uint16", "ABCD", { 0xFFF6 }, 65526 },
	{ "float64", "ABCD", { 0x4059, 0x0000, 0x0000, 0x0000 }, 100.0 },
	{ "float64", "CDAB", { 0x0000, 0x0000, 0x0000, 0x4059 }, 100.0 },
	{ "float64", "BADC", { 0x5940, 0x0000, 0x0000, 0x0000 }, 100.0 },
	{ "float64", "DCBA", { 0x0000, 0x0000, 0x0000, 0x5940 }, 100.0 },
	{ "int64", "ABCD", { 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF }, -1 },
	{ "uint64", "ABCD", { 0x0000, 0x0000, 0x0001, 0x0000 }, 65536 },
	{ "uint64", "CDAB", { 0x0000, 0x0001, 0x0000, 0x0000 }, 65536 },
};

static void
test_orders(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct hazmon_register r = { .table = HAZMON_TABLE_HOLDING,
		    .address = 10, .scale = 1.0 };
		struct hazmon_slice s = { .regs = vecs[i].words, .count = 4 };
		double v = NAN;

		assert_int_equal(decode_type_parse(vecs[i].type, &r.type), 0);
		assert_int_equal(decode_order_parse(vecs[i].order, &r.order), 0);
		assert_int_equal(decode_register(&r, 10, &s, &v), 0);
		if (fabs(v - vecs[i].expect) > 1e-6) {
			print_error("vector %zu: %s %s gave %.9g, expected %.9g\n",
			    i, vecs[i].type, vecs[i].order, v, vecs[i].expect);
			fail();
		}
	}
}

static void
test_scale_offset(void **state)
{
	uint16_t w[] = { 0, 0, 250 };
	struct hazmon_register r = { .table = HAZMON_TABLE_INPUT, .address = 102,
	    .type = HAZMON_TYPE_INT16, .scale = 0.1, .offset = -5.0 };
	struct hazmon_slice s = { .regs = w, .count = 3 };
	double v;

	(void)state;
	assert_int_equal(decode_register(&r, 100, &s, &v), 0);
	assert_float_equal(v, 20.0, 1e-9);
}

/* A value that the slice does not cover is refused, never read past. */
static void
test_bounds(void **state)
{
	uint16_t w[] = { 1, 2 };
	struct hazmon_register r = { .table = HAZMON_TABLE_HOLDING, .address = 1,
	    .type = HAZMON_TYPE_FLOAT32, .scale = 1.0 };
	struct hazmon_slice s = { .regs = w, .count = 2 };
	double v = 42;

	(void)state;
	assert_int_equal(decode_register(&r, 0, &s, &v), -1);
	r.address = 0;
	assert_int_equal(decode_register(&r, 1, &s, &v), -1);	/* before slice */
	s.regs = NULL;
	assert_int_equal(decode_register(&r, 0, &s, &v), -1);
	assert_float_equal(v, 42, 0);
}

static void
test_bits(void **state)
{
	uint8_t b[] = { 0, 1, 0 };
	struct hazmon_register r = { .table = HAZMON_TABLE_DISCRETE, .address = 6,
	    .type = HAZMON_TYPE_BIT, .scale = 1.0 };
	struct hazmon_slice s = { .bits = b, .count = 3 };
	double v;

	(void)state;
	assert_int_equal(decode_register(&r, 5, &s, &v), 0);
	assert_float_equal(v, 1.0, 0);
}

static void
test_names(void **state)
{
	enum hazmon_table t;
	enum hazmon_type ty;
	enum hazmon_order o;

	(void)state;
	assert_int_equal(decode_table_parse("holding", &t), 0);
	assert_int_equal(t, HAZMON_TABLE_HOLDING);
	assert_int_equal(decode_table_parse("Holding", &t), -1);
	assert_int_equal(decode_type_parse("float", &ty), -1);
	assert_int_equal(decode_order_parse("ACBD", &o), -1);
	assert_string_equal(decode_table_name(HAZMON_TABLE_COIL), "coil");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_scale_offset),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
