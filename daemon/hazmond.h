/*
 * hazmond.h - the map of the daemon, and what main.c calls.
 *
 * The daemon is layered; each folder of daemon/ is one box of
 * ARCHITECTURE.md and may use only the folders above it in this list
 * (the build gives each folder the include path of its layers only):
 *
 *   base/      base.h      log, rate limit, clocks, allocation
 *   modbus/    mb.h        register decoding, request planning, frame
 *                          checks and error codes (pure)
 *   config/    model.h     the configuration model: loading, validation,
 *                          fingerprints, -t -v dump, host API, plugin loader
 *   bus/       bus.h       bus workers, their Modbus links, the queue to
 *                          the core
 *   alarm/     alarm.h     the alarm state machine (pure), the evaluator,
 *                          state views, operator commands
 *   delivery/  delivery.h  the ledger, the MQTT JSON, MQTT destinations
 *   core/      core.h      the core thread: loop, control socket and its
 *                          commands, reload and swap
 *   main.c, probe.c        entry points: the daemon, -t, --probe
 *
 * Each folder's header lists its files and their one concern.  Plugins
 * see include/hazmon-plugin.h only.
 *
 * Naming: a module's functions are prefixed with its name (ledger_,
 * pub_, eval_); `name__x` is internal to a folder, shared between its
 * files only; file-local functions are static and unprefixed.
 * Return codes: 0 on success and -1 with errno set, or -errno, as each
 * declaration says; pointers are NULL on failure.
 */
#ifndef HAZMOND_H
#define HAZMOND_H

#include "base.h"
#include "mb.h"
#include "model.h"
#include "bus.h"
#include "alarm.h"
#include "delivery.h"

/* probe.c: hazmond --probe */
int probe_run(const struct hz_config *c, char *const *ids, int n);

/* core/core.c: the daemon's main loop, until SIGTERM */
int core_run(struct hz_config *c, const char *plugin_dir_override, int debug);

#endif /* HAZMOND_H */
