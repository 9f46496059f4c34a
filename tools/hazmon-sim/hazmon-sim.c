/*
 * hazmon-sim - Modbus plant simulator for hazmon tests and demos.
 *
 * Serves several Modbus unit ids behind one TCP port, or on one serial
 * line as Modbus RTU (-r, e.g. a socat pty), each with its own register
 * tables, whose values are changed while it runs by a command script
 * (-f) and/or commands written into a FIFO (-c).  Faults (no reply,
 * delay, exception, bad CRC, disconnect, short replies) and flapping
 * values are injected the same way.  The options, the command language
 * and the register byte orders are documented in docs/simulator.md;
 * hazmon-sim.h lists which file does what.
 *
 * Build (in tools/hazmon-sim/; tests/sim-client.c is a separate program, the tests'
 * Modbus master):
 *   gcc -std=c11 -Wall -Wextra -O2 -D_GNU_SOURCE -o hazmon-sim hazmon-sim.c \
 *       sim-parse.c sim-plant.c sim-source.c sim-reply.c sim-server.c \
 *       sim-rtu.c sim-stats.c -lm $(pkg-config --cflags --libs libmodbus)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "hazmon-sim.h"

volatile sig_atomic_t sim_got_signal;
static struct sim the_sim; /* static: the counters are ~1 MiB */

static void
on_signal(int sig)
{
	(void)sig;
	sim_got_signal = 1;
}

double
now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Print a runtime error to stderr; returns -1 for `return complain()`. */
int
complain(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("hazmon-sim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

/* Write then rename, so a test polling for the file never reads it
 * half-written.  TCP: the port; RTU: the word "rtu". */
static int
write_portfile(struct sim *s)
{
	char tmp[4096];
	FILE *f = atomic_open(s->portfile, tmp, sizeof tmp);

	if (!f)
		return -1;
	if (s->rtu)
		fprintf(f, "rtu\n");
	else
		fprintf(f, "%d\n", s->port);
	if (atomic_commit(f, tmp, s->portfile) != 0)
		return -1;
	s->portfile_written = 1;
	return 0;
}

static void
cleanup(struct sim *s)
{
	close_clients(s);
	if (s->rtu && s->ctx) {
		modbus_set_socket(s->ctx, s->line.fd);
		modbus_close(s->ctx); /* restores the line's old settings */
	}
	modbus_free(s->ctx);
	for (int i = 0; i < 2; i++)
		if (s->capture[i] >= 0)
			close(s->capture[i]);
	for (int u = 0; u < NUM_UNITS; u++)
		modbus_mapping_free(s->units[u]);
	source_free(&s->script);
	source_free(&s->fifo);
	/* A stale port file would send the next test run to a dead port. */
	if (s->portfile_written)
		unlink(s->portfile);
}

static void
usage(FILE *out)
{
	fputs("usage: hazmon-sim [-a ADDR] [-p PORT] [-P PORTFILE] [-f SCRIPT] "
	      "[-c FIFO]\n"
	      "                  [-n SIZE] [-S STATSFILE] [-v] [-h]\n"
	      "       hazmon-sim -r DEVICE [-b BAUD] [-y PARITY] [-s STOPBITS] "
	      "[-P PORTFILE] ...\n"
	      "  -a ADDR       IPv4 listen address (default 127.0.0.1)\n"
	      "  -p PORT       TCP port (default 1502; 0 = any free port)\n"
	      "  -r DEVICE     serve Modbus RTU on a serial device instead of "
	      "TCP\n"
	      "  -b BAUD       RTU speed (default 9600)\n"
	      "  -y PARITY     RTU parity N, E or O (default N); 8 data bits\n"
	      "  -s STOPBITS   RTU stop bits 1 or 2 (default 1)\n"
	      "  -P PORTFILE   once ready, write the port (RTU: \"rtu\") to "
	      "PORTFILE\n"
	      "  -f SCRIPT     run a command script (checked before serving)\n"
	      "  -c FIFO       read commands from FIFO (created if absent)\n"
	      "  -n SIZE       registers/bits per table per unit (default "
	      "1000, max 65536)\n"
	      "  -S STATSFILE  `stats` also writes the counters to STATSFILE\n"
	      "  -v            log requests, faults and sets to stderr\n"
	      "See docs/simulator.md for the command language.\n",
	    out);
}

static int
parse_serial(struct sim *s, int opt, const char *arg)
{
	static const long bauds[] = { 1200, 2400, 4800, 9600, 19200, 38400,
		57600, 115200, 230400 };
	uint64_t v;

	if (opt == 'y') {
		if (strlen(arg) != 1 || !strchr("NEO", arg[0]))
			return complain("parity must be N, E or O, got '%s'",
			    arg);
		s->parity = arg[0];
	} else if (opt == 's') {
		if (parse_int(arg, 1, 2, &v) < 0)
			return complain("stop bits must be 1 or 2, got '%s'",
			    arg);
		s->stopbits = (int)v;
	} else {
		int ok = 0;
		if (parse_int(arg, 1, 230400, &v) == 0)
			for (size_t i = 0; i < sizeof bauds / sizeof bauds[0];
			     i++)
				ok |= bauds[i] == (long)v;
		if (!ok)
			return complain(
			    "unsupported baud rate '%s' (1200..230400)", arg);
		s->baud = (int)v;
	}
	return 0;
}

/* Returns 0 to run, 1 after -h, -1 on a usage error. */
static int
parse_args(struct sim *s, int argc, char **argv)
{
	uint64_t v;
	int opt, tcp_opt = 0, serial_opt = 0;

	while ((opt = getopt(argc, argv, "a:p:P:f:c:n:r:b:y:s:S:vh")) != -1) {
		switch (opt) {
		case 'a':
			s->addr = optarg;
			tcp_opt = 1;
			break;
		case 'P': s->portfile = optarg; break;
		case 'c': s->fifo.path = optarg; break;
		case 'S': s->statsfile = optarg; break;
		case 'r':
			s->device = optarg;
			s->rtu = 1;
			break;
		case 'v': s->verbose = 1; break;
		case 'h': usage(stdout); return 1;
		case 'f':
			if (s->script.path)
				return complain("-f may be given only once");
			s->script.path = optarg;
			break;
		case 'p':
			if (parse_int(optarg, 0, 65535, &v) < 0)
				return complain("bad port '%s'", optarg);
			s->port = (int)v;
			tcp_opt = 1;
			break;
		case 'n':
			if (parse_int(optarg, 1, 65536, &v) < 0)
				return complain(
				    "size must be 1..65536, got '%s'", optarg);
			s->size = (int)v;
			break;
		case 'b':
		case 'y':
		case 's':
			if (parse_serial(s, opt, optarg) < 0)
				return -1;
			serial_opt = 1;
			break;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc)
		return complain("unexpected argument '%s'", argv[optind]);
	if (s->rtu && tcp_opt)
		return complain(
		    "-a and -p are for TCP; they cannot be used with -r");
	if (!s->rtu && serial_opt)
		return complain("-b, -y and -s need -r DEVICE");
	return 0;
}

int
main(int argc, char **argv)
{
	struct sim *s = &the_sim;
	struct sigaction sa;
	int rc;

	s->addr = "127.0.0.1";
	s->port = 1502;
	s->size = 1000;
	s->baud = 9600;
	s->parity = 'N';
	s->stopbits = 1;
	s->listen_fd = s->script.fd = s->fifo.fd = s->line.fd = -1;
	s->capture[0] = s->capture[1] = -1;
	s->script.is_script = 1;
	if ((rc = parse_args(s, argc, argv)) != 0)
		return rc > 0 ? 0 : 2;
	if (s->script.path && load_script(&s->script, s->size) < 0) {
		cleanup(s);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() must wake up */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN; /* a vanished client must not kill us */
	sigaction(SIGPIPE, &sa, NULL);

	rc = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->capture) < 0)
		rc = complain("socketpair: %s", strerror(errno));
	if (rc == 0 &&
	    ((s->fifo.path && fifo_open(&s->fifo) < 0) ||
	        (s->rtu ? rtu_open(s) : start_listening(s)) < 0))
		rc = -1;
	if (rc == 0) {
		/* Run the script's leading commands before announcing readiness,
		 * so a test that waits for PORTFILE sees the initial values. */
		s->script.due = now_sec();
		run_source(s, &s->script, s->script.due);
		if (s->portfile)
			rc = write_portfile(s);
	}
	if (rc == 0)
		rc = serve(s);
	cleanup(s);
	return rc < 0 ? 1 : 0;
}
