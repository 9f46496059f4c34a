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

#include "core.h"

/*
 * What one client may cost the core thread (docs/control.md, "Limits"):
 * one request per loop turn, all clients together about CTL_TURN_MS per
 * turn; no new request while CTL_OUT_HIGH bytes of answers wait for it to
 * read them; a request complete within CTL_REQUEST_MS of its first byte;
 * answers read with some progress every CTL_DRAIN_MS.  Whoever breaks a
 * rule is closed and logged with its uid and pid.
 */
#define CTL_LINE_MAX	65536		/* one request */
#define CTL_IDLE_MS	60000
#define CTL_REQUEST_MS	5000
#define CTL_DRAIN_MS	10000
#define CTL_OUT_HIGH	(256 * 1024)
#define CTL_TURN_MS	5
#define CTL_ACCEPTS	CTL_CLIENTS	/* per turn */

struct client {
	int fd;
	char actor[64];			/* the peer's user name */
	char who[96];			/* "uid U pid P (name)", for the log */
	char *in;			/* CTL_LINE_MAX + 1 */
	size_t n_in;
	char *out;			/* responses not yet written */
	size_t n_out, off_out, cap_out;
	int closing;			/* close once out is written */
	int eof;			/* the client sent all it will send */
	int waiting;			/* for a deferred answer (ctl_answer) */
	uint64_t serial;		/* tells this client from a later one */
	int64_t last;			/* monotonic ms of the last activity */
	int64_t partial_since;		/* first byte of an incomplete request; 0 none */
	int64_t out_since;		/* last write progress while out was not empty */
};

struct hz_ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler fn;
	void *arg;
	uint64_t serial;
	unsigned next;			/* who is served first next turn */
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
	if (c->n_out == 0)
		c->out_since = now_mono_ms();
	if (c->off_out > 0) {		/* a client that reads as we write */
		memmove(c->out, c->out + c->off_out, c->n_out - c->off_out);
		c->n_out -= c->off_out;
		c->off_out = 0;
	}
	c->out = xgrow(c->out, &c->cap_out, c->n_out + n, 1);
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
		snprintf(c->who, sizeof(c->who), "of unknown uid and pid");
		return;
	}
	if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &p) == 0 && p)
		snprintf(c->actor, sizeof(c->actor), "%s", p->pw_name);
	else
		snprintf(c->actor, sizeof(c->actor), "uid %u", (unsigned)cr.uid);
	snprintf(c->who, sizeof(c->who), "uid %u pid %d (%s)", (unsigned)cr.uid,
	    (int)cr.pid, c->actor);
}

/* Closes a client that broke a limit, saying who it was. */
static void
evict(struct client *c, const char *why)
{
	log_warnx("control client %s: %s; connection closed", c->who, why);
	drop(c);
}

/*
 * With every slot taken, the client that has been quiet longest makes
 * room (one that waits for a reload is left alone), so an operator always
 * gets in: a crowd of silent connections cannot lock hazmonctl out.
 */
static struct client *
free_slot(struct hz_ctl *x)
{
	struct client *c = NULL;

	for (unsigned i = 0; i < CTL_CLIENTS; i++) {
		struct client *o = &x->cl[i];

		if (o->fd < 0)
			return o;
		if (!o->waiting && (c == NULL || o->last < c->last))
			c = o;
	}
	if (c != NULL)
		evict(c, "quiet longest while all 16 connections were taken; "
		    "making room for a new one");
	return c;
}

static void
accept_clients(struct hz_ctl *x, int64_t now)
{
	static const char busy[] = "{\"ok\":false,\"code\":\"internal\","
	    "\"error\":\"too many control connections\"}\n";
	int fd;

	for (unsigned k = 0; k < CTL_ACCEPTS && (fd = accept4(x->fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0; k++) {
		struct client *c = free_slot(x);

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

/* Whether the client has a request that could be answered now. */
static int
has_request(const struct client *c)
{
	return !c->closing && !c->waiting && c->n_out - c->off_out < CTL_OUT_HIGH &&
	    memchr(c->in, '\n', c->n_in) != NULL;
}

/* Answers the first whole line in the input buffer, if any. */
static void
serve_line(struct hz_ctl *x, struct client *c, int64_t now)
{
	struct ctl_ticket t = { (unsigned)(c - x->cl), c->serial };
	char *nl, *resp;
	size_t used;

	if (has_request(c)) {
		nl = memchr(c->in, '\n', c->n_in);
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
		c->partial_since = c->n_in ? now : 0;
	}
	if (!c->closing && !c->waiting && c->n_in >= CTL_LINE_MAX &&
	    memchr(c->in, '\n', c->n_in) == NULL) {
		static const char big[] = "{\"ok\":false,\"code\":\"bad_request\","
		    "\"error\":\"request longer than 65536 bytes\"}\n";

		queue_out(c, big, sizeof(big) - 1);
		c->closing = 1;
	}
	if (c->eof && !c->waiting && !has_request(c) &&
	    c->n_out - c->off_out < CTL_OUT_HIGH)
		c->closing = 1;		/* all it asked is answered */
}

static void
client_io(struct client *c, short revents, int64_t now)
{
	ssize_t n;

	if ((revents & POLLOUT) && c->n_out) {
		n = write(c->fd, c->out + c->off_out, c->n_out - c->off_out);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			drop(c);
			return;
		}
		if (n > 0) {
			c->off_out += (size_t)n;
			c->last = c->out_since = now;
		}
		if (c->off_out == c->n_out)
			c->off_out = c->n_out = 0;
		if (c->closing && c->n_out == 0) {
			drop(c);
			return;
		}
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->closing && !c->eof &&
	    c->n_in < CTL_LINE_MAX && c->n_out - c->off_out < CTL_OUT_HIGH) {
		n = read(c->fd, c->in + c->n_in, CTL_LINE_MAX - c->n_in);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			drop(c);	/* the client went away; nothing to finish */
			return;
		}
		if (n == 0)
			c->eof = 1;	/* answer what came, then close */
		if (n > 0) {
			if (c->n_in == 0)
				c->partial_since = now;
			c->n_in += (size_t)n;
			c->last = now;
		}
	}
	/*
	 * Gone both ways while it waits for a reload or while we do not read
	 * it: no answer can reach it, and poll() would report the hang-up at
	 * every turn.
	 */
	if ((revents & (POLLHUP | POLLERR)) && (c->waiting ||
	    c->n_out - c->off_out >= CTL_OUT_HIGH))
		drop(c);
}

/* The deadlines of docs/control.md; 1 if the client was closed. */
static int
overdue(struct client *c, int64_t now)
{
	if (c->n_out && now - c->out_since > CTL_DRAIN_MS) {
		evict(c, "does not read its answers");
		return 1;
	}
	if (c->partial_since && !c->waiting && !c->closing &&
	    memchr(c->in, '\n', c->n_in) == NULL &&
	    now - c->partial_since > CTL_REQUEST_MS) {
		evict(c, "request not complete within 5 s of its first byte");
		return 1;
	}
	if (!c->waiting && c->n_out == 0 && now - c->last > CTL_IDLE_MS) {
		drop(c);	/* idle: an ordinary end, not worth a warning */
		return 1;
	}
	return 0;
}

/*
 * The descriptors to poll: the listening socket, then each client, for
 * reading while its answers are read (a client that does not read them
 * gets no more) and for writing while some wait.  A client with a whole
 * request still buffered is polled for writing too: its socket is
 * writable at once, so the loop comes back for it without sleeping.
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
		short ev = 0;

		if (c->fd >= 0) {
			if (c->n_out || has_request(c))
				ev |= POLLOUT;
			if (!c->closing && !c->waiting && !c->eof &&
			    c->n_in < CTL_LINE_MAX &&
			    c->n_out - c->off_out < CTL_OUT_HIGH)
				ev |= POLLIN;
		}
		pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
	}
	return n;
}

void
ctl_io(struct hz_ctl *x, const struct pollfd *pfd, unsigned n, int64_t now)
{
	int64_t end = now + CTL_TURN_MS;
	unsigned first;

	if (x == NULL || n == 0)
		return;
	for (unsigned i = 0; i + 1 < n && i < CTL_CLIENTS; i++) {
		struct client *c = &x->cl[i];

		if (c->fd >= 0 && pfd[i + 1].fd == c->fd && pfd[i + 1].revents)
			client_io(c, pfd[i + 1].revents, now);
	}
	/*
	 * One request per client, in turns that start with another client
	 * each time, until the turn's time is used up: the rest wait for the
	 * next turn, after the alarms.
	 */
	first = x->next;
	x->next = (x->next + 1) % CTL_CLIENTS;
	for (unsigned k = 0; k < CTL_CLIENTS; k++) {
		struct client *c = &x->cl[(first + k) % CTL_CLIENTS];

		if (c->fd < 0 || overdue(c, now))
			continue;
		if (has_request(c) && now_mono_ms() >= end)
			continue;	/* next turn */
		serve_line(x, c, now);
		if (c->closing && c->n_out == 0)
			drop(c);
	}
	if (pfd[0].revents & POLLIN)
		accept_clients(x, now);
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
	/* What it sent meanwhile is served from the next turn on. */
}
