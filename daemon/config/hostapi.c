/*
 * hostapi.c - the config access and decoding services the core offers to
 * plugins (struct hazmon_host).
 *
 * Every key read through these getters is marked as used; after the core
 * and the plugin have read a group, any key nobody read is an error.  In a
 * safety daemon a misspelt key must not silently drop a setting.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model.h"

struct hazmon_cfg {
	config_setting_t *s;
	const char *file;
	int *errors;		/* shared error counter of this load */
	unsigned char *used;	/* one flag per member */
	unsigned n;
	struct hazmon_cfg *kids, *next;	/* nested groups (get_group) */
	char *asked;		/* keys looked up in vain, NUL after each */
	size_t asked_len;
	const struct hazmon_level *lv;	/* the levels check_levels sees */
	unsigned n_lv;
	unsigned char *departed;	/* one flag per level (host_departs) */
};

/*
 * The warnings of the load running on this thread, for the answer to a
 * reload (reload.c); the log has them too.  Thread-local like the log's
 * capture: the loader thread is the only one that loads.
 */
static _Thread_local struct {
	int on;
	char *buf;
	size_t len;
} warned;

void
hostapi_warnings_begin(void)
{
	warned.on = 1;
}

char *
hostapi_warnings_end(void)
{
	char *b = warned.buf;

	warned.on = 0;
	warned.buf = NULL;
	warned.len = 0;
	return b;
}

static void
warned_add(const char *line)
{
	size_t n = strlen(line);
	char *b;

	if (!warned.on || (b = realloc(warned.buf, warned.len + n + 2)) == NULL)
		return;			/* the log has it all the same */
	memcpy(b + warned.len, line, n);
	b[warned.len + n] = '\n';
	b[warned.len + n + 1] = '\0';
	warned.buf = b;
	warned.len += n + 1;
}

struct hazmon_cfg *
hostapi_wrap(config_setting_t *s, const char *file, int *errors)
{
	struct hazmon_cfg *g = xcalloc(1, sizeof(*g));

	g->s = s;
	g->file = file;
	g->errors = errors;
	g->n = (unsigned)config_setting_length(s);
	g->used = xcalloc(g->n, 1);
	return g;
}

void
hostapi_free(struct hazmon_cfg *g)
{
	if (g == NULL)
		return;
	while (g->kids) {
		struct hazmon_cfg *k = g->kids;

		g->kids = k->next;
		hostapi_free(k);
	}
	free(g->used);
	free(g->asked);
	free(g->departed);
	free(g);
}

static int
line_of(const struct hazmon_cfg *g, const config_setting_t *m)
{
	return (int)config_setting_source_line(m ? m : g->s);
}

static const char *
file_of(const struct hazmon_cfg *g, const config_setting_t *m)
{
	const char *f = config_setting_source_file(m ? m : g->s);

	return f ? f : g->file;
}

static void
report(struct hazmon_cfg *g, int prio, const char *key, const char *fmt,
    va_list ap)
{
	config_setting_t *m = key ? config_setting_get_member(g->s, key) : NULL;
	char msg[1024], line[1400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line_of(g, m) == 0)		/* the file as a whole */
		snprintf(line, sizeof(line), "%s: %s", file_of(g, m), msg);
	else if (key)
		snprintf(line, sizeof(line), "%s:%d: '%s': %s", file_of(g, m),
		    line_of(g, m), key, msg);
	else
		snprintf(line, sizeof(line), "%s:%d: %s", file_of(g, m),
		    line_of(g, m), msg);
	log_msg(prio, "%s", line);
	if (prio <= HZ_LOG_ERR)
		(*g->errors)++;
	else if (prio == HZ_LOG_WARNING)
		warned_add(line);
}

static void host_error(struct hazmon_cfg *g, const char *key, const char *fmt, ...)
    HAZMON_PRINTF(3, 4);
static void
host_error(struct hazmon_cfg *g, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(g, HZ_LOG_ERR, key, fmt, ap);
	va_end(ap);
}

static void host_warn(struct hazmon_cfg *g, const char *key, const char *fmt, ...)
    HAZMON_PRINTF(3, 4);
static void
host_warn(struct hazmon_cfg *g, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(g, HZ_LOG_WARNING, key, fmt, ap);
	va_end(ap);
}

/* Remembers a key looked up in g, for "did you mean" (check_unknown). */
static void
asked_add(struct hazmon_cfg *g, const char *key)
{
	size_t n = strlen(key) + 1;
	char *b;

	for (size_t i = 0; i < g->asked_len; i += strlen(g->asked + i) + 1)
		if (strcmp(g->asked + i, key) == 0)
			return;
	if ((b = realloc(g->asked, g->asked_len + n)) == NULL)
		fatal("realloc");
	memcpy(b + g->asked_len, key, n);
	g->asked = b;
	g->asked_len += n;
}

/* Finds a member and marks it used. */
static config_setting_t *
member(struct hazmon_cfg *g, const char *key)
{
	config_setting_t *m = config_setting_get_member(g->s, key);

	if (m == NULL)		/* one that is there is a used member */
		asked_add(g, key);
	if (m) {
		int i = config_setting_index(m);

		if (i >= 0 && (unsigned)i < g->n)
			g->used[i] = 1;
	}
	return m;
}

static int
host_get_string(struct hazmon_cfg *g, const char *key, const char **out)
{
	config_setting_t *m = member(g, key);

	if (m == NULL)
		return 1;
	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		host_error(g, key, "must be a string (in double quotes)");
		return -1;
	}
	*out = config_setting_get_string(m);
	return 0;
}

static int
host_get_number(struct hazmon_cfg *g, const char *key, double *out)
{
	config_setting_t *m = member(g, key);
	double v;

	if (m == NULL)
		return 1;
	switch (config_setting_type(m)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(m);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(m);
		break;
	default:
		host_error(g, key, "must be a number");
		return -1;
	}
	if (!isfinite(v)) {
		host_error(g, key, "must be a finite number");
		return -1;
	}
	*out = v;
	return 0;
}

static int
host_get_int(struct hazmon_cfg *g, const char *key, long long *out)
{
	config_setting_t *m = member(g, key);

	if (m == NULL)
		return 1;
	if (config_setting_type(m) != CONFIG_TYPE_INT &&
	    config_setting_type(m) != CONFIG_TYPE_INT64) {
		host_error(g, key, "must be a whole number");
		return -1;
	}
	*out = config_setting_get_int64(m);
	return 0;
}

static int
host_get_bool(struct hazmon_cfg *g, const char *key, int *out)
{
	config_setting_t *m = member(g, key);

	if (m == NULL)
		return 1;
	if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
		host_error(g, key, "must be true or false");
		return -1;
	}
	*out = config_setting_get_bool(m);
	return 0;
}

/* Marks a key as known when the core reads it directly with libconfig. */
void
hostapi_mark(struct hazmon_cfg *g, const char *key)
{
	(void)member(g, key);
}

/*
 * Edit distance of a and b, any case, where swapping two neighbours is
 * one edit (optimal string alignment).  Keys are short; longer strings
 * count as far apart.
 */
static unsigned
key_distance(const char *a, const char *b)
{
	enum { MAX = 64 };
	unsigned d[MAX + 1][MAX + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > MAX || lb > MAX)
		return MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned c = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			unsigned v = d[i - 1][j - 1] + c;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			    tolower((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

struct closest {
	const char *name, *best;
	size_t len;
	unsigned d, ties;
};

static void
closest_try(struct closest *c, const char *k)
{
	unsigned d = key_distance(c->name, k);

	if (d > 2 && c->len >= 4 && strlen(k) > c->len &&
	    strncasecmp(k, c->name, c->len) == 0)
		d = 2;
	if (d >= c->len || d > c->d)	/* "id" is not close to "x" */
		return;
	if (d < c->d) {
		c->best = k;
		c->d = d;
		c->ties = 0;
	} else
		c->ties++;
}

/*
 * The one key read in g (present, or looked up in vain) that an unknown
 * key is close to: at most two edits, or the start of it ("timeout" for
 * "timeout_ms").  NULL when none or several are as close.
 */
static const char *
closest_key(const struct hazmon_cfg *g, const char *name)
{
	struct closest c = { .name = name, .len = strlen(name), .d = 3 };

	for (size_t i = 0; i < g->asked_len; i += strlen(g->asked + i) + 1)
		closest_try(&c, g->asked + i);
	for (unsigned i = 0; i < g->n; i++) {
		config_setting_t *m = config_setting_get_elem(g->s, i);

		if (g->used[i] && m && config_setting_name(m))
			closest_try(&c, config_setting_name(m));
	}
	return c.d <= 2 && c.ties == 0 ? c.best : NULL;
}

/* Reports members nobody read. Returns the number reported. */
int
hostapi_check_unknown(struct hazmon_cfg *g)
{
	int bad = 0;

	for (unsigned i = 0; i < g->n; i++) {
		config_setting_t *m = config_setting_get_elem(g->s, i);
		const char *near;

		if (g->used[i] || m == NULL || config_setting_name(m) == NULL)
			continue;
		near = closest_key(g, config_setting_name(m));
		log_msg(HZ_LOG_ERR, "%s:%d: unknown key '%s'%s%s%s", file_of(g, m),
		    line_of(g, m), config_setting_name(m), near ?
		    "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		(*g->errors)++;
		bad++;
	}
	for (struct hazmon_cfg *k = g->kids; k; k = k->next)
		bad += hostapi_check_unknown(k);
	return bad;
}

/* own: the group is the register's alone, so other keys are typos. */
static int
parse_register(struct hazmon_cfg *rg, struct hazmon_register *r, int own)
{
	const char *s = NULL;
	long long addr = -1;
	int errs = *rg->errors;

	if (host_get_string(rg, "table", &s) == 1)
		host_error(rg, NULL, "register needs 'table' (holding, input, coil or discrete)");
	else if (s && decode_table_parse(s, &r->table) < 0) {
		host_error(rg, "table", "unknown table \"%s\" (holding, input, coil, discrete)", s);
		r->table = HAZMON_TABLE_HOLDING;	/* no follow-on errors */
	}
	if (host_get_int(rg, "address", &addr) == 1)
		host_error(rg, NULL, "register needs 'address' (0-based protocol address)");
	else if (addr < 0 || addr > 65535)
		host_error(rg, "address", "%lld is outside 0..65535", addr);
	r->address = (uint16_t)(addr < 0 ? 0 : addr);
	r->type = r->table == HAZMON_TABLE_COIL || r->table == HAZMON_TABLE_DISCRETE ?
	    HAZMON_TYPE_BIT : HAZMON_TYPE_UINT16;
	s = NULL;
	if (host_get_string(rg, "type", &s) == 0 && decode_type_parse(s, &r->type) < 0)
		host_error(rg, "type", "unknown type \"%s\" (int16 uint16 int32 uint32 "
		    "float32 int64 uint64 float64 bit)", s);
	if ((r->type == HAZMON_TYPE_BIT) !=
	    (r->table == HAZMON_TABLE_COIL || r->table == HAZMON_TABLE_DISCRETE))
		host_error(rg, "type", "type %s does not fit table %s",
		    r->type == HAZMON_TYPE_BIT ? "bit" : "of a register",
		    decode_table_name(r->table));
	r->order = HAZMON_ORDER_ABCD;
	s = NULL;
	if (host_get_string(rg, "order", &s) == 0 && decode_order_parse(s, &r->order) < 0)
		host_error(rg, "order", "unknown order \"%s\" (ABCD CDAB BADC DCBA)", s);
	r->scale = 1.0;
	r->offset = 0.0;
	(void)host_get_number(rg, "scale", &r->scale);
	(void)host_get_number(rg, "offset", &r->offset);
	if (r->scale == 0.0)
		host_error(rg, "scale", "must not be 0");
	if (addr >= 0 && addr + decode_words(r) > 65536)
		host_error(rg, "address", "value of %u words runs past address 65535",
		    decode_words(r));
	if (addr >= 30001 && addr <= 49999)
		host_warn(rg, "address", "%lld looks like a 1-based register number "
		    "(3xxxx/4xxxx); addresses here are 0-based protocol addresses, "
		    "e.g. 40001 is holding address 0", addr);
	r->line = line_of(rg, NULL);
	if (own)
		hostapi_check_unknown(rg);
	return *rg->errors > errs ? -1 : 0;
}

static int
host_get_register(struct hazmon_cfg *g, const char *key, struct hazmon_register *out)
{
	config_setting_t *m = key ? member(g, key) : NULL;
	struct hazmon_cfg *rg;
	int rc;

	if (key == NULL)		/* ABI 1.1: the keys of g itself */
		return parse_register(g, out, 0);
	if (m == NULL)
		return 1;
	if (config_setting_type(m) != CONFIG_TYPE_GROUP) {
		host_error(g, key, "must be a group: %s = { table = \"holding\"; address = 0; };",
		    key);
		return -1;
	}
	rg = hostapi_wrap(m, g->file, g->errors);
	rc = parse_register(rg, out, 1);
	hostapi_free(rg);
	return rc;
}

static int
host_get_group(struct hazmon_cfg *g, const char *key, struct hazmon_cfg **out)
{
	config_setting_t *m = member(g, key);
	struct hazmon_cfg *k;

	if (m == NULL)
		return 1;
	if (config_setting_type(m) != CONFIG_TYPE_GROUP) {
		host_error(g, key, "must be a group: %s = { ... };", key);
		return -1;
	}
	for (k = g->kids; k; k = k->next)
		if (k->s == m)
			break;
	if (k == NULL) {
		k = hostapi_wrap(m, g->file, g->errors);
		k->next = g->kids;
		g->kids = k;
	}
	*out = k;
	return 0;
}

static int
host_get_numbers(struct hazmon_cfg *g, const char *key, double *out,
    unsigned max, unsigned *n)
{
	config_setting_t *m = member(g, key);
	int len;

	*n = 0;
	if (m == NULL)
		return 1;
	if (config_setting_type(m) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(m) != CONFIG_TYPE_LIST) {
		host_error(g, key, "must be a list of numbers: %s = [ 1, 2 ];", key);
		return -1;
	}
	if ((len = config_setting_length(m)) > (int)max) {
		host_error(g, key, "%d values; at most %u", len, max);
		return -1;
	}
	for (int i = 0; i < len; i++) {
		config_setting_t *e = config_setting_get_elem(m, (unsigned)i);

		switch (config_setting_type(e)) {
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			out[i] = (double)config_setting_get_int64(e);
			break;
		case CONFIG_TYPE_FLOAT:
			out[i] = config_setting_get_float(e);
			if (isfinite(out[i]))
				break;
			/* FALLTHROUGH */
		default:
			host_error(g, key, "value %d is not a finite number", i + 1);
			return -1;
		}
	}
	*n = (unsigned)len;
	return 0;
}

/* The levels check_levels is about to see, for host_departs. */
void
hostapi_levels(struct hazmon_cfg *g, const struct hazmon_level *lv, unsigned n)
{
	free(g->departed);
	g->lv = lv;
	g->n_lv = n;
	g->departed = xcalloc(n ? n : 1, 1);
}

/* Whether the plugin said level i departs from its standard. */
int
hostapi_departed(const struct hazmon_cfg *g, unsigned i)
{
	return g->departed != NULL && i < g->n_lv && g->departed[i];
}

static void host_departs(struct hazmon_cfg *g, const struct hazmon_level *lv,
    const char *fmt, ...) HAZMON_PRINTF(3, 4);
static void
host_departs(struct hazmon_cfg *g, const struct hazmon_level *lv,
    const char *fmt, ...)
{
	char msg[1024];
	unsigned i;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; i < g->n_lv && &g->lv[i] != lv; i++)
		;
	if (i == g->n_lv) {		/* the plugin's bug; fail safe */
		host_error(g, "levels", "a level departs from the standard: %s",
		    msg);
		return;
	}
	g->departed[i] = 1;
	if (lv->standard_override)
		log_msg(HZ_LOG_NOTICE, "%s:%d: level \"%s\" %s; kept by its "
		    "standard_override: %s", file_of(g, NULL), lv->line, lv->name,
		    msg, lv->standard_override);
	else {
		log_msg(HZ_LOG_ERR, "%s:%d: level \"%s\" %s; to keep it, give the "
		    "level standard_override = \"the reason\";", file_of(g, NULL),
		    lv->line, lv->name, msg);
		(*g->errors)++;
	}
}

const struct hazmon_host hz_host = {
	.abi = HAZMON_PLUGIN_ABI,
	.struct_size = sizeof(struct hazmon_host),
	.get_string = host_get_string,
	.get_number = host_get_number,
	.get_int = host_get_int,
	.get_bool = host_get_bool,
	.get_register = host_get_register,
	.error = host_error,
	.warn = host_warn,
	.register_words = decode_words,
	.decode = decode_register,
	.get_group = host_get_group,
	.get_numbers = host_get_numbers,
	.departs = host_departs,
};
