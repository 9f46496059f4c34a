/*
 * hazmonctl.h - what the two halves of hazmonctl share: hazmonctl.c
 * parses the command line and talks to hazmond, hazmonctl-print.c turns
 * the answer into tables or JSON.
 */
#ifndef HAZMONCTL_H
#define HAZMONCTL_H

#include <stddef.h>

#include <jansson.h>

/* Exit statuses, as documented in hazmonctl(1). */
#define ES_REFUSED	1	/* hazmond said ok:false */
#define ES_USAGE	2
#define ES_NODAEMON	3	/* no conversation with hazmond */

extern int	 quiet;		/* -q: no confirmation after an action */

void	die(int, const char *, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));

/* hazmonctl-print.c: each gets the response and the request it answers */
void	show_status(json_t *, json_t *);
void	show_sensors(json_t *, json_t *);
void	show_alarms(json_t *, json_t *);
void	show_history(json_t *, json_t *);
void	show_ack(json_t *, json_t *);
void	show_shelve(json_t *, json_t *);
void	show_unshelve(json_t *, json_t *);
void	show_oos(json_t *, json_t *);
void	show_rebirth(json_t *, json_t *);
void	show_replay(json_t *, json_t *);
void	show_reload(json_t *, json_t *);
void	show_error(json_t *);	/* ok:false */
void	show_watch(json_t *);	/* one line of a watch stream */
void	print_json(const char *, size_t);

#endif
