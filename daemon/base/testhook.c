/*
 * testhook.c - the test suite's fault injection, in one place.  The
 * integration tests make faults happen on cue through HAZMOND_TEST_*
 * environment variables; they are read once, at the first question, so
 * that a production file never reads the environment itself and the list
 * below is every hook there is.  Unset, each is inert.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "base.h"

static struct hz_test_hooks hooks;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const char *
str(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void
read_hooks(void)
{
	const char *v;

	hooks.hang_bus = str("HAZMOND_TEST_HANG_BUS");
	hooks.dial_delay = str("HAZMOND_TEST_DIAL_DELAY");
	if ((v = str("HAZMOND_TEST_LEDGER_MAX_PAGES")) != NULL)
		hooks.ledger_max_pages = atoi(v);
	hooks.ledger_fail = str("HAZMOND_TEST_LEDGER_FAIL");
	hooks.runtime_base = str("HAZMOND_TEST_RUNTIME_BASE");
	if ((v = str("HAZMOND_TEST_RELOAD_DELAY_MS")) != NULL)
		hooks.reload_delay_ms = atoi(v);
}

const struct hz_test_hooks *
test_hooks(void)
{
	pthread_once(&once, read_hooks);
	return &hooks;
}
