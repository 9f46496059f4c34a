/*
 * control.c - the hazmonctl socket: a UNIX stream socket speaking one JSON
 * object per line each way (docs/control.md).
 *
 * Runs on the core thread, from its poll() loop: every socket is
 * non-blocking, a slow or silent client costs a buffer and nothing else,
 * and the daemon never waits for one.  Who is asking comes from
 * SO_PEERCRED, never from the request.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hazmond.h"

#define CTL_CLIENTS	16
#define CTL_LINE_MAX	65536		/* one request */
#define CTL_IDLE_MS	60000

struct client {
	int fd;
	char actor[64];			/* the peer's user name */
	char *in;			/* CTL_LINE_MAX + 1 */
	size_t n_in;
	char *out;			/* responses not yet written */
	size_t n_out, off_out, cap_out;
	int closing;			/* close once out is written */
	int waiting;			/* for a deferred answer (ctl_answer) */
	uint64_t serial;		/* tells this client from a later one */
	int64_t last;			/* monotonic ms of the last activity */
};

struct hz_ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler fn;
	void *arg;
	uint64_t serial;
	struct client cl[CTL_CLIENTS];
};

/*
 * A socket file left by a crashed hazmond is removed; one that somebody
 * answers on belongs to a running hazmond and is left alone.
 */
static int
stale_socket(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0) {
		errno = EADDRINUSE;
		return -1;
	}
	return unlink(sun->sun_path);
}

struct hz_ctl *
ctl_open(const char *path, const char *group, ctl_handler fn, void *arg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct hz_ctl *x;
	struct group *gr;
	mode_t old;

	if (path == NULL || path[0] == '\0')
		return NULL;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	x = xcalloc(1, sizeof(*x));
	snprintf(x->path, sizeof(x->path), "%s", path);
	x->fn = fn;
	x->arg = arg;
	for (unsigned i = 0; i < CTL_CLIENTS; i++)
		x->cl[i].fd = -1;
	if (stale_socket(&sun) != 0) {
		log_msg(HZ_LOG_ERR, "control socket %s: %s; hazmonctl will not work "
		    "(alarms are monitored and published as usual)", path,
		    errno == EADDRINUSE ? "another hazmond answers there" :
		    strerror(errno));
		free(x);
		return NULL;
	}
	x->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	old = umask(0117);		/* born 0660: never briefly open to all */
	if (x->fd < 0 || bind(x->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(x->fd, CTL_CLIENTS) != 0) {
		umask(old);
		log_msg(HZ_LOG_ERR, "control socket %s: %s; hazmonctl will not work "
		    "(alarms are monitored and published as usual)", path,
		    strerror(errno));
		if (x->fd >= 0)
			close(x->fd);
		free(x);
		return NULL;
	}
	umask(old);
	if (group && ((gr = getgrnam(group)) == NULL ||
	    chown(path, (uid_t)-1, gr->gr_gid) != 0))
		log_msg(HZ_LOG_ERR, "control socket %s: cannot give it to group %s: %s",
		    path, group, gr ? strerror(errno) : "no such group");
	if (chmod(path, 0660) != 0)
		log_warn("control socket %s: chmod", path);
	log_info("control socket %s ready", path);
	return x;
}

static void
drop(struct client *c)
{
	close(c->fd);
	free(c->in);
	free(c->out);
	*c = (struct client){ .fd = -1 };
}

void
ctl_close(struct hz_ctl *x)
{
	if (x == NULL)
		return;
	for (unsigned i = 0; i < CTL_CLIENTS; i++)
		if (x->cl[i].fd >= 0)
			drop(&x->cl[i]);
	close(x->fd);
	unlink(x->path);
	free(x);
}

static void
queue_out(struct client *c, const char *s, size_t n)
{
	if (c->n_out + n > c->cap_out) {
		while (c->n_out + n > c->cap_out)
			c->cap_out = c->cap_out ? 2 * c->cap_out : 4096;
		if ((c->out = realloc(c->out, c->cap_out)) == NULL)
			fatal("realloc");
	}
	memcpy(c->out + c->n_out, s, n);
	c->n_out += n;
}

static void
peer_actor(struct client *c)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd pw, *p = NULL;
	char buf[1024];

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
		snprintf(c->actor, sizeof(c->actor), "unknown");
		return;
	}
	if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &p) == 0 && p)
		snprintf(c->actor, sizeof(c->actor), "%s", p->pw_name);
	else
		snprintf(c->actor, sizeof(c->actor), "uid %u", (unsigned)cr.uid);
}

static void
accept_clients(struct hz_ctl *x, int64_t now)
{
	static const char busy[] = "{\"ok\":false,\"code\":\"internal\","
	    "\"error\":\"too many control connections\"}\n";
	int fd;

	while ((fd = accept4(x->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct client *c = NULL;

		for (unsigned i = 0; i < CTL_CLIENTS && c == NULL; i++)
			if (x->cl[i].fd < 0)
				c = &x->cl[i];
		if (c == NULL) {
			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			continue;
		}
		*c = (struct client){ .fd = fd, .last = now,
		    .in = malloc(CTL_LINE_MAX + 1), .serial = ++x->serial };
		if (c->in == NULL)
			fatal("malloc");
		peer_actor(c);
	}
}

/* Answers every whole line in the input buffer. */
static void
serve_lines(struct hz_ctl *x, struct client *c)
{
	char *nl, *resp;
	size_t used;

	while (!c->closing && !c->waiting &&
	    (nl = memchr(c->in, '\n', c->n_in)) != NULL) {
		struct ctl_ticket t = { (unsigned)(c - x->cl), c->serial };

		*nl = '\0';
		/* A request that is not a JSON object ends the conversation. */
		resp = x->fn(x->arg, c->in, c->actor, &c->closing, &t);
		if (resp == NULL)
			c->waiting = 1;		/* answered by ctl_answer */
		else {
			queue_out(c, resp, strlen(resp));
			queue_out(c, "\n", 1);
			free(resp);
		}
		used = (size_t)(nl + 1 - c->in);
		memmove(c->in, nl + 1, c->n_in - used);
		c->n_in -= used;
	}
	if (!c->closing && !c->waiting && c->n_in >= CTL_LINE_MAX) {
		static const char big[] = "{\"ok\":false,\"code\":\"bad_request\","
		    "\"error\":\"request longer than 65536 bytes\"}\n";

		queue_out(c, big, sizeof(big) - 1);
		c->closing = 1;
	}
}

static void
client_io(struct hz_ctl *x, struct client *c, short revents, int64_t now)
{
	ssize_t n;

	if (revents & POLLOUT) {
		n = write(c->fd, c->out + c->off_out, c->n_out - c->off_out);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			drop(c);
			return;
		}
		if (n > 0) {
			c->off_out += (size_t)n;
			c->last = now;
		}
		if (c->off_out == c->n_out)
			c->off_out = c->n_out = 0;
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->closing &&
	    c->n_in < CTL_LINE_MAX) {
		n = read(c->fd, c->in + c->n_in, CTL_LINE_MAX - c->n_in);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			drop(c);	/* the client went away; nothing to finish */
			return;
		}
		if (n > 0) {
			c->n_in += (size_t)n;
			c->last = now;
			serve_lines(x, c);
		}
	}
	if (c->closing && c->n_out == 0)
		drop(c);
}

/*
 * The descriptors to poll: the listening socket, then each client, for
 * reading while it has nothing waiting to be written (a client that does
 * not read its answers gets no more) and for writing while it has.
 */
unsigned
ctl_pollfds(struct hz_ctl *x, struct pollfd *pfd, unsigned max)
{
	unsigned n = 0;

	if (x == NULL || max == 0)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = x->fd, .events = POLLIN };
	for (unsigned i = 0; i < CTL_CLIENTS && n < max; i++) {
		struct client *c = &x->cl[i];

		pfd[n++] = (struct pollfd){ .fd = c->fd, .events = c->n_out ?
		    POLLOUT : c->closing || c->waiting ? 0 : POLLIN };
	}
	return n;
}

void
ctl_io(struct hz_ctl *x, const struct pollfd *pfd, unsigned n, int64_t now)
{
	if (x == NULL || n == 0)
		return;
	if (pfd[0].revents & POLLIN)
		accept_clients(x, now);
	for (unsigned i = 0; i + 1 < n && i < CTL_CLIENTS; i++) {
		struct client *c = &x->cl[i];

		if (c->fd < 0 || pfd[i + 1].fd != c->fd)
			continue;	/* a new client: polled next time */
		if (pfd[i + 1].revents)
			client_io(x, c, pfd[i + 1].revents, now);
		if (c->fd >= 0 && !c->waiting && now - c->last > CTL_IDLE_MS)
			drop(c);
	}
}

/* A deferred answer; dropped when the client has gone in the meantime. */
void
ctl_answer(struct hz_ctl *x, const struct ctl_ticket *t, const char *resp)
{
	struct client *c;

	if (x == NULL || t->slot >= CTL_CLIENTS)
		return;
	c = &x->cl[t->slot];
	if (c->fd < 0 || c->serial != t->serial || !c->waiting)
		return;
	queue_out(c, resp, strlen(resp));
	queue_out(c, "\n", 1);
	c->waiting = 0;
	c->last = now_mono_ms();
	serve_lines(x, c);		/* what it sent meanwhile */
}
