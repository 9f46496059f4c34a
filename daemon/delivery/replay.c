/*
 * replay.c - a consumer's request to send a range of events again
 * (docs/mqtt.md "Replay on request"): the check of one request, the small
 * queue of accepted ones, and the replies.
 *
 * Pure: JSON and numbers in, a decision out.  publish.c reads the ledger
 * and publishes; the same check serves the MQTT topic and hazmonctl.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "delivery.h"

static int
refuse(struct replay_answer *a, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct replay_answer *a, const char *code, const char *fmt, ...)
{
	va_list ap;

	a->code = code;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A seq from outside: a whole number, checked before any conversion. */
static int
seq_field(const json_t *o, const char *key, int64_t *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_integer(j))
		return -EINVAL;
	*v = (int64_t)json_integer_value(j);
	return 0;
}

/*
 * Checks one request against the ledger as it is (events oldest..last are
 * kept) and fills r and a.  Returns 0 when it may be queued (a->to is cut
 * to last), or -EINVAL with a->code and a->why.  `from` and `to` are
 * inclusive; "site", when given, must be ours (a bureau sends to many).
 */
int
replay_check(const json_t *o, const char *site, int64_t oldest, int64_t last,
    struct hz_replay *r, struct replay_answer *a)
{
	const json_t *id, *s;
	int64_t from, to;

	memset(r, 0, sizeof(*r));
	memset(a, 0, sizeof(*a));
	a->oldest = oldest;
	a->last = last;
	if (o == NULL || !json_is_object(o))
		return refuse(a, "bad_request", "the payload is not a JSON object");
	if ((id = json_object_get(o, "request_id")) != NULL) {
		if (!json_is_string(id) || json_string_length(id) == 0 ||
		    json_string_length(id) >= sizeof(r->request_id))
			return refuse(a, "bad_request", "\"request_id\" must be a "
			    "string of 1 to %zu characters", sizeof(r->request_id) - 1);
		snprintf(r->request_id, sizeof(r->request_id), "%s",
		    json_string_value(id));
		snprintf(a->request_id, sizeof(a->request_id), "%s", r->request_id);
	}
	if ((s = json_object_get(o, "site")) != NULL &&
	    (!json_is_string(s) || strcmp(json_string_value(s), site) != 0))
		return refuse(a, "unknown_site", "this is site \"%s\", not the "
		    "site the request names", site);
	if (seq_field(o, "from", &from) != 0 || seq_field(o, "to", &to) != 0)
		return refuse(a, "bad_request", "\"from\" and \"to\" must be whole "
		    "numbers (seq, inclusive)");
	a->from = from;
	a->to = to;
	if (from < 1 || to < 1)
		return refuse(a, "invalid", "seq starts at 1; %lld to %lld is not "
		    "a range of events", (long long)from, (long long)to);
	if (from > to)
		return refuse(a, "invalid", "the range %lld to %lld is reversed",
		    (long long)from, (long long)to);
	if (to - from >= HZ_REPLAY_MAX_RANGE)
		return refuse(a, "too_large", "%lld events asked; at most %d per "
		    "request", (long long)(to - from + 1), HZ_REPLAY_MAX_RANGE);
	if (from > last)
		return refuse(a, "not_yet", "no event %lld yet: the last seq is "
		    "%lld", (long long)from, (long long)last);
	if (from < oldest)
		return refuse(a, "retention", "events before seq %lld are no "
		    "longer kept (retention); the oldest seq kept is %lld",
		    (long long)oldest, (long long)oldest);
	if (to > last)
		to = a->to = last;
	r->from = r->next = from;
	r->to = to;
	return 0;
}

/* ---- the queue of one destination: the head is being sent */

int
replay_push(struct hz_replayq *q, const struct hz_replay *r,
    struct replay_answer *a)
{
	if (q->n == HZ_REPLAY_QUEUE)
		return refuse(a, "busy", "%d replays are already waiting; ask "
		    "again when one is done", HZ_REPLAY_QUEUE);
	q->r[(q->head + q->n++) % HZ_REPLAY_QUEUE] = *r;
	return 0;
}

struct hz_replay *
replay_head(struct hz_replayq *q)
{
	return q->n ? &q->r[q->head] : NULL;
}

void
replay_pop(struct hz_replayq *q)
{
	if (q->n == 0)
		return;
	q->head = (q->head + 1) % HZ_REPLAY_QUEUE;
	q->n--;
}

/*
 * A request may come every REPLAY_REQ_EVERY_MS, REPLAY_REQ_BURST at once:
 * 1 if this one may, 0 if it comes too soon.
 */
int
replay_req_allowed(struct hz_replayq *q, int64_t now)
{
	if (q->req_at == 0 || now - q->req_at > (int64_t)REPLAY_REQ_BURST *
	    REPLAY_REQ_EVERY_MS)
		q->req_at = now - (int64_t)REPLAY_REQ_BURST * REPLAY_REQ_EVERY_MS;
	if (q->req_at + REPLAY_REQ_EVERY_MS > now)
		return 0;
	q->req_at += REPLAY_REQ_EVERY_MS;
	return 1;
}

/*
 * The reply on <prefix>/reply/replay: "accepted" with the range it will
 * send, "refused" with a code and a reason, or "done" with how many events
 * it found in the range.  oldest and last describe the ledger then.
 */
char *
replay_reply_json(const char *site, const char *result,
    const struct replay_answer *a, int64_t sent)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "site", site,
	    "result", result, "from", (json_int_t)a->from, "to",
	    (json_int_t)a->to, "oldest", (json_int_t)a->oldest, "last",
	    (json_int_t)a->last);
	char ts[32], *s;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "request_id", a->request_id[0] ?
	    json_string(a->request_id) : json_null());
	if (strcmp(result, "refused") == 0) {
		json_object_set_new(o, "code", json_string(a->code));
		json_object_set_new(o, "reason", json_string(a->why));
	}
	if (strcmp(result, "done") == 0)
		json_object_set_new(o, "sent", json_integer(sent));
	format_ts(now_real_ms(), ts, sizeof(ts));
	json_object_set_new(o, "ts", json_string(ts));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
