/*
 * ledger.c - the durable event ledger (SQLite, WAL).
 *
 * Every alarm and fault event is committed here before any destination
 * sees it; each destination's delivery cursor lives beside the events, so
 * a restart resumes exactly where PUBACKs stopped.  The core thread is the
 * only user, so there is no locking.  One module owns the schema.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "delivery.h"

#define LEDGER_SCHEMA 4
#define WAL_ZEROED	(2560 * 1024)	/* > a WAL of CKPT_PAGES (checkpoint.c) */
#define HZ_XSTR(x) #x
#define HZ_STR(x) HZ_XSTR(x)

struct hz_ledger {
	sqlite3 *db;
	sqlite3_stmt *ins, *ins_retry, *scan, *cur_get, *cur_set;
	sqlite3_stmt *save_lv, *save_sn;	/* alarm states, with every event */
	int64_t next_seq;
	int broken;		/* SQLite rolled the open transaction back */
	int relaxed;		/* at synchronous NORMAL (ledger_set_cursor) */
	struct hz_ckpt *ckpt;	/* checkpoint.c; NULL: not started */
	char *fail_file;	/* test hook: commits fail while it exists */
	char path[4096];
};

static const char *const schema_v1 =
    "CREATE TABLE events("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"	/* never reused, even after pruning */
    " ts INTEGER NOT NULL,"			/* ms since the epoch, UTC */
    " sensor TEXT NOT NULL, kind TEXT NOT NULL, event TEXT NOT NULL,"
    " level TEXT, payload TEXT NOT NULL);"
    "CREATE TABLE cursors(dest TEXT PRIMARY KEY, acked INTEGER NOT NULL);"
    "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

/* v2: alarm states survive restarts (issue 6). */
static const char *const schema_v2 =
    "CREATE TABLE alarm_levels(sensor TEXT NOT NULL, level TEXT NOT NULL,"
    " state INTEGER NOT NULL, cond INTEGER NOT NULL, active_since INTEGER NOT NULL,"
    " PRIMARY KEY(sensor, level));"
    "CREATE TABLE alarm_sensors(sensor TEXT PRIMARY KEY,"
    " shelved_until INTEGER NOT NULL, shelve_reason TEXT, shelve_actor TEXT,"
    " oos INTEGER NOT NULL, oos_actor TEXT);";

/* v3: hazmonctl history by time and by sensor without a full scan. */
static const char *const schema_v3 =
    "CREATE INDEX events_ts ON events(ts);"
    "CREATE INDEX events_sensor ON events(sensor, seq);";

/* v4: fault states survive restarts like alarm states (issue 12). */
static const char *const schema_v4 =
    "ALTER TABLE alarm_sensors ADD COLUMN fault INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE alarm_sensors ADD COLUMN fault_flags INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE alarm_sensors ADD COLUMN fault_err INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE alarm_sensors ADD COLUMN frozen_value REAL;"
    "ALTER TABLE alarm_sensors ADD COLUMN frozen_since INTEGER NOT NULL DEFAULT 0;";

static int
exec(struct hz_ledger *l, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(l->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("ledger %s: %s", l->path, err ? err : "error");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

static int64_t
query_int(struct hz_ledger *l, const char *sql, int64_t def)
{
	sqlite3_stmt *st;
	int64_t v = def;

	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK)
		return def;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Creates or upgrades the schema; user_version holds its version. */
static int
migrate(struct hz_ledger *l)
{
	int64_t v = query_int(l, "PRAGMA user_version", 0);

	if (v > LEDGER_SCHEMA) {
		log_warnx("ledger %s: schema version %lld is newer than this "
		    "hazmond understands (%d)", l->path, (long long)v, LEDGER_SCHEMA);
		return -EPROTO;
	}
	if (v < LEDGER_SCHEMA) {
		if (exec(l, "BEGIN") || (v < 1 && exec(l, schema_v1)) ||
		    (v < 2 && exec(l, schema_v2)) || (v < 3 && exec(l, schema_v3)) ||
		    (v < 4 && exec(l, schema_v4)) ||
		    exec(l, "PRAGMA user_version = " HZ_STR(LEDGER_SCHEMA)) ||
		    exec(l, "COMMIT"))
			return -EIO;
		if (v > 0)
			log_info("ledger %s: schema upgraded from version %lld to %d",
			    l->path, (long long)v, LEDGER_SCHEMA);
	}
	return 0;
}

/* Never moves down: a number handed out once may have been published live. */
static void
resync_seq(struct hz_ledger *l)
{
	int64_t db = query_int(l, "SELECT seq FROM sqlite_sequence WHERE "
	    "name = 'events'", 0) + 1;

	if (db > l->next_seq)
		l->next_seq = db;
}

/*
 * The ledger names sensors, places and who silenced what: it is not for
 * everybody.  The state directory is 0750 and the files 0640 whatever the
 * umask (SQLite gives -wal and -shm the database file's mode), and a
 * directory others may write to is refused: they could swap the ledger.
 */
static int
private_files(const char *dir, const char *db)
{
	static const char *const side[] = { "-wal", "-shm" };
	char path[sizeof(((struct hz_ledger *)0)->path) + 8];
	struct stat st;
	int fd;

	if (mkdir(dir, 0750) == 0)
		(void)chmod(dir, 0750);
	else if (errno != EEXIST) {
		log_warn("state directory %s", dir);
		return -errno;
	}
	if (stat(dir, &st) != 0) {
		log_warn("state directory %s", dir);
		return -errno;
	}
	if (st.st_mode & S_IWOTH) {
		log_msg(HZ_LOG_ERR, "state directory %s is writable by others (mode "
		    "%04o); chmod o-w it", dir, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if ((fd = open(db, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0) {
		log_warn("ledger %s", db);
		return -errno;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 0137))
		(void)fchmod(fd, st.st_mode & 0640);	/* older, looser ledgers */
	close(fd);
	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", db, side[i]);
		if (stat(path, &st) == 0 && (st.st_mode & 0137))
			(void)chmod(path, st.st_mode & 0640);
	}
	return 0;
}

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct hz_ledger *l = arg;

	(void)db;
	(void)name;
	if (l->ckpt)
		ckpt_note(l->ckpt, pages);
	return SQLITE_OK;
}

/*
 * Zeros after the end of the WAL, once, at open, up to WAL_ZEROED: the
 * commits then overwrite blocks the file system already holds, and their
 * fdatasync() has no block allocation or file size to write (on ext4 on
 * this project's test host 0.63 against 0.81 ms after a quiet second;
 * PostgreSQL zero-fills its WAL segments for the same reason).  Nothing
 * before the end is touched, so no frame is ever lost: SQLite takes the
 * first frame that does not check out as the end of the log, and it
 * rewrites the header before it writes a log from the start.  Failing,
 * it costs only speed.
 */
static void
zero_wal(struct hz_ledger *l)
{
	static const char zeros[65536];
	char path[sizeof(l->path) + 8];
	struct stat st;
	off_t at;
	int fd;

	snprintf(path, sizeof(path), "%s-wal", l->path);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		for (at = st.st_size; at < WAL_ZEROED; at += (off_t)sizeof(zeros))
			if (pwrite(fd, zeros, sizeof(zeros), at) != (ssize_t)sizeof(zeros))
				break;
		if (at > st.st_size)
			(void)fdatasync(fd);
	}
	close(fd);
}

struct hz_ledger *
ledger_open(const char *dir)
{
	struct hz_ledger *l = xcalloc(1, sizeof(*l));

	snprintf(l->path, sizeof(l->path), "%s/ledger.db", dir);
	if (private_files(dir, l->path) != 0) {
		free(l);
		return NULL;
	}
	if (sqlite3_open_v2(l->path, &l->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warnx("ledger %s: %s", l->path, sqlite3_errmsg(l->db));
		goto fail;
	}
	sqlite3_busy_timeout(l->db, 2000);
	/* Fault injection for tests: a ledger that fills up after N pages. */
	if (test_hooks()->ledger_max_pages > 0) {
		char sql[80];

		snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d",
		    test_hooks()->ledger_max_pages);
		(void)exec(l, sql);
	}
	/*
	 * Fault injection for tests: while the file named by
	 * HAZMOND_TEST_LEDGER_FAIL exists, every commit fails, as on a disk
	 * that refuses writes for a while and then recovers.
	 */
	if (test_hooks()->ledger_fail)
		l->fail_file = xstrdup(test_hooks()->ledger_fail);
	/*
	 * WAL + FULL: a committed event survives power loss.  A WAL that
	 * grew while checkpoints fell behind shrinks back once they catch up.
	 */
	if (exec(l, "PRAGMA journal_mode = WAL") ||
	    exec(l, "PRAGMA synchronous = FULL") ||
	    exec(l, "PRAGMA journal_size_limit = 4194304") || migrate(l))
		goto fail;
	zero_wal(l);
	if (sqlite3_prepare_v2(l->db, "INSERT INTO events(seq, ts, sensor, kind, "
	    "event, level, payload) VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &l->ins,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(l->db, "INSERT OR IGNORE INTO events(seq, ts, sensor, "
	    "kind, event, level, payload) VALUES (?, ?, ?, ?, ?, ?, ?)", -1,
	    &l->ins_retry, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(l->db, "SELECT seq, sensor, payload FROM events WHERE "
	    "seq > ? ORDER BY seq LIMIT ?", -1, &l->scan, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(l->db, "SELECT acked FROM cursors WHERE dest = ?",
	    -1, &l->cur_get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(l->db, "INSERT INTO cursors(dest, acked) VALUES "
	    "(?, ?) ON CONFLICT(dest) DO UPDATE SET acked = excluded.acked",
	    -1, &l->cur_set, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(l->db, "INSERT OR REPLACE INTO alarm_levels(sensor, "
	    "level, state, cond, active_since) VALUES (?, ?, ?, ?, ?)", -1,
	    &l->save_lv, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(l->db, "INSERT OR REPLACE INTO alarm_sensors(sensor, "
	    "shelved_until, shelve_reason, shelve_actor, oos, oos_actor, fault, "
	    "fault_flags, fault_err, frozen_value, frozen_since) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &l->save_sn, NULL) != SQLITE_OK) {
		log_warnx("ledger %s: %s", l->path, sqlite3_errmsg(l->db));
		goto fail;
	}
	resync_seq(l);
	return l;
fail:
	ledger_close(l);
	return NULL;
}

/*
 * Hands the WAL's checkpoints to a thread of their own, so that no commit
 * (no alarm) ever waits for one: from now on this connection never
 * checkpoints, the hook (which replaces SQLite's auto-checkpoint) only
 * tells the thread how long the WAL is.  Until then, and if the thread
 * cannot start, the commits checkpoint as SQLite does by default.
 * Returns 0 or -errno.
 */
int
ledger_start_checkpoints(struct hz_ledger *l)
{
	if (l->ckpt)
		return 0;
	if ((l->ckpt = ckpt_start(l->path)) == NULL) {
		log_warnx("ledger %s: checkpoints run in the commits (on the "
		    "alarm path)", l->path);
		return -EAGAIN;
	}
	sqlite3_wal_hook(l->db, wal_hook, l);
	return 0;
}

unsigned
ledger_checkpoints(struct hz_ledger *l)
{
	return l->ckpt ? ckpt_done(l->ckpt) : 0;
}

void
ledger_close(struct hz_ledger *l)
{
	if (l == NULL)
		return;
	if (l->ckpt) {
		sqlite3_wal_hook(l->db, NULL, NULL);
		ckpt_stop(l->ckpt);
	}
	sqlite3_finalize(l->ins);
	sqlite3_finalize(l->ins_retry);
	sqlite3_finalize(l->scan);
	sqlite3_finalize(l->cur_get);
	sqlite3_finalize(l->cur_set);
	sqlite3_finalize(l->save_lv);
	sqlite3_finalize(l->save_sn);
	sqlite3_close(l->db);
	free(l->fail_file);
	free(l);
}

/*
 * Events and alarm states are written at synchronous FULL only: after a
 * cursor's relaxed commit the level goes back, and while it cannot, no
 * event is written (the batch ends as unrecorded events, loudly).
 */
static int
durable(struct hz_ledger *l)
{
	if (l->relaxed && exec(l, "PRAGMA synchronous = FULL") == 0)
		l->relaxed = 0;
	if (l->relaxed) {
		log_warnx("ledger %s: cannot go back to synchronous FULL; no "
		    "event is written until it can", l->path);
		return -EIO;
	}
	return 0;
}

int
ledger_begin(struct hz_ledger *l)
{
	l->broken = 0;
	if (durable(l) != 0)
		return -EIO;
	return exec(l, "BEGIN IMMEDIATE");
}

int
ledger_commit(struct hz_ledger *l)
{
	if (l->fail_file && access(l->fail_file, F_OK) == 0) {
		log_warnx("ledger %s: commit refused by the test hook", l->path);
		(void)exec(l, "ROLLBACK");
		return -EIO;
	}
	if (l->broken) {
		l->broken = 0;
		return -EIO;	/* nothing of the batch was kept */
	}
	if (exec(l, "COMMIT") == 0)
		return 0;
	(void)exec(l, "ROLLBACK");
	return -EIO;
}

void
ledger_rollback(struct hz_ledger *l)
{
	(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
}

int64_t
ledger_reserve_seq(struct hz_ledger *l)
{
	return l->next_seq++;
}

/*
 * Appends an event in the open transaction.  `retry`: the event may
 * already be there (written before a failure was noticed), which is fine.
 */
static int
append(struct hz_ledger *l, const struct hz_event *e, const char *payload,
    int retry)
{
	sqlite3_stmt *st = retry ? l->ins_retry : l->ins;
	int rc;

	/*
	 * After SQLITE_FULL or an I/O error SQLite may have rolled the whole
	 * transaction back; writing on would commit the rest one by one,
	 * outside the batch.  The batch fails as a whole instead.
	 */
	if (l->broken || durable(l) != 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, e->seq);
	sqlite3_bind_int64(st, 2, e->ts_ms);
	sqlite3_bind_text(st, 3, e->sensor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->level, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, payload, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_msg(HZ_LOG_ERR, "ledger %s: cannot record event seq %lld: %s",
		    l->path, (long long)e->seq, sqlite3_errmsg(l->db));
		l->broken = sqlite3_get_autocommit(l->db);
		return -EIO;
	}
	return 0;
}

int
ledger_append(struct hz_ledger *l, const struct hz_event *e, const char *payload)
{
	return append(l, e, payload, 0);
}

int
ledger_append_again(struct hz_ledger *l, const struct hz_event *e,
    const char *payload)
{
	return append(l, e, payload, 1);
}

/*
 * In a damaged file NOT NULL does not hold: a text column may read as
 * NULL, which no caller expects (publish.c would crash on it).  Such a
 * row is not trusted and is skipped with a warning, so that the rows
 * after it still come out.
 */
static void
damaged(struct hz_ledger *l, const char *what, const char *why)
{
	log_warnx("ledger %s: %s is damaged (%s); skipped", l->path, what, why);
}

/*
 * Hands each row (seq, sensor, payload) of st to fn, in the order of seq
 * and each above `after`; returns rows or -1.  A damaged b-tree can return
 * rows out of that order (a publisher would move its position back and
 * send delivered events again): those are skipped like damaged rows.
 */
static int
each_event(struct hz_ledger *l, sqlite3_stmt *st, int64_t after, ledger_fn fn,
    void *arg)
{
	int n = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const char *sensor = (const char *)sqlite3_column_text(st, 1);
		const char *payload = (const char *)sqlite3_column_text(st, 2);
		char what[40];

		snprintf(what, sizeof(what), "event seq %lld", (long long)seq);
		if (sensor == NULL || payload == NULL) {
			damaged(l, what, "a column is missing");
			continue;
		}
		if (seq <= after) {
			damaged(l, what, "out of order");
			continue;
		}
		after = seq;
		n++;
		if (fn(arg, seq, sensor, payload) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("ledger %s: %s", l->path, sqlite3_errmsg(l->db));
		n = -1;
	}
	return n;
}

int
ledger_scan(struct hz_ledger *l, int64_t after, int limit, ledger_fn fn, void *arg)
{
	sqlite3_stmt *st = l->scan;
	int n;

	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	n = each_event(l, st, after, fn, arg);
	sqlite3_reset(st);
	return n;
}

int64_t
ledger_cursor(struct hz_ledger *l, const char *dest)
{
	sqlite3_stmt *st = l->cur_get;
	int64_t v = -1;		/* no cursor yet */

	sqlite3_bind_text(st, 1, dest, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/*
 * A cursor is saved without a sync of its own (synchronous NORMAL for its
 * commit): that sync would be a second one per alarm on the core thread,
 * after the event's.  The WAL keeps its frames in order, so the next
 * commit at FULL syncs the cursor along; a power cut before that loses
 * only the cursor's advance, and those events are sent again (replayed),
 * never lost.  Inside an open transaction the level cannot change, nor
 * need it: that commit syncs anyway.
 */
int
ledger_set_cursor(struct hz_ledger *l, const char *dest, int64_t seq)
{
	sqlite3_stmt *st = l->cur_set;
	int rc;

	if (sqlite3_get_autocommit(l->db) &&
	    exec(l, "PRAGMA synchronous = NORMAL") == 0)
		l->relaxed = 1;
	sqlite3_bind_text(st, 1, dest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	(void)durable(l);
	if (rc != SQLITE_DONE) {
		log_warnx("ledger %s: cannot save cursor of %s: %s", l->path,
		    dest, sqlite3_errmsg(l->db));
		return -EIO;
	}
	return 0;
}

/*
 * Deletes delivered events older than the retention time.  `delivered` is
 * the lowest cursor of all destinations: undelivered events are never
 * pruned, however old.  Returns the number deleted, or -1.
 */
int
ledger_prune(struct hz_ledger *l, int64_t before_ms, int64_t delivered)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(l->db, "DELETE FROM events WHERE ts < ? AND seq <= ?",
	    -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, before_ms);
	sqlite3_bind_int64(st, 2, delivered);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("ledger %s: pruning failed: %s", l->path, sqlite3_errmsg(l->db));
		return -EIO;
	}
	return sqlite3_changes(l->db);
}

static int
step_done(struct hz_ledger *l, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_msg(HZ_LOG_ERR, "ledger %s: cannot save %s: %s", l->path, what,
		    sqlite3_errmsg(l->db));
		return -EIO;
	}
	return 0;
}

/* step_done for a statement prepared once (ledger_open), kept for reuse. */
static int
step_kept(struct hz_ledger *l, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_msg(HZ_LOG_ERR, "ledger %s: cannot save %s: %s", l->path, what,
		    sqlite3_errmsg(l->db));
		return -EIO;
	}
	return 0;
}

/* Saves one level's alarm state, in the open transaction. */
int
ledger_save_level(struct hz_ledger *l, const char *sensor, const char *level,
    const struct hz_level_state *ls)
{
	sqlite3_stmt *st = l->save_lv;

	sqlite3_bind_text(st, 1, sensor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, level, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, ls->state);
	sqlite3_bind_int(st, 4, ls->cond);
	sqlite3_bind_int64(st, 5, ls->active_since);
	return step_kept(l, st, "an alarm state");
}

int
ledger_save_sensor(struct hz_ledger *l, const char *sensor,
    const struct hz_sensor_alarm *sa)
{
	sqlite3_stmt *st = l->save_sn;

	sqlite3_bind_text(st, 1, sensor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sa->shelved_until);
	sqlite3_bind_text(st, 3, sa->shelve_reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sa->shelve_actor, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, sa->oos);
	sqlite3_bind_text(st, 6, sa->oos_actor, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, sa->fault);
	sqlite3_bind_int64(st, 8, sa->fault_flags);
	sqlite3_bind_int(st, 9, sa->fault_err);
	if (isfinite(sa->frozen_value))
		sqlite3_bind_double(st, 10, sa->frozen_value);
	sqlite3_bind_int64(st, 11, sa->frozen_since);
	return step_kept(l, st, "a sensor's shelving/service/fault state");
}

/* A load that stopped on an error (a damaged page) says so: -1. */
static int
loaded(struct hz_ledger *l, int rc, const char *what, int n)
{
	if (rc == SQLITE_DONE)
		return n;
	log_warnx("ledger %s: reading the saved %s stopped after %d: %s",
	    l->path, what, n, sqlite3_errstr(rc));
	return -EIO;
}

/* Calls fn for every saved level state. */
int
ledger_load_levels(struct hz_ledger *l, saved_level_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int n = 0, rc;

	if (sqlite3_prepare_v2(l->db, "SELECT sensor, level, state, cond, "
	    "active_since FROM alarm_levels", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hz_level_state ls = {
			.state = (uint8_t)sqlite3_column_int(st, 2),
			.cond = (uint8_t)sqlite3_column_int(st, 3),
			.active_since = sqlite3_column_int64(st, 4),
		};
		const char *sensor = (const char *)sqlite3_column_text(st, 0);
		const char *level = (const char *)sqlite3_column_text(st, 1);

		if (ls.state > HZ_A_RTN_UNACK)
			continue;	/* a damaged row is not trusted */
		if (sensor == NULL || level == NULL) {
			damaged(l, "a saved alarm state", "a column is missing");
			continue;
		}
		fn(arg, sensor, level, &ls);
		n++;
	}
	sqlite3_finalize(st);
	return loaded(l, rc, "alarm states", n);
}

int
ledger_load_sensors(struct hz_ledger *l, saved_sensor_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int n = 0, rc;

	if (sqlite3_prepare_v2(l->db, "SELECT sensor, shelved_until, shelve_reason, "
	    "shelve_actor, oos, oos_actor, fault, fault_flags, fault_err, "
	    "frozen_value, frozen_since FROM alarm_sensors", -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hz_sensor_alarm sa = {
			.shelved_until = sqlite3_column_int64(st, 1),
			.shelve_reason = (const char *)sqlite3_column_text(st, 2),
			.shelve_actor = (const char *)sqlite3_column_text(st, 3),
			.oos = sqlite3_column_int(st, 4),
			.oos_actor = (const char *)sqlite3_column_text(st, 5),
			.fault = sqlite3_column_int(st, 6) != 0,
			.fault_flags = (uint32_t)sqlite3_column_int64(st, 7),
			.fault_err = sqlite3_column_int(st, 8),
			.frozen_value = sqlite3_column_type(st, 9) == SQLITE_NULL ?
			    NAN : sqlite3_column_double(st, 9),
			.frozen_since = sqlite3_column_int64(st, 10),
		};
		const char *sensor = (const char *)sqlite3_column_text(st, 0);

		if (sensor == NULL) {
			damaged(l, "a saved sensor state", "no sensor");
			continue;
		}
		fn(arg, sensor, &sa);
		n++;
	}
	sqlite3_finalize(st);
	return loaded(l, rc, "sensor states", n);
}

int64_t
ledger_last_seq(struct hz_ledger *l)
{
	return l->next_seq - 1;
}

/* Increments and returns a named counter (e.g. a destination's bdSeq). */
int64_t
ledger_next_counter(struct hz_ledger *l, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO counters(name, value) VALUES "
	    "('%s', 0) ON CONFLICT(name) DO UPDATE SET value = value + 1", name);
	if (exec(l, sql) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT value FROM counters WHERE name = '%s'",
	    name);
	return query_int(l, sql, -1);
}

/*
 * hazmonctl history: the newest `limit` events at or after since_ms (of
 * one sensor, or of all when sensor is NULL), handed to fn oldest first.
 */
int
ledger_history(struct hz_ledger *l, int64_t since_ms, const char *sensor,
    int limit, ledger_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int n;

	if (sqlite3_prepare_v2(l->db, "SELECT seq, sensor, payload FROM ("
	    "SELECT seq, sensor, payload FROM events WHERE ts >= ?1 AND "
	    "(?2 IS NULL OR sensor = ?2) ORDER BY seq DESC LIMIT ?3) ORDER BY seq",
	    -1, &st, NULL) != SQLITE_OK) {
		log_warnx("ledger %s: %s", l->path, sqlite3_errmsg(l->db));
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, since_ms);
	if (sensor)
		sqlite3_bind_text(st, 2, sensor, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, limit);
	n = each_event(l, st, INT64_MIN, fn, arg);
	sqlite3_finalize(st);
	return n;
}

/* Events after seq: what a destination still has to deliver. */
int64_t
ledger_count_after(struct hz_ledger *l, int64_t seq)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(l->db, "SELECT count(*) FROM events WHERE seq > ?",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * A sensor (level NULL) or one of its levels left the configuration: its
 * saved state goes too, so that adding it back later starts from normal
 * instead of resurrecting an alarm consumers were told is gone.
 */
int
ledger_forget(struct hz_ledger *l, const char *sensor, const char *level)
{
	sqlite3_stmt *st;
	int rc = 0;

	for (int k = level ? 1 : 0; k < 2; k++) {
		const char *sql = k == 0 ?
		    "DELETE FROM alarm_sensors WHERE sensor = ?1" :
		    "DELETE FROM alarm_levels WHERE sensor = ?1 AND "
		    "(?2 IS NULL OR level = ?2)";

		if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
			log_warnx("ledger %s: %s", l->path, sqlite3_errmsg(l->db));
			return -EIO;
		}
		sqlite3_bind_text(st, 1, sensor, -1, SQLITE_STATIC);
		if (k == 1 && level)
			sqlite3_bind_text(st, 2, level, -1, SQLITE_STATIC);
		rc |= step_done(l, st, "the removal of a sensor's alarm state");
	}
	return rc ? -1 : 0;
}

/*
 * The oldest event kept (pruning removes delivered ones past retention);
 * last + 1 when there is none.  The primary key makes this one look-up.
 */
int64_t
ledger_first_seq(struct hz_ledger *l)
{
	return query_int(l, "SELECT min(seq) FROM events", l->next_seq);
}
