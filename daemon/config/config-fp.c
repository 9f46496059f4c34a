/*
 * config-fp.c - fingerprints of configuration settings.
 *
 * A reload keeps a bus worker, an MQTT connection or a sensor's runtime
 * only if what the operator wrote for it is unchanged.  Plugins parse their
 * own keys into private structures the core cannot compare, so the core
 * compares what libconfig parsed instead: a canonical text of the setting
 * (names, types and values; not layout, comments or number notation).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confload.h"

static void
putf(struct hz_str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct hz_str *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	str_put(b, tmp, n > 0 ? (size_t)n : 0);
}

static void
walk(struct hz_str *b, const config_setting_t *s)
{
	const char *name = config_setting_name(s), *str;

	if (name) {
		putf(b, "%zu:", strlen(name));
		str_put(b, name, strlen(name));
		str_put(b, "=", 1);
	}
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		putf(b, "i%d;", config_setting_get_int(s));
		break;
	case CONFIG_TYPE_INT64:
		putf(b, "i%lld;", config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		putf(b, "f%.17g;", config_setting_get_float(s));
		break;
	case CONFIG_TYPE_BOOL:
		putf(b, "b%d;", config_setting_get_bool(s));
		break;
	case CONFIG_TYPE_STRING:
		str = config_setting_get_string(s);
		/* Length-prefixed: no quoting, no ambiguity. */
		putf(b, "s%zu:", strlen(str));
		str_put(b, str, strlen(str));
		str_put(b, ";", 1);
		break;
	case CONFIG_TYPE_GROUP:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		str_put(b, config_setting_type(s) == CONFIG_TYPE_GROUP ? "{" : "(", 1);
		for (int i = 0; i < config_setting_length(s); i++)
			walk(b, config_setting_get_elem(s, (unsigned)i));
		str_put(b, config_setting_type(s) == CONFIG_TYPE_GROUP ? "}" : ")", 1);
		break;
	default:
		str_put(b, "?;", 2);
	}
}

/* The canonical text of a setting: equal texts, equal settings. */
char *
cfg__fingerprint(const config_setting_t *s)
{
	struct hz_str b = { 0 };

	if (s == NULL)
		return xstrdup("");
	walk(&b, s);
	return b.s ? b.s : xstrdup("");
}
