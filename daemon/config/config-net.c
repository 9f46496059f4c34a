/*
 * config-net.c - the network side of hazmond.conf: MQTT destinations
 * (credentials, TLS) and Modbus buses (TCP, RTU, request planning).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "confload.h"

/*
 * Reads a password from a file that only its owner and group may read:
 * secrets never sit in the config (which is often world-readable) and are
 * never logged.  The file must belong to us or to root and be writable by
 * nobody else (whoever may write it chooses our password), and a password
 * that does not fit is refused, never cut.
 */
static char *
read_secret(struct hazmon_cfg *g, const char *key, const char *path)
{
	struct stat st;
	char buf[512];
	size_t n, len;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		hz_host.error(g, key, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || (st.st_mode & 0007)) {
		hz_host.error(g, key, "%s is readable by others (mode %04o); "
		    "chmod o-rwx it", path, (unsigned)(st.st_mode & 07777));
		fclose(f);
		return NULL;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		hz_host.error(g, key, "%s belongs to uid %u, not to us (uid %u) or "
		    "root", path, (unsigned)st.st_uid, (unsigned)geteuid());
		fclose(f);
		return NULL;
	}
	if (st.st_mode & 0020) {
		hz_host.error(g, key, "%s is writable by its group (mode %04o); "
		    "chmod g-w it", path, (unsigned)(st.st_mode & 07777));
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");	/* the first line is the password */
	if (len == n && n == sizeof(buf) - 1) {
		explicit_bzero(buf, sizeof(buf));
		hz_host.error(g, key, "%s: the password is longer than %zu bytes",
		    path, sizeof(buf) - 2);
		return NULL;
	}
	buf[len] = '\0';
	if (buf[0] == '\0') {
		hz_host.error(g, key, "%s holds no password", path);
		return NULL;
	}
	return xstrdup(buf);
}

static int
readable(struct hazmon_cfg *g, const char *key, const char *path)
{
	if (path && access(path, R_OK) != 0) {
		hz_host.error(g, key, "cannot read %s: %s", path, strerror(errno));
		return 0;
	}
	return 1;
}

static void
load_tls(struct loader *ld, struct hazmon_cfg *dg, struct hz_dest *d, unsigned i)
{
	config_setting_t *s = config_setting_get_member(config_setting_get_elem(
	    config_setting_get_member(config_root_setting(&ld->lc), "mqtt"), i), "tls");
	struct hazmon_cfg *g;

	hostapi_mark(dg, "tls");
	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		hz_host.error(dg, "tls", "must be a group: tls = { ca_file = \"...\"; };");
		return;
	}
	g = hostapi_wrap(s, ld->c->path, &ld->errors);
	d->tls = 1;
	d->ca_file = cfg__opt_string(g, "ca_file", NULL);
	d->ca_path = cfg__opt_string(g, "ca_path", NULL);
	d->cert_file = cfg__opt_string(g, "cert_file", NULL);
	d->key_file = cfg__opt_string(g, "key_file", NULL);
	d->tls_version = cfg__opt_string(g, "version", NULL);
	(void)hz_host.get_bool(g, "insecure", &d->tls_insecure);
	if (!d->ca_file && !d->ca_path)
		hz_host.error(g, NULL, "tls needs 'ca_file' or 'ca_path' to verify the broker");
	if (!d->cert_file != !d->key_file)
		hz_host.error(g, NULL, "'cert_file' and 'key_file' go together");
	if (d->tls_version && strcmp(d->tls_version, "tlsv1.2") &&
	    strcmp(d->tls_version, "tlsv1.3"))
		hz_host.error(g, "version", "\"%s\" is not \"tlsv1.2\" or \"tlsv1.3\"",
		    d->tls_version);
	(void)(readable(g, "ca_file", d->ca_file) && readable(g, "cert_file",
	    d->cert_file) && readable(g, "key_file", d->key_file));
	hostapi_check_unknown(g);
	hostapi_free(g);
}

static void
load_dest(struct loader *ld, struct hazmon_cfg *g, struct hz_dest *d, unsigned i)
{
	struct hz_config *c = ld->c;
	char def[HZ_ID_MAX + 16];

	const char *name = NULL, *pwfile, *actor;

	snprintf(d->name, sizeof(d->name), "mqtt%u", i + 1);
	if (hz_host.get_string(g, "name", &name) == 0)
		cfg__req_id(g, "name", d->name, 0, "an mqtt destination");
	d->host = cfg__opt_string(g, "host", "127.0.0.1");
	d->port = cfg__opt_int(g, "port", 1883, 1, 65535);
	snprintf(def, sizeof(def), "hazmon/%s", c->site_id);
	d->prefix = cfg__opt_string(g, "prefix", def);
	if (c->site_id[0] && (d->prefix[0] == '\0' || strpbrk(d->prefix, "+#") ||
	    d->prefix[strlen(d->prefix) - 1] == '/'))
		hz_host.error(g, "prefix", "\"%s\" must be non-empty, without + or # "
		    "and without a trailing /", d->prefix);
	d->qos = cfg__opt_int(g, "qos", 1, 1, 2);
	d->keepalive = cfg__opt_int(g, "keepalive", 30, 5, 3600);
	(void)hz_host.get_bool(g, "commands", &d->commands);
	if (hz_host.get_string(g, "command_actor", &actor) == 0) {
		if (actor[0] == '\0' || strlen(actor) >= sizeof(d->command_actor))
			hz_host.error(g, "command_actor", "must be 1 to %zu "
			    "characters", sizeof(d->command_actor) - 1);
		else if (!d->commands)
			hz_host.warn(g, "command_actor", "has no effect without "
			    "'commands = true'");
		snprintf(d->command_actor, sizeof(d->command_actor), "%s", actor);
	}
	(void)hz_host.get_bool(g, "replay", &d->replay);
	d->replay_rate = cfg__opt_int(g, "replay_rate", 100, 1, 10000);
	d->username = cfg__opt_string(g, "username", NULL);
	if (hz_host.get_string(g, "password_file", &pwfile) == 0) {
		if (d->username == NULL)
			hz_host.error(g, "password_file", "a password needs 'username'");
		d->password = read_secret(g, "password_file", pwfile);
	}
	load_tls(ld, g, d, i);
	hostapi_check_unknown(g);
}

void
cfg__load_mqtt(struct loader *ld, struct hazmon_cfg *root)
{
	config_setting_t *list = cfg__get_list(ld, root, "mqtt");
	struct hz_config *c = ld->c;

	if (list == NULL || config_setting_length(list) == 0) {
		if (list || !config_setting_get_member(config_root_setting(&ld->lc), "mqtt"))
			hz_host.error(root, list ? "mqtt" : NULL,
			    "at least one mqtt destination is required: mqtt = ( { host = \"...\"; } );");
		return;
	}
	if (config_setting_length(list) > HZ_MAX_DESTS) {
		hz_host.error(root, "mqtt", "%d destinations; at most %d are supported",
		    config_setting_length(list), HZ_MAX_DESTS);
		return;
	}
	c->n_dests = (unsigned)config_setting_length(list);
	c->dests = xcalloc(c->n_dests, sizeof(*c->dests));
	for (unsigned i = 0; i < c->n_dests; i++) {
		struct hazmon_cfg *g = cfg__list_group(ld, list, i);

		if (g == NULL)
			continue;
		load_dest(ld, g, &c->dests[i], i);
		for (unsigned j = 0; j < i; j++)
			if (strcmp(c->dests[j].name, c->dests[i].name) == 0)
				hz_host.error(g, "name", "duplicate mqtt destination \"%s\"",
				    c->dests[i].name);
		hostapi_free(g);
	}
}

static void
load_bus_tcp(struct hazmon_cfg *g, struct hz_bus *b)
{
	b->type = HZ_BUS_TCP;
	b->host = cfg__opt_string(g, "host", NULL);
	if (b->host == NULL)
		hz_host.error(g, NULL, "tcp bus needs 'host'");
	b->port = cfg__opt_int(g, "port", 502, 1, 65535);
}

/*
 * The rates libmodbus 3.1.6 maps to a termios speed on Linux: any other
 * (2000000 too) it silently replaces with 9600, which no slave would
 * answer.  hazmond.conf(5) lists the same.
 */
static const int bauds[] = { 1200, 2400, 4800, 9600, 19200, 38400, 57600,
	115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000,
	1500000, 2500000, 3000000, 3500000, 4000000 };
#define N_BAUDS (sizeof(bauds) / sizeof(bauds[0]))

static int
baud_ok(long long v)
{
	for (size_t i = 0; i < N_BAUDS; i++)
		if (v == bauds[i])
			return 1;
	return 0;
}

static void
load_baud(struct hazmon_cfg *g, struct hz_bus *b)
{
	long long v = 9600;
	char list[256];
	size_t n = 0;

	b->baud = 9600;
	if (hz_host.get_int(g, "baud", &v) != 0)
		return;
	if (baud_ok(v)) {
		b->baud = (int)v;
		return;
	}
	list[0] = '\0';
	for (size_t i = 0; i < N_BAUDS && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d",
		    i ? " " : "", bauds[i]);
	hz_host.error(g, "baud", "%lld is not a serial line rate (one of %s)", v,
	    list);
}

static void
load_bus_rtu(struct hazmon_cfg *g, struct hz_bus *b)
{
	const char *parity = "N";
	long long v;

	b->type = HZ_BUS_RTU;
	b->device = cfg__opt_string(g, "device", NULL);
	if (b->device == NULL)
		hz_host.error(g, NULL, "rtu bus needs 'device' (e.g. \"/dev/ttyUSB0\")");
	load_baud(g, b);
	if (hz_host.get_string(g, "parity", &parity) == 0 &&
	    (strlen(parity) != 1 || !strchr("NEO", parity[0])))
		hz_host.error(g, "parity", "\"%s\" is not \"N\", \"E\" or \"O\"", parity);
	b->parity = strlen(parity) == 1 && strchr("NEO", parity[0]) ? parity[0] : 'N';
	b->data_bits = 8;
	if (hz_host.get_int(g, "data_bits", &v) == 0 && v != 8)
		hz_host.error(g, "data_bits", "%lld: Modbus RTU sends 8 data bits "
		    "(7 is Modbus ASCII, which hazmond does not speak)", v);
	b->stop_bits = cfg__opt_int(g, "stop_bits", 1, 1, 2);
	b->rs485 = 0;
	(void)hz_host.get_bool(g, "rs485", &b->rs485);
}

static void
load_bus(struct loader *ld, struct hazmon_cfg *g, struct hz_bus *b)
{
	const char *type = NULL;

	cfg__req_id(g, "name", b->name, 0, "a bus");
	if (hz_host.get_string(g, "type", &type) == 1)
		hz_host.error(g, NULL, "bus needs 'type' (\"tcp\" or \"rtu\")");
	else if (type && strcmp(type, "tcp") == 0)
		load_bus_tcp(g, b);
	else if (type && strcmp(type, "rtu") == 0)
		load_bus_rtu(g, b);
	else if (type)
		hz_host.error(g, "type", "\"%s\" is not \"tcp\" or \"rtu\"", type);
	b->timeout_ms = cfg__opt_int(g, "timeout_ms", b->type == HZ_BUS_RTU ? 300 : 1000,
	    10, 60000);
	b->retries = cfg__opt_int(g, "retries", 1, 0, 10);
	b->fault_after = cfg__opt_int(g, "fault_after", 3, 1, 1000);
	b->pause_ms = cfg__opt_int(g, "pause_ms", 0, 0, 10000);
	b->connect_pause_ms = cfg__opt_int(g, "connect_pause_ms", 0, 0, 60000);
	b->plan.max_regs = (unsigned)cfg__opt_int(g, "max_registers", 125, 1, 125);
	b->plan.max_bits = (unsigned)cfg__opt_int(g, "max_bits", 2000, 1, 2000);
	b->plan.gap = (unsigned)cfg__opt_int(g, "gap", 0, 0, 124);
	b->plan.coalesce = 1;
	(void)hz_host.get_bool(g, "coalesce", &b->plan.coalesce);
	hostapi_check_unknown(g);
	(void)ld;
}

void
cfg__load_buses(struct loader *ld, struct hazmon_cfg *root)
{
	config_setting_t *list = cfg__get_list(ld, root, "buses");
	struct hz_config *c = ld->c;

	if (list == NULL) {
		if (!config_setting_get_member(config_root_setting(&ld->lc), "buses"))
			hz_host.error(root, NULL, "a 'buses = ( ... );' list is required");
		return;
	}
	c->n_buses = (unsigned)config_setting_length(list);
	c->buses = xcalloc(c->n_buses, sizeof(*c->buses));
	for (unsigned i = 0; i < c->n_buses; i++) {
		struct hazmon_cfg *g = cfg__list_group(ld, list, i);

		if (g == NULL)
			continue;
		load_bus(ld, g, &c->buses[i]);
		for (unsigned j = 0; j < i; j++)
			if (c->buses[i].name[0] && strcmp(c->buses[j].name, c->buses[i].name) == 0)
				hz_host.error(g, "name", "duplicate bus \"%s\"", c->buses[i].name);
		hostapi_free(g);
	}
}
