/*
 * web-http.c - the HTTP side, on libmicrohttpd with a thread per
 * connection.  Its limits are what keeps a bad client harmless: headers
 * and URL must fit in CONN_MEMORY, every connection is idle at most
 * CONN_TIMEOUT, at most PER_IP connections from one address and
 * max_clients + SPARE_CONNS in all (libmicrohttpd logs each refusal).
 * The event stream's clients are bounded by web-sse.c; the JSON answers
 * come from the feed's cache, so no web client ever makes hazmond work,
 * except history, one request at a time.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hazmon-web.h"
#include "page.h"

#define CONN_MEMORY	(32 * 1024)	/* request line and headers */
#define CONN_TIMEOUT	30		/* seconds without traffic */
#define PER_IP		16
#define SPARE_CONNS	32		/* for other pages than /events */
#define SSE_WAIT_MS	2000		/* an "alive" event at least this often */
#define SSE_SNDBUF	65536		/* kernel buffer of an event stream */

static struct MHD_Daemon *daemon_;
static const struct web_conf *conf;
static char *plan_data;
static size_t plan_len;
static pthread_mutex_t history_mu = PTHREAD_MUTEX_INITIALIZER;

static void
peer_name(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[NI_MAXHOST], port[NI_MAXSERV];
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t sl;

	snprintf(out, len, "?");
	if (sa == NULL)
		return;
	sl = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	if (getnameinfo(sa, sl, host, sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(out, len, "%.46s:%.6s", host, port);
}

/* Headers every answer carries: nothing is cached, framed or sniffed. */
static void
common_headers(struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned status, const char *type,
    const void *data, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)data, mode);
	if (r == NULL)
		return MHD_NO;
	common_headers(r, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
answer_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t n;

	json_decref(j);
	if (text == NULL)
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
		    "out of memory\n", 14, MHD_RESPMEM_PERSISTENT);
	n = strlen(text);
	return answer(conn, status, "application/json", text, n,
	    MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result
answer_error(struct MHD_Connection *conn, unsigned status, const char *code,
    const char *msg)
{
	return answer_json(conn, status, json_pack("{s:b, s:s, s:s}", "ok", 0,
	    "code", code, "error", msg));
}

static ssize_t
sse_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	static const char alive[] = "event: alive\ndata: {}\n\n";
	long n;

	(void)pos;
	n = sse_read(cls, buf, max, SSE_WAIT_MS);
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n == 0) {
		if (max < sizeof(alive) - 1)
			return 0;
		memcpy(buf, alive, sizeof(alive) - 1);
		return (ssize_t)(sizeof(alive) - 1);
	}
	return n;
}

static void
sse_free(void *cls)
{
	sse_close(cls);
}

static enum MHD_Result
events(struct MHD_Connection *conn, int head)
{
	const union MHD_ConnectionInfo *ci;
	struct MHD_Response *r;
	struct sse_client *c;
	enum MHD_Result ret;
	char peer[64], *pic;
	int sndbuf = SSE_SNDBUF;

	if (head)
		return answer(conn, MHD_HTTP_OK, "text/event-stream", "", 0,
		    MHD_RESPMEM_PERSISTENT);
	peer_name(conn, peer, sizeof(peer));
	/*
	 * A fixed send buffer: the kernel would otherwise grow it to
	 * megabytes for a client that never reads, before its queue here
	 * ever fills and it is dropped.
	 */
	if ((ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD)) != NULL)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
		    sizeof(sndbuf));
	if ((c = sse_open(peer)) == NULL) {
		log_warnx("event stream client %s refused: %d clients already",
		    peer, conf->max_clients);
		return answer_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
		    "too many event stream clients");
	}
	/* the current picture first, then every change */
	if ((pic = feed_picture()) != NULL)
		sse_broadcast_one(c, "picture", pic);
	free(pic);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
	    sse_reader, c, sse_free);
	if (r == NULL) {
		sse_close(c);
		return MHD_NO;
	}
	common_headers(r, "text/event-stream");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
history(struct MHD_Connection *conn)
{
	json_t *req, *a = NULL;
	char err[128];
	int r;

	if (route_history(
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since"),
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "sensor"),
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit"),
	    &req, err, sizeof(err)) < 0)
		return answer_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request",
		    err);
	/* One at a time: history reads the ledger in hazmond's loop. */
	if (pthread_mutex_trylock(&history_mu) != 0) {
		json_decref(req);
		return answer_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
		    "another history request is being answered");
	}
	r = feed_request(req, &a);
	pthread_mutex_unlock(&history_mu);
	json_decref(req);
	if (r < 0)
		return answer_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "offline", "hazmond is not reachable");
	return answer_json(conn, json_is_true(json_object_get(a, "ok")) ?
	    MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST, a);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	static int first;
	enum web_route route;
	size_t len;
	char *text;
	json_t *j;

	(void)cls;
	(void)version;
	(void)upload;
	if (!route_method_ok(method))
		return answer_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "read_only", "hazmon-web only reads: use hazmonctl to act");
	if (*state == NULL) {	/* headers only: wait for the end */
		*state = &first;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;	/* a GET with a body: ignored */
		return MHD_YES;
	}
	route = route_find(url);
	switch (route) {
	case ROUTE_PAGE:
		return answer(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
		    page_html, page_html_len, MHD_RESPMEM_PERSISTENT);
	case ROUTE_CSS:
		return answer(conn, MHD_HTTP_OK, "text/css; charset=utf-8",
		    page_css, page_css_len, MHD_RESPMEM_PERSISTENT);
	case ROUTE_JS:
		return answer(conn, MHD_HTTP_OK,
		    "text/javascript; charset=utf-8", page_js, page_js_len,
		    MHD_RESPMEM_PERSISTENT);
	case ROUTE_EVENTS:
		return events(conn, strcmp(method, "HEAD") == 0);
	case ROUTE_METRICS:
		if ((text = feed_metrics(&len)) == NULL)
			return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "text/plain", "out of memory\n", 14,
			    MHD_RESPMEM_PERSISTENT);
		return answer(conn, MHD_HTTP_OK,
		    "text/plain; version=0.0.4; charset=utf-8", text, len,
		    MHD_RESPMEM_MUST_FREE);
	case ROUTE_PLAN:
		if (plan_data == NULL)
			break;
		return answer(conn, MHD_HTTP_OK, conf->plan_type, plan_data,
		    plan_len, MHD_RESPMEM_PERSISTENT);
	case ROUTE_API_PLAN:
		j = conf->plan ? json_incref(conf->plan) :
		    json_pack("{s:n, s:{}}", "image", "points");
		return answer_json(conn, MHD_HTTP_OK, j);
	case ROUTE_API_STATUS:
	case ROUTE_API_SENSORS:
	case ROUTE_API_ALARMS:
		if ((j = feed_api(route)) == NULL)
			return answer_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "offline", "hazmond is not reachable");
		return answer_json(conn, MHD_HTTP_OK, j);
	case ROUTE_API_HISTORY:
		return history(conn);
	case ROUTE_NONE:
		break;
	}
	return answer_error(conn, MHD_HTTP_NOT_FOUND, "not_found",
	    "no such page");
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512], esc[600];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_escape(esc, sizeof(esc), line, n);
	log_warnx("http: %s", esc);
}

static int
load_plan(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL)
		return -errno;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > 16 * 1024 * 1024 || fseek(f, 0, SEEK_SET) != 0 ||
	    (plan_data = malloc((size_t)n + 1)) == NULL ||
	    fread(plan_data, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(plan_data);
		plan_data = NULL;
		return -EIO;
	}
	fclose(f);
	plan_len = (size_t)n;
	return 0;
}

/* Returns the port it listens on (c->port may be 0: any free one). */
int
http_start(const struct web_conf *c)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
	    .ai_socktype = SOCK_STREAM }, *ai;
	const union MHD_DaemonInfo *info;
	char port[16];
	int r, v6;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;

	conf = c;
	if (c->plan_image != NULL && (r = load_plan(c->plan_image)) < 0) {
		log_warnx("%s: cannot read the plan image: %s", c->plan_image,
		    strerror(-r));
		return r;
	}
	snprintf(port, sizeof(port), "%d", c->port);
	if ((r = getaddrinfo(c->listen, port, &hints, &ai)) != 0) {
		log_warnx("listen address %s: %s (give a numeric IPv4 or IPv6 "
		    "address)", c->listen, gai_strerror(r));
		return -EINVAL;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	sse_init(c->max_clients, c->stream_queue);
	daemon_ = MHD_start_daemon(flags, (uint16_t)c->port, NULL, NULL,
	    handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,	/* first, to get all */
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(c->max_clients + SPARE_CONNS),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT,
	    MHD_OPTION_END);
	v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	if (daemon_ == NULL) {
		log_warnx("cannot listen on %s port %d", c->listen, c->port);
		return -EADDRNOTAVAIL;
	}
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	r = info ? info->port : c->port;
	log_info("serving http://%s%s%s:%d/", v6 ? "[" : "", c->listen,
	    v6 ? "]" : "", r);
	return r;
}

void
http_stop(void)
{
	sse_shutdown();
	if (daemon_ != NULL)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	free(plan_data);
	plan_data = NULL;
}
