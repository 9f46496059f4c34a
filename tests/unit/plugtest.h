/*
 * plugtest.h - what the plugin unit tests share: load a built plugin,
 * configure a sensor from libconfig text (or load a whole config through
 * the core), decode plain arrays, and look at what was logged.
 */
#ifndef PLUGTEST_H
#define PLUGTEST_H

#include "hazmond.h"

extern const struct hazmon_plugin *pt;	/* the plugin under test */
extern char pt_log[];			/* what the last call logged */

/* Loads plugins/.libs/NAME.so of the build; returns 0, or 1 after a message. */
int pt_init(const char *name);

/* Configures one sensor from the text of its group; returns the error count. */
extern unsigned pt_config_levels;	/* levels the sensor's config sets; default 1 */
int pt_configure(const char *text, struct hazmon_sensor_setup *su);
void pt_free(struct hazmon_sensor_setup *su);

/*
 * Loads a config with one sensor of the plugin on bus "line1", whose
 * group holds `sensor` (from line 5 on), the way hazmond -t does.
 */
struct hz_config *pt_load(const char *sensor, int *errors);

/* Decodes one reading from slices (one per declared need). */
struct hazmon_reading pt_decode(const struct hazmon_sensor_setup *su,
    const struct hazmon_slice *sl);
/* The same for a sensor with one register need. */
struct hazmon_reading pt_regs(const struct hazmon_sensor_setup *su,
    const uint16_t *w, uint16_t n);

/* Fails the test unless pt_log contains text. */
void pt_expect(const char *text);

/* Settings a plugin must refuse, each with exactly one error saying msg. */
struct pt_bad {
	const char *text, *msg;
};
void pt_refuse(const struct pt_bad *bad, size_t n);
#define PT_REFUSE(table) pt_refuse(table, sizeof(table) / sizeof(table[0]))

#endif /* PLUGTEST_H */
