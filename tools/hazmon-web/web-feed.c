/*
 * web-feed.c - the one thread that talks to hazmond: it keeps a watch
 * connection on the read-only control socket and asks for status and
 * alarms every 2 s (and soon after any event, so an acknowledgement shows
 * at once), reconnecting with a backoff while hazmond is down.
 *
 * It never makes hazmond wait: the watch stream is read as soon as it is
 * readable, into a buffer that grows to at most one line's limit, and
 * drawing a picture for the page costs the stream only the time of one
 * json_dumps under the model's mutex.  hazmond itself drops a watcher
 * that falls 1 MiB behind.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hazmon-web.h"

#define LINE_MAX_BYTES	(4 * 1024 * 1024)
#define REFRESH_MS	2000	/* status and alarms */
#define SOON_MS		100	/* alarms after an event, at most this often */
#define PUSH_MS		100	/* pictures to the page, at most this often */
#define PUSH_RATE	(512 * 1024)	/* ... and at most these bytes/s */
#define SILENT_MS	15000	/* no line at all (ticks come every 5 s): dead */
#define ANSWER_MS	3000
#define BACKOFF_MIN_MS	200
#define BACKOFF_MAX_MS	5000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct web_model model;		/* under mu */
static pthread_t thread;
static int stop_pipe[2] = { -1, -1 };
static char *sock_path;

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int
stopping(int wait_ms)
{
	struct pollfd p = { .fd = stop_pipe[0], .events = POLLIN };

	return poll(&p, 1, wait_ms) > 0;
}

static int
connect_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		e = errno;
		close(fd);
		return -e;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int
send_all(int fd, const char *p, size_t n, long long deadline)
{
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (mono_ms() >= deadline)
			return -ETIMEDOUT;
		poll(&pf, 1, (int)(deadline - mono_ms()));
	}
	return 0;
}

static int
send_request(int fd, json_t *req, long long deadline)
{
	char *text = json_dumps(req, JSON_COMPACT);
	size_t n;
	int r;

	if (text == NULL)
		return -ENOMEM;
	n = strlen(text);
	text[n] = '\n';		/* replaces the terminator; n + 1 bytes sent */
	r = send_all(fd, text, n + 1, deadline);
	free(text);
	return r;
}

/*
 * One answer line, within the deadline.  Bytes after its newline stay in
 * the socket (the watch stream follows the watch answer at once), so the
 * line is peeked at first and only then read up to its newline.
 */
static int
read_answer(int fd, json_t **answer, long long deadline)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char *buf = NULL, *nl, *p;
	size_t len = 0, cap = 0, take;
	ssize_t r;

	for (;;) {
		if (cap - len < 65536) {
			if (cap >= LINE_MAX_BYTES) {
				free(buf);
				return -EMSGSIZE;
			}
			cap = cap ? cap * 2 : 65536;
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
		}
		r = recv(fd, buf + len, cap - len, MSG_PEEK);
		if (r > 0) {
			nl = memchr(buf + len, '\n', (size_t)r);
			take = nl ? (size_t)(nl - (buf + len)) + 1 : (size_t)r;
			if (recv(fd, buf + len, take, 0) != (ssize_t)take) {
				free(buf);
				return -EIO;
			}
			len += take;
			if (nl != NULL) {
				*answer = json_loadb(buf, len - 1, 0, NULL);
				free(buf);
				return *answer ? 0 : -EBADMSG;
			}
			continue;
		}
		if (r == 0) {
			free(buf);
			return -ECONNRESET;
		}
		if (errno != EAGAIN && errno != EINTR) {
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (mono_ms() >= deadline) {
			free(buf);
			return -ETIMEDOUT;
		}
		poll(&pf, 1, (int)(deadline - mono_ms()));
	}
}

/* A request on a connection of its own, as hazmonctl sends one. */
int
feed_socket_request(const char *path, json_t *req, json_t **answer,
    int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;
	int fd, r;

	*answer = NULL;
	if ((fd = connect_socket(path)) < 0)
		return fd;
	if ((r = send_request(fd, req, deadline)) == 0)
		r = read_answer(fd, answer, deadline);
	close(fd);
	return r;
}

int
feed_request(json_t *req, json_t **answer)
{
	return feed_socket_request(sock_path, req, answer, ANSWER_MS);
}

static int
ask(const char *cmd, json_t **answer)
{
	json_t *req = json_pack("{s:s}", "cmd", cmd);
	int r;

	if (req == NULL)
		return -ENOMEM;
	r = feed_request(req, answer);
	json_decref(req);
	return r;
}

/* Send the picture to every page; its size in bytes. */
static size_t
push_picture(void)
{
	size_t n = 0;
	char *text;
	json_t *p;

	pthread_mutex_lock(&mu);
	p = model_picture(&model, wall_now());
	pthread_mutex_unlock(&mu);
	if (p == NULL)
		return 0;
	if ((text = json_dumps(p, JSON_COMPACT)) != NULL) {
		sse_broadcast("picture", text);
		n = strlen(text);
	}
	free(text);
	json_decref(p);
	return n;
}

static int
refresh(int with_status)
{
	json_t *a = NULL;
	int r;

	if (with_status) {
		if ((r = ask("status", &a)) < 0)
			return r;
		pthread_mutex_lock(&mu);
		r = model_set_status(&model, a, wall_now());
		pthread_mutex_unlock(&mu);
		json_decref(a);
		if (r < 0)
			return r;
	}
	if ((r = ask("alarms", &a)) < 0)
		return r;
	pthread_mutex_lock(&mu);
	r = model_set_alarms(&model, a, wall_now());
	pthread_mutex_unlock(&mu);
	json_decref(a);
	return r;
}

struct linebuf {
	char	*p;
	size_t	 len, cap;
};

/*
 * Read what the watch stream has and apply every complete line.  Returns
 * the MODEL_* bits seen, or a negative errno when the stream is over.
 */
static int
read_watch(int fd, struct linebuf *lb)
{
	char *nl, *start, esc[128];
	int seen = 0, r;
	ssize_t n;

	for (;;) {
		if (lb->cap - lb->len < 65536) {
			size_t cap = lb->cap ? lb->cap * 2 : 131072;
			char *p;

			if (cap > LINE_MAX_BYTES)
				return -EMSGSIZE;
			if ((p = realloc(lb->p, cap)) == NULL)
				return -ENOMEM;
			lb->p = p;
			lb->cap = cap;
		}
		n = recv(fd, lb->p + lb->len, lb->cap - lb->len, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		lb->len += (size_t)n;
		start = lb->p;
		pthread_mutex_lock(&mu);
		while ((nl = memchr(start, '\n', lb->len - (size_t)(start -
		    lb->p))) != NULL) {
			r = model_line(&model, start, (size_t)(nl - start),
			    wall_now());
			if (r >= 0) {
				seen |= r;
			} else {
				log_escape(esc, sizeof(esc), start,
				    (size_t)(nl - start));
				log_warnx("%s: watch line not understood, "
				    "skipped: %s", sock_path, esc);
			}
			start = nl + 1;
		}
		pthread_mutex_unlock(&mu);
		lb->len -= (size_t)(start - lb->p);
		memmove(lb->p, start, lb->len);
	}
	return seen;
}

/* Start a watch: the answer line, then the stream.  Returns the fd. */
static int
start_watch(void)
{
	long long deadline = mono_ms() + ANSWER_MS;
	json_t *req = json_pack("{s:s}", "cmd", "watch"), *a = NULL;
	char esc[256], *text;
	int fd, r;

	if (req == NULL)
		return -ENOMEM;
	if ((fd = connect_socket(sock_path)) < 0) {
		json_decref(req);
		return fd;
	}
	r = send_request(fd, req, deadline);
	json_decref(req);
	if (r == 0)
		r = read_answer(fd, &a, deadline);
	if (r == 0 && !json_is_true(json_object_get(a, "watch"))) {
		text = json_dumps(a, JSON_COMPACT);
		log_escape(esc, sizeof(esc), text ? text : "?",
		    text ? strlen(text) : 1);
		log_warnx("%s: watch refused: %s", sock_path, esc);
		free(text);
		r = -EPROTO;
	}
	json_decref(a);
	if (r < 0) {
		close(fd);
		return r;
	}
	pthread_mutex_lock(&mu);
	model_watch_started(&model, wall_now());
	pthread_mutex_unlock(&mu);
	return fd;
}

/*
 * One session: watch until the stream ends, is silent too long, or we
 * stop.  Returns 0 when stopping, else why it ended.
 */
static int
session(int fd)
{
	struct linebuf lb = { 0 };
	struct pollfd pf[2] = { { .fd = fd, .events = POLLIN },
	    { .fd = stop_pipe[0], .events = POLLIN } };
	long long now, last_line = mono_ms(), next_refresh = 0, soon = -1;
	long long last_push = 0, gap = PUSH_MS;
	int r = 0, dirty = 1, seen;

	for (;;) {
		now = mono_ms();
		if (now >= next_refresh || (soon >= 0 && now >= soon)) {
			if ((r = refresh(now >= next_refresh)) < 0) {
				log_warnx("%s: status or alarms failed: %s",
				    sock_path, strerror(-r));
				break;
			}
			if (now >= next_refresh)
				next_refresh = now + REFRESH_MS;
			soon = -1;
			dirty = 1;
		}
		/*
		 * A big site's picture is sent less often, so that a page
		 * costs at most PUSH_RATE (a 100 kB picture: every 200 ms).
		 */
		if (dirty && now - last_push >= gap) {
			gap = (long long)(push_picture() * 1000 / PUSH_RATE);
			if (gap < PUSH_MS)
				gap = PUSH_MS;
			last_push = now;
			dirty = 0;
		}
		if (now - last_line > SILENT_MS) {
			r = -ETIMEDOUT;
			log_warnx("%s: no line from hazmond for %d s", sock_path,
			    SILENT_MS / 1000);
			break;
		}
		int wait = (int)(next_refresh - now);

		if (soon >= 0 && soon - now < wait)
			wait = (int)(soon - now);
		if (dirty && last_push + gap - now < wait)
			wait = (int)(last_push + gap - now);
		if (wait < 0)
			wait = 0;
		if (poll(pf, 2, wait) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (pf[1].revents) {
			r = 0;
			break;
		}
		if (pf[0].revents == 0)
			continue;
		if ((seen = read_watch(fd, &lb)) < 0) {
			r = seen;
			break;
		}
		if (seen) {
			last_line = mono_ms();
			dirty = 1;
		}
		if ((seen & (MODEL_EVENT | MODEL_SYNCED)) && soon < 0)
			soon = last_line + SOON_MS;
	}
	free(lb.p);
	return r;
}

static void *
feed_main(void *arg)
{
	int backoff = BACKOFF_MIN_MS, fd, r, was_up = 0, logged = 0;

	(void)arg;
	while (!stopping(0)) {
		if ((fd = start_watch()) < 0) {
			if (!logged || was_up)
				log_warnx("hazmond not reachable at %s: %s; "
				    "retrying", sock_path, strerror(-fd));
			logged = 1;
			was_up = 0;
			pthread_mutex_lock(&mu);
			model_down(&model);
			pthread_mutex_unlock(&mu);
			push_picture();
			if (stopping(backoff))
				break;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    backoff * 2;
			continue;
		}
		log_info("watching hazmond at %s", sock_path);
		was_up = 1;
		logged = 0;
		backoff = BACKOFF_MIN_MS;
		r = session(fd);
		close(fd);
		pthread_mutex_lock(&mu);
		model_down(&model);
		pthread_mutex_unlock(&mu);
		push_picture();
		if (r == 0)
			break;
		log_warnx("lost hazmond at %s: %s; reconnecting", sock_path,
		    strerror(-r));
		logged = 1;
		was_up = 0;
	}
	return NULL;
}

int
feed_start(const char *path)
{
	int r;

	if ((sock_path = strdup(path)) == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&mu);	/* pages may already ask for it */
	r = model_init(&model);
	pthread_mutex_unlock(&mu);
	if (r < 0)
		return r;
	if (pipe2(stop_pipe, O_CLOEXEC) == -1)
		return -errno;
	if ((r = pthread_create(&thread, NULL, feed_main, NULL)) != 0)
		return -r;
	return 0;
}

void
feed_stop(void)
{
	if (write(stop_pipe[1], "x", 1) != 1)
		log_warnx("cannot stop the feed thread: %s", strerror(errno));
	pthread_join(thread, NULL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	pthread_mutex_lock(&mu);
	model_free(&model);
	pthread_mutex_unlock(&mu);
	free(sock_path);
}

char *
feed_picture(void)
{
	json_t *p;
	char *text;

	pthread_mutex_lock(&mu);
	p = model_picture(&model, wall_now());
	pthread_mutex_unlock(&mu);
	text = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	return text;
}

char *
feed_metrics(size_t *len)
{
	struct web_buf b = { 0 };
	int r;

	pthread_mutex_lock(&mu);
	r = metrics_render(&model, &b);
	pthread_mutex_unlock(&mu);
	if (r < 0) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* The cached answer a read command would give; NULL while not live. */
json_t *
feed_api(enum web_route route)
{
	json_t *a = NULL;

	pthread_mutex_lock(&mu);
	if (model.up && model.synced && model.status != NULL) {
		switch (route) {
		case ROUTE_API_STATUS:
			a = json_deep_copy(model.status);
			break;
		case ROUTE_API_SENSORS:
			a = json_pack("{s:b, s:o}", "ok", 1, "sensors",
			    model_sensors(&model));
			break;
		case ROUTE_API_ALARMS:
			a = model.alarms ? json_pack("{s:b, s:O}", "ok", 1,
			    "alarms", model.alarms) :
			    json_pack("{s:b, s:[]}", "ok", 1, "alarms");
			break;
		default:
			break;
		}
	}
	pthread_mutex_unlock(&mu);
	return a;
}
