/*
 * notify.c - the service manager's notification protocol, by hand.
 *
 * systemd passes $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace) and, with WatchdogSec=, $WATCHDOG_USEC and $WATCHDOG_PID;
 * the daemon sends "KEY=value" lines as one datagram (sd_notify(3)).  That
 * is all hazmond needs of libsystemd, and linking it brought seven shared
 * libraries (libsystemd, libgcrypt, libgpg-error, liblzma, libzstd, liblz4,
 * libcap) into every process: about a megabyte of resident memory for a
 * sendto().  Both functions do nothing, successfully, outside systemd.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base.h"

/*
 * Sends the printf-formatted lines to $NOTIFY_SOCKET, without blocking.
 * Returns 1 when sent, 0 when there is no socket to send to, -errno on
 * failure (-EAGAIN when the manager's queue is full).
 */
int
notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[512];
	size_t n;
	socklen_t len;
	va_list ap;
	int fd, r, rc = 1;

	if (path == NULL || path[0] == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract: no NUL at the end either */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '/'));
	va_start(ap, fmt);
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(msg))
		return -EMSGSIZE;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	/*
	 * Never wait: the watchdog ping is sent from the core thread, and a
	 * service manager that has stopped reading (its queue is full) must
	 * not stall evaluation.  A ping lost to EAGAIN is sent again at the
	 * next tick; a manager that stays stuck kills us, as it should.
	 */
	if (sendto(fd, msg, (size_t)r, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sa, len) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * The watchdog period the service manager asks for, in *usec: returns 1,
 * or 0 when there is none (no $WATCHDOG_USEC, a bad one, or one meant for
 * another process by $WATCHDOG_PID).
 */
int
notify_watchdog_usec(uint64_t *usec)
{
	const char *s = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return 0;
	if (p != NULL) {
		unsigned long long pid = strtoull(p, &end, 10);

		if (*p < '0' || *p > '9' || *end != '\0' ||
		    pid != (unsigned long long)getpid())
			return 0;
	}
	*usec = v;
	return 1;
}
