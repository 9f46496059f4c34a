/*
 * control.c - the hazmonctl sockets: UNIX stream sockets speaking one JSON
 * object per line each way (docs/control.md).  The main one serves every
 * command; the read-only one (daemon.control_read_socket) only those that
 * change nothing, which ctlcmd.c tells apart.  A client that asked to
 * watch gets a stream of lines from then on (ctl_watch_line).
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
#include "ctlcmd.h"

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
#define CTL_ACCEPTS	CTL_CLIENTS	/* per turn and listener */
/*
 * A watch stream: at most CTL_WATCH_MAX bytes wait for its reader, and a
 * snapshot is built only while less than CTL_SNAP_LOW wait, so 10,000
 * sensors never sit in memory at once.  Ticks every CTL_TICK_MS.  Live
 * state lines stop at half of CTL_WATCH_MAX (ctl_watch_state), so that a
 * burst leaves the room to its events.
 */
#define CTL_WATCH_MAX	(1024 * 1024)
#define CTL_SNAP_LOW	(64 * 1024)
#define CTL_TICK_MS	5000

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
	int read_only;			/* came on the read-only socket */
	int warned;			/* a refusal there was logged */
	int watch;			/* a watch stream: input is discarded */
	int snapping;			/* its snapshot is under way */
	unsigned snap_next;		/* the next sensor of the snapshot */
	int snap_begun;			/* its "snapshot" line went out */
	int resnap;			/* states were left out: snapshot again */
	uint64_t serial;		/* tells this client from a later one */
	int64_t last;			/* monotonic ms of the last activity */
	int64_t partial_since;		/* first byte of an incomplete request; 0 none */
	int64_t out_since;		/* last write progress while out was not empty */
};

struct listener {
	int fd;				/* -1: none */
	int read_only;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct hz_ctl {
	struct listener ls[2];		/* the main socket, the read-only one */
	ctl_handler fn;
	ctl_snapshot snap;
	void *arg;
	uint64_t serial;
	unsigned next;			/* who is served first next turn */
	int64_t tick_at;		/* monotonic ms of the next watch tick */
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

/* Returns 0, or -1 with the listener closed (logged). */
static int
listen_on(struct listener *l, const struct ctl_socket *cs)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *what = cs->read_only ? "read-only control socket" :
	    "control socket";
	mode_t old, mode = cs->read_only && cs->group == NULL ? 0666 : 0660;
	struct group *gr;

	l->fd = -1;
	l->read_only = cs->read_only;
	if (cs->path == NULL || cs->path[0] == '\0')
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", cs->path);
	snprintf(l->path, sizeof(l->path), "%s", cs->path);
	if (stale_socket(&sun) != 0) {
		log_msg(HZ_LOG_ERR, "%s %s: %s; hazmonctl will not work there "
		    "(alarms are monitored and published as usual)", what,
		    cs->path, errno == EADDRINUSE ? "another hazmond answers there" :
		    strerror(errno));
		return -1;
	}
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	old = umask(0117);		/* born 0660: never briefly open to all */
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(l->fd, CTL_CLIENTS) != 0) {
		umask(old);
		log_msg(HZ_LOG_ERR, "%s %s: %s; hazmonctl will not work there "
		    "(alarms are monitored and published as usual)", what,
		    cs->path, strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		return -1;
	}
	umask(old);
	if (cs->group && ((gr = getgrnam(cs->group)) == NULL ||
	    chown(cs->path, (uid_t)-1, gr->gr_gid) != 0))
		log_msg(HZ_LOG_ERR, "%s %s: cannot give it to group %s: %s", what,
		    cs->path, cs->group, gr ? strerror(errno) : "no such group");
	if (chmod(cs->path, mode) != 0)
		log_warn("%s %s: chmod", what, cs->path);
	log_info("%s %s ready", what, cs->path);
	return 0;
}

/* socks[0] is the main socket, socks[1] (n 2) the read-only one. */
struct hz_ctl *
ctl_open(const struct ctl_socket *socks, unsigned n, ctl_handler fn,
    ctl_snapshot snap, void *arg)
{
	struct hz_ctl *x = xcalloc(1, sizeof(*x));
	int up = 0;

	x->fn = fn;
	x->snap = snap;
	x->arg = arg;
	for (unsigned i = 0; i < CTL_CLIENTS; i++)
		x->cl[i].fd = -1;
	for (unsigned i = 0; i < 2; i++)
		up += i < n && listen_on(&x->ls[i], &socks[i]) == 0;
	if (!up) {
		free(x);
		return NULL;
	}
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
	for (unsigned i = 0; i < 2; i++)
		if (x->ls[i].fd >= 0) {
			close(x->ls[i].fd);
			unlink(x->ls[i].path);
		}
	free(x);
}


/* What waits for the client to read it. */
static size_t
pending(const struct client *c)
{
	return c->n_out - c->off_out;
}

/*
 * What was written is moved out of the way only once it is half the
 * buffer (or the buffer would grow): a watch stream read as it is
 * written must not cost a move of its whole backlog per line.
 */
static void
queue_out(struct client *c, const char *s, size_t n)
{
	if (c->n_out == 0)
		c->out_since = now_mono_ms();
	if (c->off_out > 0 && (c->off_out >= c->n_out / 2 ||
	    c->n_out + n > c->cap_out)) {
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
 * What waits goes to the socket now, as far as it takes it: a burst of
 * events in one turn (a bus of 10,000 sensors lost at once) would
 * otherwise fill a stream that its reader empties as fast as it can.
 * Also the write of a writable socket.  Returns -1 when the client is
 * gone.
 */
static int
write_some(struct client *c, int64_t now)
{
	ssize_t n = write(c->fd, c->out + c->off_out, pending(c));

	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		drop(c);
		return -1;
	}
	if (n > 0) {
		c->off_out += (size_t)n;
		c->last = c->out_since = now;
	}
	if (c->off_out == c->n_out)
		c->off_out = c->n_out = 0;
	return 0;
}

/* One line of a watch stream; 0, or -1 when it cost the client its place. */
static int
watch_out(struct client *c, const char *line, size_t len)
{
	if (pending(c) + len + 1 > CTL_WATCH_MAX &&
	    write_some(c, now_mono_ms()) != 0)
		return -1;
	if (pending(c) + len + 1 > CTL_WATCH_MAX) {
		evict(c, "does not keep up with its watch stream (1 MiB waits "
		    "for it)");
		return -1;
	}
	queue_out(c, line, len);
	queue_out(c, "\n", 1);
	return 0;
}

/*
 * With every slot taken, the client that has been quiet longest makes
 * room (one that waits for a reload is left alone), so an operator always
 * gets in: a crowd of silent connections cannot lock hazmonctl out.  A
 * client of the read-only socket makes room only among its own kind,
 * other watch streams last: a crowd there cannot push operators out.
 */
static struct client *
free_slot(struct hz_ctl *x, int read_only)
{
	struct client *c = NULL;

	for (unsigned i = 0; i < CTL_CLIENTS; i++) {
		struct client *o = &x->cl[i];

		if (o->fd < 0)
			return o;
		if (o->waiting || (read_only && !o->read_only))
			continue;
		if (c == NULL || (read_only && c->watch && !o->watch) ||
		    ((!read_only || c->watch == o->watch) && o->last < c->last))
			c = o;
	}
	if (c != NULL)
		evict(c, read_only ? "quiet longest of the read-only socket's "
		    "connections while all 16 were taken; making room for a new "
		    "one" : "quiet longest while all 16 connections were taken; "
		    "making room for a new one");
	return c;
}

static void
accept_clients(struct hz_ctl *x, const struct listener *l, int64_t now)
{
	static const char busy[] = "{\"ok\":false,\"code\":\"internal\","
	    "\"error\":\"too many control connections\"}\n";
	int fd;

	for (unsigned k = 0; k < CTL_ACCEPTS && (fd = accept4(l->fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0; k++) {
		struct client *c = free_slot(x, l->read_only);

		if (c == NULL) {
			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			continue;
		}
		*c = (struct client){ .fd = fd, .last = now,
		    .in = malloc(CTL_LINE_MAX + 1), .serial = ++x->serial,
		    .read_only = l->read_only };
		if (c->in == NULL)
			fatal("malloc");
		peer_actor(c);
	}
}

/* Whether the client has a request that could be answered now. */
static int
has_request(const struct client *c)
{
	return !c->closing && !c->waiting && !c->watch &&
	    pending(c) < CTL_OUT_HIGH && memchr(c->in, '\n', c->n_in) != NULL;
}

unsigned
ctl_watchers(const struct hz_ctl *x)
{
	unsigned n = 0;

	for (unsigned i = 0; x && i < CTL_CLIENTS; i++)
		n += x->cl[i].fd >= 0 && x->cl[i].watch;
	return n;
}

/* Answers the first whole line in the input buffer, if any. */
static void
serve_line(struct hz_ctl *x, struct client *c, int64_t now)
{
	struct ctl_ticket t = { (unsigned)(c - x->cl), c->serial };
	struct ctl_peer peer = { c->actor, c->who, c->read_only, c->warned,
	    ctl_watchers(x) >= CTL_WATCHERS };
	char *nl, *resp;
	size_t used;
	int then = 0;

	if (has_request(c)) {
		nl = memchr(c->in, '\n', c->n_in);
		*nl = '\0';
		/* A request that is not a JSON object ends the conversation. */
		resp = x->fn(x->arg, c->in, &peer, &then, &t);
		c->closing = (then & CTL_HANGUP) != 0;
		c->warned |= (then & CTL_WARNED) != 0;
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
		if (then & CTL_WATCH) {
			/* From now on the client listens; what it sends is dropped. */
			c->watch = c->snapping = 1;
			c->snap_next = 0;
			c->n_in = 0;
			c->partial_since = 0;
			return;
		}
	}
	if (!c->closing && !c->waiting && c->n_in >= CTL_LINE_MAX &&
	    memchr(c->in, '\n', c->n_in) == NULL) {
		static const char big[] = "{\"ok\":false,\"code\":\"bad_request\","
		    "\"error\":\"request longer than 65536 bytes\"}\n";

		queue_out(c, big, sizeof(big) - 1);
		c->closing = 1;
	}
	if (c->eof && !c->waiting && !has_request(c) && pending(c) < CTL_OUT_HIGH)
		c->closing = 1;		/* all it asked is answered */
}

/*
 * The next lines of a watch snapshot, while little waits for the client
 * and the turn's time lasts; "synced" after the last sensor.
 */
static void
snapshot(struct hz_ctl *x, struct client *c, int64_t end)
{
	static const char start[] = "{\"type\":\"snapshot\"}";
	static const char synced[] = "{\"type\":\"synced\"}";
	char *line;

	if (c->snap_next == 0 && !c->snap_begun) {
		if (watch_out(c, start, sizeof(start) - 1) != 0)
			return;
		c->snap_begun = 1;
	}
	while (c->snapping && pending(c) < CTL_SNAP_LOW && now_mono_ms() < end) {
		if ((line = x->snap(x->arg, c->snap_next)) == NULL) {
			c->snapping = c->snap_begun = 0;
			(void)watch_out(c, synced, sizeof(synced) - 1);
			return;
		}
		c->snap_next++;
		if (watch_out(c, line, strlen(line)) != 0) {
			free(line);
			return;
		}
		free(line);
	}
}

static void
client_io(struct client *c, short revents, int64_t now)
{
	ssize_t n;

	if ((revents & POLLOUT) && c->n_out) {
		if (write_some(c, now) != 0)
			return;
		if (c->closing && c->n_out == 0) {
			drop(c);
			return;
		}
	}
	/* A watch stream's input is read and dropped: it never has to wait. */
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->closing && !c->eof &&
	    (c->watch || (c->n_in < CTL_LINE_MAX && pending(c) < CTL_OUT_HIGH))) {
		n = read(c->fd, c->in + c->n_in, CTL_LINE_MAX - c->n_in);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			drop(c);	/* the client went away; nothing to finish */
			return;
		}
		if (n == 0)
			c->eof = 1;	/* answer what came, then close */
		if (n > 0 && c->watch)
			c->n_in = 0;
		else if (n > 0) {
			if (c->n_in == 0)
				c->partial_since = now;
			c->n_in += (size_t)n;
			c->last = now;
		}
	}
	/*
	 * Gone both ways while it waits for a reload, watches, or while we do
	 * not read it: no answer can reach it, and poll() would report the
	 * hang-up at every turn.
	 */
	if ((revents & (POLLHUP | POLLERR)) && (c->waiting || c->watch ||
	    pending(c) >= CTL_OUT_HIGH))
		drop(c);
}

/* The deadlines of docs/control.md; 1 if the client was closed. */
static int
overdue(struct client *c, int64_t now)
{
	if (c->n_out && now - c->out_since > CTL_DRAIN_MS) {
		evict(c, c->watch ? "does not keep up with its watch stream "
		    "(read nothing for 10 s)" : "does not read its answers");
		return 1;
	}
	if (c->watch)
		return 0;	/* no request to finish, never idle */
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
 * The descriptors to poll: the two listening sockets (-1 when not
 * open), then each client, for reading while its answers are read (a
 * client that does not read them gets no more) and for writing while
 * some wait.  A client with a whole request still buffered, or a
 * snapshot to go on with, is polled for writing too: its socket is
 * writable at once, so the loop comes back for it without sleeping.
 */
unsigned
ctl_pollfds(struct hz_ctl *x, struct pollfd *pfd, unsigned max)
{
	unsigned n = 0;

	if (x == NULL || max < 2)
		return 0;
	for (unsigned i = 0; i < 2; i++)
		pfd[n++] = (struct pollfd){ .fd = x->ls[i].fd, .events = POLLIN };
	for (unsigned i = 0; i < CTL_CLIENTS && n < max; i++) {
		struct client *c = &x->cl[i];
		short ev = 0;

		if (c->fd >= 0) {
			if (c->n_out || has_request(c) ||
			    (c->snapping && pending(c) < CTL_SNAP_LOW))
				ev |= POLLOUT;
			if (!c->closing && !c->waiting && !c->eof && (c->watch ||
			    (c->n_in < CTL_LINE_MAX && pending(c) < CTL_OUT_HIGH)))
				ev |= POLLIN;
		}
		pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
	}
	return n;
}

/* Every CTL_TICK_MS: a consumer tells a hung daemon from a quiet plant. */
static void
watch_tick(struct hz_ctl *x, int64_t now)
{
	char line[64], ts[32];
	int n;

	if (now < x->tick_at)
		return;
	x->tick_at = now + CTL_TICK_MS;
	if (ctl_watchers(x) == 0)
		return;
	format_ts(now_real_ms(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "{\"type\":\"tick\",\"time\":\"%s\"}", ts);
	ctl_watch_line(x, line, (size_t)n);
}

void
ctl_io(struct hz_ctl *x, const struct pollfd *pfd, unsigned n, int64_t now)
{
	int64_t end = now + CTL_TURN_MS;
	unsigned first;

	if (x == NULL || n < 2)
		return;
	for (unsigned i = 0; i + 2 < n && i < CTL_CLIENTS; i++) {
		struct client *c = &x->cl[i];

		if (c->fd >= 0 && pfd[i + 2].fd == c->fd && pfd[i + 2].revents)
			client_io(c, pfd[i + 2].revents, now);
	}
	/*
	 * One request (or a few snapshot lines) per client, in turns that
	 * start with another client each time, until the turn's time is used
	 * up: the rest wait for the next turn, after the alarms.
	 */
	first = x->next;
	x->next = (x->next + 1) % CTL_CLIENTS;
	for (unsigned k = 0; k < CTL_CLIENTS; k++) {
		struct client *c = &x->cl[(first + k) % CTL_CLIENTS];

		if (c->fd < 0 || overdue(c, now))
			continue;
		if (c->watch) {
			/* What a burst left out, once the stream drained. */
			if (c->resnap && !c->snapping &&
			    pending(c) < CTL_SNAP_LOW) {
				c->resnap = c->snap_next = c->snap_begun = 0;
				c->snapping = 1;
			}
			/* One that shut its sending side still listens. */
			if (c->snapping)
				snapshot(x, c, end);
			continue;
		}
		if (has_request(c) && now_mono_ms() >= end)
			continue;	/* next turn */
		serve_line(x, c, now);
		if (c->closing && c->n_out == 0)
			drop(c);
	}
	watch_tick(x, now);
	for (unsigned i = 0; i < 2; i++)
		if (x->ls[i].fd >= 0 && pfd[i].fd == x->ls[i].fd &&
		    (pfd[i].revents & POLLIN))
			accept_clients(x, &x->ls[i], now);
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

/*
 * One line (without its newline) to every watch stream, also to one in
 * the middle of its snapshot: lines are whole states and events in order,
 * so the picture is complete at "synced" either way.
 */
void
ctl_watch_line(struct hz_ctl *x, const char *line, size_t len)
{
	for (unsigned i = 0; x && i < CTL_CLIENTS; i++)
		if (x->cl[i].fd >= 0 && x->cl[i].watch)
			(void)watch_out(&x->cl[i], line, len);
}

/*
 * A live state line.  States are the latest of each sensor, so one that
 * would fill more than half of a stream's room is left out: the stream
 * gets every sensor's state again as a snapshot once it has drained.  A
 * burst (a bus of 10,000 sensors lost at once) then fills a stream with
 * its events, which are never left out, and a reader that keeps up with
 * those keeps its place.
 */
void
ctl_watch_state(struct hz_ctl *x, const char *line, size_t len)
{
	for (unsigned i = 0; x && i < CTL_CLIENTS; i++) {
		struct client *c = &x->cl[i];

		if (c->fd < 0 || !c->watch || c->resnap)
			continue;
		if (pending(c) + len + 1 > CTL_WATCH_MAX / 2 &&
		    write_some(c, now_mono_ms()) != 0)
			continue;	/* gone */
		if (pending(c) + len + 1 > CTL_WATCH_MAX / 2)
			c->resnap = 1;
		else
			(void)watch_out(c, line, len);
	}
}

/* A reload was swapped in: every stream gets the new sensors' snapshot. */
void
ctl_watch_again(struct hz_ctl *x)
{
	for (unsigned i = 0; x && i < CTL_CLIENTS; i++)
		if (x->cl[i].fd >= 0 && x->cl[i].watch) {
			x->cl[i].snapping = 1;
			x->cl[i].snap_next = 0;
			x->cl[i].snap_begun = 0;	/* a new one begins */
		}
}
