/*
 * mkledger.c - writes the seed of fuzz_ledger's corpus: a valid ledger
 * with a few events, a delivery cursor, saved alarm states (one of a
 * level and one of a sensor the fuzz target's configuration no longer
 * has) and a sensor's shelving and fault state.
 *
 *   mkledger DIR        writes DIR/ledger.db (DIR must not hold one)
 *
 * The page size is then lowered (VACUUM) so that the seed is small.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>

#include "hazmond.h"

static void
add(struct hz_ledger *l, int64_t ts, const char *sensor, const char *kind,
    const char *event, const char *level)
{
	struct hz_event e = { .seq = ledger_reserve_seq(l), .ts_ms = ts,
	    .sensor = sensor, .kind = kind, .event = event, .level = level,
	    .priority = "high", .value = 21.5, .unit = "%LEL", .setpoint = 20 };
	char *payload = event_json("fuzz", NULL, &e);

	if (payload == NULL || ledger_append(l, &e, payload) != 0)
		exit(1);
	free(payload);
}

int
main(int argc, char **argv)
{
	struct hz_level_state up = { .state = HZ_A_ACTIVE_UNACK, .cond = 1,
	    .active_since = 1700000000000 };
	struct hz_level_state rtn = { .state = HZ_A_RTN_UNACK,
	    .active_since = 1700000000000 };
	struct hz_sensor_alarm shelved = { .shelved_until = 1700003600000,
	    .shelve_reason = "maintenance", .shelve_actor = "op1" };
	struct hz_sensor_alarm faulty = { .fault = 1,
	    .fault_flags = HAZMON_F_FROZEN, .frozen_value = 3.5,
	    .frozen_since = 1700000000000 };
	struct hz_ledger *l;
	char path[4096];
	sqlite3 *db;

	if (argc != 2) {
		fprintf(stderr, "usage: mkledger DIR\n");
		return 2;
	}
	log_init("mkledger", HZ_LOG_WARNING);
	if ((l = ledger_open(argv[1])) == NULL || ledger_begin(l) != 0)
		return 1;
	add(l, 1700000000000, "ch4-tank-a", "alarm", "raised", "first");
	add(l, 1700000000100, "smoke-hall", "fault", "raised", "comm_loss");
	add(l, 1700000000200, "ch4-tank-a", "alarm", "acknowledged", "first");
	add(l, 1700000000300, "gone-sensor", "alarm", "raised", "high");
	if (ledger_save_level(l, "ch4-tank-a", "first", &up) != 0 ||
	    ledger_save_level(l, "ch4-tank-a", "third", &rtn) != 0 ||
	    ledger_save_level(l, "gone-sensor", "high", &up) != 0 ||
	    ledger_save_sensor(l, "smoke-hall", &shelved) != 0 ||
	    ledger_save_sensor(l, "temp-1", &faulty) != 0 ||
	    ledger_save_sensor(l, "gone-sensor", &faulty) != 0 ||
	    ledger_commit(l) != 0 || ledger_set_cursor(l, "enterprise", 2) != 0 ||
	    ledger_next_counter(l, "bdseq:enterprise") < 0)
		return 1;
	ledger_close(l);
	snprintf(path, sizeof(path), "%s/ledger.db", argv[1]);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; "
	    "VACUUM; PRAGMA journal_mode = WAL;", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_close(db);
	return 0;
}
