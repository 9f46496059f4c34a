/*
 * hazmonctl-print.c - hazmond's answers as tables, or as its own JSON.
 *
 * Column widths come from the data, so that no id is ever cut short, and
 * every string from hazmond is cleaned of control characters first: names,
 * reasons and actors are typed by other people.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "hazmonctl.h"

#define TABLE_COLS	10
#define IS_SPACE(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

struct row {
	char		*cell[TABLE_COLS];
	int		 n;
	int		 note;		/* one free line under the row above */
};

struct table {
	const char	*align;		/* 'l' or 'r' per column */
	int		 ncols;
	struct row	*rows;		/* rows[0] is the header */
	size_t		 nrows, cap;
};

static char	*vfmt(const char *, va_list) __attribute__((format(printf, 1, 0)));
static void	say(const char *, ...) __attribute__((format(printf, 1, 2)));
static void	table_add(struct table *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	table_note(struct table *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static char *
vfmt(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) == -1)
		die(ES_REFUSED, "out of memory");
	return s;
}

/*
 * Names, reasons and actors come from configuration files and from other
 * operators: never let them send escape sequences to our terminal.  C0,
 * DEL and the C1 controls (UTF-8 C2 80 to C2 9F) become '?'.
 */
static void
sanitize(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;

	for (; *r != '\0'; r++) {
		if (*r < 0x20 || *r == 0x7f) {
			*w++ = '?';
		} else if (r[0] == 0xc2 && r[1] >= 0x80 && r[1] <= 0x9f) {
			*w++ = '?';
			r++;
		} else
			*w++ = *r;
	}
	*w = '\0';
}

/* Terminal columns of UTF-8 text: units such as "°C" are not 3 wide. */
static size_t
text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	wchar_t wc;
	int i, n, cw;

	while (*p != '\0') {
		if (*p < 0x80) {
			wc = *p;
			n = 1;
		} else if ((*p & 0xe0) == 0xc0) {
			wc = *p & 0x1f;
			n = 2;
		} else if ((*p & 0xf0) == 0xe0) {
			wc = *p & 0x0f;
			n = 3;
		} else {
			wc = *p & 0x07;
			n = 4;
		}
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
			wc = (wc << 6) | (p[i] & 0x3f);
		}
		p += i;
		/* Outside a UTF-8 locale wcwidth() knows nothing: count 1. */
		cw = wcwidth(wc);
		w += cw < 0 ? 1 : (size_t)cw;
	}
	return w;
}

static void
say(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	sanitize(s);
	puts(s);
	free(s);
}

/*
 * A scalar member as text: "-" when null or absent, integers exactly,
 * reals with %g.  The results rotate through a few buffers so that one
 * printf can take several.
 */
static const char *
val(json_t *o, const char *key)
{
	static char	 ring[8][64];
	static unsigned	 next;
	json_t		*v = json_object_get(o, key);
	char		*buf;

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v))
		return "yes";
	if (json_is_false(v))
		return "no";
	if (!json_is_number(v))
		return "-";
	buf = ring[next++ % 8];
	if (json_is_integer(v))
		snprintf(buf, sizeof ring[0], "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else
		snprintf(buf, sizeof ring[0], "%g", json_real_value(v));
	return buf;
}

static json_t *
member_array(json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key);

	if (!json_is_array(a))
		die(ES_NODAEMON, "malformed answer from hazmond: no \"%s\" array",
		    key);
	return a;
}

static struct row *
table_row(struct table *t)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		if ((t->rows = realloc(t->rows, t->cap * sizeof(*t->rows))) == NULL)
			die(ES_REFUSED, "out of memory");
	}
	memset(&t->rows[t->nrows], 0, sizeof(t->rows[0]));
	return &t->rows[t->nrows++];
}

/* Headers are one string, "ID VALUE UNIT": no header has a space. */
static void
table_start(struct table *t, const char *align, const char *headers)
{
	const char *h = headers, *end;

	memset(t, 0, sizeof(*t));
	t->align = align;
	t->ncols = (int)strlen(align);
	table_row(t);
	while (*h != '\0') {
		end = h + strcspn(h, " ");
		table_add(t, "%.*s", (int)(end - h), h);
		h = *end ? end + 1 : end;
	}
}

static void
table_add(struct table *t, const char *fmt, ...)
{
	struct row *r = &t->rows[t->nrows - 1];
	va_list ap;

	if (r->note || r->n >= t->ncols)
		abort();	/* a bug here, not bad input */
	va_start(ap, fmt);
	r->cell[r->n] = vfmt(fmt, ap);
	va_end(ap);
	sanitize(r->cell[r->n++]);
}

static void
table_note(struct table *t, const char *fmt, ...)
{
	struct row *r = table_row(t);
	va_list ap;

	r->note = 1;
	va_start(ap, fmt);
	r->cell[0] = vfmt(fmt, ap);
	va_end(ap);
	sanitize(r->cell[0]);
	r->n = 1;
}

/* Widths come from the data, so no id is ever cut short. */
static void
table_print(struct table *t)
{
	size_t width[TABLE_COLS] = { 0 }, w, i;
	const char *s;
	int c, last;

	for (i = 0; i < t->nrows; i++)
		for (c = 0; c < t->rows[i].n && !t->rows[i].note; c++)
			if ((w = text_width(t->rows[i].cell[c])) > width[c])
				width[c] = w;
	for (i = 0; i < t->nrows; i++) {
		if (t->rows[i].note) {
			printf("  %s\n", t->rows[i].cell[0]);
			continue;
		}
		/* Empty cells at the end: no trailing blanks */
		for (last = t->rows[i].n - 1; last > 0 &&
		    *t->rows[i].cell[last] == '\0'; last--)
			;
		for (c = 0; c <= last; c++) {
			s = t->rows[i].cell[c];
			w = width[c] - text_width(s);
			if (t->align[c] == 'r')
				printf("%*s", (int)w, "");
			fputs(s, stdout);
			if (c < last)
				printf("%*s", (int)(t->align[c] == 'r' ? 2 :
				    w + 2), "");
		}
		putchar('\n');
	}
	for (i = 0; i < t->nrows; i++)
		for (c = 0; c < t->rows[i].n; c++)
			free(t->rows[i].cell[c]);
	free(t->rows);
}

/*
 * --json prints hazmond's own text, re-indented: jansson would print 55.2
 * as 55.200000000000003, and the answer must reach scripts unchanged.  The
 * text was already parsed, so it is valid JSON.
 */
void
print_json(const char *s, size_t len)
{
	const char *end = s + len;
	int depth = 0, instr = 0, esc = 0;
	const char *p;
	char c;

	for (; s < end; s++) {
		c = *s;
		if (instr) {
			putchar(c);
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				instr = 0;
			continue;
		}
		switch (c) {
		case ' ': case '\t': case '\r': case '\n':
			break;
		case '"':
			instr = 1;
			putchar(c);
			break;
		case '{': case '[':
			putchar(c);
			for (p = s + 1; p < end && IS_SPACE(*p); p++)
				;
			if (p < end && (*p == '}' || *p == ']')) {
				putchar(*p);	/* {} and [] stay on one line */
				s = p;
				break;
			}
			printf("\n%*s", 2 * ++depth, "");
			break;
		case '}': case ']':
			printf("\n%*s%c", 2 * --depth, "", c);
			break;
		case ',':
			printf(",\n%*s", 2 * depth, "");
			break;
		case ':':
			fputs(": ", stdout);
			break;
		default:
			putchar(c);
		}
	}
	putchar('\n');
}

static void
fmt_uptime(json_t *r, char *buf, size_t len)
{
	json_t *v = json_object_get(r, "uptime_s");
	long long s;

	if (!json_is_number(v)) {
		snprintf(buf, len, "-");
		return;
	}
	s = (long long)json_number_value(v);
	if (s >= 86400)
		snprintf(buf, len, "%lldd %02lld:%02lld:%02lld", s / 86400,
		    s / 3600 % 24, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60,
		    s % 60);
}

/* "latched,shelved,oos,device-alarm", or none when nothing is set */
static const char *
flags(int latched, int shelved, int oos, int device_alarm, const char *none)
{
	static char buf[48];
	const char *name[] = { "latched", "shelved", "oos", "device-alarm" };
	int on[] = { latched, shelved, oos, device_alarm };
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		if (on[i])
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
			    o ? "," : "", name[i]);
	return *buf ? buf : none;
}

static void
show_buses(json_t *buses)
{
	json_t *b, *sl;
	struct table t;
	size_t i, j;

	table_start(&t, "llllrrr", "BUS TYPE ENDPOINT LINK REQ/CYCLE POLLS FAILED");
	json_array_foreach(buses, i, b) {
		table_row(&t);
		table_add(&t, "%s", val(b, "name"));
		table_add(&t, "%s", val(b, "type"));
		table_add(&t, "%s", val(b, "endpoint"));
		table_add(&t, "%s", json_is_true(json_object_get(b, "connected")) ?
		    "up" : "down");
		table_add(&t, "%s", val(b, "requests_per_cycle"));
		table_add(&t, "%s", val(b, "polls"));
		table_add(&t, "%s", val(b, "failed"));
		json_array_foreach(json_object_get(b, "slaves"), j, sl)
			table_note(&t, "slave %-3s %slast ok %s", val(sl, "slave"),
			    json_is_true(json_object_get(sl, "failing")) ?
			    "FAILING, " : "",
			    json_is_string(json_object_get(sl, "last_ok")) ?
			    val(sl, "last_ok") : "never");
	}
	table_print(&t);
}

static void
show_destinations(json_t *dests)
{
	json_t *d;
	struct table t;
	const char *host;
	size_t i;

	table_start(&t, "lllrr", "DESTINATION BROKER CONNECTED ACKED UNDELIVERED");
	json_array_foreach(dests, i, d) {
		table_row(&t);
		table_add(&t, "%s", val(d, "name"));
		host = val(d, "host");
		/* host:port is ambiguous for IPv6 addresses */
		table_add(&t, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host,
		    val(d, "port"));
		table_add(&t, "%s", val(d, "connected"));
		table_add(&t, "%s", val(d, "acked_seq"));
		table_add(&t, "%s", val(d, "undelivered"));
	}
	table_print(&t);
}

void
show_status(json_t *r, json_t *req)
{
	json_t *site = json_object_get(r, "site");
	json_t *sen = json_object_get(r, "sensors");
	json_t *al = json_object_get(r, "alarms");
	json_t *h = json_object_get(r, "health");
	json_t *buses = json_object_get(r, "buses");
	json_t *dests = json_object_get(r, "destinations");
	char up[64];

	(void)req;
	fmt_uptime(r, up, sizeof(up));
	say("site      %s (%s)", val(site, "id"), val(site, "name"));
	say("hazmond   version %s, pid %s, up %s since %s", val(r, "version"),
	    val(r, "pid"), up, val(r, "started"));
	say("config    %s", val(r, "config"));
	if (json_is_string(json_object_get(r, "reloaded")))
		say("reloads   %s, last %s", val(r, "reloads"), val(r, "reloaded"));
	else
		say("reloads   %s", val(r, "reloads"));
	say("sensors   %s total, %s ok, %s fault, %s stale, %s out of service, "
	    "%s shelved", val(sen, "total"), val(sen, "ok"), val(sen, "fault"),
	    val(sen, "stale"), val(sen, "out_of_service"), val(sen, "shelved"));
	say("alarms    %s active, %s unacknowledged", val(al, "active"),
	    val(al, "unacknowledged"));
	say("health    %s%s alarms in 10 min, %s chattering, %s stale",
	    json_is_true(json_object_get(h, "flood")) ? "FLOOD: " : "",
	    val(h, "alarms_10min"), val(h, "chattering"), val(h, "stale"));
	say("ledger    last seq %s", val(json_object_get(r, "ledger"),
	    "last_seq"));

	putchar('\n');
	if (json_array_size(buses) == 0)
		puts("no buses");
	else
		show_buses(buses);
	putchar('\n');
	if (json_array_size(dests) == 0)
		puts("no MQTT destinations");
	else
		show_destinations(dests);
}

void
show_sensors(json_t *r, json_t *req)
{
	json_t *list = member_array(r, "sensors"), *s;
	struct table t;
	size_t i;
	int shelved, oos, dev;

	(void)req;
	if (json_array_size(list) == 0) {
		puts("no sensors");
		return;
	}
	table_start(&t, "lrllllrll",
	    "ID VALUE UNIT QUALITY ALARM STATE UNACK FLAGS LAST-READ");
	json_array_foreach(list, i, s) {
		shelved = json_is_string(json_object_get(s, "shelved_until"));
		oos = json_is_true(json_object_get(s, "out_of_service"));
		dev = json_is_true(json_object_get(s, "device_alarm"));
		table_row(&t);
		table_add(&t, "%s", val(s, "id"));
		table_add(&t, "%s", val(s, "value"));
		table_add(&t, "%s", val(s, "unit"));
		if (json_is_string(json_object_get(s, "fault")))
			table_add(&t, "%s (%s)", val(s, "quality"), val(s, "fault"));
		else
			table_add(&t, "%s", val(s, "quality"));
		table_add(&t, "%s", val(s, "alarm"));
		table_add(&t, "%s", val(s, "alarm_state"));
		table_add(&t, "%s", val(s, "unacknowledged"));
		table_add(&t, "%s", flags(0, shelved, oos, dev, "-"));
		/* the last good reading: a failed one is no read */
		table_add(&t, "%s", val(s, "last_ok"));
	}
	table_print(&t);
}

void
show_alarms(json_t *r, json_t *req)
{
	json_t *list = member_array(r, "alarms"), *a;
	struct table t;
	size_t i;

	(void)req;
	if (json_array_size(list) == 0) {
		puts("no alarms");
		return;
	}
	table_start(&t, "lllllrrll",
	    "SENSOR LEVEL PRIORITY STATE SINCE VALUE SETPOINT UNIT NOTE");
	json_array_foreach(list, i, a) {
		table_row(&t);
		table_add(&t, "%s", val(a, "sensor"));
		table_add(&t, "%s", val(a, "level"));
		table_add(&t, "%s", val(a, "priority"));
		table_add(&t, "%s", val(a, "state"));
		table_add(&t, "%s", val(a, "since"));
		table_add(&t, "%s", val(a, "value"));
		table_add(&t, "%s", val(a, "setpoint"));
		table_add(&t, "%s", val(a, "unit"));
		table_add(&t, "%s", flags(json_is_true(json_object_get(a,
		    "latch")), json_is_true(json_object_get(a, "shelved")),
		    json_is_true(json_object_get(a, "out_of_service")), 0, ""));
	}
	table_print(&t);
}

void
show_history(json_t *r, json_t *req)
{
	json_t *list = member_array(r, "events"), *e;
	struct table t;
	size_t i;
	const char *actor, *reason, *until;

	(void)req;
	if (json_array_size(list) == 0) {
		puts("no events");
		return;
	}
	table_start(&t, "rlllllrl",
	    "SEQ TIME SENSOR KIND EVENT LEVEL VALUE ACTOR/REASON");
	json_array_foreach(list, i, e) {
		actor = json_string_value(json_object_get(e, "actor"));
		reason = json_string_value(json_object_get(e, "reason"));
		until = json_string_value(json_object_get(e, "until"));
		table_row(&t);
		table_add(&t, "%s", val(e, "seq"));
		table_add(&t, "%s", val(e, "ts"));
		table_add(&t, "%s", val(e, "sensor"));
		table_add(&t, "%s", val(e, "kind"));
		table_add(&t, "%s", val(e, "event"));
		table_add(&t, "%s", val(e, "level"));
		table_add(&t, "%s", val(e, "value"));
		table_add(&t, "%s%s%s%s%s%s", actor ? actor : "",
		    actor && reason ? ": " : "", reason ? reason : "",
		    until ? " (until " : "", until ? until : "", until ? ")" : "");
	}
	table_print(&t);
}

/*
 * The lines of a reload's "errors" or "warnings" to stderr, compiler
 * style (file:line: message, for editors), cleaned like the rest: they
 * quote the config.
 */
static void
print_lines(json_t *arr, const char *prefix)
{
	json_t *e;
	size_t i;
	char *s;

	json_array_foreach(arr, i, e) {
		if (!json_is_string(e) ||
		    (s = strdup(json_string_value(e))) == NULL)
			continue;
		sanitize(s);
		fprintf(stderr, "%s%s\n", prefix, s);
		free(s);
	}
}

/* To stderr, cleaned like the rest: the message may quote the config. */
void
show_error(json_t *r)
{
	json_t *err = json_object_get(r, "error");
	char *s;

	fflush(stdout);
	if ((s = strdup(json_is_string(err) ? json_string_value(err) :
	    "hazmond refused the command without saying why")) == NULL)
		die(ES_REFUSED, "out of memory");
	sanitize(s);
	fprintf(stderr, "hazmonctl: %s\n", s);
	free(s);
	/* A failed reload */
	print_lines(json_object_get(r, "errors"), "");
	print_lines(json_object_get(r, "warnings"), "warning: ");
}

static const char *
req_sensor(json_t *req)
{
	return json_string_value(json_object_get(req, "sensor"));
}

void
show_ack(json_t *r, json_t *req)
{
	json_int_t n = json_integer_value(json_object_get(r, "acknowledged"));
	json_t *level = json_object_get(req, "level");

	if (quiet)
		return;
	if (level != NULL && n == 1)
		say("%s: level %s acknowledged", req_sensor(req),
		    json_string_value(level));
	else
		say("%s: %" JSON_INTEGER_FORMAT " alarm level%s acknowledged",
		    req_sensor(req), n, n == 1 ? "" : "s");
}

void
show_shelve(json_t *r, json_t *req)
{
	if (!quiet)
		say("%s: shelved until %s", req_sensor(req), val(r, "until"));
}

void
show_unshelve(json_t *r, json_t *req)
{
	(void)r;
	if (!quiet)
		say("%s: unshelved", req_sensor(req));
}

void
show_oos(json_t *r, json_t *req)
{
	(void)r;
	if (!quiet)
		say("%s: %s", req_sensor(req),
		    json_is_true(json_object_get(req, "on")) ? "out of service" :
		    "back in service");
}

void
show_rebirth(json_t *r, json_t *req)
{
	(void)r;
	(void)req;
	if (!quiet)
		puts("status and every sensor state published again");
}

void
show_replay(json_t *r, json_t *req)
{
	(void)req;
	if (!quiet)
		say("%s: seq %lld to %lld will be sent again (replayed)",
		    json_string_value(json_object_get(r, "destination")),
		    (long long)json_integer_value(json_object_get(r, "from")),
		    (long long)json_integer_value(json_object_get(r, "to")));
}

void
show_reload(json_t *r, json_t *req)
{
	json_t *add = json_object_get(r, "added");
	json_t *rm = json_object_get(r, "removed");
	json_t *chg = json_object_get(r, "changed");
	json_t *bus = json_object_get(r, "buses_restarted"), *b;
	char *line, *more;
	size_t i;

	(void)req;
	/* Warnings even with -q: they are not a confirmation. */
	print_lines(json_object_get(r, "warnings"), "warning: ");
	if (quiet)
		return;
	if (json_array_size(add) + json_array_size(rm) + json_array_size(chg) +
	    json_array_size(bus) == 0) {
		puts("configuration reloaded: no changes");
		return;
	}
	if (asprintf(&line, "configuration reloaded: %zu added, %zu removed, "
	    "%zu changed", json_array_size(add), json_array_size(rm),
	    json_array_size(chg)) == -1)
		die(ES_REFUSED, "out of memory");
	json_array_foreach(bus, i, b) {
		if (asprintf(&more, "%s%s%s", line, i ? ", " :
		    "; buses restarted: ", json_is_string(b) ?
		    json_string_value(b) : "?") == -1)
			die(ES_REFUSED, "out of memory");
		free(line);
		line = more;
	}
	say("%s", line);
	free(line);
}


/* ---- watch: the stream as a person reads it */

/* An ISO UTC time of hazmond's as local "YYYY-MM-DD HH:MM:SS"; now if none. */
static const char *
local_time(json_t *o, const char *key, char *buf, size_t len)
{
	const char *iso = json_string_value(json_object_get(o, key));
	struct tm tm = { 0 };
	time_t t;

	if (iso == NULL || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		t = time(NULL);
	else {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		t = timegm(&tm);
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	return buf;
}

/* What a person sees of a state line; a change of value alone is none. */
static char *
state_summary(json_t *s)
{
	const char *fault = json_string_value(json_object_get(s, "fault"));
	const char *alarm = json_string_value(json_object_get(s, "alarm"));
	const char *until = json_string_value(json_object_get(s, "shelved_until"));
	json_int_t unack = json_integer_value(json_object_get(s, "unacknowledged"));
	char *text;

	if (asprintf(&text, "%s%s%s%s%s%s%s%s%s%s%s", val(s, "quality"),
	    fault ? " (" : "", fault ? fault : "", fault ? ")" : "",
	    alarm ? ", alarm " : "", alarm ? alarm : "", alarm ? " " : "",
	    alarm ? val(s, "alarm_state") : "",
	    unack > 1 ? ", unacknowledged levels: " : "",
	    unack > 1 ? val(s, "unacknowledged") : "",
	    json_is_true(json_object_get(s, "out_of_service")) ?
	    ", out of service" : "") < 0)
		die(ES_REFUSED, "out of memory");
	if (until) {
		char *t;

		if (asprintf(&t, "%s, shelved until %s", text, until) < 0)
			die(ES_REFUSED, "out of memory");
		free(text);
		text = t;
	}
	return text;
}

static void
watch_event(json_t *e)
{
	const char *actor = json_string_value(json_object_get(e, "actor"));
	const char *reason = json_string_value(json_object_get(e, "reason"));
	const char *level = json_string_value(json_object_get(e, "level"));
	char when[32];

	say("%s  %s  %s%s%s %s  value %s %s  seq %s%s%s%s%s",
	    local_time(e, "ts", when, sizeof(when)), val(e, "sensor"),
	    val(e, "kind"), level ? " " : "", level ? level : "", val(e, "event"),
	    val(e, "value"), val(e, "unit"), val(e, "seq"),
	    actor ? "  by " : "", actor ? actor : "",
	    reason ? ": " : "", reason ? reason : "");
}

/*
 * One line of the stream.  States are printed when what they show
 * changes; the first snapshot only as a summary at "synced", later ones
 * (a reload) by what changed, and the sensors it no longer has.
 */
void
show_watch(json_t *o)
{
	static json_t *seen, *snap;	/* sensor -> summary: shown; this snapshot */
	static int synced;
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *id, *key, *old;
	unsigned n = 0, bad = 0;
	char when[32], *sum;
	json_t *v;
	void *tmp;

	if (seen == NULL && (seen = json_object()) == NULL)
		die(ES_REFUSED, "out of memory");
	if (type == NULL || strcmp(type, "tick") == 0)
		return;
	if (strcmp(type, "event") == 0 && json_is_object(json_object_get(o,
	    "event"))) {
		watch_event(json_object_get(o, "event"));
		return;
	}
	if (strcmp(type, "snapshot") == 0) {
		json_decref(snap);
		snap = json_object();
		return;
	}
	if (strcmp(type, "state") == 0 &&
	    (id = json_string_value(json_object_get(o, "sensor"))) != NULL) {
		sum = state_summary(o);
		if (snap)
			json_object_set_new(snap, id, json_true());
		old = json_string_value(json_object_get(seen, id));
		if (synced && (old == NULL || strcmp(old, sum) != 0))
			say("%s  %s  %s%s", local_time(o, "ts", when, sizeof(when)),
			    id, old ? "" : "new: ", sum);
		json_object_set_new(seen, id, json_string(sum));
		free(sum);
		return;
	}
	if (strcmp(type, "synced") != 0)
		return;		/* a line of a later hazmond */
	json_object_foreach_safe(seen, tmp, key, v) {
		if (snap && json_object_get(snap, key) == NULL) {
			if (synced)
				say("%s  %s  removed from the configuration",
				    local_time(NULL, NULL, when, sizeof(when)), key);
			json_object_del(seen, key);
			continue;
		}
		n++;
		bad += strncmp(json_string_value(v), "ok", 2) != 0 ||
		    strstr(json_string_value(v), ", ") != NULL;
	}
	if (!synced)
		say("%s  watching %u sensors, %u not ok or in alarm:",
		    local_time(NULL, NULL, when, sizeof(when)), n, bad);
	json_object_foreach(seen, key, v)
		if (!synced && (strncmp(json_string_value(v), "ok", 2) != 0 ||
		    strstr(json_string_value(v), ", ") != NULL))
			say("  %s  %s", key, json_string_value(v));
	json_decref(snap);
	snap = NULL;
	synced = 1;
	fflush(stdout);
}
