/*
 * fuzz_control.c - one control-socket request line through the handler
 * hazmond runs for it (daemon/core/ctlcmd.c, ctlcmd_run), on the view of
 * the core the commands get (struct ctl_env): a configuration of two gas
 * sensors, the evaluator, and a ledger in a scratch directory, so that
 * actions are recorded and history is read.
 *
 * There is no MQTT destination (the harness hides the one the config
 * needs) and no bus worker; a reload is only counted.  What must hold:
 * every request gets exactly one answer line, a JSON object with "ok"; a
 * refusal has a "code"; only a reload answers later; the request never
 * hangs or crashes the handler.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "fuzz.h"
#include "ctlcmd.h"
#include "batch.h"

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

static struct hz_config *c;
static struct hz_ledger *l;
static struct hz_batch *batch;
static struct hz_eval ev;
static struct hz_health health;
static unsigned reloads_asked;

/* The batch's outputs: no publisher; a resave as the core does it. */
static const char *
out_site(void *arg)
{
	(void)arg;
	return c->site_id;
}

static void
out_live(void *arg, const char *sensor, const char *payload)
{
	(void)arg;
	(void)sensor;
	(void)payload;
}

static void
out_pump(void *arg)
{
	(void)arg;
}

static void
out_resave(void *arg)
{
	(void)arg;
	eval_save_all(&ev);
}

/* An operator action in a batch of its own, as the core does it. */
static int
action(void *arg, const struct hz_command *cmd)
{
	int rc;

	(void)arg;
	batch_begin(batch);
	rc = eval_command(&ev, cmd, now_real_ms());
	batch_end(batch);
	return rc;
}

static void
reload(void *arg, const struct ctl_ticket *t)
{
	(void)arg;
	(void)t;
	reloads_asked++;
}

static void
rebirth(void *arg)
{
	(void)arg;
}

/* As a destination would: the same check, nothing queued. */
static int
replay(void *arg, unsigned dest, const json_t *req, const char *actor,
    struct replay_answer *a)
{
	struct hz_replay r;

	(void)arg;
	(void)dest;
	(void)actor;
	return replay_check(req, "fuzz", 1, 1000, &r, a) != 0 ? -EINVAL : 0;
}

static struct ctl_env env = { .ev = &ev, .health = &health,
    .action = action, .reload = reload, .rebirth = rebirth, .replay = replay };

/*
 * The harness lives for the whole run, so its directory does too: under
 * $TMPDIR (tests/integration/fuzz.sh points it into the test's own
 * directory, which is removed after it), since libFuzzer ends with _Exit.
 */
static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300], text[1024];
	int errors = 0;
	struct hz_batch_out out = { NULL, out_site, out_live, out_pump,
	    out_resave };
	struct hz_sink sink;

	fz_init(1);
	snprintf(dir, sizeof(dir), "%s/hazmon-fuzz-control-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		fz_fail("%s: cannot make the harness's directory", dir);
	snprintf(path, sizeof(path), "%s/hazmond.conf", dir);
	snprintf(text, sizeof(text), conf_text, dir);
	fz_write_file(path, (const uint8_t *)text, strlen(text));
	if ((c = config_load(path, fz_plugin_dir(), &errors)) == NULL)
		fz_fail("the harness's own config has %d errors", errors);
	c->n_dests = 0;		/* no publisher: nothing connects anywhere */
	if ((l = ledger_open(c->state_dir)) == NULL)
		fz_fail("no ledger in %s", c->state_dir);
	batch = batch_new(l, &out);
	batch_sink(batch, &sink);
	eval_init(&ev, c, &sink, 0);
	env.c = c;
	env.l = l;
	env.workers = xcalloc(c->n_buses, sizeof(*env.workers));
	env.started = now_real_ms();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	char *line, *out;
	json_t *res;
	unsigned reloads_before = reloads_asked;
	int hangup = 0;

	if (!inited++)
		setup();
	/* control.c hands over one line without its newline, at most 64 KiB. */
	if (size > 65536 || memchr(data, '\n', size) || memchr(data, '\0', size))
		return 0;
	line = xcalloc(1, size + 1);
	memcpy(line, data, size);
	fz_log_begin();
	out = ctlcmd_run(&env, line, "root", &hangup, NULL);
	free(fz_log_end());
	free(line);
	if (reloads_asked != reloads_before) {
		if (out != NULL)
			fz_fail("a reload answered at once: %.80s", out);
		return 0;
	}
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
