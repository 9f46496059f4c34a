/*
 * catalogue.h - which catalogue hazmon-watch knows of a site, and the
 * events and states that name another (catalogue.c, pure).
 *
 * A site's retained <prefix>/catalogue carries a fingerprint; its status,
 * states and events carry the fingerprint of the catalogue in force when
 * they were made (docs/mqtt.md).  One that differs from the site's known
 * catalogue is "stale": made under another catalogue (before or after a
 * reload, or replayed from older history), so what the consumer knows of
 * that sensor may not be what it was then.
 */
#ifndef HAZMON_WATCH_CATALOGUE_H
#define HAZMON_WATCH_CATALOGUE_H

#include <stdint.h>

#define WC_FP_LEN	16		/* hex digits */

struct wt_cat {
	char fp[WC_FP_LEN + 1];		/* "": none known yet */
	int64_t changes;		/* catalogues with a new fingerprint */
	int64_t stale;			/* events and states naming another */
};

void cat_init(struct wt_cat *c);
int cat_valid(const char *fp);		/* 1: 16 lowercase hex digits */
/* A catalogue message: 1 a new fingerprint, 0 the same, -1 not valid. */
int cat_update(struct wt_cat *c, const char *fp);
/*
 * An event's or state's fingerprint (NULL: it has none, as from an older
 * hazmond): 1 stale (counted), 0 the known one, or nothing to compare
 * with, -1 not valid.
 */
int cat_check(struct wt_cat *c, const char *fp);

#endif
