/*
 * The event ledger (daemon/delivery/ledger.c) on a real SQLite file: seq never
 * reused, cursors, retention that never prunes undelivered events, alarm
 * and fault states saved and loaded, and the schema version (an older
 * ledger is upgraded and keeps what it had).
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hazmond.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hztest-ledger-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int64_t
add(struct hz_ledger *l, int64_t ts, const char *sensor)
{
	struct hz_event e = { .seq = ledger_reserve_seq(l), .ts_ms = ts,
	    .sensor = sensor, .kind = "alarm", .event = "raised", .level = "high" };

	assert_int_equal(ledger_append(l, &e, "{}"), 0);
	return e.seq;
}

static int
count(void *arg, int64_t seq, const char *sensor, const char *payload)
{
	(void)seq; (void)sensor; (void)payload;
	(*(int *)arg)++;
	return 0;
}

static void
test_seq_cursor_retention(void **state)
{
	struct hz_ledger *l = ledger_open(dir);
	int64_t day = 86400000, now = 1000 * day;
	int n = 0;

	(void)state;
	assert_non_null(l);
	assert_int_equal(ledger_last_seq(l), 0);
	assert_int_equal(ledger_cursor(l, "enterprise"), -1);	/* new destination */
	assert_int_equal(ledger_begin(l), 0);
	for (int i = 0; i < 10; i++)
		add(l, now - (200 - i) * day, "old");		/* 191..200 days old */
	for (int i = 0; i < 5; i++)
		add(l, now - day, "new");
	assert_int_equal(ledger_commit(l), 0);
	assert_int_equal(ledger_last_seq(l), 15);
	assert_int_equal(ledger_set_cursor(l, "enterprise", 7), 0);
	assert_int_equal(ledger_cursor(l, "enterprise"), 7);
	/* Only delivered (seq <= 7) and old (> 180 days) events go. */
	assert_int_equal(ledger_prune(l, now - 180 * day, 7), 7);
	assert_int_equal(ledger_scan(l, 0, 100, count, &n), 8);
	assert_int_equal(n, 8);
	/* Undelivered old events stay, however old. */
	assert_int_equal(ledger_prune(l, now, 7), 0);
	ledger_close(l);

	/* After reopening, and even with the newest events pruned, seq goes on. */
	l = ledger_open(dir);
	assert_non_null(l);
	assert_int_equal(ledger_prune(l, now, 15), 8);
	ledger_close(l);
	l = ledger_open(dir);
	assert_int_equal(ledger_last_seq(l), 15);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(add(l, now, "x"), 16);
	assert_int_equal(ledger_commit(l), 0);
	ledger_close(l);
}

/*
 * The WAL is zero-filled past its end at open (so commits overwrite blocks
 * the file system has), and that never costs a committed event: a process
 * that dies without closing leaves frames before the zeros, and the next
 * open finds every event and goes on with the seq.
 */
static void
test_zeroed_wal(void **state)
{
	char wal[128];
	struct stat st;
	struct hz_ledger *l;
	pid_t pid;
	int n = 0, status;

	(void)state;
	snprintf(wal, sizeof(wal), "%s/ledger.db-wal", dir);
	l = ledger_open(dir);
	assert_non_null(l);
	assert_int_equal(stat(wal, &st), 0);
	assert_true(st.st_size >= 2560 * 1024);
	ledger_close(l);
	/* A child commits 30 events one by one and dies without closing. */
	if ((pid = fork()) == 0) {
		l = ledger_open(dir);
		for (int i = 0; l && i < 30; i++)
			if (ledger_begin(l) || add(l, 1000 + i, "ch4") < 1 ||
			    ledger_commit(l))
				_exit(1);
		_exit(l ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(stat(wal, &st), 0);
	assert_true(st.st_size >= 2560 * 1024);	/* frames, then zeros */
	l = ledger_open(dir);
	assert_non_null(l);
	assert_int_equal(ledger_last_seq(l), 30);
	assert_int_equal(ledger_scan(l, 0, 100, count, &n), 30);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(add(l, 2000, "ch4"), 31);
	assert_int_equal(ledger_commit(l), 0);
	ledger_close(l);
	l = ledger_open(dir);
	assert_int_equal(ledger_last_seq(l), 31);
	ledger_close(l);
}

static void
level_cb(void *arg, const char *sensor, const char *level,
    const struct hz_level_state *ls)
{
	struct hz_level_state *out = arg;

	if (strcmp(sensor, "ch4") == 0 && strcmp(level, "second") == 0)
		*out = *ls;
}

static void
sensor_cb(void *arg, const char *sensor, const struct hz_sensor_alarm *sa)
{
	if (strcmp(sensor, "ch4") == 0) {
		assert_string_equal(sa->shelve_reason, "calibration");
		*(int64_t *)arg = sa->shelved_until;
	}
}

static void
test_alarm_states(void **state)
{
	struct hz_ledger *l = ledger_open(dir);
	struct hz_level_state ls = { .cond = 0, .state = HZ_A_ACTIVE_UNACK,
	    .active_since = 12345 }, got = { 0 };
	struct hz_sensor_alarm sa = { .shelved_until = 99, .shelve_reason =
	    "calibration", .shelve_actor = "li", .oos = 0, .oos_actor = "" };
	int64_t until = 0;

	(void)state;
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(ledger_save_level(l, "ch4", "second", &ls), 0);
	assert_int_equal(ledger_save_sensor(l, "ch4", &sa), 0);
	assert_int_equal(ledger_commit(l), 0);
	ledger_close(l);
	l = ledger_open(dir);
	assert_int_equal(ledger_load_levels(l, level_cb, &got), 1);
	assert_int_equal(got.state, HZ_A_ACTIVE_UNACK);
	assert_int_equal(got.active_since, 12345);
	assert_int_equal(ledger_load_sensors(l, sensor_cb, &until), 1);
	assert_int_equal(until, 99);
	ledger_close(l);
}

static void
fault_cb(void *arg, const char *sensor, const struct hz_sensor_alarm *sa)
{
	struct hz_sensor_alarm *out = arg;

	if (strcmp(sensor, "ch4") == 0) {
		*out = *sa;
		out->shelve_reason = out->shelve_actor = out->oos_actor = NULL;
	}
}

/* A ledger of schema 3 (before fault states) opens, upgraded, as it was. */
static void
test_upgrade_v3(void **state)
{
	char path[128];
	sqlite3 *db;
	struct hz_ledger *l;
	struct hz_sensor_alarm got = { 0 }, sa = { .shelve_reason = "",
	    .shelve_actor = "", .oos_actor = "", .fault = 1,
	    .fault_flags = HAZMON_F_FROZEN, .fault_err = 0, .frozen_value = 7.5,
	    .frozen_since = 4242 };

	(void)state;
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "CREATE TABLE events(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	    " ts INTEGER NOT NULL, sensor TEXT NOT NULL, kind TEXT NOT NULL,"
	    " event TEXT NOT NULL, level TEXT, payload TEXT NOT NULL);"
	    "CREATE TABLE cursors(dest TEXT PRIMARY KEY, acked INTEGER NOT NULL);"
	    "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	    "CREATE TABLE alarm_levels(sensor TEXT NOT NULL, level TEXT NOT NULL,"
	    " state INTEGER NOT NULL, cond INTEGER NOT NULL,"
	    " active_since INTEGER NOT NULL, PRIMARY KEY(sensor, level));"
	    "CREATE TABLE alarm_sensors(sensor TEXT PRIMARY KEY,"
	    " shelved_until INTEGER NOT NULL, shelve_reason TEXT, shelve_actor TEXT,"
	    " oos INTEGER NOT NULL, oos_actor TEXT);"
	    "CREATE INDEX events_ts ON events(ts);"
	    "CREATE INDEX events_sensor ON events(sensor, seq);"
	    "INSERT INTO alarm_sensors VALUES ('ch4', 0, '', '', 1, 'li');"
	    "INSERT INTO events(ts, sensor, kind, event, payload) VALUES"
	    " (1, 'ch4', 'fault', 'raised', '{}');"
	    "PRAGMA user_version = 3;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_non_null(l = ledger_open(dir));
	assert_int_equal(ledger_last_seq(l), 1);
	assert_int_equal(ledger_load_sensors(l, fault_cb, &got), 1);
	assert_int_equal(got.oos, 1);
	assert_int_equal(got.fault, 0);		/* nothing was saved about it */
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(ledger_save_sensor(l, "ch4", &sa), 0);
	assert_int_equal(ledger_commit(l), 0);
	ledger_close(l);
	assert_non_null(l = ledger_open(dir));
	assert_int_equal(ledger_load_sensors(l, fault_cb, &got), 1);
	assert_int_equal(got.fault, 1);
	assert_int_equal(got.fault_flags, HAZMON_F_FROZEN);
	assert_true(got.frozen_value == 7.5);
	assert_int_equal(got.frozen_since, 4242);
	ledger_close(l);
}

/* A ledger written by a newer hazmond is refused, not misread. */
static void
test_newer_schema(void **state)
{
	char cmd[256];

	(void)state;
	ledger_close(ledger_open(dir));
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s/ledger.db' 'PRAGMA user_version = 99'", dir);
	if (system(cmd) != 0)
		skip();		/* no sqlite3 shell */
	assert_null(ledger_open(dir));
}

/* Callbacks of a damaged ledger: every string a caller dereferences is there. */
static int
strict_row(void *arg, int64_t seq, const char *sensor, const char *payload)
{
	assert_non_null(sensor);
	assert_non_null(payload);
	*(int64_t *)arg += seq;
	return 0;
}

static void
strict_level(void *arg, const char *sensor, const char *level,
    const struct hz_level_state *ls)
{
	(void)ls;
	assert_non_null(sensor);
	assert_non_null(level);
	(*(int *)arg)++;
}

static void
strict_sensor(void *arg, const char *sensor, const struct hz_sensor_alarm *sa)
{
	(void)sa;
	assert_non_null(sensor);
	(*(int *)arg)++;
}

/*
 * Damages a ledger holding events of sensors a, b, c and the saved states
 * of a and b: `schema` edits the schema (writable_schema), then `data`
 * runs in a new connection, which reads the edited schema.
 */
static void
damage(const char *schema, const char *data)
{
	struct hz_level_state ls = { .state = HZ_A_ACTIVE_UNACK };
	struct hz_sensor_alarm sa = { .shelve_reason = "", .shelve_actor = "",
	    .oos_actor = "" };
	struct hz_ledger *l = ledger_open(dir);
	const char *sql[2] = { schema, data };
	char path[128];
	sqlite3 *db;

	assert_int_equal(ledger_begin(l), 0);
	add(l, 1, "a");
	add(l, 2, "b");
	add(l, 3, "c");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ledger_save_level(l, i ? "b" : "a", "high", &ls), 0);
		assert_int_equal(ledger_save_sensor(l, i ? "b" : "a", &sa), 0);
	}
	assert_int_equal(ledger_commit(l), 0);
	ledger_close(l);
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA writable_schema = ON;",
		    NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, sql[i], NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
}

/*
 * A damaged file holds NULLs where the schema says NOT NULL (fuzz_ledger
 * found one: hazmond crashed replaying it).  Such rows are skipped with a
 * warning; the good ones around them still come out.
 */
static void
test_damaged_rows(void **state)
{
	struct hz_ledger *l;
	int64_t seqs = 0;
	int n = 0;

	(void)state;
	damage("UPDATE sqlite_schema SET sql = replace(sql, 'NOT NULL', '')"
	    " WHERE type = 'table';",
	    "UPDATE events SET payload = NULL WHERE seq = 2;"
	    "UPDATE events SET sensor = NULL WHERE seq = 3;"
	    "UPDATE alarm_levels SET level = NULL WHERE sensor = 'b';"
	    "UPDATE alarm_sensors SET sensor = NULL WHERE sensor = 'b';");
	assert_non_null(l = ledger_open(dir));
	assert_int_equal(ledger_scan(l, 0, 10, strict_row, &seqs), 1);
	assert_int_equal(seqs, 1);
	seqs = 0;
	assert_int_equal(ledger_history(l, 0, NULL, 10, strict_row, &seqs), 1);
	assert_int_equal(seqs, 1);
	assert_int_equal(ledger_load_levels(l, strict_level, &n), 1);
	assert_int_equal(ledger_load_sensors(l, strict_sensor, &n), 1);
	assert_int_equal(n, 2);
	ledger_close(l);
}

/* Each row after the one before, and after where the scan started. */
static int
ordered_row(void *arg, int64_t seq, const char *sensor, const char *payload)
{
	int64_t *last = arg;

	assert_non_null(sensor);
	assert_non_null(payload);
	assert_true(seq > *last);
	*last = seq;
	return 0;
}

/*
 * A file whose events b-tree is out of order (found by fuzz_ledger, kept
 * in its corpus): a scan after seq 7 returned seq 4, and a publisher
 * would have moved back and sent delivered events again.
 */
static void
test_damaged_order(void **state)
{
	const char *src = getenv("top_srcdir");
	char cmd[4096];
	struct hz_ledger *l;
	int64_t last = 7;

	(void)state;
	snprintf(cmd, sizeof(cmd), "cp '%s/tests/fuzz/corpus/fuzz_ledger/"
	    "regress-seq-order.db' '%s/ledger.db'", src ? src : ".", dir);
	assert_int_equal(system(cmd), 0);
	assert_non_null(l = ledger_open(dir));
	(void)ledger_scan(l, 7, 16, ordered_row, &last);
	last = INT64_MIN;
	(void)ledger_history(l, 0, NULL, 16, ordered_row, &last);
	ledger_close(l);
}

/*
 * A table whose pages are damaged (here: its root is an index's page)
 * fails to load with -1, not a silent partial load that would restart
 * alarms from normal without a word.
 */
static void
test_damaged_pages(void **state)
{
	struct hz_ledger *l;
	int n = 0;

	(void)state;
	damage("UPDATE sqlite_schema SET rootpage = (SELECT rootpage FROM"
	    " sqlite_schema WHERE name = 'events_ts')"
	    " WHERE name IN ('alarm_levels', 'alarm_sensors');", "");
	assert_non_null(l = ledger_open(dir));
	assert_int_equal(ledger_load_levels(l, strict_level, &n), -EIO);
	assert_int_equal(ledger_load_sensors(l, strict_sensor, &n), -EIO);
	ledger_close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seq_cursor_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeroed_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_order, setup, teardown),
	};

	log_init("test", HZ_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
