/*
 * track.h - what hazmon-watch knows of one site's seq (track.c, pure):
 * which events arrived, which are missing, which were given up as lost.
 */
#ifndef HAZMON_WATCH_TRACK_H
#define HAZMON_WATCH_TRACK_H

#include <stddef.h>
#include <stdint.h>

/* Larger seq are refused: no site has them, and the sums must not overflow. */
#define WT_SEQ_MAX	(INT64_MAX / 4)

struct wt_range {
	int64_t a, b;			/* inclusive */
};

struct wt_track {
	int64_t base;			/* every seq <= base is in; -1: none seen yet */
	struct wt_range *got;		/* seen above base: sorted, apart */
	size_t n_got, cap_got;
	int64_t lost;			/* given up (track_give_up) */
	struct wt_range *gone;		/* the seq given up, sorted, apart */
	size_t n_gone, cap_gone;
};

void track_init(struct wt_track *t);
void track_free(struct wt_track *t);
int track_seen(struct wt_track *t, int64_t seq);	/* 1 new, 0 duplicate, -1 bad */
/* 2: new, but given up before (it came after all) */
int track_gap(const struct wt_track *t, int64_t *from, int64_t *to);
int64_t track_missing(const struct wt_track *t, int64_t from, int64_t to);
int64_t track_give_up(struct wt_track *t, int64_t from, int64_t to);
int64_t track_high(const struct wt_track *t);	/* highest seq in; -1: none */
int track_restore(struct wt_track *t, int64_t base, const struct wt_range *r,
    size_t n);

#endif
