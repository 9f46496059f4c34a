/*
 * sim-source.c - hazmon-sim's command streams: the -f script and the -c
 * FIFO, each with its own timeline (sleep) so serving never waits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getline, mkfifo */
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "hazmon-sim.h"

static struct command the_cmd; /* static: 4 KiB; single-threaded */

static void
report(const struct source *src, size_t lineno, const char *msg)
{
	if (src->is_script)
		fprintf(stderr, "%s:%zu: %s\n", src->path, lineno, msg);
	else
		fprintf(stderr, "%s: %s\n", src->path, msg);
}

static int
push_line(struct source *src, const char *line)
{
	if (src->nlines == src->cap) {
		size_t cap = src->cap ? 2 * src->cap : 64;
		char **p = realloc(src->lines, cap * sizeof *p);
		if (!p)
			return -1;
		src->lines = p;
		src->cap = cap;
	}
	if (!(src->lines[src->nlines] = strdup(line)))
		return -1;
	src->nlines++;
	return 0;
}

static void
clear_lines(struct source *src)
{
	for (size_t i = 0; i < src->nlines; i++)
		free(src->lines[i]);
	src->nlines = src->next = 0;
}

void
source_free(struct source *src)
{
	clear_lines(src);
	free(src->lines);
	src->lines = NULL;
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
	if (src->created)
		unlink(src->path);
	src->created = 0;
}

static void
exec_command(struct sim *s, struct source *src, const struct command *c,
    double now)
{
	switch (c->kind) {
	case CMD_NONE: break;
	case CMD_ECHO:
		printf("%s\n", c->text);
		fflush(stdout);
		break;
	case CMD_QUIT: s->quit = 1; break;
	case CMD_REPEAT: src->next = 0; break;
	case CMD_SLEEP:
		/* Advance from the previous due time, so a looping script keeps
		 * its period; re-anchor if we fell behind by more than a sleep. */
		src->due += c->seconds;
		if (src->due < now)
			src->due = now + c->seconds;
		break;
	default: plant_exec(s, c, now); break;
	}
}

/* Run the lines of src that are due, up to a budget so a burst of
 * commands cannot starve the Modbus clients. */
void
run_source(struct sim *s, struct source *src, double now)
{
	for (int budget = CMD_BUDGET; budget > 0 && !s->quit &&
	     src->next < src->nlines && now >= src->due;
	     budget--) {
		size_t idx = src->next++;
		if (parse_command(src->lines[idx], s->size, src->is_script,
		        &the_cmd) < 0)
			report(src, idx + 1, sim_parse_error);
		else
			exec_command(s, src, &the_cmd, now);
	}
	if (!src->is_script && src->next == src->nlines)
		clear_lines(src);
}

/* Check the whole script before serving, so a typo in a test scenario
 * fails loudly at startup instead of minutes into a run. */
static int
validate_script(struct source *src, int size)
{
	double slept = 0;
	int bad = 0;

	for (size_t i = 0; i < src->nlines; i++) {
		const char *err = NULL;
		if (parse_command(src->lines[i], size, 1, &the_cmd) < 0)
			err = sim_parse_error;
		else if (the_cmd.kind == CMD_SLEEP)
			slept += the_cmd.seconds;
		else if (the_cmd.kind == CMD_REPEAT && !(slept > 0))
			err = "repeat needs a sleep > 0 before it, or the "
			      "script would spin";
		if (err) {
			report(src, i + 1, err);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

int
load_script(struct source *src, int size)
{
	FILE *f = fopen(src->path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (!f)
		return complain("%s: %s", src->path, strerror(errno));
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		rc = push_line(src, line);
	}
	free(line);
	fclose(f);
	return rc < 0 ? complain("%s: out of memory", src->path) :
	                validate_script(src, size);
}

/* O_RDWR keeps a writer open ourselves, so the FIFO never reports EOF
 * and writers never block waiting for a reader. */
int
fifo_open(struct source *src)
{
	struct stat st;

	if (mkfifo(src->path, 0600) == 0)
		src->created = 1;
	else if (errno != EEXIST)
		return complain("%s: %s", src->path, strerror(errno));
	if ((src->fd = open(src->path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    fstat(src->fd, &st) < 0)
		return complain("%s: %s", src->path, strerror(errno));
	if (!S_ISFIFO(st.st_mode))
		return complain("%s: exists and is not a FIFO", src->path);
	return 0;
}

/* Queue one complete FIFO line (in part[]). */
static void
fifo_queue_line(struct source *src, double now)
{
	src->part[src->partlen] = '\0';
	/* An idle queue's due time is stale: a new sleep counts from now. */
	if (src->next == src->nlines && src->due < now)
		src->due = now;
	if (src->overlong)
		report(src, 0, "line too long, ignored");
	else if (push_line(src, src->part) < 0)
		report(src, 0, "out of memory, line dropped");
	src->partlen = 0;
	src->overlong = 0;
}

/* Split FIFO input into lines; an unfinished line waits in part[]. */
void
fifo_read(struct source *src, double now)
{
	char buf[LINE_LEN];
	ssize_t n;

	while ((n = read(src->fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				fifo_queue_line(src, now);
			else if (src->partlen < sizeof src->part - 1)
				src->part[src->partlen++] = buf[i];
			else
				src->overlong = 1;
}
