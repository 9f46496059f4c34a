/*
 * sim-stats.c - hazmon-sim's request counters, printed by `stats` to
 * stdout and, with -S FILE, also written to FILE as `key value` lines.
 *
 * Every request the simulator takes off the wire is counted once, also
 * when a fault keeps it unanswered and when no such unit exists, so a
 * test can assert exactly how many requests a master made.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hazmon-sim.h"

/* Write then rename, so a test waiting for the file never reads it
 * half-written. */
static int
write_stats_file(const struct sim *s)
{
	const struct counters *c = &s->st;
	char tmp[4096];
	FILE *f = atomic_open(s->statsfile, tmp, sizeof tmp);

	if (!f)
		return -1;
	fprintf(f, "requests %lu\nbad_frames %lu\n", c->total, c->bad_frames);
	for (int u = 0; u < NUM_UNITS; u++) {
		unsigned long sum = 0;
		for (int fc = 0; fc < NUM_FC; fc++)
			sum += c->requests[u][fc];
		if (sum)
			fprintf(f, "unit.%d.requests %lu\n", u, sum);
		for (int fc = 0; sum && fc < NUM_FC; fc++)
			if (c->requests[u][fc])
				fprintf(f,
				    "unit.%d.fc.%d.requests "
				    "%lu\nunit.%d.fc.%d.items %lu\n",
				    u, fc, c->requests[u][fc], u, fc,
				    c->items[u][fc]);
	}
	return atomic_commit(f, tmp, s->statsfile);
}

/* Opens PATH.tmp for writing; atomic_commit renames it over PATH, so a
 * test polling for PATH never reads it half-written. */
FILE *
atomic_open(const char *path, char *tmp, size_t len)
{
	FILE *f = NULL;

	if ((size_t)snprintf(tmp, len, "%s.tmp", path) >= len)
		errno = ENAMETOOLONG;
	else
		f = fopen(tmp, "w");
	if (!f)
		complain("%s: %s", path, strerror(errno));
	return f;
}

int
atomic_commit(FILE *f, const char *tmp, const char *path)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return complain("%s: %s", path,
		    bad ? "write error" : strerror(errno));
	}
	return 0;
}

void
stats_print(struct sim *s)
{
	const struct counters *c = &s->st;

	for (int u = 0; u < NUM_UNITS; u++)
		for (int fc = 0; fc < NUM_FC; fc++)
			if (c->requests[u][fc])
				printf("stats unit=%d fc=%d requests=%lu "
				       "items=%lu\n",
				    u, fc, c->requests[u][fc], c->items[u][fc]);
	if (s->rtu)
		printf("stats bad_frames=%lu\n", c->bad_frames);
	printf("stats total requests=%lu\n", c->total);
	fflush(stdout);
	if (s->statsfile)
		write_stats_file(s);
}

void
stats_reset(struct sim *s)
{
	memset(&s->st, 0, sizeof s->st);
}
