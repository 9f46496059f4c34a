/*
 * log.c - logging to stderr; under systemd, journald reads the <N> prefix
 * as the syslog priority, so no extra library or socket is needed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hazmond.h"

static const char *log_prog = "hazmond";
static int log_max = HZ_LOG_INFO;
static int log_journal;		/* stderr is connected to the journal */

void
log_init(const char *progname, int level)
{
	log_prog = progname;
	log_max = level;
	/* systemd sets JOURNAL_STREAM when stderr goes to the journal. */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(int level)
{
	log_max = level;
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

void
log_vmsg(int prio, const char *fmt, va_list ap)
{
	static const char *names[] = { "emerg", "alert", "crit", "error",
	    "warning", "notice", "info", "debug" };
	char buf[2048];
	int n;

	if (prio > log_max)
		return;
	if (log_journal)
		n = snprintf(buf, sizeof(buf), "<%d>", prio);
	else
		n = snprintf(buf, sizeof(buf), "%s: %s: ", log_prog,
		    names[prio & 7]);
	if (n < 0)
		return;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	n = (int)strlen(buf);
	buf[n++] = '\n';
	/* One write per line keeps lines from different threads whole. */
	(void)!write(STDERR_FILENO, buf, (size_t)n);
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, fmt, ap);
	va_end(ap);
}

static void
log_verrno(int prio, int err, const char *fmt, va_list ap)
{
	char msg[1536];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_msg(prio, "%s: %s", msg, strerror(err));
}

void
log_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verrno(HZ_LOG_WARNING, err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(HZ_LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(HZ_LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(HZ_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verrno(HZ_LOG_ERR, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(HZ_LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
