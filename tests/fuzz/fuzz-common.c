/*
 * fuzz-common.c - the helpers every fuzz target uses (see fuzz.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FZ_PLUGIN_DIR
#define FZ_PLUGIN_DIR "tests/fuzz/plugins"
#endif

static const char *const plugin_names[] = { "gas", "smoke", "temperature",
    "generic" };
static struct hz_plugin *pinned;	/* never unloaded */
static char scratch[64];

void
fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

void
fz_init(int plugins)
{
	const char *v = getenv("FUZZ_VERBOSE");
	int fd;

	if (v && *v && strcmp(v, "0") != 0)
		log_init("fuzz", HZ_LOG_DEBUG);
	else {
		/* Nothing is printed; fz_log_begin still collects. */
		log_init("fuzz", -1);
		if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
	}
	/* A config may name /dev/stdin: it reads EOF, never waits. */
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	if (plugins)
		fz_pin_plugins();
}

void
fz_log_begin(void)
{
	log_capture_begin(HZ_LOG_WARNING);
}

char *
fz_log_end(void)
{
	return log_capture_end();
}

const char *
fz_plugin_dir(void)
{
	const char *d = getenv("HAZMON_FUZZ_PLUGIN_DIR");

	return d && *d ? d : FZ_PLUGIN_DIR;
}

void
fz_pin_plugins(void)
{
	char err[1024];

	if (pinned)
		return;
	for (size_t i = 0; i < sizeof(plugin_names) / sizeof(plugin_names[0]); i++)
		if (plugin_get(&pinned, fz_plugin_dir(), plugin_names[i], err,
		    sizeof(err)) == NULL) {
			fprintf(stderr, "fuzz: %s\n(make fuzz builds the plugins; "
			    "HAZMON_FUZZ_PLUGIN_DIR says where they are)\n", err);
			exit(2);
		}
}

const struct hazmon_plugin *
fz_plugin(const char *name)
{
	fz_pin_plugins();
	for (struct hz_plugin *p = pinned; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p->desc;
	fz_fail("no plugin %s", name);
}

const char *
fz_scratch_begin(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(scratch, sizeof(scratch), "%s/hazmon-fuzz-XXXXXX", base);
	if (mkdtemp(scratch) == NULL) {
		perror(scratch);
		exit(2);
	}
	return scratch;
}

void
fz_scratch_end(void)
{
	char path[sizeof(scratch) + 256];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(scratch)) == NULL)
		fz_fail("%s: %s", scratch, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", scratch, e->d_name);
		if (unlink(path) != 0)
			fz_fail("%s: %s", path, strerror(errno));
	}
	closedir(d);
	if (rmdir(scratch) != 0)
		fz_fail("%s: %s", scratch, strerror(errno));
}

void
fz_write_file(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n) || close(fd) != 0) {
		perror(path);
		exit(2);
	}
}

uint8_t
fz_u8(struct fz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

uint16_t
fz_u16(struct fz_in *in)
{
	uint16_t hi = fz_u8(in);

	return (uint16_t)(hi << 8 | fz_u8(in));
}

const uint8_t *
fz_take(struct fz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	*got = n < in->n ? n : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

/*
 * LeakSanitizer's built-in suppressions (read at start, however the
 * target is run).  libconfig 1.5 (Debian 12) loses its scanner's strings
 * when a string stands where the grammar wants something else: the two
 * bytes `""` as a whole file leak 65 bytes (the string buffer and the
 * token).  That is libconfig's bug, not ours.  Only those two scanner
 * functions are suppressed, so nothing of hazmond hides behind them: a
 * config_t we forgot to destroy still leaks its settings, which the
 * parser allocates.
 */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/*
 * AddressSanitizer's built-in options.  Each leak check (libFuzzer runs
 * one after every input that left more allocations than frees, which
 * libconfig's leak above makes frequent) walks the allocator's chunks,
 * the default 256 MB quarantine of freed memory included: fuzz_config ran
 * 455 inputs/s with it, 8000 with 8 MB.  16 MB still holds every chunk
 * freed while one input runs, which is where a use after free of these
 * targets would be.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}
