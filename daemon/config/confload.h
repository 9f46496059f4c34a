/*
 * confload.h - what the parts of the config loader (config.c,
 * config-levels.c, config-net.c) share.  Internal to those files.
 */
#ifndef HAZMON_CONFLOAD_H
#define HAZMON_CONFLOAD_H

#include "model.h"

struct loader {
	struct hz_config *c;
	config_t lc;
	int errors;
	const char *plugin_dir_override;
};

char *cfg__opt_string(struct hazmon_cfg *g, const char *key, const char *def);
int cfg__text(struct hazmon_cfg *g, const char *key, const char *s);
char *cfg__opt_text(struct hazmon_cfg *g, const char *key, const char *def,
    size_t max);
int cfg__opt_int(struct hazmon_cfg *g, const char *key, int def, int lo, int hi);
double cfg__opt_number(struct hazmon_cfg *g, const char *key, double def,
    double lo, double hi);
void cfg__req_id(struct hazmon_cfg *g, const char *key, char *buf,
    int allow_upper_dot, const char *what);
config_setting_t *cfg__get_list(struct loader *ld, struct hazmon_cfg *root,
    const char *key);
struct hazmon_cfg *cfg__list_group(struct loader *ld, config_setting_t *list,
    unsigned i);
void cfg__load_levels(struct loader *ld, struct hazmon_cfg *sg,
    config_setting_t *ss, struct hz_sensor *s);
void cfg__apply_plugin_levels(struct hazmon_cfg *g, struct hz_sensor *s,
    const struct hazmon_sensor_setup *su);
void cfg__load_mqtt(struct loader *ld, struct hazmon_cfg *root);
void cfg__load_buses(struct loader *ld, struct hazmon_cfg *root);
char *cfg__fingerprint(const config_setting_t *s);

#endif
