/*
 * main.c - hazmond: arguments, configuration check, start.
 */
#include "config.h"

#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mosquitto.h>

#include "hazmond.h"

#ifndef HZ_CONF_FILE
#define HZ_CONF_FILE "/etc/hazmon/hazmond.conf"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hazmond [-t] [-v] [-d] [-c FILE] [-P DIR]\n"
	    "       hazmond --probe [SENSOR...] [-d] [-c FILE] [-P DIR]\n"
	    "  -c, --config FILE      configuration (default %s)\n"
	    "  -t, --test             check the configuration and exit\n"
	    "  -v, --verbose          with -t: print the effective configuration\n"
	    "      --probe            read the SENSORs (default: all) once, print the\n"
	    "                         requests, raw words, value and quality, exit\n"
	    "  -d, --debug            log at debug level\n"
	    "  -P, --plugin-dir DIR   load plugins from DIR (overrides the config)\n"
	    "  -V, --version          print the version and exit\n"
	    "  -h, --help             print this help and exit\n", HZ_CONF_FILE);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "debug", no_argument, NULL, 'd' },
		{ "plugin-dir", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "probe", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = HZ_CONF_FILE, *plugin_dir = NULL;
	int test = 0, verbose = 0, debug = 0, probe = 0, ch, errors, rc;
	struct hz_config *c;

	while ((ch = getopt_long(argc, argv, "c:tvdP:Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': test = 1; break;
		case 'v': verbose = 1; break;
		case 'd': debug = 1; break;
		case 'P': plugin_dir = optarg; break;
		case 'V': printf("hazmond %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		case 'p': probe = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if ((optind != argc && !probe) || (probe && test)) {
		usage(stderr);
		return 2;
	}
	log_init("hazmond", debug ? HZ_LOG_DEBUG : HZ_LOG_INFO);
	c = config_load(path, plugin_dir, &errors);
	if (c == NULL) {
		log_msg(HZ_LOG_ERR, "%s: %d error%s; %s", path, errors,
		    errors == 1 ? "" : "s", test ? "configuration rejected" :
		    probe ? "nothing probed" : "not starting");
		return probe ? 2 : 1;
	}
	if (probe) {
		rc = probe_run(c, argv + optind, argc - optind);
		config_free(c);
		return rc;
	}
	if (test) {
		if (verbose)
			config_dump(c);
		printf("%s: configuration OK (%u sensors, %u buses, %u mqtt "
		    "destinations)\n", path, c->n_sensors, c->n_buses, c->n_dests);
		config_free(c);
		return 0;
	}
	if (!debug)
		log_set_level(c->log_level);
#ifdef M_ARENA_MAX
	/*
	 * One malloc arena: the bus workers hardly allocate, and the reload
	 * loader thread would otherwise leave every configuration it built in
	 * an arena of its own (measured: 357 MB instead of 75 MB after 20
	 * reloads of 10,000 sensors, bench/reload.sh).
	 */
	mallopt(M_ARENA_MAX, 1);
#endif
	/*
	 * The parse tree is gone (config_load freed it); what it took at the
	 * peak goes back to the system instead of staying in the heap
	 * (measured: 7 MB of 10,000 sensors, bench/memory.sh).
	 */
	malloc_trim(0);
	mosquitto_lib_init();
	rc = core_run(c, plugin_dir, debug);	/* frees c */
	mosquitto_lib_cleanup();
	return rc;
}
