/*
 * gas-table.h - the gases the gas plugin knows, and the default alarm
 * levels GB/T 50493-2019 gives for them.
 */
#ifndef HAZMON_PLUGINS_GAS_TABLE_H
#define HAZMON_PLUGINS_GAS_TABLE_H

#include <stddef.h>

#include "hazmon-plugin.h"

enum gas_class { GAS_COMBUSTIBLE, GAS_TOXIC, GAS_OXYGEN };

/* Oxygen deficiency and enrichment alarms of GB/T 50493-2019, %VOL. */
#define GAS_O2_LOW	19.5
#define GAS_O2_HIGH	23.5

struct gas_info {
	const char *formula;		/* as written in `gas`, e.g. "H2S" */
	const char *name;		/* also accepted, e.g. "hydrogen sulphide" */
	enum gas_class cls;
	double molar_mass;		/* g/mol (toxic gases) */
	double limit;			/* exposure limit in mg/m3 (toxic gases) */
};

/* The gas named by formula or name, any case; NULL if unknown. */
const struct gas_info *gas_table__find(const char *s);
/* The known formulas, space separated, for messages. */
void gas_table__names(char *buf, size_t len);

/* The unit a class reads in by default, and whether unit fits the gas. */
const char *gas_table__default_unit(enum gas_class cls);
int gas_table__unit_ok(const struct gas_info *gi, const char *unit);
const char *gas_table__units(enum gas_class cls);

/* mg/m3 -> ppm at 25 degC and 101.325 kPa (molar volume 24.45 l). */
double gas_table__ppm(double mg_m3, double molar_mass);

/*
 * Fills out[] (room for HAZMON_MAX_DEFAULT_LEVELS) with the default
 * levels in unit, which gas_table__unit_ok() accepted; returns how many.
 */
unsigned gas_table__defaults(const struct gas_info *gi, const char *unit,
    struct hazmon_level *out);

/*
 * The highest setpoints the standard allows, in unit: the first level and
 * any level above.  Returns 0 and sets both, or -1 where it sets none
 * (oxygen, whose limits are GAS_O2_LOW and GAS_O2_HIGH, or a sensor
 * without a gas in another unit than %LEL).
 */
int gas_table__limits(const struct gas_info *gi, const char *unit,
    double *first, double *any);

#endif /* HAZMON_PLUGINS_GAS_TABLE_H */
