/* Coalescing of register needs into requests (daemon/modbus/plan.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hazmond.h"

#define H HAZMON_TABLE_HOLDING
#define I HAZMON_TABLE_INPUT
#define C HAZMON_TABLE_COIL

struct tcase {
	const char *name;
	struct plan_opts o;
	struct hazmon_need needs[8];
	unsigned n;
	const char *blocks;	/* "table:address+count ..." expected */
};

static const struct tcase cases[] = {
	{ "adjacent merge", { 125, 2000, 0, 1 },
	  { { H, 0, 2 }, { H, 2, 2 }, { H, 4, 1 } }, 3, "2:0+5" },
	{ "unsorted and overlapping", { 125, 2000, 0, 1 },
	  { { H, 10, 2 }, { H, 0, 4 }, { H, 3, 4 }, { H, 11, 1 } }, 4, "2:0+7 2:10+2" },
	{ "gap fill", { 125, 2000, 3, 1 },
	  { { H, 0, 2 }, { H, 5, 2 }, { H, 20, 1 } }, 3, "2:0+7 2:20+1" },
	{ "tables never merge", { 125, 2000, 10, 1 },
	  { { H, 0, 1 }, { I, 1, 1 }, { C, 2, 1 } }, 3, "0:2+1 2:0+1 3:1+1" },
	{ "limit of 125 registers", { 125, 2000, 0, 1 },
	  { { H, 0, 100 }, { H, 100, 25 }, { H, 125, 1 } }, 3, "2:0+125 2:125+1" },
	{ "lower bus limit", { 4, 2000, 0, 1 },
	  { { H, 0, 2 }, { H, 2, 2 }, { H, 4, 2 } }, 3, "2:0+4 2:4+2" },
	{ "coalescing off", { 125, 2000, 0, 0 },
	  { { H, 0, 2 }, { H, 2, 2 } }, 2, "2:0+2 2:2+2" },
	{ "bits up to 2000", { 125, 2000, 0, 1 },
	  { { C, 0, 1999 }, { C, 1999, 1 }, { C, 2000, 1 } }, 3, "0:0+2000 0:2000+1" },
	{ "50 single registers become one request", { 125, 2000, 0, 1 },
	  { { H, 0, 1 }, { H, 1, 1 }, { H, 2, 1 }, { H, 3, 1 }, { H, 49, 1 } }, 5, "2:0+4 2:49+1" },
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		struct plan_block b[8];
		struct plan_ref r[8];
		unsigned nb = plan_build(t->needs, t->n, &t->o, b, r);
		char got[256] = "";

		for (unsigned k = 0; k < nb; k++) {
			char one[32];

			snprintf(one, sizeof(one), "%s%d:%u+%u", k ? " " : "",
			    (int)b[k].table, b[k].address, b[k].count);
			strcat(got, one);
		}
		if (strcmp(got, t->blocks) != 0) {
			print_error("%s: got \"%s\", expected \"%s\"\n", t->name,
			    got, t->blocks);
			fail();
		}
		/* Every need must lie inside its block, at its offset. */
		for (unsigned k = 0; k < t->n; k++) {
			const struct plan_block *bl = &b[r[k].block];

			assert_true(r[k].block < nb);
			assert_int_equal(bl->table, t->needs[k].table);
			assert_int_equal(bl->address + r[k].offset, t->needs[k].address);
			assert_true(r[k].offset + t->needs[k].count <= bl->count);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
