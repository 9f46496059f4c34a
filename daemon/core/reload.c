/*
 * reload.c - SIGHUP and `hazmonctl reload`: a new configuration, validated
 * whole before anything changes, swapped in (swap.c) without losing alarm
 * state.  On any error the old configuration stays in force and the errors
 * are reported (file:line) to the log and to every client that asked.
 *
 * The file is read and validated in a loader thread: parsing 10,000
 * sensors takes a quarter of a second, and a configuration on a hung file
 * system could take forever; alarms must not wait for either.  Only the
 * swap runs on the core thread.  Requests that come while a reload runs
 * are served by one more reload after it, so each sees a file read after
 * it asked.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <jansson.h>

#include "core.h"
#include "reloadplan.h"

struct tickets {
	struct ctl_ticket *t;
	size_t n, cap;
};

struct hz_reload {
	pthread_t th;
	int efd;			/* written when the loader is done */
	int running;
	int again;			/* asked for again while running */
	char *path;
	const char *plugin_dir_override;
	const struct reload_ops *ops;	/* core.c's, for the swap */
	int delay_ms;			/* test hook: a slow file system */
	struct hz_config *nc;		/* the loader's results */
	struct hz_catalogue *cat;	/* nc's, built here: 10,000 sensors
					   take tens of ms, not the core's */
	int n_err;
	char *errs;
	char *warns;			/* the loader's warnings */
	struct tickets now, next;	/* clients waiting for this / the next */
};

struct hz_reload *
reload_new(struct core *k, const struct reload_ops *ops)
{
	struct hz_reload *r = xcalloc(1, sizeof(*r));

	if ((r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		fatal("eventfd");
	r->plugin_dir_override = k->plugin_dir_override;
	r->ops = ops;
	r->delay_ms = test_hooks()->reload_delay_ms;
	return r;
}

static void
ticket_add(struct tickets *ts, const struct ctl_ticket *t)
{
	if (t == NULL)
		return;
	ts->t = xgrow(ts->t, &ts->cap, ts->n + 1, sizeof(*ts->t));
	ts->t[ts->n++] = *t;
}

static void *
load_main(void *arg)
{
	struct hz_reload *r = arg;
	uint64_t one = 1;

	pause_ms(r->delay_ms);			/* test hook; 0 normally */
	/* This thread's errors, and apart from them its warnings. */
	log_capture_begin(HZ_LOG_ERR);
	hostapi_warnings_begin();
	r->nc = config_load(r->path, r->plugin_dir_override, &r->n_err);
	if (r->nc)
		r->cat = catalogue_build(r->nc, now_real_ms());
	r->warns = hostapi_warnings_end();
	r->errs = log_capture_end();
	(void)!write(r->efd, &one, sizeof(one));
	return NULL;
}

static void
start(struct core *k)
{
	struct hz_reload *r = k->reload;
	struct timespec mono;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	notify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
	    (unsigned long long)mono.tv_sec * 1000000ULL +
	    (unsigned long long)mono.tv_nsec / 1000, k->c->path);
	free(r->path);
	r->path = xstrdup(k->c->path);
	r->nc = NULL;
	r->errs = NULL;
	r->warns = NULL;
	r->n_err = 0;
	if ((rc = pthread_create(&r->th, NULL, load_main, r)) != 0) {
		errno = rc;
		fatal("cannot start the configuration loader thread");
	}
	r->running = 1;
}

/* SIGHUP (t NULL) or a client: read the file again, soon. */
void
reload_request(struct core *k, const struct ctl_ticket *t)
{
	struct hz_reload *r = k->reload;

	if (r->running) {
		r->again = 1;
		ticket_add(&r->next, t);
		return;
	}
	ticket_add(&r->now, t);
	start(k);
}

int
reload_fd(const struct core *k)
{
	return k->reload->running ? k->reload->efd : -1;
}

static void
add_lines(json_t *arr, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");

		json_array_append_new(arr, json_stringn(text, n));
		text += n + (text[n] == '\n');
	}
}

/* The lines of text as a JSON array rep[key], unless there are none. */
static void
set_lines(json_t *rep, const char *key, const char *text)
{
	json_t *arr;

	if (text == NULL || *text == '\0')
		return;
	arr = json_array();
	add_lines(arr, text);
	json_object_set_new(rep, key, arr);
}

/*
 * Swaps the loaded configuration in, or keeps the old one; fills rep.
 * The warnings go to the client either way: a refused file's warnings are
 * the next things the operator fixes.
 */
static int
finish(struct core *k, struct hz_config *nc, struct hz_catalogue *cat,
    int n_err, char *errs, const char *warns, json_t *rep)
{
	int64_t t0 = now_mono_ms();
	struct reloadplan *p = nc ? swap__plan(k, nc) : NULL;

	if (p && p->fixed) {
		log_msg(HZ_LOG_ERR, "%s: %s changed: that takes a restart of hazmond, "
		    "not a reload", nc->path, p->fixed);
		free(errs);
		if ((errs = malloc(512)) == NULL)
			fatal("malloc");
		snprintf(errs, 512, "%s: %s changed: that takes a restart of "
		    "hazmond, not a reload", nc->path, p->fixed);
		reloadplan_free(p);
		p = NULL;
		config_free(nc);
		nc = NULL;
		n_err = 1;
	}
	set_lines(rep, "warnings", warns);
	if (nc == NULL) {
		json_t *arr = json_array();

		log_msg(HZ_LOG_ERR, "%s: %d error%s; reload refused, the configuration "
		    "in use stays in force", k->c->path, n_err, n_err == 1 ? "" : "s");
		add_lines(arr, errs);
		json_object_set_new(rep, "errors", arr);
		json_object_set_new(rep, "error", json_sprintf("%s: %d error%s; the "
		    "configuration in use stays in force", k->c->path, n_err,
		    n_err == 1 ? "" : "s"));
		free(errs);
		catalogue_free(cat);
		return -1;
	}
	free(errs);
	swap__in(k, nc, cat, p, k->reload->ops, t0, rep);
	reloadplan_free(p);
	k->reloads++;
	k->reloaded = now_real_ms();
	return 0;
}

/* The loader is done: swap, answer who asked, and go again if asked. */
void
reload_done(struct core *k)
{
	struct hz_reload *r = k->reload;
	json_t *rep = json_object();
	struct tickets done;
	uint64_t v;
	char *resp;
	int ok;

	if (read(r->efd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;			/* not yet */
	pthread_join(r->th, NULL);
	r->running = 0;
	ok = finish(k, r->nc, r->cat, r->n_err, r->errs, r->warns, rep) == 0;
	free(r->warns);
	r->nc = NULL;
	r->cat = NULL;
	r->errs = NULL;
	r->warns = NULL;
	json_object_set_new(rep, "ok", json_boolean(ok));
	if (!ok)
		json_object_set_new(rep, "code", json_string("config"));
	resp = json_dumps(rep, JSON_COMPACT);
	json_decref(rep);
	if (resp == NULL)
		fatalx("out of memory answering a reload");
	notify("READY=1");
	r->ops->status_line(k);
	done = r->now;
	r->now = r->next;
	r->next = (struct tickets){ 0 };
	for (size_t i = 0; i < done.n; i++)
		ctl_answer(k->ctl, &done.t[i], resp);
	free(done.t);
	free(resp);
	if (r->again) {
		r->again = 0;
		start(k);
	}
}

/* At exit: a loader stuck in a file system is left behind, not waited for. */
void
reload_free(struct core *k)
{
	struct hz_reload *r = k->reload;

	if (r == NULL)
		return;
	if (r->running) {
		if (join_within(r->th, 2000) != 0) {
			log_msg(HZ_LOG_ERR, "the configuration loader did not finish; "
			    "exiting without it");
			return;		/* it still uses r */
		}
		config_free(r->nc);
		catalogue_free(r->cat);
		free(r->errs);
		free(r->warns);
	}
	close(r->efd);
	free(r->path);
	free(r->now.t);
	free(r->next.t);
	free(r);
	k->reload = NULL;
}
