/*
 * catalogue.c - a site's known catalogue fingerprint and the messages
 * that name another (catalogue.h).  No I/O.
 */
#include "config.h"

#include <string.h>

#include "catalogue.h"

void
cat_init(struct wt_cat *c)
{
	memset(c, 0, sizeof(*c));
}

int
cat_valid(const char *fp)
{
	return fp != NULL && strlen(fp) == WC_FP_LEN &&
	    strspn(fp, "0123456789abcdef") == WC_FP_LEN;
}

int
cat_update(struct wt_cat *c, const char *fp)
{
	if (!cat_valid(fp))
		return -1;
	if (strcmp(c->fp, fp) == 0)
		return 0;
	memcpy(c->fp, fp, sizeof(c->fp));
	c->changes++;
	return 1;
}

/*
 * Without a known catalogue there is nothing to compare with: a consumer
 * that subscribes gets the retained catalogue first, and one that has
 * none yet cannot call anything stale.
 */
int
cat_check(struct wt_cat *c, const char *fp)
{
	if (fp == NULL)
		return 0;
	if (!cat_valid(fp))
		return -1;
	if (c->fp[0] == '\0' || strcmp(c->fp, fp) == 0)
		return 0;
	c->stale++;
	return 1;
}
