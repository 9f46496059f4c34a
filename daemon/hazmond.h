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
 *   delivery/  delivery.h  the ledger, the batch (durability policy), the
 *                          MQTT JSON, MQTT destinations
 *   core/      core.h      the core thread: loop, control socket and its
 *                          commands, reload: its plan (pure) and the swap
 *   main.c, probe.c        entry points: the daemon, -t, --probe
 *
 * Each folder's header lists its files and their one concern.  Plugins
 * see include/hazmon-plugin.h only.
 *
 * Naming: a module's functions are prefixed with its name (ledger_,
 * pub_, eval_); `name__x` is internal to a folder, shared between its
 * files only; file-local functions are static and unprefixed.
 * Return codes, for every function a header declares: 0 (or a count, a
 * sequence number, an index >= 0) on success and a negative errno on
 * failure (-EIO where SQLite failed without one); callers test `< 0` or
 * `!= 0`, and no result travels in errno.  Pointers are NULL on failure,
 * predicates are 1 or 0, and lookups (ids_find, eval_find,
 * log_level_parse) return -1 for "none", as ledger_cursor does for "no
 * cursor yet".  Two exceptions: the plugin host's functions (hostapi.c,
 * decode.c behind them) keep the conventions hazmon-plugin.h documents,
 * and a file-local helper that wraps system calls may return -1 with
 * errno set, as they do.
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
