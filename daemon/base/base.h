/*
 * base.h - what every part of the daemon uses; depends on nothing else.
 *
 *   log.c        messages to the journal (native protocol) or stderr,
 *                structured fields, capture of a thread's messages
 *   log-limit.c  rate limit of repeated messages (log-int.h: log.c only)
 *   util.c       clocks, time stamps, allocation that cannot fail, a
 *                timed join
 *   notify.c     the service manager's notifications (sd_notify(3)'s
 *                protocol; hazmond does not link libsystemd)
 *   testhook.c   the test suite's fault injection (HAZMOND_TEST_*)
 */
#ifndef HAZMON_BASE_H
#define HAZMON_BASE_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define HZ_ID_MAX	64

/* log.c */
enum { HZ_LOG_ERR = 3, HZ_LOG_WARNING = 4, HZ_LOG_NOTICE = 5,
	HZ_LOG_INFO = 6, HZ_LOG_DEBUG = 7 };
void log_init(const char *progname, int level);
void log_set_level(int level);
int log_level_parse(const char *s);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/*
 * Structured fields of one message, sent to the journal as SENSOR=, BUS=,
 * SLAVE=, EVENT_SEQ= (and shown nowhere else: the text says it too).
 * NULL strings, slave < 0 and seq <= 0 mean "not about one".
 */
struct log_ctx {
	const char *sensor;
	const char *bus;
	int slave;
	int64_t seq;
};
void log_cmsg(int prio, const struct log_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Collects this thread's messages of priority <= prio (reload errors). */
void log_capture_begin(int prio);
char *log_capture_end(void);	/* malloc'd lines, or NULL when none */
/* Once a second from the core: reports repeats suppressed in ended windows. */
void log_tick(void);
/* Outside text made one printable line (\n, \\, \xNN); returns its length. */
size_t log_escape(const char *in, size_t n, char *buf, size_t size);

/* util.c */
int64_t now_mono_ms(void);
int64_t now_mono_us(void);
int64_t now_real_ms(void);
void format_ts(int64_t ms, char *buf, size_t len);	/* ISO 8601 UTC, ms */
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
void pause_ms(int ms);			/* sleeps, EINTR or not */
/*
 * Room for at least `need` elements of `size` bytes at p, growing *cap by
 * doubling (from 4); exits on failure, as xcalloc.  Returns the array.
 */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
/* A growing string: s is always NUL-terminated once anything was put. */
struct hz_str {
	char *s;
	size_t len, cap;
};
void str_put(struct hz_str *b, const char *s, size_t n);
/* log.c: the valid UTF-8 sequence at s (n bytes left): its length, or 0
 * (also for a C1 control, which moves a terminal as ESC does) */
size_t utf8_len(const unsigned char *s, size_t n);
/* Joins th within ms; ETIMEDOUT: it still runs (and still owns its data). */
int join_within(pthread_t th, int64_t ms);

/* notify.c: sd_notify(3)'s protocol without libsystemd. */
int notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int notify_watchdog_usec(uint64_t *usec);

/*
 * testhook.c: fault injection for the test suite, from HAZMOND_TEST_*
 * variables, read once; production files ask here and never getenv.
 */
struct hz_test_hooks {
	const char *hang_bus;		/* _HANG_BUS: this bus's worker hangs */
	const char *dial_delay;		/* _DIAL_DELAY=DEST:MS: slow connects */
	int ledger_max_pages;		/* _LEDGER_MAX_PAGES: a disk that fills */
	const char *ledger_fail;	/* _LEDGER_FAIL: commits fail while it exists */
	const char *runtime_base;	/* _RUNTIME_BASE: where /run is */
	int reload_delay_ms;		/* _RELOAD_DELAY_MS: a slow file system */
};
const struct hz_test_hooks *test_hooks(void);

#endif
