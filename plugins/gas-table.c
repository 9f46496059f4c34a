/*
 * gas-table.c - gases, their classes and limits, and the default alarm
 * levels of GB/T 50493-2019 (combustible and toxic gas detection at
 * petrochemical sites):
 *
 *   combustible  first <= 25 %LEL, second <= 50 %LEL; we default to 20/50
 *   toxic        first <= 100 % of the occupational exposure limit (OEL),
 *                second <= 200 %; we default to exactly that
 *   oxygen       deficiency 19.5 %VOL, enrichment 23.5 %VOL
 *
 * The limits of toxic gases are in mg/m3 (China's occupational exposure
 * limits, GBZ 2.1); a detector reading ppm gets them converted at 25 degC.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gas-table.h"

static const struct gas_info gases[] = {
	{ "CH4",   "methane",          GAS_COMBUSTIBLE, 0, 0 },
	{ "C3H8",  "propane",          GAS_COMBUSTIBLE, 0, 0 },
	{ "C4H10", "butane",           GAS_COMBUSTIBLE, 0, 0 },
	{ "H2",    "hydrogen",         GAS_COMBUSTIBLE, 0, 0 },
	{ "C2H2",  "acetylene",        GAS_COMBUSTIBLE, 0, 0 },
	{ "C2H4",  "ethylene",         GAS_COMBUSTIBLE, 0, 0 },
	{ "C2H6",  "ethane",           GAS_COMBUSTIBLE, 0, 0 },
	/* A detector calibrated for "combustibles" in general. */
	{ "LEL",   "combustible",      GAS_COMBUSTIBLE, 0, 0 },
	{ "H2S",   "hydrogen sulfide", GAS_TOXIC, 34.08, 10 },
	{ "CO",    "carbon monoxide",  GAS_TOXIC, 28.01, 20 },
	{ "NH3",   "ammonia",          GAS_TOXIC, 17.03, 20 },
	{ "Cl2",   "chlorine",         GAS_TOXIC, 70.90, 1 },
	{ "HCN",   "hydrogen cyanide", GAS_TOXIC, 27.03, 1 },
	{ "SO2",   "sulfur dioxide",   GAS_TOXIC, 64.07, 5 },
	{ "C6H6",  "benzene",          GAS_TOXIC, 78.11, 6 },
	{ "O2",    "oxygen",           GAS_OXYGEN, 0, 0 },
};
#define N_GASES (sizeof(gases) / sizeof(gases[0]))

const struct gas_info *
gas_table__find(const char *s)
{
	for (size_t i = 0; i < N_GASES; i++)
		if (strcasecmp(s, gases[i].formula) == 0 ||
		    strcasecmp(s, gases[i].name) == 0)
			return &gases[i];
	return NULL;
}

void
gas_table__names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_GASES && n < len; i++) {
		int k = snprintf(buf + n, len - n, "%s%s", i ? " " : "",
		    gases[i].formula);

		if (k < 0)
			break;
		n += (size_t)k;
	}
}

const char *
gas_table__default_unit(enum gas_class cls)
{
	switch (cls) {
	case GAS_TOXIC:
		return "ppm";
	case GAS_OXYGEN:
		return "%VOL";
	default:
		return "%LEL";
	}
}

const char *
gas_table__units(enum gas_class cls)
{
	return cls == GAS_TOXIC ? "ppm or mg/m3" : gas_table__default_unit(cls);
}

int
gas_table__unit_ok(const struct gas_info *gi, const char *unit)
{
	if (strcmp(unit, gas_table__default_unit(gi->cls)) == 0)
		return 1;
	return gi->cls == GAS_TOXIC && strcmp(unit, "mg/m3") == 0;
}

double
gas_table__ppm(double mg_m3, double molar_mass)
{
	return mg_m3 * 24.45 / molar_mass;
}

/* The exposure limit of a toxic gas in the sensor's unit. */
static double
toxic_limit(const struct gas_info *gi, const char *unit)
{
	return strcmp(unit, "ppm") == 0 ?
	    gas_table__ppm(gi->limit, gi->molar_mass) : gi->limit;
}

static struct hazmon_level
level(const char *name, enum hazmon_dir dir, double setpoint, double deadband,
    const char *priority, int latch)
{
	struct hazmon_level l = { .dir = dir, .setpoint = setpoint,
	    .deadband = deadband, .latch = latch };

	snprintf(l.name, sizeof(l.name), "%s", name);
	snprintf(l.priority, sizeof(l.priority), "%s", priority);
	return l;
}

/*
 * Deadbands: 2 %LEL as operators set them for catalytic and infrared
 * heads; 5 % of the setpoint for toxic gases, whose setpoints span 0.3 to
 * 30 ppm; 0.5 %VOL for oxygen, so a level clears well before ambient 20.9.
 * The second level latches: it stays until an operator acknowledges it.
 */
unsigned
gas_table__defaults(const struct gas_info *gi, const char *unit,
    struct hazmon_level *out)
{
	double l;

	switch (gi->cls) {
	case GAS_COMBUSTIBLE:
		out[0] = level("first", HAZMON_ABOVE, 20.0, 2.0, "high", 0);
		out[1] = level("second", HAZMON_ABOVE, 50.0, 2.0, "urgent", 1);
		return 2;
	case GAS_TOXIC:
		l = toxic_limit(gi, unit);
		out[0] = level("first", HAZMON_ABOVE, l, 0.05 * l, "high", 0);
		out[1] = level("second", HAZMON_ABOVE, 2 * l, 0.1 * l, "urgent", 1);
		return 2;
	case GAS_OXYGEN:
		out[0] = level("low", HAZMON_BELOW, GAS_O2_LOW, 0.5, "high", 0);
		out[1] = level("high", HAZMON_ABOVE, GAS_O2_HIGH, 0.5, "high", 0);
		return 2;
	}
	return 0;
}

/* A %LEL sensor is combustible even without a `gas` key (gi NULL). */
int
gas_table__limits(const struct gas_info *gi, const char *unit, double *first,
    double *any)
{
	if ((gi == NULL && strcmp(unit, "%LEL") == 0) ||
	    (gi != NULL && gi->cls == GAS_COMBUSTIBLE)) {
		*first = 25.0;
		*any = 50.0;
		return 0;
	}
	if (gi != NULL && gi->cls == GAS_TOXIC) {
		*first = toxic_limit(gi, unit);
		*any = 2 * *first;
		return 0;
	}
	return -1;
}
