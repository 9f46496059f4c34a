/*
 * fuzz_ledger.c - a damaged ledger file, opened as hazmond opens one at
 * start: ledger_open, the evaluator loading the saved alarm and fault
 * states (sensor.c's own callbacks, through batch.c's sink), the
 * "removed" events of orphaned states in one batch (batch.c, as the core
 * runs it), then what publishers and hazmonctl read: the
 * delivery cursor, the backlog count, a replay scan, history.  The seed
 * is a valid ledger (mkledger.c); libFuzzer mutates and truncates it.
 * Every step either works or fails with an error return (ledger_open:
 * NULL and a log line); nothing crashes, leaks, or hangs, and every row
 * handed to a caller has the strings the caller dereferences.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "batch.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* The configuration the seed's states belong to (mkledger.c), minus one
 * sensor and one level, so that orphans occur. */
static struct hazmon_level gas_levels[] = {
	{ .name = "first", .dir = HAZMON_ABOVE, .setpoint = 20, .priority = "high" },
	{ .name = "second", .dir = HAZMON_ABOVE, .setpoint = 50, .priority = "urgent" },
};
static struct hazmon_level smoke_levels[] = {
	{ .name = "fire", .dir = HAZMON_ABOVE, .setpoint = 1, .priority = "urgent" },
};
static struct hz_sensor cfg_sensors[] = {
	{ .id = "ch4-tank-a", .levels = gas_levels, .n_levels = 2, .interval = 1 },
	{ .id = "smoke-hall", .levels = smoke_levels, .n_levels = 1, .interval = 1 },
	{ .id = "temp-1", .interval = 1 },
};
static struct hz_config cfg = { .site_id = "fuzz", .sensors = cfg_sensors,
    .n_sensors = sizeof(cfg_sensors) / sizeof(cfg_sensors[0]) };

/* The batch's way out: there are no publishers here. */
static const char *
out_site(void *arg)
{
	(void)arg;
	return cfg.site_id;
}

static void
out_live(void *arg, const char *sensor, const char *payload)
{
	(void)arg;
	if (sensor == NULL || payload == NULL)
		fz_fail("an unrecorded event without %s",
		    sensor ? "payload" : "sensor");
}

static void
out_none(void *arg)
{
	(void)arg;
}

struct rows {
	int64_t last;
	int n;
};

/* What publish.c's send_event and ctlcmd.c's history_row rely on. */
static int
row(void *arg, int64_t seq, const char *sensor, const char *payload)
{
	struct rows *r = arg;

	if (sensor == NULL || payload == NULL)
		fz_fail("row seq %lld without %s", (long long)seq,
		    sensor ? "payload" : "sensor");
	(void)strlen(sensor);
	(void)strlen(payload);
	r->last = seq;
	r->n++;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init(0);
	return 0;
}

/* A publisher's replay from its cursor: until nothing more comes. */
static void
replay(struct hz_ledger *l, int64_t from)
{
	struct rows r = { .last = from };

	for (int i = 0; i < 64; i++) {
		int64_t before = r.last;
		int n = ledger_scan(l, r.last, 16, row, &r);

		if (n <= 0 || r.last == before)
			break;
		if (r.last <= before)
			fz_fail("scan went back from %lld to %lld",
			    (long long)before, (long long)r.last);
	}
}

static void
use(struct hz_ledger *l)
{
	struct hz_batch_out out = { NULL, out_site, out_live, out_none, out_none };
	struct hz_batch *b = batch_new(l, &out);
	struct hz_sink sink;
	struct hz_eval ev;
	struct hz_level_state ls = { .state = HZ_A_ACTIVE_UNACK, .cond = 1,
	    .active_since = 1700000000000 };
	struct hz_event e = { .ts_ms = 1700000001000, .sensor = "ch4-tank-a",
	    .kind = "alarm", .event = "raised", .level = "first",
	    .priority = "high", .value = 21.5, .unit = "%LEL", .setpoint = 20 };
	struct rows r = { 0 };
	int64_t cur;

	batch_sink(b, &sink);
	eval_init(&ev, &cfg, &sink, 0);
	batch_begin(b);
	eval_orphans(&ev, 1700000000500, 1);
	batch_end(b);
	cur = ledger_cursor(l, "enterprise");
	(void)ledger_count_after(l, cur < 0 ? 0 : cur);
	replay(l, cur < 0 ? 0 : cur);
	(void)ledger_history(l, 0, NULL, 50, row, &r);
	(void)ledger_history(l, 1700000000000, "ch4-tank-a", 10, row, &r);
	/* The next event, as the core writes one. */
	batch_begin(b);
	sink.event(sink.arg, &e);
	(void)sink.save_level(sink.arg, e.sensor, e.level, &ls);
	batch_end(b);
	(void)ledger_set_cursor(l, "enterprise", ledger_last_seq(l));
	(void)ledger_next_counter(l, "bdseq:enterprise");
	(void)ledger_prune(l, 1700000000000, cur);
	eval_free(&ev);
	batch_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fz_scratch_begin();
	struct hz_ledger *l;
	char *msgs, db[160];

	snprintf(db, sizeof(db), "%s/ledger.db", dir);
	fz_write_file(db, data, size);
	fz_log_begin();
	if ((l = ledger_open(dir)) != NULL) {
		use(l);
		ledger_close(l);
	}
	msgs = fz_log_end();
	fz_scratch_end();
	if (l == NULL && msgs == NULL)
		fz_fail("ledger_open failed without a message");
	free(msgs);
	return 0;
}
