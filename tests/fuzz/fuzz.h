/*
 * fuzz.h - what the libFuzzer targets share (tests/fuzz/README.md):
 *
 *   fuzz-common.c   quiet logging with capture, the plugin directory and
 *                   plugins kept loaded, a scratch directory, an input reader
 *   fuzz_config.c   a whole hazmond.conf through config_load
 *   fuzz_reply.c    Modbus reply frames (mbframe.c), then plugin decode
 *   fuzz_ledger.c   a damaged ledger file through ledger.c and the evaluator
 *   mkledger.c      writes the ledger seed of fuzz_ledger's corpus
 */
#ifndef HAZMON_FUZZ_H
#define HAZMON_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "hazmond.h"

/*
 * Once per process: logging goes nowhere (FUZZ_VERBOSE=1 in the
 * environment shows it, to look at one input), stdout to /dev/null,
 * stdin from it; with `plugins`, fz_pin_plugins() too.
 */
void fz_init(int plugins);

/* Collects this input's messages of priority <= warning; end returns them
 * (malloc'd) or NULL when there were none. */
void fz_log_begin(void);
char *fz_log_end(void);

/* Where the fuzz build put its plugins (HAZMON_FUZZ_PLUGIN_DIR overrides). */
const char *fz_plugin_dir(void);
/*
 * Loads the four plugins once and keeps them loaded for the whole run:
 * the loader's dlopen and dlclose of each input then only count
 * references, so an instrumented module is never unmapped under
 * libFuzzer's coverage counters.  Exits on failure.
 */
void fz_pin_plugins(void);
/* The plugin loaded through the daemon's own loader (plugin.c). */
const struct hazmon_plugin *fz_plugin(const char *name);

/*
 * A private scratch directory for one input (in /dev/shm when there is
 * one: the ledger's fsyncs cost nothing there), and its removal with the
 * files in it.  libFuzzer ends with _Exit, past any atexit handler, so
 * nothing outlives an input but the directory of one that crashed.
 */
const char *fz_scratch_begin(void);
void fz_scratch_end(void);
/* Writes n bytes to path (replacing it); exits on failure. */
void fz_write_file(const char *path, const uint8_t *p, size_t n);

/* Reads an input from its front; past the end every byte is 0. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};
uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
/* The next n bytes (fewer at the end: *got says how many). */
const uint8_t *fz_take(struct fz_in *in, size_t n, size_t *got);

/* Aborts with a message: an invariant of the code under test broke. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
    noreturn));

#endif
