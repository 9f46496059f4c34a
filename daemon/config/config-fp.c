/*
 * config-fp.c - fingerprints of configuration settings.
 *
 * A reload keeps a bus worker, an MQTT connection or a sensor's runtime
 * only if what the operator wrote for it is unchanged.  Plugins parse their
 * own keys into private structures the core cannot compare, so the core
 * compares what libconfig parsed instead: a canonical text of the setting
 * (names, types and values; not layout, comments or number notation),
 * kept as a 128-bit digest of it.
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

/*
 * 128 bits of a text, as 32 hex digits: two unrelated 64-bit hashes
 * (FNV-1a, and a multiply-xorshift mix), so that 10,000 sensors keep 33
 * bytes each instead of their whole canonical text.  Texts that differ
 * giving the same digest by chance is about 2^-128 per pair.
 */
char *
config_digest(const char *t, size_t n)
{
	uint64_t a = 14695981039346656037ull, b = 0x243f6a8885a308d3ull ^ n;
	char *out = xcalloc(1, 33);

	for (size_t i = 0; i < n; i++) {
		a = (a ^ (unsigned char)t[i]) * 1099511628211ull;
		b = (b ^ (unsigned char)t[i]) * 0x9e3779b97f4a7c15ull;
		b ^= b >> 29;
	}
	b ^= b >> 32;
	b *= 0xbf58476d1ce4e5b9ull;
	b ^= b >> 31;
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)a,
	    (unsigned long long)b);
	return out;
}

/* A digest of the canonical text of a setting: equal texts, equal settings. */
char *
cfg__fingerprint(const config_setting_t *s)
{
	struct hz_str b = { 0 };
	char *d;

	if (s != NULL)
		walk(&b, s);
	d = config_digest(b.s ? b.s : "", b.len);
	free(b.s);
	return d;
}
