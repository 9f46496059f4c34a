/*
 * log.c - logging.
 *
 * Under systemd, when stderr really is the journal (JOURNAL_STREAM names
 * stderr's device and inode, systemd.exec(5)), every message goes to
 * journald as one datagram of the native journal protocol, with the
 * structured fields of a struct log_ctx.  If that send fails the line goes
 * to stderr with a <N> priority prefix, which journald reads as well.
 * Otherwise lines go to stderr as "hazmond: warning: text".
 *
 * The datagram is built here, not by libsystemd's sd_journal_sendv()
 * (hazmond does not link libsystemd; see notify.c), which always writes to
 * /run/systemd/journal/socket, so the unit tests could no longer receive
 * and check the fields (SENSOR=, BUS=, escaping of outside text) on a
 * socket of their own ($HAZMOND_JOURNAL_SOCKET, tests/unit/test_log.c).
 *
 * Identical messages are rate limited (log-limit.c), and a thread can
 * capture its own messages (config reload reports its errors to a client).
 *
 * log_init() must run before any other thread logs: the settings it stores
 * (program name, journal mode, journal socket) are read without locking.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "log-int.h"

#define LOG_JOURNAL_SOCKET	"/run/systemd/journal/socket"


static const char *log_prog = "hazmond";
static atomic_int log_max = HZ_LOG_INFO;
static int log_journal;		/* stderr is connected to the journal */
static int log_jfd = -1;	/* datagram socket to journald */
static struct sockaddr_un log_jaddr;
static socklen_t log_jaddr_len;
static atomic_int log_jwarned;	/* the fallback to stderr was reported */


/*
 * ---- capture
 *
 * The state is thread-local instead of one buffer plus the owner's
 * pthread_self(): another thread then cannot even see it, so it needs no
 * lock, and the check before formatting is one plain load.  begin and end
 * must be called by the same thread (end elsewhere returns NULL).
 */

static _Thread_local struct {
	int on;
	int prio;
	char *buf;
	size_t len, size;
} cap;

void
log_capture_begin(int prio)
{
	/* A second begin keeps what was collected and takes the new prio. */
	cap.on = 1;
	cap.prio = prio;
}

char *
log_capture_end(void)
{
	char *b = cap.buf;

	if (cap.len == 0) {
		free(b);
		b = NULL;
	}
	cap.on = 0;
	cap.buf = NULL;
	cap.len = cap.size = 0;
	return b;
}

static void
cap_append(const char *text, size_t len)
{
	if (cap.len + len + 2 > cap.size) {
		size_t size = cap.size ? cap.size : 256;
		char *b;

		while (cap.len + len + 2 > size)
			size *= 2;
		if ((b = realloc(cap.buf, size)) == NULL)
			return;		/* the line is lost, not the capture */
		cap.buf = b;
		cap.size = size;
	}
	memcpy(cap.buf + cap.len, text, len);
	cap.len += len;
	cap.buf[cap.len++] = '\n';
	cap.buf[cap.len] = '\0';
}

/* ---- setup */

/* JOURNAL_STREAM is "DEV:INO" of the journal stream; both decimal. */
static int
journal_stream_is_stderr(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	dev = strtoull(s, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	ino = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *progname, int level)
{
	const char *path;
	int err = errno;

	log_prog = progname;
	atomic_store(&log_max, level);
	atomic_store(&log_jwarned, 0);
	log__limit_reset(0, 0);		/* the defaults, an empty table */
	if (log_jfd >= 0) {
		close(log_jfd);
		log_jfd = -1;
	}
	log_journal = journal_stream_is_stderr();
	if (log_journal) {
		/* Test hook: the tests bind their own "journald". */
		if ((path = getenv("HAZMOND_JOURNAL_SOCKET")) == NULL ||
		    *path == '\0')
			path = LOG_JOURNAL_SOCKET;
		memset(&log_jaddr, 0, sizeof(log_jaddr));
		log_jaddr.sun_family = AF_UNIX;
		/* A path that does not fit leaves no socket: stderr it is. */
		if (strlen(path) < sizeof(log_jaddr.sun_path)) {
			strcpy(log_jaddr.sun_path, path);
			log_jaddr_len = (socklen_t)(offsetof(struct sockaddr_un,
			    sun_path) + strlen(path) + 1);
			/*
			 * Non-blocking: a journald that does not keep up costs
			 * a fallback line on stderr, not a stalled bus worker.
			 */
			log_jfd = socket(AF_UNIX,
			    SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		}
	}
	errno = err;
}

int
log__max(void)
{
	return atomic_load_explicit(&log_max, memory_order_relaxed);
}

void
log_set_level(int level)
{
	atomic_store(&log_max, level);
}

int
log_level_parse(const char *s)
{
	static const struct { const char *name; int level; } map[] = {
		{ "err", HZ_LOG_ERR }, { "error", HZ_LOG_ERR },
		{ "warning", HZ_LOG_WARNING }, { "notice", HZ_LOG_NOTICE },
		{ "info", HZ_LOG_INFO }, { "debug", HZ_LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(s, map[i].name) == 0)
			return map[i].level;
	return -1;
}

/* ---- escaping */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;		/* above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* C1 controls (U+0080..U+009F) move terminals as ESC does. */
	if (s[0] == 0xc2 && s[1] < 0xa0)
		return 0;
	return len;
}

/*
 * Makes text one harmless line: newline, tab, CR and backslash become \n,
 * \t, \r, \\; other control bytes, DEL and bytes that are not UTF-8
 * become \xNN; valid UTF-8 stays.  So a sensor id or an actor from the
 * wire cannot forge a log line ("...\nhazmond: crit: ...") nor drive a
 * terminal.  The output is cut before an escape or character that does
 * not fit; it is NUL-terminated (size > 0) and its length is returned.
 */
size_t
log_escape(const char *in, size_t n, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0, k;
	char e[4];

	while (i < n) {
		const char *piece = e;
		size_t plen;

		k = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 0;
		if (k) {
			piece = in + i;
			plen = k;
		} else if (s[i] == '\n' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\\') {
			e[0] = '\\';
			e[1] = s[i] == '\n' ? 'n' : s[i] == '\t' ? 't' :
			    s[i] == '\r' ? 'r' : '\\';
			plen = 2;
		} else if (s[i] < 0x20 || s[i] >= 0x7f) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[s[i] >> 4];
			e[3] = hex[s[i] & 0xf];
			plen = 4;
		} else {
			piece = in + i;
			plen = 1;
		}
		if (o + plen >= size)
			break;
		memcpy(buf + o, piece, plen);
		o += plen;
		i += k ? k : 1;
	}
	if (size > 0)
		buf[o] = '\0';
	return o;
}

/* ---- output of one message */

struct jmsg {
	struct iovec iov[40];
	int n;
};

static void
jadd(struct jmsg *j, const char *p, size_t len)
{
	j->iov[j->n].iov_base = (void *)(uintptr_t)p;
	j->iov[j->n].iov_len = len;
	j->n++;
}

/* keq is "KEY="; values are escaped, so never hold a newline. */
static void
jfield(struct jmsg *j, const char *keq, const char *v, size_t vlen)
{
	jadd(j, keq, strlen(keq));
	jadd(j, v, vlen);
	jadd(j, "\n", 1);
}

static int
journal_send(int prio, const struct log_ctx *x, const char *text, size_t len)
{
	struct jmsg j;
	struct msghdr mh;
	char pr[4], slave[16], seq[24], sensor[4 * HZ_ID_MAX], bus[4 * HZ_ID_MAX];

	if (log_jfd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	j.n = 0;
	jfield(&j, "MESSAGE=", text, len);
	snprintf(pr, sizeof(pr), "%d", prio);
	jfield(&j, "PRIORITY=", pr, strlen(pr));
	jfield(&j, "SYSLOG_IDENTIFIER=", log_prog, strlen(log_prog));
	if (x != NULL) {
		/* A sensor id can come from the wire (a refused command). */
		if (x->sensor != NULL && *x->sensor != '\0')
			jfield(&j, "SENSOR=", sensor, log_escape(x->sensor,
			    strlen(x->sensor), sensor, sizeof(sensor)));
		if (x->bus != NULL && *x->bus != '\0')
			jfield(&j, "BUS=", bus, log_escape(x->bus, strlen(x->bus),
			    bus, sizeof(bus)));
		if (x->slave >= 0) {
			snprintf(slave, sizeof(slave), "%d", x->slave);
			jfield(&j, "SLAVE=", slave, strlen(slave));
		}
		if (x->seq > 0) {
			snprintf(seq, sizeof(seq), "%lld", (long long)x->seq);
			jfield(&j, "EVENT_SEQ=", seq, strlen(seq));
		}
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &log_jaddr;
	mh.msg_namelen = log_jaddr_len;
	mh.msg_iov = j.iov;
	mh.msg_iovlen = (size_t)j.n;
	return sendmsg(log_jfd, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/*
 * Every message is escaped here, whole, rather than each outside string
 * where it is formatted: this catches every caller, also those yet to be
 * written, and the daemon writes no multi-line message of its own (reload
 * reports go to their client as captured lines, before this).
 */
void
log__emit(int prio, const struct log_ctx *x, const char *raw, size_t rawlen)
{
	static const char *names[] = { "emerg", "alert", "crit", "error",
	    "warning", "notice", "info", "debug" };
	char text[4 * HZ_LOG_TEXT_MAX], line[sizeof(text) + 128];
	size_t len = log_escape(raw, rawlen, text, sizeof(text));
	int n;

	if (log_journal) {
		if (journal_send(prio, x, text, len) == 0)
			return;
		if (atomic_exchange(&log_jwarned, 1) == 0) {
			/* Said once; later lines fall back silently. */
			n = snprintf(line, sizeof(line), "<%d>%s: cannot send "
			    "to the journal socket %s (%s); logging to stderr\n",
			    HZ_LOG_WARNING, log_prog, log_jaddr.sun_path,
			    strerror(errno));
			if (n > 0)
				(void)!write(STDERR_FILENO, line,
				    (size_t)n < sizeof(line) ? (size_t)n :
				    sizeof(line) - 1);
		}
		n = snprintf(line, sizeof(line), "<%d>", prio);
	} else
		n = snprintf(line, sizeof(line), "%s: %s: ", log_prog,
		    names[prio]);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		n = 0;
	if (len > sizeof(line) - 1 - (size_t)n)
		len = sizeof(line) - 1 - (size_t)n;
	memcpy(line + n, text, len);
	n += (int)len;
	line[n++] = '\n';
	/* One write per line keeps lines from different threads whole. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

/* ---- the entry points */

/* Whether a message of prio is wanted at all: checked before formatting. */
static inline int
log_wanted(int prio)
{
	return prio <= atomic_load_explicit(&log_max, memory_order_relaxed) ||
	    (cap.on && prio <= cap.prio);
}

static void
log_core(int prio, const struct log_ctx *x, int limit, const char *fmt,
    va_list ap)
{
	char text[HZ_LOG_TEXT_MAX];
	int n, err;
	size_t len;

	if (prio < 0)
		prio = 0;
	else if (prio > HZ_LOG_DEBUG)
		prio = HZ_LOG_DEBUG;
	if (!log_wanted(prio))
		return;
	err = errno;		/* callers may log, then look at errno */
	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		goto out;
	len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
	if (cap.on && prio <= cap.prio)
		cap_append(text, len);
	if (prio > atomic_load_explicit(&log_max, memory_order_relaxed))
		goto out;
	/* Debug output and events (each has its own seq) are never limited. */
	if (limit && prio != HZ_LOG_DEBUG && (x == NULL || x->seq <= 0)) {
		if (!log__limit(prio, x, text, len))
			goto out;
	}
	log__emit(prio, x, text, len);
out:
	errno = err;
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_core(prio, NULL, 1, fmt, ap);
	va_end(ap);
}

void
log_cmsg(int prio, const struct log_ctx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_core(prio, x, 1, fmt, ap);
	va_end(ap);
}

static void log_lmsg(int prio, int limit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
log_lmsg(int prio, int limit, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_core(prio, NULL, limit, fmt, ap);
	va_end(ap);
}

/* limit 0: a fatal message is the last one and must never be swallowed. */
static void
log_verrno(int prio, int limit, int err, const char *fmt, va_list ap)
{
	char msg[1536];

	if (!log_wanted(prio))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_lmsg(prio, limit, "%s: %s", msg, strerror(err));
}

void
log_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verrno(HZ_LOG_WARNING, 1, err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_core(HZ_LOG_WARNING, NULL, 1, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_core(HZ_LOG_INFO, NULL, 1, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_core(HZ_LOG_DEBUG, NULL, 1, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verrno(HZ_LOG_ERR, 0, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_core(HZ_LOG_ERR, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
