/*
 * hazmonctl - command-line client of hazmond's control socket.
 *
 * Sends one request, a JSON object on one line, to the UNIX socket hazmond
 * listens on, reads the one-line answer and prints it as tables, or as
 * JSON with --json.  The protocol is docs/control.md; the command line,
 * the output and the exit statuses are hazmonctl(1).  This file reads the
 * command line and talks to hazmond; hazmonctl-print.c prints the answer.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libconfig.h>

#include "hazmonctl.h"

#ifndef HZ_CONF_FILE
#define HZ_CONF_FILE		"/etc/hazmon/hazmond.conf"
#endif
#ifndef HZ_CONTROL_SOCKET
#define HZ_CONTROL_SOCKET	"/run/hazmon/hazmond.sock"
#endif

#define TIMEOUT_MS	30000		/* connect, send and the whole answer */
#define REQUEST_MAX	65536		/* hazmond's limit, newline included */
#define RESPONSE_MAX	(64 << 20)	/* 10,000 sensors are a few MB */
#define SHELVE_MAX	86400		/* hazmond refuses longer shelving */
#define HISTORY_MAX	1000		/* hazmond refuses more at once */
#define SILENCE_MS	15000		/* a watch stream ticks every 5 s */
#define STREAM_LINE_MAX	(4 << 20)	/* a state line is far smaller */

#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')

struct args {
	const char	*pos[3];	/* positional arguments */
	int		 npos;		/* may exceed 3: then too many */
	const char	*reason;
	const char	*since;
	const char	*sensor;
	const char	*limit;
	const char	*from, *to, *dest;	/* replay */
};

struct command {
	const char	*name;
	const char	*synopsis;	/* its arguments, for usage messages */
	int		 minpos, maxpos;
	void		 (*parse)(const struct command *, struct args *, json_t *);
	void		 (*show)(json_t *, json_t *);	/* response, request */
};

static void	complain(const char *, ...) __attribute__((format(printf, 1, 2)));
static void	usage_error(const char *, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
static void	cmd_synopsis(const struct command *) __attribute__((noreturn));
static void	cmd_usage(const struct command *, const char *, ...)
		    __attribute__((noreturn, format(printf, 2, 3)));
static void	timed_out(void) __attribute__((noreturn));

int		 quiet;
static int	 json_out;	/* --json */
static char	 progname[] = "hazmonctl";

static const char usage_text[] =
    "usage: hazmonctl [-c FILE | -s SOCKET] [--json] [-q] COMMAND [ARGS]\n"
    "       hazmonctl -h | -V\n"
    "  -c, --config FILE   read daemon.control_socket from FILE\n"
    "                      (default " HZ_CONF_FILE ")\n"
    "  -s, --socket PATH   talk to the socket PATH (default " HZ_CONTROL_SOCKET ")\n"
    "      --json          print hazmond's answer as JSON\n"
    "  -q, --quiet         no confirmation after an action\n"
    "commands:\n"
    "  status                          daemon, buses and MQTT destinations\n"
    "  sensors                         every sensor's reading and alarm state\n"
    "  alarms                          alarm levels that are not normal\n"
    "  ack SENSOR [LEVEL]              acknowledge one level, or all of them\n"
    "  shelve SENSOR DURATION -r TEXT  suppress alarms for up to 24h (90s, 30m, 2h)\n"
    "  unshelve SENSOR                 end a shelving\n"
    "  oos SENSOR on|off               take out of service, or put back\n"
    "  history [--since T] [--sensor S] [--limit N]\n"
    "                                  events; T: ISO time or 30m, 2h, 1d ago\n"
    "  reload                          read the configuration again\n"
    "  rebirth                         publish status and sensor states again\n"
    "  watch                           events and state changes as they come\n"
    "  replay --from N --to M [--destination D]\n"
    "                                  send events N to M again (flagged replayed)\n";

static void
vcomplain(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void
complain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcomplain(fmt, ap);
	va_end(ap);
}

void
die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcomplain(fmt, ap);
	va_end(ap);
	exit(status);
}

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcomplain(fmt, ap);
	va_end(ap);
	fputs(usage_text, stderr);
	exit(ES_USAGE);
}

/* Only the command's own line: the whole usage would bury the message. */
static void
cmd_synopsis(const struct command *c)
{
	fprintf(stderr, "usage: hazmonctl [OPTIONS] %s%s%s\n", c->name,
	    *c->synopsis ? " " : "", c->synopsis);
	exit(ES_USAGE);
}

static void
cmd_usage(const struct command *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcomplain(fmt, ap);
	va_end(ap);
	cmd_synopsis(c);
}

/* ---- requests */

static void
set_string(const struct command *c, json_t *req, const char *key,
    const char *value)
{
	json_t *s = json_string(value);

	if (s == NULL)
		cmd_usage(c, "%s: %s is not valid UTF-8", c->name, key);
	json_object_set_new(req, key, s);
}

/*
 * "90", "90s", "30m", "1.5h", "2d": seconds.  Anything else, including an
 * ISO time such as 2026-11-25T08:00:00Z, is not a duration: -1.
 */
static int
parse_duration(const char *s, double *secs)
{
	const char *p = s;
	double unit;

	if (!IS_DIGIT(*p))
		return -1;
	while (IS_DIGIT(*p))
		p++;
	if (*p == '.') {
		if (!IS_DIGIT(p[1]))
			return -1;
		for (p++; IS_DIGIT(*p); p++)
			;
	}
	switch (*p) {
	case '\0':
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	if (*p != '\0' && p[1] != '\0')
		return -1;
	/* LC_NUMERIC stays "C": the decimal point is always '.'. */
	*secs = strtod(s, NULL) * unit;
	return 0;
}

static void
parse_plain(const struct command *c, struct args *a, json_t *req)
{
	(void)c;
	(void)a;
	(void)req;
}

static void
parse_ack(const struct command *c, struct args *a, json_t *req)
{
	set_string(c, req, "sensor", a->pos[0]);
	if (a->npos > 1)
		set_string(c, req, "level", a->pos[1]);
}

static void
parse_shelve(const struct command *c, struct args *a, json_t *req)
{
	double secs;
	long long n;

	if (parse_duration(a->pos[1], &secs) == -1)
		cmd_usage(c, "shelve: '%s' is not a duration: give seconds, or "
		    "a number with s, m or h (90s, 30m, 1.5h)", a->pos[1]);
	if (secs > SHELVE_MAX)
		cmd_usage(c, "shelve: %s is longer than 24h, the longest a "
		    "sensor may be shelved", a->pos[1]);
	if ((n = (long long)(secs + 0.5)) < 1)
		cmd_usage(c, "shelve: the duration must be at least 1 second");
	if (a->reason == NULL)
		cmd_usage(c, "shelve: missing --reason TEXT: say why the alarms "
		    "of %s are suppressed", a->pos[0]);
	if (*a->reason == '\0')
		cmd_usage(c, "shelve: the reason must not be empty");
	set_string(c, req, "sensor", a->pos[0]);
	json_object_set_new(req, "seconds", json_integer(n));
	set_string(c, req, "reason", a->reason);
}

static void
parse_sensor(const struct command *c, struct args *a, json_t *req)
{
	set_string(c, req, "sensor", a->pos[0]);
}

static void
parse_oos(const struct command *c, struct args *a, json_t *req)
{
	int on;

	if (strcmp(a->pos[1], "on") == 0)
		on = 1;
	else if (strcmp(a->pos[1], "off") == 0)
		on = 0;
	else
		cmd_usage(c, "oos: '%s' is neither on nor off", a->pos[1]);
	set_string(c, req, "sensor", a->pos[0]);
	json_object_set_new(req, "on", json_boolean(on));
}

static void
parse_history(const struct command *c, struct args *a, json_t *req)
{
	double secs;
	char *end;
	long n;

	/* A duration goes as seconds: hazmond parses times, not "2h". */
	if (a->since != NULL && parse_duration(a->since, &secs) == 0) {
		if (secs > 1e12)
			cmd_usage(c, "history: --since %s is too far back",
			    a->since);
		json_object_set_new(req, "since",
		    json_integer((json_int_t)(secs + 0.5)));
	} else if (a->since != NULL) {
		if (*a->since == '\0')
			cmd_usage(c, "history: --since needs a time or a duration");
		set_string(c, req, "since", a->since);
	}
	if (a->sensor != NULL)
		set_string(c, req, "sensor", a->sensor);
	if (a->limit != NULL) {
		errno = 0;
		n = strtol(a->limit, &end, 10);
		if (errno != 0 || end == a->limit || *end != '\0' || n < 1 ||
		    n > HISTORY_MAX)
			cmd_usage(c, "history: --limit must be a number from 1 "
			    "to %d", HISTORY_MAX);
		json_object_set_new(req, "limit", json_integer(n));
	}
}

/* A seq on the command line: a whole number, checked by hazmond. */
static void
set_seq(const struct command *c, json_t *req, const char *key, const char *v)
{
	long long n;
	char *end;

	if (v == NULL)
		cmd_usage(c, "replay: missing --%s SEQ", key);
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		cmd_usage(c, "replay: --%s '%s' is not a whole number", key, v);
	json_object_set_new(req, key, json_integer(n));
}

static void
parse_replay(const struct command *c, struct args *a, json_t *req)
{
	set_seq(c, req, "from", a->from);
	set_seq(c, req, "to", a->to);
	if (a->dest != NULL)
		set_string(c, req, "destination", a->dest);
}

static const struct command commands[] = {
	{ "status", "", 0, 0, parse_plain, show_status },
	{ "sensors", "", 0, 0, parse_plain, show_sensors },
	{ "alarms", "", 0, 0, parse_plain, show_alarms },
	{ "ack", "SENSOR [LEVEL]", 1, 2, parse_ack, show_ack },
	{ "shelve", "SENSOR DURATION --reason TEXT", 2, 2, parse_shelve,
	    show_shelve },
	{ "unshelve", "SENSOR", 1, 1, parse_sensor, show_unshelve },
	{ "oos", "SENSOR on|off", 2, 2, parse_oos, show_oos },
	{ "history", "[--since TIME] [--sensor SENSOR] [--limit N]", 0, 0,
	    parse_history, show_history },
	{ "reload", "", 0, 0, parse_plain, show_reload },
	{ "rebirth", "", 0, 0, parse_plain, show_rebirth },
	{ "watch", "", 0, 0, parse_plain, NULL },	/* a stream: watch() */
	{ "replay", "--from N --to M [--destination D]", 0, 0, parse_replay,
	    show_replay },
	{ NULL, NULL, 0, 0, NULL, NULL }
};

/* ---- finding and talking to hazmond */

/* libconfig names an @include'd file as written: add the directory. */
static void
conf_error(const char *path, const char *dir, const char *file, int line,
    const char *msg)
{
	if (file == NULL)
		file = path;
	if (*file != '/' && strcmp(file, path) != 0)
		complain("%s/%s:%d: %s", dir, file, line, msg);
	else
		complain("%s:%d: %s", file, line, msg);
}

/*
 * The default socket, where a hazmond without a control_socket setting
 * puts it: /run/hazmon/hazmond.sock, or, when /run/hazmon does not exist
 * (a hazmond in the foreground that may not create it),
 * $XDG_RUNTIME_DIR/hazmon/hazmond.sock.  HAZMOND_TEST_RUNTIME_BASE
 * replaces /run for the tests, as it does for hazmond.
 */
static const char *
default_socket(void)
{
	static char buf[4096 + 32];
	const char *base = getenv("HAZMOND_TEST_RUNTIME_BASE");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	char *slash;

	if (base && *base)
		snprintf(buf, sizeof(buf), "%s/hazmon/hazmond.sock", base);
	else
		snprintf(buf, sizeof(buf), "%s", HZ_CONTROL_SOCKET);
	slash = strrchr(buf, '/');
	*slash = '\0';
	if (stat(buf, &st) != 0 && errno == ENOENT && xdg && *xdg == '/') {
		snprintf(buf, sizeof(buf), "%s/hazmon/hazmond.sock", xdg);
		return buf;
	}
	*slash = '/';
	return buf;
}

/*
 * daemon.control_socket of the configuration, or the default.  A missing
 * default file is normal (a client-only host); an unreadable one is not
 * fatal unless the operator named it with -c: then it is the file meant.
 */
static char *
control_socket(const char *path, int named)
{
	config_t cfg;
	config_setting_t *s;
	const char *sock = default_socket(), *file;
	char *copy, *dir, *res;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		if (named)
			die(ES_USAGE, "%s: %s", path, strerror(errno));
		if (errno != ENOENT) {
			complain("%s: %s", path, strerror(errno));
			complain("trying the default socket %s", sock);
		}
		return strdup(sock);
	}
	fclose(f);
	config_init(&cfg);
	/* @include is relative to the file, as for hazmond */
	if ((copy = strdup(path)) == NULL)
		die(ES_REFUSED, "out of memory");
	dir = dirname(copy);
	config_set_include_dir(&cfg, dir);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		conf_error(path, dir, config_error_file(&cfg),
		    config_error_line(&cfg), config_error_text(&cfg));
		if (named)
			exit(ES_USAGE);
		complain("trying the default socket %s", sock);
	} else if ((s = config_lookup(&cfg, "daemon.control_socket")) != NULL) {
		file = config_setting_get_string(s);	/* NULL: not a string */
		if (file != NULL && *file == '\0')
			die(ES_NODAEMON, "hazmond has no control socket: "
			    "daemon.control_socket is \"\" in %s", path);
		if (file == NULL || *file != '/') {
			/* hazmond would not start with it either */
			conf_error(path, dir, config_setting_source_file(s),
			    config_setting_source_line(s),
			    "daemon.control_socket must be an absolute path");
			if (named)
				exit(ES_USAGE);
			complain("trying the default socket %s", sock);
		} else
			sock = file;
	}
	res = strdup(sock);
	config_destroy(&cfg);
	free(copy);
	return res;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int	 timeout_ms = TIMEOUT_MS;

static void
timed_out(void)
{
	die(ES_NODAEMON, "hazmond did not answer within %g s",
	    timeout_ms / 1000.0);
}

/* Waits for events on fd until the deadline; a timeout ends hazmonctl. */
static void
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			timed_out();
		if ((n = poll(&pfd, 1, (int)left)) > 0)
			return;	/* also POLLHUP/POLLERR: the next call says */
		if (n == -1 && errno != EINTR)
			die(ES_NODAEMON, "poll: %s", strerror(errno));
	}
}

static void
connect_failed(const char *path)
{
	struct stat st;
	struct group *gr;
	char gname[64] = "";

	switch (errno) {
	case ENOENT:
		die(ES_NODAEMON, "hazmond is not running (no socket at %s)", path);
	case ECONNREFUSED:
		die(ES_NODAEMON, "hazmond is not running (nobody listening on %s)",
		    path);
	case EACCES:
	case EPERM:
		/* Only a group that may write can let the user in */
		if (stat(path, &st) == 0 && (st.st_mode & S_IWGRP)) {
			if ((gr = getgrgid(st.st_gid)) != NULL)
				snprintf(gname, sizeof(gname), " %s", gr->gr_name);
			else
				snprintf(gname, sizeof(gname), " %lu",
				    (unsigned long)st.st_gid);
		}
		die(ES_NODAEMON, "permission denied on %s: run as root or as a "
		    "member of the socket's group%s (daemon.control_group; for "
		    "the read-only socket daemon.control_read_group)", path,
		    gname);
	case EAGAIN:	/* the listen queue stayed full until SO_SNDTIMEO */
	case EINPROGRESS:
	case ETIMEDOUT:
		timed_out();
	default:
		die(ES_NODAEMON, "cannot connect to %s: %s", path, strerror(errno));
	}
}

/* A full buffer twice as big, up to max bytes: more is hazmond's fault. */
static char *
grow(char *buf, size_t *cap, size_t max, const char *what)
{
	char *p;

	if (*cap >= max)
		die(ES_NODAEMON, "%s is larger than %zu MiB", what, max >> 20);
	*cap *= 2;
	if ((p = realloc(buf, *cap)) == NULL)
		die(ES_REFUSED, "out of memory");
	return p;
}

/* A non-blocking connection to hazmond, made before the deadline. */
static int
dial(const char *path, int64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv;
	int64_t left;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die(ES_NODAEMON, "%s: socket path too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die(ES_NODAEMON, "socket: %s", strerror(errno));
	/* connect() blocks only while the listen queue is full. */
	if ((left = deadline - now_ms()) < 1)
		left = 1;	/* 0 would mean no timeout at all */
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		connect_failed(path);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		die(ES_NODAEMON, "fcntl: %s", strerror(errno));
	return fd;
}

/*
 * Sends the request and returns the first line of the answer, without its
 * newline, in *len; *fdp (when not NULL) keeps the connection open for
 * what follows (watch).  Everything, connect() included, shares one
 * deadline: a reload may take seconds, a hung daemon must not hang a
 * script.
 */
static char *
talk(const char *path, const char *req, size_t reqlen, size_t *len, int *fdp,
    char **rest, size_t *n_rest)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t off = 0, cap = 65536, have = 0;
	ssize_t n;
	char *buf, *nl = NULL;
	int fd = dial(path, deadline), closed = 0;

	while (off < reqlen) {
		wait_fd(fd, POLLOUT, deadline);
		if ((n = write(fd, req + off, reqlen - off)) >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR || errno == EAGAIN)
			continue;
		/*
		 * It may have answered before closing (too many connections):
		 * read on, the answer says more than EPIPE.
		 */
		if (errno != EPIPE && errno != ECONNRESET)
			die(ES_NODAEMON, "cannot send to hazmond: %s",
			    strerror(errno));
		closed = 1;
		break;
	}

	if ((buf = malloc(cap)) == NULL)
		die(ES_REFUSED, "out of memory");
	while (nl == NULL) {
		if (have == cap)
			buf = grow(buf, &cap, RESPONSE_MAX, "the answer of hazmond");
		wait_fd(fd, POLLIN, deadline);
		n = read(fd, buf + have, cap - have);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1 && errno != ECONNRESET)
			die(ES_NODAEMON, "cannot read from hazmond: %s",
			    strerror(errno));
		if (n <= 0 && have == 0)
			die(ES_NODAEMON, "hazmond closed the connection without "
			    "answering%s", closed ? " (before reading the request)" :
			    "");
		if (n <= 0)
			die(ES_NODAEMON, "hazmond closed the connection in the "
			    "middle of its answer (after %zu bytes)", have);
		nl = memchr(buf + have, '\n', (size_t)n);
		have += (size_t)n;
	}
	*len = (size_t)(nl - buf);
	if (fdp == NULL) {
		close(fd);
		return buf;
	}
	/* What came after the answer is the stream's beginning. */
	*fdp = fd;
	*n_rest = have - *len - 1;
	if ((*rest = malloc(*n_rest + 1)) == NULL)
		die(ES_REFUSED, "out of memory");
	memcpy(*rest, nl + 1, *n_rest);
	return buf;
}

/* ---- watch */

static void
stream_line(char *line, size_t len)
{
	json_t *o;

	if (json_out) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
	} else if ((o = json_loadb(line, len, 0, NULL)) != NULL) {
		show_watch(o);
		json_decref(o);
	} else
		die(ES_NODAEMON, "a line of hazmond's watch stream is not JSON");
	fflush(stdout);
}

/*
 * The stream after the answer, until hazmond ends it: nothing for
 * SILENCE_MS, not even a tick, is a hung daemon, said as such.  Returns
 * the exit status (ES_NODAEMON: the stream ended).
 */
static int
watch(int fd, char *buf, size_t have)
{
	size_t cap = have + 65536, used;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *nl, *p;
	ssize_t n;
	int rc;

	if ((p = realloc(buf, cap)) == NULL)
		die(ES_REFUSED, "out of memory");
	buf = p;
	for (;;) {
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			stream_line(buf, (size_t)(nl - buf));
			used = (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have - used);
			have -= used;
		}
		if (have == cap)
			buf = grow(buf, &cap, STREAM_LINE_MAX,
			    "a line of hazmond's watch stream");
		if ((rc = poll(&pfd, 1, SILENCE_MS)) == 0) {
			complain("hazmond sent nothing for %d s, not even a tick: "
			    "it may hang", SILENCE_MS / 1000);
			break;
		}
		if (rc < 0 && errno != EINTR)
			die(ES_NODAEMON, "poll: %s", strerror(errno));
		if (rc < 0)
			continue;
		n = read(fd, buf + have, cap - have);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			complain("hazmond ended the watch stream%s%s (its log says "
			    "why)", n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			break;
		}
		have += (size_t)n;
	}
	free(buf);
	close(fd);
	return ES_NODAEMON;
}

/* ---- main */

/* The n-th word of s, e.g. DURATION of "SENSOR DURATION --reason TEXT" */
static const char *
word(const char *s, int n, char *buf, size_t len)
{
	size_t w;

	for (; n > 0 && *s != '\0'; n--)
		s += strcspn(s, " ") + (s[strcspn(s, " ")] == ' ');
	w = strcspn(s, " ");
	snprintf(buf, len, "%.*s", (int)w, s);
	return buf;
}

static const struct command *
parse_command(int argc, char *argv[], struct args *a)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "reason", required_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 'S' },
		{ "sensor", required_argument, NULL, 'N' },
		{ "limit", required_argument, NULL, 'L' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "destination", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	static char name[64];
	char wbuf[32];
	const struct option *o;
	const struct command *c;
	int ch;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, argv[0]) == 0)
			break;
	if (c->name == NULL)
		usage_error("unknown command '%s'", argv[0]);
	/* getopt's messages then say "hazmonctl shelve: ..." */
	snprintf(name, sizeof(name), "hazmonctl %s", c->name);
	argv[0] = name;
	/*
	 * A leading '-' returns positional arguments in order (as 1), also
	 * under POSIXLY_CORRECT, so --reason may follow them.  --json and -q
	 * are accepted after the command too.
	 */
	memset(a, 0, sizeof(*a));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "-qr:", longopts, NULL)) != -1) {
		switch (ch) {
		case 1:
			if (a->npos < 3)
				a->pos[a->npos] = optarg;
			a->npos++;
			continue;
		case 'j':
			json_out = 1;
			continue;
		case 'q':
			quiet = 1;
			continue;
		case 'r':
			if (strcmp(c->name, "shelve") == 0) {
				a->reason = optarg;
				continue;
			}
			break;
		case 'S':
		case 'N':
		case 'L':
			if (strcmp(c->name, "history") == 0) {
				*(ch == 'S' ? &a->since : ch == 'N' ? &a->sensor :
				    &a->limit) = optarg;
				continue;
			}
			break;
		case 'F':
		case 'T':
		case 'D':
			if (strcmp(c->name, "replay") == 0) {
				*(ch == 'F' ? &a->from : ch == 'T' ? &a->to :
				    &a->dest) = optarg;
				continue;
			}
			break;
		default:	/* getopt said what */
			cmd_synopsis(c);
		}
		for (o = longopts; o->val != ch; o++)
			;
		cmd_usage(c, "%s: option --%s does not apply", c->name, o->name);
	}
	for (; optind < argc; optind++) {	/* after "--" */
		if (a->npos < 3)
			a->pos[a->npos] = argv[optind];
		a->npos++;
	}
	if (a->npos < c->minpos)
		cmd_usage(c, "%s: missing %s", c->name, word(c->synopsis,
		    a->npos, wbuf, sizeof(wbuf)));
	if (a->npos > c->maxpos)
		cmd_usage(c, "%s: too many arguments", c->name);
	return c;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct command *c;
	const char *conf = NULL, *sock_opt = NULL, *env;
	struct args a;
	json_t *req, *resp;
	json_error_t jerr;
	char *sock, *text, *line, *end, *rest = NULL;
	size_t len, n_rest = 0;
	int fd = -1;
	long ms;
	int ch, status = 0;

	setlocale(LC_CTYPE, "");	/* column widths of UTF-8 text */
	argv[0] = progname;
	while ((ch = getopt_long(argc, argv, "+c:s:qhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			sock_opt = optarg;
			break;
		case 'j':
			json_out = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("hazmonctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return ES_USAGE;
		}
	}
	if (optind == argc)
		usage_error("no command given");
	c = parse_command(argc - optind, argv + optind, &a);
	if ((req = json_pack("{s:s}", "cmd", c->name)) == NULL)
		die(ES_REFUSED, "out of memory");
	c->parse(c, &a, req);

	if ((env = getenv("HAZMONCTL_TIMEOUT_MS")) != NULL) {
		errno = 0;
		ms = strtol(env, &end, 10);
		if (errno != 0 || end == env || *end != '\0' || ms < 1 ||
		    ms > 86400000)
			die(ES_USAGE, "HAZMONCTL_TIMEOUT_MS: not a number of "
			    "milliseconds from 1 to 86400000: '%s'", env);
		timeout_ms = (int)ms;
	}
	sock = sock_opt ? strdup(sock_opt) :
	    control_socket(conf ? conf : HZ_CONF_FILE, conf != NULL);
	if (sock == NULL)
		die(ES_REFUSED, "out of memory");

	if ((text = json_dumps(req, JSON_COMPACT)) == NULL)
		die(ES_REFUSED, "out of memory");
	len = strlen(text);
	if (len + 1 > REQUEST_MAX)
		die(ES_USAGE, "the request is %zu bytes, hazmond takes at most "
		    "%d: shorten the reason", len + 1, REQUEST_MAX);
	text[len] = '\n';	/* over the NUL: sent with its length */
	/* hazmond may close first; write() then says EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	line = talk(sock, text, len + 1, &len, c->show ? NULL : &fd, &rest,
	    &n_rest);
	/* Output to a closed pipe (hazmonctl sensors | head) ends us quietly */
	signal(SIGPIPE, SIG_DFL);
	free(text);

	resp = json_loadb(line, len, 0, &jerr);
	if (!json_is_object(resp))
		die(ES_NODAEMON, "hazmond's answer is not a JSON object: %s",
		    resp ? "another JSON value" : jerr.text);
	if (!json_is_boolean(json_object_get(resp, "ok")))
		die(ES_NODAEMON, "hazmond's answer has no \"ok\"");
	if (json_out && fd >= 0)
		stream_line(line, len);
	else if (json_out)
		print_json(line, len);
	if (json_is_false(json_object_get(resp, "ok"))) {
		show_error(resp);
		status = ES_REFUSED;
	} else if (fd >= 0) {
		status = watch(fd, rest, n_rest);
		rest = NULL;
	} else if (!json_out)
		c->show(resp, req);

	json_decref(resp);
	json_decref(req);
	free(line);
	if (rest != NULL)
		close(fd);	/* a watch refused: watch() did not take it */
	free(rest);
	free(sock);
	if (fflush(stdout) == EOF || ferror(stdout))
		die(ES_REFUSED, "cannot write the output: %s", strerror(errno));
	return status;
}
