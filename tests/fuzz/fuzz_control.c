/*
 * fuzz_control.c - one control-socket request line through the handler
 * hazmond runs for it (daemon/ctlcmd.c, ctlcmd_run), against a real core:
 * a configuration of two gas sensors, the evaluator, and a ledger in a
 * scratch directory, so that actions are recorded and history is read.
 *
 * The core has no MQTT destination (the harness hides the one the config
 * needs) and no bus worker; "reload" is left out, since it starts a loader
 * thread.  What must hold: every request gets exactly one answer line, a
 * JSON object with "ok"; a refusal has a "code"; the request never hangs
 * or crashes the handler.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "fuzz.h"
#include "core.h"

static const char conf_text[] =
    "site = { id = \"fz\"; };\n"
    "daemon = { state_dir = \"%s\"; control_socket = \"\"; };\n"
    "mqtt = ( { host = \"127.0.0.1\"; port = 1; } );\n"
    "buses = ( { name = \"b\"; type = \"tcp\"; host = \"127.0.0.1\"; port = 1; } );\n"
    "sensors = (\n"
    "  { id = \"ch4\"; plugin = \"gas\"; gas = \"CH4\"; bus = \"b\"; slave = 1;\n"
    "    register = { table = \"holding\"; address = 0; }; },\n"
    "  { id = \"h2s\"; plugin = \"gas\"; gas = \"H2S\"; bus = \"b\"; slave = 2;\n"
    "    register = { table = \"holding\"; address = 0; }; }\n"
    ");\n";

static struct core k;

/*
 * The core lives for the whole run, so its directory does too: under
 * $TMPDIR (tests/integration/fuzz.sh points it into the test's own
 * directory, which is removed after it), since libFuzzer ends with _Exit.
 */
static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300], text[1024];
	int errors = 0;

	fz_init(1);
	snprintf(dir, sizeof(dir), "%s/hazmon-fuzz-control-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		fz_fail("%s: cannot make the core's directory", dir);
	snprintf(path, sizeof(path), "%s/hazmond.conf", dir);
	snprintf(text, sizeof(text), conf_text, dir);
	fz_write_file(path, (const uint8_t *)text, strlen(text));
	if ((k.c = config_load(path, fz_plugin_dir(), &errors)) == NULL)
		fz_fail("the harness's own config has %d errors", errors);
	k.c->n_dests = 0;	/* no publisher: nothing connects anywhere */
	if ((k.l = ledger_open(k.c->state_dir)) == NULL)
		fz_fail("no ledger in %s", k.c->state_dir);
	k.gens = xcalloc(1, sizeof(*k.gens));
	k.gens->c = k.c;
	k.sigfd = -1;
	k.started = now_real_ms();
	core__eval_init(&k);
	k.shown = xcalloc(k.c->n_sensors, sizeof(*k.shown));
	k.workers = xcalloc(k.c->n_buses, sizeof(*k.workers));
	k.worker_gen = xcalloc(k.c->n_buses, sizeof(*k.worker_gen));
}

/* The request names "reload": the harness has no loader thread for it. */
static int
is_reload(const char *line)
{
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	const char *cmd = json_string_value(json_object_get(o, "cmd"));
	int r = cmd && strcmp(cmd, "reload") == 0;

	json_decref(o);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct ctl_ticket t = { 0, 1 };
	char *line, *out;
	json_t *res;
	int hangup = 0;

	if (!inited++)
		setup();
	/* control.c hands over one line without its newline, at most 64 KiB. */
	if (size > 65536 || memchr(data, '\n', size) || memchr(data, '\0', size))
		return 0;
	line = xcalloc(1, size + 1);
	memcpy(line, data, size);
	if (is_reload(line)) {
		free(line);
		return 0;
	}
	fz_log_begin();
	out = ctlcmd_run(&k, line, "root", &hangup, &t);
	free(fz_log_end());
	free(line);
	if (out == NULL)
		fz_fail("no answer (only a reload may answer later)");
	if (strchr(out, '\n'))
		fz_fail("an answer of more than one line: %.80s", out);
	res = json_loads(out, 0, NULL);
	if (!json_is_object(res) || !json_is_boolean(json_object_get(res, "ok")))
		fz_fail("an answer that is not {\"ok\":...}: %.80s", out);
	if (json_is_false(json_object_get(res, "ok")) &&
	    !json_is_string(json_object_get(res, "code")))
		fz_fail("a refusal without a code: %.80s", out);
	json_decref(res);
	free(out);
	return 0;
}
