/*
 * ledger_bench.c - commit throughput of the event ledger (daemon/delivery/ledger.c):
 * N events appended and committed in transactions of B events each, on the
 * real file system with WAL and synchronous=FULL, as hazmond does it.
 *
 *   ledger_bench DIR N B      prints: events/s and µs per commit
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hazmond.h"

int
main(int argc, char **argv)
{
	struct hz_ledger *l;
	int n, b;
	int64_t t0, t1;
	char payload[400];

	if (argc != 4)
		return 2;
	n = atoi(argv[2]);
	b = atoi(argv[3]);
	log_init("ledger_bench", HZ_LOG_WARNING);
	if ((l = ledger_open(argv[1])) == NULL)
		return 1;
	memset(payload, 'x', sizeof(payload) - 1);	/* an event's JSON size */
	payload[sizeof(payload) - 1] = '\0';
	t0 = now_mono_ms();
	for (int i = 0; i < n; i += b) {
		ledger_begin(l);
		for (int j = 0; j < b && i + j < n; j++) {
			struct hz_event e = { .seq = ledger_reserve_seq(l),
			    .ts_ms = now_real_ms(), .sensor = "g1", .kind = "alarm",
			    .event = "raised", .level = "high" };

			if (ledger_append(l, &e, payload) != 0)
				return 1;
		}
		if (ledger_commit(l) != 0)
			return 1;
	}
	t1 = now_mono_ms();
	printf("%d events in transactions of %d: %.0f events/s, %.2f ms per commit\n",
	    n, b, n * 1000.0 / (double)(t1 - t0 ? t1 - t0 : 1),
	    (double)(t1 - t0) / ((n + b - 1) / b));
	ledger_close(l);
	return 0;
}
