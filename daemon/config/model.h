/*
 * model.h - the validated configuration model and what builds it.
 *
 *   config.c       hazmond.conf -> struct hz_config, validated whole
 *   config-levels.c  a sensor's alarm levels, or its plugin's defaults
 *   config-net.c   the bus and mqtt groups (network settings, TLS files)
 *   config-fp.c    fingerprints: is a bus, sensor, destination unchanged
 *                  across a reload (confload.h: config*.c only)
 *   config-dump.c  hazmond -t -v: the register map and requests per slave
 *   hostapi.c      struct hazmon_host, the services plugins call
 *   plugin.c       the plugin loader (dlopen, ABI check)
 *   ids.c          sensor ids sorted for lookup by id
 */
#ifndef HAZMON_MODEL_H
#define HAZMON_MODEL_H

#include <libconfig.h>

#include "hazmon-plugin.h"
#include "base.h"
#include "mb.h"

#define HZ_MAX_DESTS	16	/* mqtt destinations */

/* The validated configuration model. */

struct hz_plugin {
	char *name;
	char *path;
	void *handle;
	const struct hazmon_plugin *desc;
	struct hz_plugin *next;
};

enum hz_bus_type { HZ_BUS_TCP, HZ_BUS_RTU };

struct hz_bus {
	char name[HZ_ID_MAX];
	enum hz_bus_type type;
	char *host;			/* tcp */
	int port;
	char *device;			/* rtu */
	int baud;
	char parity;			/* 'N', 'E', 'O' */
	int data_bits;
	int stop_bits;
	int rs485;			/* switch the port to RS-485 mode */
	int timeout_ms;
	int retries;
	int fault_after;		/* failed polls before a comm-loss fault */
	int pause_ms;			/* between requests */
	int connect_pause_ms;		/* after connecting */
	struct plan_opts plan;
	char *fp;			/* config-fp.c: unchanged across a reload? */
};

/*
 * What a sensor keeps of its plugin's struct hazmon_sensor_setup: the
 * plugin's default levels are copied into levels at load, and 10,000
 * sensors need not carry four unused copies each (500 bytes a sensor).
 */
struct hz_setup {
	struct hazmon_need needs[HAZMON_MAX_NEEDS];
	unsigned n_needs;
	char unit[sizeof(((struct hazmon_sensor_setup *)0)->unit)];
	void *ctx;			/* the plugin's, for decode() */
	/* ABI 1.3: "" and NaN where the plugin does not say (catalogue) */
	char gas[sizeof(((struct hazmon_sensor_setup *)0)->gas)];
	double range_low, range_high;
};

/* Lengths in bytes of names and of a sensor's labels for the catalogue. */
#define HZ_NAME_MAX		128
#define HZ_TAG_MAX		64
#define HZ_POINT_CODE_MAX	64
#define HZ_LOCATION_MAX		128

struct hz_sensor {
	char id[HZ_ID_MAX];
	char *name;
	char *tag;			/* the plant's tag number, or NULL */
	char *point_code;		/* the platform's point code, or NULL */
	char *location;			/* where it is (area, room), or NULL */
	struct hz_plugin *plugin;
	unsigned bus;			/* index into config buses */
	int slave;
	double interval;		/* seconds */
	double frozen_after;		/* seconds; 0 = no frozen-value check */
	struct hz_setup setup;
	struct hazmon_level *levels;
	unsigned n_levels;
	char *fp;
	int line;
};

struct hz_dest {
	char name[HZ_ID_MAX];
	char *host;
	int port;
	char *prefix;
	int qos;
	int keepalive;
	int commands;			/* accept operator commands over MQTT */
	char command_actor[64];		/* "": the actor a command names */
	int replay;			/* answer replay requests over MQTT */
	int replay_rate;		/* events per second a replay sends */
	char *username;
	char *password;			/* read from password_file, never logged */
	int tls;			/* a tls group is present */
	char *ca_file, *ca_path, *cert_file, *key_file, *tls_version;
	int tls_insecure;		/* skip the host name check (testing only) */
	char *fp;
};

struct hz_config {
	char *path;
	char site_id[HZ_ID_MAX];
	char *site_name;
	char *plugin_dir;
	char *state_dir;
	int log_level;
	char *control_socket;		/* the hazmonctl socket, or NULL: none */
	char *control_group;		/* its group, or NULL: ours */
	char *control_read_socket;	/* read-only; NULL: beside control_socket */
	char *control_read_group;	/* its group (mode 0660), or NULL: 0666 */
	char *fp;			/* site and daemon groups */
	int retention_days;		/* delivered events kept this long */
	struct hz_dest *dests;
	unsigned n_dests;
	struct hz_bus *buses;
	unsigned n_buses;
	struct hz_sensor *sensors;
	unsigned n_sensors;
	struct hz_plugin *plugins;
};

/* config.c */
struct hz_config *config_load(const char *path, const char *plugin_dir_override,
    int *n_errors);
void config_free(struct hz_config *c);
void config_dump(const struct hz_config *c);

/* hostapi.c: the struct hazmon_host handed to plugins */
extern const struct hazmon_host hz_host;
struct hazmon_cfg *hostapi_wrap(config_setting_t *s, const char *file,
    int *errors);
void hostapi_mark(struct hazmon_cfg *g, const char *key);
int hostapi_check_unknown(struct hazmon_cfg *g);
void hostapi_free(struct hazmon_cfg *g);
/* The levels a plugin's check_levels sees, and which of them departs. */
void hostapi_levels(struct hazmon_cfg *g, const struct hazmon_level *lv,
    unsigned n);
int hostapi_departed(const struct hazmon_cfg *g, unsigned i);
/* Collects this thread's config warnings (a reload's answer). */
void hostapi_warnings_begin(void);
char *hostapi_warnings_end(void);	/* malloc'd lines, or NULL when none */

/* plugin.c */
struct hz_plugin *plugin_get(struct hz_plugin **list, const char *dir,
    const char *name, char *err, size_t errlen);
void plugin_unload_all(struct hz_plugin *list);

/* config-fp.c: 128 bits of a text, as 32 hex digits (malloc'd) */
char *config_digest(const char *text, size_t n);

/* ids.c */
unsigned *ids_sort(const struct hz_config *c);
int ids_find(const struct hz_config *c, const unsigned *ord, const char *id);

#endif
