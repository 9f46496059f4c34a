/*
 * hazmon-plugin.h - the interface between hazmond and its sensor plugins.
 *
 * A plugin is a decoder: it reads its own settings from the sensor's config
 * group, declares which Modbus registers or bits it needs, and turns the raw
 * words the core read into one reading.  It never does I/O.  Everything it
 * needs from the core (config access, error reporting, register decoding)
 * comes through struct hazmon_host, so a plugin links against nothing and can
 * be unit-tested with plain arrays.
 *
 * A plugin exports exactly two symbols:
 *
 *   uint32_t hazmon_plugin_abi(void);            returns HAZMON_PLUGIN_ABI
 *   const struct hazmon_plugin *hazmon_plugin_describe(void);
 *
 * The core calls hazmon_plugin_abi() first and refuses the plugin unless the
 * major version (upper 16 bits) equals its own and the minor version is not
 * newer than its own.  Structs crossing the boundary carry spare room so that
 * minor versions can grow them.
 *
 * See docs/plugins.md for a worked example.
 */
#ifndef HAZMON_PLUGIN_H
#define HAZMON_PLUGIN_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HAZMON_PLUGIN_ABI_MAJOR 1
#define HAZMON_PLUGIN_ABI_MINOR 3
#define HAZMON_PLUGIN_ABI \
	((uint32_t)HAZMON_PLUGIN_ABI_MAJOR << 16 | HAZMON_PLUGIN_ABI_MINOR)

#if defined(__GNUC__)
#define HAZMON_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HAZMON_EXPORT __attribute__((visibility("default")))
#else
#define HAZMON_PRINTF(a, b)
#define HAZMON_EXPORT
#endif

/* Modbus tables. */
enum hazmon_table {
	HAZMON_TABLE_COIL = 0,		/* FC1, read/write bits */
	HAZMON_TABLE_DISCRETE = 1,	/* FC2, read-only bits */
	HAZMON_TABLE_HOLDING = 2,	/* FC3, read/write registers */
	HAZMON_TABLE_INPUT = 3		/* FC4, read-only registers */
};

/* Value types and word/byte orders of a register value. */
enum hazmon_type {
	HAZMON_TYPE_INT16, HAZMON_TYPE_UINT16,
	HAZMON_TYPE_INT32, HAZMON_TYPE_UINT32, HAZMON_TYPE_FLOAT32,
	HAZMON_TYPE_INT64, HAZMON_TYPE_UINT64, HAZMON_TYPE_FLOAT64,
	HAZMON_TYPE_BIT
};

/*
 * Byte orders, named as libmodbus names its float helpers: the letters are
 * the bytes of the big-endian value (A most significant) in the order they
 * appear on the wire.  ABCD is the Modbus convention (high word first);
 * CDAB swaps words; BADC swaps bytes in each word; DCBA does both.  For
 * 64-bit values the same rule applies to all eight bytes.
 */
enum hazmon_order {
	HAZMON_ORDER_ABCD, HAZMON_ORDER_CDAB, HAZMON_ORDER_BADC, HAZMON_ORDER_DCBA
};

/* A typed value at a Modbus address, as written in a `register = {...}` group. */
struct hazmon_register {
	enum hazmon_table table;
	uint16_t address;		/* 0-based protocol address */
	enum hazmon_type type;
	enum hazmon_order order;
	double scale;			/* value = raw * scale + offset */
	double offset;
	int line;			/* config line, for messages */
};

/* One block of registers or bits that a sensor needs, in one table. */
#define HAZMON_MAX_NEEDS 4
struct hazmon_need {
	enum hazmon_table table;
	uint16_t address;
	uint16_t count;			/* registers, or bits */
};

/* What the core read for one need. Bits are one per byte (0 or 1). */
struct hazmon_slice {
	const uint16_t *regs;		/* for register tables */
	const uint8_t *bits;		/* for coil/discrete */
	uint16_t count;
};

/* Quality of a reading, most severe last. */
enum hazmon_quality {
	HAZMON_Q_OK = 0,
	HAZMON_Q_OUT_OF_SERVICE,	/* warm-up, calibration, maintenance */
	HAZMON_Q_FAULT			/* no trustworthy value */
};

/* Why a reading is not ok; several may be set. */
#define HAZMON_F_COMM		0x0001u	/* read failed (set by the core) */
#define HAZMON_F_DEVICE_FAULT	0x0002u	/* device reports a fault */
#define HAZMON_F_OVER_RANGE	0x0004u	/* above the measuring range */
#define HAZMON_F_UNDER_RANGE	0x0008u	/* below the measuring range */
#define HAZMON_F_BAD_VALUE	0x0010u	/* NaN, Inf, sentinel */
#define HAZMON_F_WARMUP		0x0020u
#define HAZMON_F_CALIBRATION	0x0040u
#define HAZMON_F_DEVICE_ALARM	0x0080u	/* device's own alarm output */
#define HAZMON_F_FROZEN		0x0100u	/* value unchanged too long (set by the core) */
/* The device answered, but with a Modbus exception or a reply that fails
 * the checks of its request (set by the core). */
#define HAZMON_F_DEVICE_ERROR	0x0200u

struct hazmon_reading {
	double value;			/* engineering units; NaN when none */
	enum hazmon_quality quality;
	uint32_t flags;			/* HAZMON_F_* */
	void *future[2];
};

/* An opaque config group (a sensor, or a group inside it). */
struct hazmon_cfg;
struct hazmon_level;

/*
 * What the core offers a plugin.  Getters return 0 when the key was found
 * and had the right type, 1 when it is absent (*out untouched, so set the
 * default first), and -1 on a wrong type (already reported with file:line).
 * A key a plugin reads is "known"; any other key in the sensor's group is
 * reported by the core as an error, so a typo never silently drops a setting.
 */
struct hazmon_host {
	uint32_t abi;
	uint32_t struct_size;
	int (*get_string)(struct hazmon_cfg *g, const char *key, const char **out);
	int (*get_number)(struct hazmon_cfg *g, const char *key, double *out);
	int (*get_int)(struct hazmon_cfg *g, const char *key, long long *out);
	int (*get_bool)(struct hazmon_cfg *g, const char *key, int *out);
	/*
	 * Parses `key = { table; address; type; order; scale; offset; }`.
	 * ABI 1.1: key NULL parses those keys of g itself, a group from
	 * get_group that holds more (e.g. a status word and its masks).
	 */
	int (*get_register)(struct hazmon_cfg *g, const char *key,
	    struct hazmon_register *out);
	/* Reports an error at the key's line (or the group's if key is NULL). */
	void (*error)(struct hazmon_cfg *g, const char *key, const char *fmt, ...)
	    HAZMON_PRINTF(3, 4);
	void (*warn)(struct hazmon_cfg *g, const char *key, const char *fmt, ...)
	    HAZMON_PRINTF(3, 4);
	/* Words (or bits) a register value occupies. */
	unsigned (*register_words)(const struct hazmon_register *r);
	/*
	 * Decodes a register value from a slice whose first element is at
	 * slice_address.  Returns 0, or -1 when the slice does not cover it.
	 * Scale and offset are applied; NaN/Inf pass through for the plugin
	 * to judge.
	 */
	int (*decode)(const struct hazmon_register *r, uint16_t slice_address,
	    const struct hazmon_slice *s, double *out);
	/*
	 * ABI 1.1 (a plugin that calls these returns minor >= 1 from
	 * hazmon_plugin_abi, so an older host refuses it).
	 *
	 * get_group: the nested group `key = { ... }` of g in *out, owned by
	 * the host and valid until setup returns; its keys are checked for
	 * typos like g's.  Returns 0, 1 when absent, -1 when not a group
	 * (reported).
	 *
	 * get_numbers: `key = [ 1, 2.5, 0x7FFF ]` (an array or list of
	 * numbers), at most max of them into out, their count in *n.  Returns
	 * 0, 1 when absent, -1 on a wrong type or more than max (reported).
	 */
	int (*get_group)(struct hazmon_cfg *g, const char *key,
	    struct hazmon_cfg **out);
	int (*get_numbers)(struct hazmon_cfg *g, const char *key, double *out,
	    unsigned max, unsigned *n);
	/*
	 * ABI 1.2, for check_levels: level lv of g departs from a standard
	 * the plugin knows; fmt says how ("at 30 %LEL is above the 25 %LEL
	 * that GB/T 50493-2019 allows for a first level").  An error at the
	 * level's line, unless the level carries `standard_override =
	 * "reason";`, which makes it a notice quoting the reason.  lv must be
	 * one of the levels check_levels was given.
	 */
	void (*departs)(struct hazmon_cfg *g, const struct hazmon_level *lv,
	    const char *fmt, ...) HAZMON_PRINTF(3, 4);
	void *future[5];
};

/*
 * An alarm level.  The core parses `levels = ( ... )` from the config into
 * these; a plugin may propose defaults (setup->defaults) that apply when
 * the config sets no levels, and may check configured ones (check_levels).
 */
/* RATE: the setpoint is a rate of change in units per minute; a negative
 * one watches a fall. */
enum hazmon_dir { HAZMON_ABOVE, HAZMON_BELOW, HAZMON_RATE };
#define HAZMON_LEVEL_NAME_MAX 32
#define HAZMON_PRIORITY_MAX 16
struct hazmon_level {
	char name[HAZMON_LEVEL_NAME_MAX];	/* e.g. "first", "high", "fire" */
	enum hazmon_dir dir;
	double setpoint;
	double deadband;		/* clears this far back past the setpoint */
	double on_delay;		/* seconds the condition must hold */
	double off_delay;		/* seconds it must be clear */
	char priority[HAZMON_PRIORITY_MAX];	/* low | medium | high | urgent */
	int latch;			/* stays until acknowledged */
	int line;			/* config line, 0 for a default */
	/*
	 * ABI 1.2: the reason of the level's `standard_override`, owned by
	 * the core; NULL when it has none (always for a plugin's defaults).
	 */
	const char *standard_override;
	void *future[1];
};
#define HAZMON_MAX_DEFAULT_LEVELS 4

/* What a plugin fills in when it configures one sensor. */
struct hazmon_sensor_setup {
	const char *id;			/* in: sensor id, for messages */
	unsigned n_config_levels;	/* in: alarm levels the config sets */
	struct hazmon_need needs[HAZMON_MAX_NEEDS];	/* out */
	unsigned n_needs;		/* out */
	char unit[24];			/* out: engineering unit, e.g. "%LEL" */
	void *ctx;			/* out: plugin state for decode() */
	/* out: levels that apply when the config sets none */
	struct hazmon_level defaults[HAZMON_MAX_DEFAULT_LEVELS];
	unsigned n_defaults;
	void *future[4];
	/*
	 * ABI 1.3, out, optional: what the sensor measures, for the retained
	 * catalogue (docs/mqtt.md).  The host owns this struct and grows it
	 * here, at its end; it sets gas to "" and the range to NaN before
	 * calling configure(), and reads them only from a plugin that says
	 * 1.3 or newer, so what a plugin leaves alone is null in the
	 * catalogue.  gas: e.g. "CH4", "H2S"; range: the measuring range in
	 * the unit (low, high), NaN for an end the plugin does not know.
	 */
	char gas[24];
	double range_low, range_high;
};

struct hazmon_plugin {
	uint32_t abi;			/* HAZMON_PLUGIN_ABI */
	uint32_t struct_size;		/* sizeof(struct hazmon_plugin) */
	const char *name;
	const char *version;
	/* Parse settings; return 0, or -1 after reporting errors via host. */
	int (*configure)(const struct hazmon_host *host, struct hazmon_cfg *g,
	    struct hazmon_sensor_setup *setup);
	/*
	 * Decode one reading; slices match setup->needs one to one.  Runs on
	 * a bus worker thread: ctx is read-only here.
	 */
	void (*decode)(const struct hazmon_host *host, const void *ctx,
	    const struct hazmon_slice *slices, struct hazmon_reading *out);
	void (*free_ctx)(void *ctx);
	/*
	 * Optional: look at the levels the config sets (for warnings such as
	 * a gas level above what the standard allows).  Called after
	 * configure() succeeded, only when the config has levels.
	 */
	void (*check_levels)(const struct hazmon_host *host, struct hazmon_cfg *g,
	    const void *ctx, const struct hazmon_level *levels, unsigned n);
	/*
	 * Optional, ABI 1.2 (called only when hazmon_plugin_abi() says 1.2 or
	 * newer): describe the settings configure() parsed, for an engineer
	 * checking a register map with `hazmond -t -v`.  Write lines of text
	 * ("register holding 0 float32 CDAB scale 1 offset 0") separated by
	 * '\n' into buf, at most len bytes with the NUL.
	 */
	void (*describe)(const struct hazmon_host *host, const void *ctx,
	    char *buf, size_t len);
	void *future[2];
};

typedef uint32_t (*hazmon_plugin_abi_fn)(void);
typedef const struct hazmon_plugin *(*hazmon_plugin_describe_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* HAZMON_PLUGIN_H */
