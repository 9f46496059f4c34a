/*
 * hazmon-web.h - the duty room's page and Prometheus metrics, served from
 * what hazmond's read-only control socket says (docs/web.md).
 *
 *   web-model.c    the picture: snapshot and live lines of the watch
 *                  stream, the last status and alarms answers (pure)
 *   web-metrics.c  the Prometheus text of a picture (pure)
 *   web-route.c    which request is which page, and the history
 *                  query's checks (pure)
 *   web-conf.c     the configuration file and the plant plan
 *   web-feed.c     the thread that keeps the watch connection and
 *                  refreshes status and alarms, reconnecting by itself
 *   web-sse.c      Server-Sent Events clients, each with a bounded queue
 *   web-http.c     libmicrohttpd: limits, routes, answers
 *   hazmon-web.c   options, signals, main
 *
 * Return codes as in the daemon: 0 or a negative errno.  Only
 * web-feed.c, web-sse.c and web-http.c share state between threads, each
 * under its own mutex.
 */
#ifndef HAZMON_WEB_H
#define HAZMON_WEB_H

#include <stddef.h>
#include <jansson.h>

#define WEB_DEFAULT_PORT	8080
#define WEB_DEFAULT_LISTEN	"127.0.0.1"
#define WEB_MAX_EVENTS		20	/* recent events the page shows */

/* web-model.c */
struct web_model {
	json_t	*sensors;	/* id -> entry of the sensors answer */
	json_t	*order;		/* ids in snapshot order */
	json_t	*pending;	/* ids named since the snapshot began */
	json_t	*fault_since;	/* id -> unix time its fault was seen */
	json_t	*status;	/* last status answer, or NULL */
	json_t	*alarms;	/* last alarms array, or NULL */
	json_t	*events;	/* recent events, newest last */
	int	 synced;	/* a snapshot is complete */
	int	 up;		/* connected to hazmond */
	double	 updated;	/* unix time of the last line or answer */
	double	 tick;		/* unix time of hazmond's last tick */
};
/* what model_line() saw */
#define MODEL_STATE	0x1	/* a sensor's state */
#define MODEL_EVENT	0x2	/* an event (alarms may have changed) */
#define MODEL_SYNCED	0x4	/* a snapshot is complete */
#define MODEL_TICK	0x8
#define MODEL_SNAPSHOT	0x10	/* a snapshot begins */

int	 model_init(struct web_model *);
void	 model_free(struct web_model *);
void	 model_down(struct web_model *);
void	 model_watch_started(struct web_model *, double now);
int	 model_line(struct web_model *, const char *line, size_t len,
	    double now);
int	 model_set_status(struct web_model *, json_t *answer, double now);
int	 model_set_alarms(struct web_model *, json_t *answer, double now);
json_t	*model_sensors(const struct web_model *);
json_t	*model_picture(const struct web_model *, double now);

/* web-metrics.c */
struct web_buf {
	char	*p;
	size_t	 len, cap;
	int	 failed;	/* out of memory: the text is incomplete */
};
void	 buf_printf(struct web_buf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_free(struct web_buf *);
int	 metrics_render(const struct web_model *, struct web_buf *);
void	 metrics_label(struct web_buf *, const char *value);

/* web-route.c */
enum web_route {
	ROUTE_NONE, ROUTE_PAGE, ROUTE_CSS, ROUTE_JS, ROUTE_EVENTS,
	ROUTE_METRICS, ROUTE_PLAN, ROUTE_API_PLAN, ROUTE_API_STATUS, ROUTE_API_SENSORS, ROUTE_API_ALARMS,
	ROUTE_API_HISTORY
};
enum web_route route_find(const char *url);
int	 route_method_ok(const char *method);
int	 route_history(const char *since, const char *sensor,
	    const char *limit, json_t **request, char *err, size_t errlen);
int	 route_sensor_id_ok(const char *id);

/* web-conf.c */
struct web_conf {
	char	*listen;
	int	 port;
	char	*socket;
	char	*plan_image;	/* NULL: no plan */
	char	*plan_type;	/* its Content-Type */
	json_t	*plan;		/* {"image":URL,"points":{id:[x,y]}} or NULL */
	int	 max_clients;	/* SSE clients */
	size_t	 stream_queue;	/* bytes queued for one, at most */
};
int	 conf_load(struct web_conf *, const char *path);
void	 conf_free(struct web_conf *);
const char *conf_default_socket(void);
int	 address_ok(const char *);

/* web-feed.c */
int	 feed_start(const char *socket_path);
void	 feed_stop(void);
char	*feed_picture(void);		/* JSON text, to free */
char	*feed_metrics(size_t *len);	/* Prometheus text, to free */
json_t	*feed_api(enum web_route);	/* cached answer, or NULL: offline */
int	 feed_request(json_t *request, json_t **answer);
int	 feed_socket_request(const char *path, json_t *request,
	    json_t **answer, int timeout_ms);

/* web-sse.c */
struct sse_client;
void	 sse_init(int max_clients, size_t queue_max);
struct sse_client *sse_open(const char *peer);
void	 sse_close(struct sse_client *);
long	 sse_read(struct sse_client *, char *buf, size_t max, int wait_ms);
void	 sse_broadcast(const char *event, const char *data);
void	 sse_broadcast_one(struct sse_client *, const char *event,
	    const char *data);
void	 sse_shutdown(void);
int	 sse_count(void);

/* web-http.c */
int	 http_start(const struct web_conf *);
void	 http_stop(void);

/* hazmon-web.c: logging, ntpd style */
void	 log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_escape(char *out, size_t outlen, const char *in, size_t inlen);

#endif /* HAZMON_WEB_H */
