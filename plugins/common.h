/*
 * common.h - helpers shared by the built-in plugins.
 *
 * common.c is compiled into each plugin module; only the two entry points
 * of a module are exported, so these names never clash between plugins.
 * Everything goes through struct hazmon_host, like any out-of-tree plugin.
 */
#ifndef HAZMON_PLUGINS_COMMON_H
#define HAZMON_PLUGINS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "hazmon-plugin.h"

/* calloc that reports its failure against the sensor. */
void *common__alloc(const struct hazmon_host *h, struct hazmon_cfg *g,
    size_t size);

/* Reads `unit` (def when absent) into su->unit.  Returns 0 or -1. */
int common__unit(const struct hazmon_host *h, struct hazmon_cfg *g,
    const char *def, struct hazmon_sensor_setup *su);

/* Reads optional `min` and `max` (NAN when absent).  Returns 0 or -1. */
int common__min_max(const struct hazmon_host *h, struct hazmon_cfg *g,
    double *lo, double *hi);

/* Declares the block a register value occupies; returns its slice index. */
int common__need(const struct hazmon_host *h, struct hazmon_sensor_setup *su,
    const struct hazmon_register *r);

/*
 * Reads a register holding an integer code (status word, decimal point):
 * int16/uint16/int32/uint32, no scale or offset.  Returns like the host
 * getters: 0 found, 1 absent, -1 bad (reported).
 */
int common__code_register(const struct hazmon_host *h, struct hazmon_cfg *g,
    const char *key, struct hazmon_register *r);
/* The same checks for a register already read. */
int common__code_check(const struct hazmon_host *h, struct hazmon_cfg *g,
    const char *key, const struct hazmon_register *r);

/*
 * Reads a bit mask `key` for code register r (NULL when the register is
 * not configured, which makes the mask an error).  Returns 0 or -1.
 */
int common__mask(const struct hazmon_host *h, struct hazmon_cfg *g,
    const char *key, const struct hazmon_register *r, const char *rkey,
    uint32_t *mask);

/* Decodes a code register into its bits.  Returns 0, or -1 if not covered. */
int common__code(const struct hazmon_host *h, const struct hazmon_register *r,
    const struct hazmon_slice *s, uint32_t *out);

/* Decodes r without its scale and offset: the number the device sent. */
int common__raw(const struct hazmon_host *h, const struct hazmon_register *r,
    const struct hazmon_slice *s, double *out);

/* Marks a reading faulty for reason flag (HAZMON_F_*). */
void common__fault(struct hazmon_reading *out, uint32_t flag);
/* Marks a reading out of service (warm-up, calibration) unless it is faulty. */
void common__service(struct hazmon_reading *out, uint32_t flag);
/* Over/under-range fault when v is above hi or below lo (NAN: no limit). */
void common__limit(struct hazmon_reading *out, double v, double lo, double hi);

/*
 * One numeric channel: a register, a unit and an optional measuring range,
 * as the temperature and generic plugins read it.
 */
struct common_scalar {
	struct hazmon_register reg;
	int slice;
	double lo, hi;			/* measuring range; NAN: open */
};
int common__scalar_configure(const struct hazmon_host *h, struct hazmon_cfg *g,
    struct hazmon_sensor_setup *su, struct common_scalar *sc,
    const char *plugin, const char *def_unit, int allow_bit);
/*
 * Decodes the channel.  A raw value equal to one of the n sentinels, NaN
 * or Inf is a bad_value fault with no value; outside lo..hi is a range
 * fault that keeps the value.
 */
void common__scalar_decode(const struct hazmon_host *h,
    const struct common_scalar *sc, const struct hazmon_slice *sl,
    const double *sentinels, unsigned n, struct hazmon_reading *out);

/*
 * Appends "what table address type order scale S offset O" and a newline
 * to buf (for describe), as much as fits.
 */
void common__describe_register(char *buf, size_t len, const char *what,
    const struct hazmon_register *r);
/* Appends printf text to buf, as much as fits. */
void common__describe(char *buf, size_t len, const char *fmt, ...)
    HAZMON_PRINTF(3, 4);

/*
 * The description and both entry points of a built-in plugin.  An
 * out-of-tree plugin writes them out (docs/examples/example-plugin.c).
 */
#define COMMON_PLUGIN(var, name_, version_, configure_, decode_, check_)	\
	COMMON_PLUGIN_DESCRIBED(var, name_, version_, configure_, decode_,	\
	    check_, NULL)
#define COMMON_PLUGIN_DESCRIBED(var, name_, version_, configure_, decode_,	\
    check_, describe_)							\
	static const struct hazmon_plugin var = {			\
		.abi = HAZMON_PLUGIN_ABI,				\
		.struct_size = sizeof(struct hazmon_plugin),		\
		.name = name_,						\
		.version = version_,					\
		.configure = configure_,				\
		.decode = decode_,					\
		.free_ctx = free,					\
		.check_levels = check_,					\
		.describe = describe_,					\
	};								\
	HAZMON_EXPORT uint32_t hazmon_plugin_abi(void);			\
	HAZMON_EXPORT const struct hazmon_plugin *hazmon_plugin_describe(void); \
	uint32_t							\
	hazmon_plugin_abi(void)						\
	{								\
		return HAZMON_PLUGIN_ABI;				\
	}								\
	const struct hazmon_plugin *					\
	hazmon_plugin_describe(void)					\
	{								\
		return &var;						\
	}

#endif /* HAZMON_PLUGINS_COMMON_H */
