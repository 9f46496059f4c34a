/* Logging (daemon/base/log.c): journal protocol, fallback, rate limit, capture. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hazmond.h"

/* Test hook of log.c, on purpose not in hazmond.h. */
extern void log_test_set_limits(int burst, int window_ms);

static char tmpdir[64];
static char errpath[128];
static char sockpath[128];
static int saved_stderr = -1;
static int jsock = -1;

/* ---- stderr into a file, and back */

static void
err_begin(void)
{
	int fd;

	fd = open(errpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	if (saved_stderr < 0)
		saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* Restores stderr; returns what was written to it (malloc'd). */
static char *
err_end(void)
{
	FILE *f;
	char *buf;
	long n;

	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	f = fopen(errpath, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* JOURNAL_STREAM naming the current stderr, or its inode + ino_delta. */
static void
set_journal_stream(long ino_delta)
{
	struct stat st;
	char v[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (unsigned long long)ino_delta);
	setenv("JOURNAL_STREAM", v, 1);
}

/* ---- our own "journald" */

static void
journal_bind(void)
{
	struct sockaddr_un a;

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, sockpath);
	jsock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(jsock >= 0);
	assert_int_equal(bind(jsock, (struct sockaddr *)&a, sizeof(a)), 0);
	setenv("HAZMOND_JOURNAL_SOCKET", sockpath, 1);
}

/* One datagram, or -1 if none arrives within timeout_ms. */
static ssize_t
journal_recv(char *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { jsock, POLLIN, 0 };

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return recv(jsock, buf, size, MSG_DONTWAIT);
}

struct jfields {
	int n;
	const char *key[16];
	size_t klen[16];
	const char *val[16];
	size_t vlen[16];
	int binary[16];
};

/* Parses the native protocol strictly: any malformation fails the test. */
static void
jparse(const char *p, size_t len, struct jfields *f)
{
	const char *end = p + len;

	f->n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq = memchr(p, '=', (size_t)(end - p));
		int i = f->n++;

		assert_true(i < 16);
		assert_non_null(nl);
		f->key[i] = p;
		if (eq != NULL && eq < nl) {
			f->klen[i] = (size_t)(eq - p);
			f->val[i] = eq + 1;
			f->vlen[i] = (size_t)(nl - eq - 1);
			f->binary[i] = 0;
			p = nl + 1;
		} else {
			uint64_t l = 0;

			f->klen[i] = (size_t)(nl - p);
			p = nl + 1;
			assert_true(end - p >= 8);
			for (int k = 0; k < 8; k++)
				l |= (uint64_t)(unsigned char)p[k] << (8 * k);
			p += 8;
			assert_true((uint64_t)(end - p) >= l + 1);
			f->val[i] = p;
			f->vlen[i] = (size_t)l;
			f->binary[i] = 1;
			p += l;
			assert_int_equal(*p, '\n');
			p++;
		}
	}
}

static int
jfind(const struct jfields *f, const char *key)
{
	for (int i = 0; i < f->n; i++)
		if (f->klen[i] == strlen(key) &&
		    memcmp(f->key[i], key, f->klen[i]) == 0)
			return i;
	return -1;
}

static void
assert_field(const struct jfields *f, const char *key, const char *want)
{
	int i = jfind(f, key);

	if (i < 0) {
		print_error("field %s missing\n", key);
		fail();
		return;
	}
	if (f->vlen[i] != strlen(want) ||
	    memcmp(f->val[i], want, f->vlen[i]) != 0) {
		print_error("%s=%.*s, expected %s\n", key, (int)f->vlen[i],
		    f->val[i], want);
		fail();
	}
}

/* ---- fixtures */

static int
setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_log.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
	snprintf(sockpath, sizeof(sockpath), "%s/journal.sock", tmpdir);
	unsetenv("JOURNAL_STREAM");
	unsetenv("HAZMOND_JOURNAL_SOCKET");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	if (jsock >= 0) {
		close(jsock);
		jsock = -1;
	}
	unsetenv("JOURNAL_STREAM");
	unsetenv("HAZMOND_JOURNAL_SOCKET");
	log_init("test", HZ_LOG_WARNING);	/* plain stderr, defaults */
	unlink(errpath);
	unlink(sockpath);
	rmdir(tmpdir);
	return 0;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- journal */

static void
test_journal_fields(void **state)
{
	struct log_ctx all = { "gas-1", "rtu0", 7, 42 };
	struct log_ctx some = { NULL, "tcp1", -1, 0 };
	struct jfields f;
	char buf[4096], *out;
	ssize_t n;
	int i;

	(void)state;
	journal_bind();
	err_begin();
	set_journal_stream(0);
	log_init("hztest", HZ_LOG_INFO);

	log_cmsg(HZ_LOG_WARNING, &all, "sensor %s: alarm %d", "gas-1", 2);
	n = journal_recv(buf, sizeof(buf), 2000);
	assert_true(n > 0);
	jparse(buf, (size_t)n, &f);
	assert_int_equal(f.n, 7);
	assert_field(&f, "MESSAGE", "sensor gas-1: alarm 2");
	assert_field(&f, "PRIORITY", "4");
	assert_field(&f, "SYSLOG_IDENTIFIER", "hztest");
	assert_field(&f, "SENSOR", "gas-1");
	assert_field(&f, "BUS", "rtu0");
	assert_field(&f, "SLAVE", "7");
	assert_field(&f, "EVENT_SEQ", "42");
	for (i = 0; i < f.n; i++)
		assert_false(f.binary[i]);

	/*
	 * A newline in the text (one from the wire, say) is escaped: one
	 * plain MESSAGE field that cannot start a forged line.
	 */
	log_msg(HZ_LOG_ERR, "line one\nline %s", "two");
	n = journal_recv(buf, sizeof(buf), 2000);
	assert_true(n > 0);
	jparse(buf, (size_t)n, &f);
	assert_int_equal(f.n, 3);
	assert_field(&f, "MESSAGE", "line one\\nline two");
	assert_false(f.binary[jfind(&f, "MESSAGE")]);
	assert_field(&f, "PRIORITY", "3");
	assert_field(&f, "SYSLOG_IDENTIFIER", "hztest");

	/* Field values from outside are escaped as well. */
	log_cmsg(HZ_LOG_WARNING, &(struct log_ctx){ "x\nPRIORITY=0", NULL, -1, 0 },
	    "refused");
	n = journal_recv(buf, sizeof(buf), 2000);
	assert_true(n > 0);
	jparse(buf, (size_t)n, &f);
	assert_int_equal(f.n, 4);
	assert_field(&f, "SENSOR", "x\\nPRIORITY=0");
	assert_field(&f, "PRIORITY", "4");

	/* Only the fields the ctx has. */
	log_cmsg(HZ_LOG_INFO, &some, "bus %s up", "tcp1");
	n = journal_recv(buf, sizeof(buf), 2000);
	assert_true(n > 0);
	jparse(buf, (size_t)n, &f);
	assert_int_equal(f.n, 4);
	assert_field(&f, "MESSAGE", "bus tcp1 up");
	assert_field(&f, "PRIORITY", "6");
	assert_field(&f, "BUS", "tcp1");
	assert_int_equal(jfind(&f, "SENSOR"), -1);
	assert_int_equal(jfind(&f, "SLAVE"), -1);
	assert_int_equal(jfind(&f, "EVENT_SEQ"), -1);

	/* Below the level: nothing at all. */
	log_debug("not wanted");
	assert_int_equal(journal_recv(buf, sizeof(buf), 50), -1);

	out = err_end();
	assert_string_equal(out, "");
	free(out);
}

static void
test_journal_stream_mismatch(void **state)
{
	struct log_ctx all = { "gas-1", "rtu0", 7, 42 };
	char buf[4096], *out;

	(void)state;
	journal_bind();
	err_begin();
	set_journal_stream(1);		/* same device, other inode */
	log_init("hztest", HZ_LOG_INFO);
	log_msg(HZ_LOG_WARNING, "plain %d", 1);
	log_cmsg(HZ_LOG_ERR, &all, "sensor gas-1: fault");
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_init("hztest", HZ_LOG_INFO);
	log_info("plain %d", 2);
	out = err_end();
	assert_string_equal(out, "hztest: warning: plain 1\n"
	    "hztest: error: sensor gas-1: fault\n"
	    "hztest: info: plain 2\n");
	free(out);
	assert_int_equal(journal_recv(buf, sizeof(buf), 50), -1);
}

static void
test_journal_socket_missing(void **state)
{
	static const char note[] = "<4>hztest: cannot send to the journal "
	    "socket ";
	struct log_ctx all = { "gas-1", "rtu0", 7, 42 };
	char *out, *nl;

	(void)state;
	setenv("HAZMOND_JOURNAL_SOCKET", sockpath, 1);	/* nobody bound */
	err_begin();
	set_journal_stream(0);
	log_init("hztest", HZ_LOG_INFO);
	log_msg(HZ_LOG_WARNING, "first");
	log_cmsg(HZ_LOG_ERR, &all, "second");
	log_info("third");
	out = err_end();
	/* One note about the fallback, then every line with <N>. */
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_true(strncmp(out, note, strlen(note)) == 0);
	assert_non_null(strstr(out, sockpath));
	assert_string_equal(nl + 1, "<4>first\n<3>second\n<6>third\n");
	free(out);
}

/* ---- rate limit */

static int
count_lines(const char *s, const char *line)
{
	size_t l = strlen(line);
	int n = 0;

	for (const char *p = s; (p = strstr(p, line)) != NULL; p += l)
		if ((p == s || p[-1] == '\n') && p[l] == '\n')
			n++;
	return n;
}

static void
test_rate_limit(void **state)
{
	struct log_ctx ev = { "gas-1", "rtu0", 3, 9 };
	char *out;
	int i;

	(void)state;
	err_begin();
	log_init("hztest", HZ_LOG_WARNING);
	log_test_set_limits(3, 300);

	for (i = 0; i < 10; i++) {
		log_msg(HZ_LOG_WARNING, "sensor %s: reads failed", "gas-1");
		if (i == 4)
			log_msg(HZ_LOG_WARNING, "another text");
		/* Events are never held back, however often they repeat. */
		log_cmsg(HZ_LOG_ERR, &ev, "event");
		/* Below the level: dropped before the limiter, not counted. */
		log_info("quiet");
	}
	/* Same text at another priority is another message. */
	log_msg(HZ_LOG_ERR, "sensor %s: reads failed", "gas-1");
	log_tick();		/* the window has not ended: nothing */
	log_set_level(HZ_LOG_DEBUG);
	for (i = 0; i < 3; i++)
		log_info("quiet");
	for (i = 0; i < 6; i++)
		log_debug("debug is never limited");
	log_set_level(HZ_LOG_WARNING);
	sleep_ms(400);
	log_tick();
	log_tick();		/* reported once only */
	log_msg(HZ_LOG_WARNING, "sensor %s: reads failed", "gas-1");
	out = err_end();

	assert_int_equal(count_lines(out,
	    "hztest: warning: sensor gas-1: reads failed"), 4);
	assert_int_equal(count_lines(out, "hztest: error: event"), 10);
	assert_int_equal(count_lines(out, "hztest: warning: another text"), 1);
	assert_int_equal(count_lines(out,
	    "hztest: error: sensor gas-1: reads failed"), 1);
	assert_int_equal(count_lines(out, "hztest: info: quiet"), 3);
	assert_int_equal(count_lines(out,
	    "hztest: debug: debug is never limited"), 6);
	assert_int_equal(count_lines(out, "hztest: warning: last message "
	    "repeated 7 times in 0.3 s: sensor gas-1: reads failed"), 1);
	assert_null(strstr(out, "repeated 7 times in 0.3 s: another"));
	/* The order: 3 lines, the summary after the window, a new window. */
	assert_non_null(strstr(out, "hztest: warning: last message repeated 7 "
	    "times in 0.3 s: sensor gas-1: reads failed\n"
	    "hztest: warning: sensor gas-1: reads failed\n"));
	free(out);
}

/* Without a tick, the next occurrence after the window reports first. */
static void
test_rate_limit_next_occurrence(void **state)
{
	char *out;
	int i;

	(void)state;
	err_begin();
	log_init("hztest", HZ_LOG_INFO);
	log_test_set_limits(3, 300);
	for (i = 0; i < 5; i++)
		log_warnx("flap");
	sleep_ms(400);
	log_warnx("flap");
	log_warnx("flap");
	out = err_end();
	assert_string_equal(out,
	    "hztest: warning: flap\n"
	    "hztest: warning: flap\n"
	    "hztest: warning: flap\n"
	    "hztest: warning: last message repeated 2 times in 0.3 s: flap\n"
	    "hztest: warning: flap\n"
	    "hztest: warning: flap\n");
	free(out);
}

/* A full table evicts the oldest window, reporting its repeats first. */
static void
test_rate_limit_eviction(void **state)
{
	char *out;
	int i;

	(void)state;
	err_begin();
	log_init("hztest", HZ_LOG_INFO);
	log_test_set_limits(1, 60000);
	log_warnx("oldest");
	log_warnx("oldest");		/* suppressed */
	for (i = 0; i < 1000; i++)
		log_warnx("distinct %d", i);
	log_warnx("oldest");		/* evicted long ago: logged again */
	out = err_end();
	assert_int_equal(count_lines(out, "hztest: warning: oldest"), 2);
	assert_int_equal(count_lines(out,
	    "hztest: warning: last message repeated 1 times in 1 s: oldest"), 1);
	assert_int_equal(count_lines(out, "hztest: warning: distinct 999"), 1);
	assert_null(strstr(out, "repeated 1 times in 1 s: distinct"));
	free(out);
}

/* ---- capture */

struct other {
	pthread_barrier_t *go;
	int n;
};

static void *
other_thread(void *arg)
{
	struct other *o = arg;

	pthread_barrier_wait(o->go);
	for (int i = 0; i < o->n; i++) {
		log_msg(HZ_LOG_ERR, "other thread %d", i);
		for (int k = 0; k < 20; k++)
			log_msg(HZ_LOG_ERR, "other thread");
	}
	return NULL;
}

static void
test_capture(void **state)
{
	pthread_barrier_t go;
	struct other o = { &go, 50 };
	pthread_t t;
	char *out, *cap;
	int i;

	(void)state;
	err_begin();
	log_init("hztest", HZ_LOG_WARNING);
	log_test_set_limits(2, 60000);

	/* Nothing captured: NULL. */
	log_capture_begin(HZ_LOG_INFO);
	log_debug("below the capture prio");
	assert_null(log_capture_end());

	assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
	assert_int_equal(pthread_create(&t, NULL, other_thread, &o), 0);
	log_capture_begin(HZ_LOG_INFO);
	pthread_barrier_wait(&go);
	/* < 128 distinct texts in all, so nothing gets evicted. */
	for (i = 0; i < 50; i++) {
		log_msg(HZ_LOG_ERR, "mine %d", i);
		log_info("below log level %d", i);
		log_debug("not captured %d", i);
		log_warnx("repeated");	/* rate limited, captured always */
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_barrier_destroy(&go);
	cap = log_capture_end();
	assert_null(log_capture_end());
	log_msg(HZ_LOG_ERR, "after the capture");
	out = err_end();

	assert_non_null(cap);
	{
		char want[64];
		const char *p = cap;

		for (i = 0; i < 50; i++) {
			snprintf(want, sizeof(want), "mine %d\n", i);
			assert_true(strncmp(p, want, strlen(want)) == 0);
			p += strlen(want);
			snprintf(want, sizeof(want), "below log level %d\n", i);
			assert_true(strncmp(p, want, strlen(want)) == 0);
			p += strlen(want);
			assert_true(strncmp(p, "repeated\n", 9) == 0);
			p += 9;
		}
		assert_string_equal(p, "");
	}
	assert_null(strstr(cap, "other thread"));
	free(cap);

	/* stderr: the other thread all there, the limit and level applied. */
	for (i = 0; i < 50; i++) {
		char want[64];

		snprintf(want, sizeof(want), "hztest: error: other thread %d", i);
		assert_int_equal(count_lines(out, want), 1);
	}
	assert_int_equal(count_lines(out, "hztest: warning: repeated"), 2);
	assert_int_equal(count_lines(out, "hztest: error: other thread"), 2);
	assert_null(strstr(out, "below log level"));
	assert_null(strstr(out, "not captured"));
	assert_int_equal(count_lines(out, "hztest: error: after the capture"), 1);
	free(out);
}

/* ---- escaping */

static void
test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "plain ascii", "plain ascii" },
		{ "li.wei\nhazmond: crit: forged", "li.wei\\nhazmond: crit: forged" },
		{ "tab\there\r", "tab\\there\\r" },
		{ "back\\slash", "back\\\\slash" },
		{ "\x1b[31mred", "\\x1b[31mred" },
		{ "del\x7f", "del\\x7f" },
		{ "\xe7\x94\xb2\xe7\x83\xb7 CH4", "\xe7\x94\xb2\xe7\x83\xb7 CH4" },	/* kept */
		{ "bad \xff\xfe", "bad \\xff\\xfe" },
		{ "cut \xe7\x94", "cut \\xe7\\x94" },	/* truncated sequence */
		{ "overlong \xc0\xaf", "overlong \\xc0\\xaf" },
		{ "surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80" },
		{ "c1 \xc2\x85", "c1 \\xc2\\x85" },
		{ "nbsp \xc2\xa0", "nbsp \xc2\xa0" },
		{ "too big \xf4\x90\x80\x80", "too big \\xf4\\x90\\x80\\x80" },
	};
	char buf[128], small[8];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = log_escape(t[i].in, strlen(t[i].in), buf, sizeof(buf));
		assert_string_equal(buf, t[i].out);
		assert_int_equal(n, strlen(t[i].out));
	}
	/* A NUL inside the given length is escaped too. */
	n = log_escape("a\0b", 3, buf, sizeof(buf));
	assert_string_equal(buf, "a\\x00b");
	/* Bounded: cut before an escape that does not fit, never inside. */
	n = log_escape("abcdef\n", 7, small, sizeof(small));
	assert_string_equal(small, "abcdef");
	assert_int_equal(n, 6);
	n = log_escape("ab\x01zzzz", 7, small, sizeof(small));
	assert_string_equal(small, "ab\\x01z");
	n = log_escape("abcdef\xe7\x94\xb2", 9, small, sizeof(small));
	assert_string_equal(small, "abcdef");
	n = log_escape("x", 1, small, 1);
	assert_string_equal(small, "");
	assert_int_equal(n, 0);
}

/* A forged line on stderr stays one line. */
static void
test_escape_stderr(void **state)
{
	char *out;

	(void)state;
	err_begin();
	log_init("hztest", HZ_LOG_INFO);
	log_warnx("command by %s refused", "x\nhztest: error: forged");
	out = err_end();
	assert_string_equal(out, "hztest: warning: command by x\\nhztest: "
	    "error: forged refused\n");
	free(out);
}

/*
 * Messages before log_init() (a library's, an early error path's) are
 * written, not a hang: the rate limiter's table was a zeroed one, whose
 * bucket 0 chained to entry 0 for ever.  Runs first, before any test has
 * called log_init, in a child that the test kills after 5 s.
 */
static void
test_before_init(void **state)
{
	pid_t pid;
	int status = 0, i;

	(void)state;
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDERR_FILENO);
		log_warnx("a message before log_init");
		log_warnx("a message before log_init");
		log_tick();
		_exit(0);
	}
	assert_true(pid > 0);
	for (i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100 * 1000);
	if (i == 50) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("logging before log_init() still runs after 5 s");
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_init),
		cmocka_unit_test_setup_teardown(test_journal_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_journal_stream_mismatch,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_socket_missing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_next_occurrence,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_eviction, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape_stderr, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
