/* Modbus requests and the checks of their replies (daemon/modbus/mbframe.c). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <modbus.h>

#include "hazmond.h"

static const struct plan_block holding = { HAZMON_TABLE_HOLDING, 0x10, 2 };

static void
test_requests(void **state)
{
	struct mbf_req q;
	uint8_t adu[MBF_ADU_MAX];
	static const uint8_t tcp[] = { 0x12, 0x34, 0, 0, 0, 6, 7, 3, 0, 0x10, 0, 2 };
	/* The example frame of the Modbus over serial line guide. */
	static const uint8_t rtu[] = { 1, 3, 0, 0, 0, 0x0A, 0xC5, 0xCD };
	struct plan_block b = { HAZMON_TABLE_HOLDING, 0, 10 };

	(void)state;
	mbf_init(&q, 0, 7, &holding);
	q.tid = 0x1234;
	assert_int_equal(mbf_request(&q, adu), sizeof(tcp));
	assert_memory_equal(adu, tcp, sizeof(tcp));
	mbf_init(&q, 1, 1, &b);
	assert_int_equal(mbf_request(&q, adu), sizeof(rtu));
	assert_memory_equal(adu, rtu, sizeof(rtu));
	b.table = HAZMON_TABLE_DISCRETE;
	mbf_init(&q, 1, 1, &b);
	assert_int_equal(q.fc, 2);
	assert_int_equal(mbf_reply_max(&q), 5 + 2);
}

struct tcase {
	const char *what;
	uint8_t adu[16];
	size_t len;
	int rc;
};

/* Replies to: tid 0x1234, unit 7, read holding 0x10, 2 registers. */
static const struct tcase tcases[] = {
	{ "good", { 0x12, 0x34, 0, 0, 0, 7, 7, 3, 4, 0, 1, 0, 2 }, 13, 0 },
	{ "late tid", { 0x12, 0x33, 0, 0, 0, 7, 7, 3, 4, 0, 1, 0, 2 }, 13, -HZ_ETID },
	{ "protocol 1", { 0x12, 0x34, 0, 1, 0, 7, 7, 3, 4, 0, 1, 0, 2 }, 13, -HZ_EPROTOID },
	{ "unit 8", { 0x12, 0x34, 0, 0, 0, 7, 8, 3, 4, 0, 1, 0, 2 }, 13, -HZ_EUNIT },
	{ "fc 4", { 0x12, 0x34, 0, 0, 0, 7, 7, 4, 4, 0, 1, 0, 2 }, 13, -HZ_EFUNC },
	{ "count 2", { 0x12, 0x34, 0, 0, 0, 5, 7, 3, 2, 0, 1 }, 11, -HZ_ECOUNT },
	{ "count 4, 2 bytes", { 0x12, 0x34, 0, 0, 0, 5, 7, 3, 4, 0, 1 }, 11, -HZ_EMBAPLEN },
	{ "count 4, 6 bytes", { 0x12, 0x34, 0, 0, 0, 9, 7, 3, 4, 0, 1, 0, 2, 0, 3 }, 15,
	    -HZ_EMBAPLEN },
	{ "exception 2", { 0x12, 0x34, 0, 0, 0, 3, 7, 0x83, 2 }, 9, -EMBXILADD },
	{ "exception 11", { 0x12, 0x34, 0, 0, 0, 3, 7, 0x83, 11 }, 9, -EMBXGTAR },
	{ "exception 0", { 0x12, 0x34, 0, 0, 0, 3, 7, 0x83, 0 }, 9, -EMBUNKEXC },
	{ "exception 12", { 0x12, 0x34, 0, 0, 0, 3, 7, 0x83, 12 }, 9, -EMBUNKEXC },
	{ "exception of fc 4", { 0x12, 0x34, 0, 0, 0, 3, 7, 0x84, 2 }, 9, -HZ_EFUNC },
	{ "exception, long", { 0x12, 0x34, 0, 0, 0, 4, 7, 0x83, 2, 0 }, 10, -HZ_EMBAPLEN },
};

static void
test_tcp_checks(void **state)
{
	struct mbf_req q;

	(void)state;
	mbf_init(&q, 0, 7, &holding);
	q.tid = 0x1234;
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *t = &tcases[i];
		uint16_t regs[2] = { 0xAAAA, 0xAAAA };
		int rc;

		/* Every case is a whole frame by its own MBAP length. */
		assert_int_equal(mbf_frame_len(&q, t->adu, t->len), (int)t->len);
		rc = mbf_check(&q, t->adu, t->len, regs, NULL);
		if (rc != t->rc) {
			print_error("%s: got %d (%s), expected %d\n", t->what, rc,
			    hz_strerror(-rc), t->rc);
			fail();
		}
		if (rc == 0) {
			assert_int_equal(regs[0], 1);
			assert_int_equal(regs[1], 2);
		} else	/* a refused reply leaves the buffer alone */
			assert_int_equal(regs[0], 0xAAAA);
	}
}

static void
test_tcp_framing(void **state)
{
	struct mbf_req q;
	uint8_t hdr[6] = { 0x12, 0x34, 0, 0, 0, 7 };

	(void)state;
	mbf_init(&q, 0, 7, &holding);
	assert_int_equal(mbf_frame_len(&q, hdr, 0), 6);
	assert_int_equal(mbf_frame_len(&q, hdr, 5), 6);
	assert_int_equal(mbf_frame_len(&q, hdr, 6), 13);
	hdr[5] = 1;	/* a unit id and no function code */
	assert_int_equal(mbf_frame_len(&q, hdr, 6), -HZ_EMBAPLEN);
	hdr[4] = 1, hdr[5] = 0;	/* 256: more than any PDU */
	assert_int_equal(mbf_frame_len(&q, hdr, 6), -HZ_EMBAPLEN);
	hdr[4] = 0, hdr[5] = 254;	/* the largest */
	assert_int_equal(mbf_frame_len(&q, hdr, 6), 260);
}

/* Appends the CRC to an RTU frame of n bytes; returns n + 2. */
static size_t
crc(uint8_t *f, size_t n)
{
	uint16_t c = mbf_crc16(f, n);

	f[n] = (uint8_t)c;
	f[n + 1] = (uint8_t)(c >> 8);
	return n + 2;
}

static void
test_rtu(void **state)
{
	struct plan_block b = { HAZMON_TABLE_COIL, 0, 10 };
	struct mbf_req q;
	uint8_t f[16] = { 1, 1, 2, 0x05, 0x02 }, bits[10];
	size_t n = crc(f, 5);

	(void)state;
	mbf_init(&q, 1, 1, &b);
	assert_int_equal(mbf_frame_len(&q, f, 1), 2);
	assert_int_equal(mbf_frame_len(&q, f, 2), 3);
	assert_int_equal(mbf_frame_len(&q, f, 3), (int)n);
	assert_int_equal(mbf_check(&q, f, n, NULL, bits), 0);
	assert_int_equal(bits[0], 1);
	assert_int_equal(bits[1], 0);
	assert_int_equal(bits[2], 1);
	assert_int_equal(bits[9], 1);
	assert_int_equal(bits[8], 0);
	f[3] ^= 1;		/* one bit flipped on the line */
	assert_int_equal(mbf_check(&q, f, n, NULL, bits), -EMBBADCRC);
	f[3] ^= 1;
	f[0] = 2;		/* another slave's reply, with its own good CRC */
	n = crc(f, 5);
	assert_int_equal(mbf_check(&q, f, n, NULL, bits), -HZ_EUNIT);
	f[0] = 1, f[1] = 0x81, f[2] = 2;	/* exception: a 5-byte frame */
	assert_int_equal(mbf_frame_len(&q, f, 2), 5);
	n = crc(f, 3);
	assert_int_equal(mbf_check(&q, f, n, NULL, bits), -EMBXILADD);
	f[1] = 0x10;		/* a write reply: its length is not a read's */
	assert_int_equal(mbf_frame_len(&q, f, 2), -HZ_EFUNC);
	f[1] = 1, f[2] = 1;	/* byte count 1 for 10 bits */
	n = crc(f, 4);
	assert_int_equal(mbf_frame_len(&q, f, 3), (int)n);
	assert_int_equal(mbf_check(&q, f, n, NULL, bits), -HZ_ECOUNT);
}

/*
 * Random frames: the checks never read out of bounds (ASan), and whatever
 * they accept is exactly the reply the request asked for, byte for byte.
 */
static void
test_random(void **state)
{
	struct plan_block b = { HAZMON_TABLE_INPUT, 3, 2 };
	uint8_t f[MBF_ADU_MAX], again[MBF_ADU_MAX];
	unsigned accepted = 0;

	(void)state;
	srand(12);
	for (int round = 0; round < 200000; round++) {
		struct mbf_req q;
		uint16_t regs[2];
		size_t n = (size_t)(rand() % 20);
		int rtu = round & 1, len;

		mbf_init(&q, rtu, 5, &b);
		q.tid = 9;
		/* Mostly the right header, so the later checks are reached too. */
		if (rtu) {
			uint8_t h[] = { 5, 4, 4 };
			memcpy(f, h, 3);
		} else {
			uint8_t h[] = { 0, 9, 0, 0, 0, 7, 5, 4, 4 };
			memcpy(f, h, 9);
		}
		for (size_t i = 0; i < n + 9; i++)
			if (rand() % 4 == 0 || i >= 9)
				f[i] = (uint8_t)rand();
		if (rtu && rand() % 2)
			crc(f, 7);
		len = mbf_frame_len(&q, f, rtu ? 3 : 6);
		if (len <= 0 || len > MBF_ADU_MAX)
			continue;
		if (mbf_check(&q, f, (size_t)len, regs, NULL) != 0)
			continue;
		accepted++;
		/* Rebuild the reply from what was taken: it must be the same. */
		if (rtu) {
			uint8_t h[] = { 5, 4, 4, (uint8_t)(regs[0] >> 8), (uint8_t)regs[0],
			    (uint8_t)(regs[1] >> 8), (uint8_t)regs[1] };
			memcpy(again, h, 7);
			assert_int_equal(len, 9);
			crc(again, 7);
		} else {
			uint8_t h[] = { 0, 9, 0, 0, 0, 7, 5, 4, 4, (uint8_t)(regs[0] >> 8),
			    (uint8_t)regs[0], (uint8_t)(regs[1] >> 8), (uint8_t)regs[1] };
			memcpy(again, h, 13);
			assert_int_equal(len, 13);
		}
		assert_memory_equal(f, again, (size_t)len);
	}
	assert_true(accepted > 100);	/* the property was really exercised */
}

static void
test_strerror(void **state)
{
	(void)state;
	for (int e = HZ_EBASE + 1; e < HZ_ELAST; e++)
		assert_null(strstr(hz_strerror(e), "Unknown error"));
	/* every exception code a device can send, 9 (unassigned) included */
	for (int e = EMBXILFUN; e <= EMBXGTAR; e++)
		assert_null(strstr(hz_strerror(e), "Unknown error"));
	assert_true(mbf_answered(EMBXILADD));
	assert_true(mbf_answered(HZ_EUNIT));
	assert_true(mbf_answered(EMBBADCRC));
	assert_false(mbf_answered(ETIMEDOUT));
	assert_false(mbf_answered(ECONNRESET));
	assert_false(mbf_answered(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_tcp_checks),
		cmocka_unit_test(test_tcp_framing),
		cmocka_unit_test(test_rtu),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
