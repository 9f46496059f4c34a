/*
 * hazmon-web - the duty room's live page and Prometheus metrics for one
 * hazmond (hazmon-web(8), docs/web.md).  A process of its own, so that a
 * web server can never stall or crash alarm monitoring; it reads
 * hazmond's read-only control socket and can do nothing else to it.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hazmon-web.h"

static int journal;	/* stderr goes to journald: <N> priority prefixes */

static void
vlog(int prio, const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (journal)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "hazmon-web: %s%s\n", prio <= 4 ? "warning: " :
		    "", line);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(4, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(6, fmt, ap);
	va_end(ap);
}

/* Text from outside, printable: \xNN for the rest, "..." when cut. */
void
log_escape(char *out, size_t outlen, const char *in, size_t inlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; i < inlen && o + 8 < outlen; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (i < inlen && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hazmon-web [-t] [-c FILE] [-l ADDRESS] [-p PORT] "
	    "[-s SOCKET] [-P FILE]\n"
	    "  -c FILE     configuration (default " HZ_WEB_CONF_FILE
	    ", if it exists)\n"
	    "  -l ADDRESS  listen on ADDRESS, numeric (default "
	    WEB_DEFAULT_LISTEN ")\n"
	    "  -p PORT     listen on PORT (default %d; 0: any free port)\n"
	    "  -s SOCKET   hazmond's read-only control socket\n"
	    "              (default %s)\n"
	    "  -P FILE     write the port listened on to FILE\n"
	    "  -t          check the configuration and exit\n"
	    "  -V          print the version and exit\n", WEB_DEFAULT_PORT,
	    conf_default_socket());
}

static int
write_port(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -errno;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -errno;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *conf_path = NULL, *listen = NULL, *sock = NULL;
	const char *port_file = NULL;
	struct web_conf c;
	int ch, check = 0, port = -1, sig, r;
	sigset_t set;
	char *end;
	long l;

	journal = getenv("JOURNAL_STREAM") != NULL;
	while ((ch = getopt(argc, argv, "c:hl:p:P:s:tV")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'p':
			l = strtol(optarg, &end, 10);
			if (optarg[0] == '\0' || *end != '\0' || l < 0 ||
			    l > 65535) {
				fprintf(stderr, "hazmon-web: -p %s: a port from "
				    "0 to 65535\n", optarg);
				return 2;
			}
			port = (int)l;
			break;
		case 'P':
			port_file = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			printf("hazmon-web %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (conf_path == NULL && access(HZ_WEB_CONF_FILE, F_OK) == 0)
		conf_path = HZ_WEB_CONF_FILE;
	if (conf_load(&c, conf_path) < 0) {
		fprintf(stderr, "hazmon-web: %s: configuration has errors\n",
		    conf_path);
		conf_free(&c);
		return 1;
	}
	if (listen != NULL && !address_ok(listen)) {
		fprintf(stderr, "hazmon-web: -l %s: not a numeric IPv4 or IPv6 "
		    "address\n", listen);
		conf_free(&c);
		return 2;
	}
	if (listen != NULL) {
		free(c.listen);
		c.listen = strdup(listen);
	}
	if (sock != NULL) {
		free(c.socket);
		c.socket = strdup(sock);
	}
	if (port >= 0)
		c.port = port;
	if (c.listen == NULL || c.socket == NULL) {
		fprintf(stderr, "hazmon-web: out of memory\n");
		return 1;
	}
	if (check) {
		printf("%s: configuration OK (listen %s port %d, socket %s, %s)\n",
		    conf_path ? conf_path : "(no file)", c.listen, c.port,
		    c.socket, c.plan_image ? "with a plan" : "no plan");
		conf_free(&c);
		return 0;
	}

	/* Signals are taken by sigwait() below; every thread blocks them. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if ((r = http_start(&c)) < 0) {
		conf_free(&c);
		return 1;
	}
	if (port_file != NULL && (r = write_port(port_file, r)) < 0)
		log_warnx("%s: %s", port_file, strerror(-r));
	if ((r = feed_start(c.socket)) < 0) {
		log_warnx("cannot start: %s", strerror(-r));
		http_stop();
		conf_free(&c);
		return 1;
	}
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		log_info("SIGHUP: nothing to reload (restart to read the "
		    "configuration again)");
	}
	log_info("stopping");
	http_stop();	/* first: no page may read the model while it goes */
	feed_stop();
	conf_free(&c);
	return 0;
}
