/*
 * ctlcmd.h - the commands of the control socket (docs/control.md) and the
 * one view of the core they are given.
 *
 *   ctlcmd.c   one request line -> one answer line
 *
 * The commands never see struct core: they read what struct ctl_env
 * points to and change the core only through its callbacks, so they can
 * be run on a hand-made environment (tests/unit/test_ctlcmd.c,
 * tests/fuzz/fuzz_control.c).
 */
#ifndef HAZMON_CTLCMD_H
#define HAZMON_CTLCMD_H

#include <stdint.h>

#include "delivery.h"

struct ctl_ticket;	/* core.h: only handed on to the reload callback */

/*
 * What one request may read, and the only things it may do.  Valid for
 * one call of ctlcmd_run: a reload replaces the configuration, the
 * destinations and the workers.
 */
struct ctl_env {
	const struct hz_config *c;
	const struct hz_eval *ev;		/* sensor states, alarm levels */
	/*
	 * History and event counts.  Not const because the ledger's reads
	 * step SQLite statements; the commands only read.
	 */
	struct hz_ledger *l;
	const struct hz_pub *const *pubs;	/* per destination of c */
	const struct hz_worker *const *workers;	/* per bus of c; NULL: none */
	const struct hz_health *health;
	int64_t started, reloaded;		/* realtime ms; reloaded 0: never */
	unsigned reloads;

	/* Who asks, on which socket (core.h's struct ctl_peer). */
	const char *who;			/* "uid U pid P (name)"; NULL: actor */
	int read_only;		/* status, sensors, alarms, history, watch only */
	int warned;		/* a refusal was logged for this connection */
	int watch_full;		/* CTL_WATCHERS watch streams run already */

	/* An operator action (ack, shelve, ...): 0 or -errno (hz_command). */
	int (*action)(void *arg, const struct hz_command *cmd);
	/* A reload, answered later through the ticket (NULL: nobody waits). */
	void (*reload)(void *arg, const struct ctl_ticket *t);
	/* Every destination republishes its status and states. */
	void (*rebirth)(void *arg);
	/* Destination dest replays req's range (pub_replay): 0 or -EINVAL. */
	int (*replay)(void *arg, unsigned dest, const struct json_t *req,
	    const char *actor, struct replay_answer *a);
	void *arg;
};

/* What ctlcmd_run sets in *then, for the connection. */
#define CTL_HANGUP	1	/* end it after this answer */
#define CTL_WATCH	2	/* it is a watch stream from now on */
#define CTL_WARNED	4	/* a refusal was logged: not again on it */
#define CTL_WATCHERS	8	/* watch streams at once */

/*
 * Answers one request line (malloc'd JSON, one line); sets CTL_ flags in
 * *then.  NULL: the answer comes later (a reload).
 */
char *ctlcmd_run(const struct ctl_env *env, const char *line,
    const char *actor, int *then, const struct ctl_ticket *t);
/* A watch stream's state line of sensor i: its `sensors` entry, typed. */
char *ctlcmd_state_line(const struct ctl_env *env, unsigned i);

#endif
