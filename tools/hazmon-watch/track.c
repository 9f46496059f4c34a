/*
 * track.c - one site's seq as hazmon-watch received it (pure, no I/O).
 *
 * Everything at or below `base` has arrived (or was given up as lost);
 * above it, the ranges that arrived are kept sorted and apart, so a
 * duplicate is found however late it comes, and the holes between them
 * are the gaps to ask a replay for.  A site's first event sets the
 * start: what came before it is not this consumer's to miss.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "track.h"

void
track_init(struct wt_track *t)
{
	memset(t, 0, sizeof(*t));
	t->base = -1;
}

void
track_free(struct wt_track *t)
{
	free(t->got);
	free(t->gone);
	track_init(t);
}

/* Appends [a, b] to the seq given up. */
static int
gone_add(struct wt_track *t, int64_t a, int64_t b)
{
	if (t->n_gone == t->cap_gone) {
		size_t cap = t->cap_gone ? 2 * t->cap_gone : 8;
		struct wt_range *g = realloc(t->gone, cap * sizeof(*g));

		if (g == NULL)
			return -ENOMEM;
		t->gone = g;
		t->cap_gone = cap;
	}
	t->gone[t->n_gone++] = (struct wt_range){ a, b };
	return 0;
}

/* seq was given up: it is no longer (1), or it was not (0); -ENOMEM. */
static int
gone_take(struct wt_track *t, int64_t seq)
{
	for (size_t i = 0; i < t->n_gone; i++) {
		struct wt_range *g = &t->gone[i];

		if (seq < g->a || seq > g->b)
			continue;
		if (g->a == g->b) {
			memmove(g, g + 1, (t->n_gone - i - 1) * sizeof(*g));
			t->n_gone--;
		} else if (seq == g->a)
			g->a++;
		else if (seq == g->b)
			g->b--;
		else {
			int64_t b = g->b;

			g->b = seq - 1;
			if (gone_add(t, seq + 1, b) != 0)
				return -ENOMEM;
			/* keep the order: the new piece belongs right after i */
			memmove(&t->gone[i + 2], &t->gone[i + 1],
			    (t->n_gone - i - 2) * sizeof(*g));
			t->gone[i + 1] = (struct wt_range){ seq + 1, b };
		}
		return 1;
	}
	return 0;
}

/* Ranges that start right after base join it. */
static void
advance(struct wt_track *t)
{
	size_t k = 0;

	while (k < t->n_got && t->got[k].a <= t->base + 1) {
		if (t->got[k].b > t->base)
			t->base = t->got[k].b;
		k++;
	}
	memmove(t->got, t->got + k, (t->n_got - k) * sizeof(*t->got));
	t->n_got -= k;
}

/*
 * Adds [a, b]; returns how many of its seq were not in yet, or -ENOMEM.
 * The ranges it touches or overlaps are merged into one.
 */
static int64_t
add(struct wt_track *t, int64_t a, int64_t b)
{
	size_t i, j;
	int64_t had = 0;

	if (a <= t->base)
		a = t->base + 1;
	if (b < a)
		return 0;
	/* i: the first range that ends at or after a - 1 */
	for (i = 0; i < t->n_got && t->got[i].b < a - 1; i++)
		;
	/* j: one past the last range that starts at or before b + 1 */
	for (j = i; j < t->n_got && t->got[j].a <= b + 1; j++) {
		int64_t lo = t->got[j].a > a ? t->got[j].a : a;
		int64_t hi = t->got[j].b < b ? t->got[j].b : b;

		if (hi >= lo)
			had += hi - lo + 1;
	}
	if (i == j) {
		if (t->n_got == t->cap_got) {
			size_t cap = t->cap_got ? 2 * t->cap_got : 8;
			struct wt_range *g = realloc(t->got, cap * sizeof(*g));

			if (g == NULL)
				return -ENOMEM;
			t->got = g;
			t->cap_got = cap;
		}
		memmove(t->got + i + 1, t->got + i, (t->n_got - i) * sizeof(*t->got));
		t->got[i] = (struct wt_range){ a, b };
		t->n_got++;
	} else {
		struct wt_range m = { t->got[i].a < a ? t->got[i].a : a,
		    t->got[j - 1].b > b ? t->got[j - 1].b : b };

		t->got[i] = m;
		memmove(t->got + i + 1, t->got + j, (t->n_got - j) * sizeof(*t->got));
		t->n_got -= j - i - 1;
	}
	advance(t);
	return b - a + 1 - had;
}

/* One event arrived: 1 if it is new, 0 if a duplicate, -1 on error. */
int
track_seen(struct wt_track *t, int64_t seq)
{
	int64_t n;

	if (seq < 1 || seq > WT_SEQ_MAX)
		return -1;
	if (t->base < 0)
		t->base = seq - 1;
	if ((n = add(t, seq, seq)) < 0)
		return -1;
	if (n > 0)
		return 1;
	/*
	 * Given up, and here after all (a bridge that delivers its backlog
	 * after newer events): new, and no longer lost.
	 */
	switch (gone_take(t, seq)) {
	case 1:
		t->lost--;
		return 2;
	case 0:
		return 0;
	default:
		return -1;
	}
}

/*
 * The seq missing below the highest that arrived, as one range from the
 * first hole to the end of the last: 1 and [*from, *to], or 0 for none.
 */
int
track_gap(const struct wt_track *t, int64_t *from, int64_t *to)
{
	if (t->n_got == 0)
		return 0;
	*from = t->base + 1;
	*to = t->got[t->n_got - 1].a - 1;
	return 1;
}

/* How many seq of [from, to] have not arrived. */
int64_t
track_missing(const struct wt_track *t, int64_t from, int64_t to)
{
	int64_t n;

	if (from <= t->base)
		from = t->base + 1;
	if (t->base < 0 || to < from)
		return 0;
	n = to - from + 1;
	for (size_t i = 0; i < t->n_got; i++) {
		int64_t lo = t->got[i].a > from ? t->got[i].a : from;
		int64_t hi = t->got[i].b < to ? t->got[i].b : to;

		if (hi >= lo)
			n -= hi - lo + 1;
	}
	return n;
}

/*
 * Gives [from, to] up: what of it has not arrived is counted as lost and
 * no longer asked for.  Returns how many that were, or -ENOMEM.
 */
int64_t
track_give_up(struct wt_track *t, int64_t from, int64_t to)
{
	int64_t n;

	if (t->base < 0 || from < 1 || to > WT_SEQ_MAX)
		return 0;
	if (from <= t->base)
		from = t->base + 1;
	/* The holes of [from, to], remembered: one may still come. */
	for (int64_t a = from; a <= to; ) {
		size_t i;
		int64_t b = to;

		for (i = 0; i < t->n_got && t->got[i].b < a; i++)
			;
		if (i < t->n_got && t->got[i].a <= a) {
			a = t->got[i].b + 1;	/* arrived: skip it */
			continue;
		}
		if (i < t->n_got && t->got[i].a - 1 < b)
			b = t->got[i].a - 1;
		if (gone_add(t, a, b) != 0)
			return -ENOMEM;
		a = b + 1;
	}
	if ((n = add(t, from, to)) > 0)
		t->lost += n;
	return n;
}

int64_t
track_high(const struct wt_track *t)
{
	return t->n_got ? t->got[t->n_got - 1].b : t->base;
}

/* The state saved by an earlier run (hazmon-watch --state). */
int
track_restore(struct wt_track *t, int64_t base, const struct wt_range *r,
    size_t n)
{
	track_free(t);
	/* -1: no event of the site seen yet (track_init), so no ranges. */
	if (base < -1 || base > WT_SEQ_MAX || (base < 0 && n > 0))
		return -EINVAL;
	t->base = base;
	for (size_t i = 0; i < n; i++)
		if (r[i].a < 1 || r[i].b < r[i].a || r[i].b > WT_SEQ_MAX ||
		    add(t, r[i].a, r[i].b) < 0)
			return -EINVAL;
	return 0;
}
