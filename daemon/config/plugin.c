/*
 * plugin.c - find, load and check sensor plugins.
 *
 * The ABI version is checked before anything else in the plugin is called,
 * so a plugin built for another major version cannot crash the daemon with
 * a struct of a different shape.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static int
valid_name(const char *name)
{
	if (*name == '\0' || strlen(name) > 32)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-'))
			return 0;
	return 1;
}

static struct hz_plugin *
plugin_load(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[4096];
	void *h;
	hazmon_plugin_abi_fn abi_fn;
	hazmon_plugin_describe_fn desc_fn;
	const struct hazmon_plugin *d;
	uint32_t abi;
	struct hz_plugin *p;

	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, errlen, "cannot load plugin \"%s\": %s", name, dlerror());
		return NULL;
	}
	*(void **)&abi_fn = dlsym(h, "hazmon_plugin_abi");
	*(void **)&desc_fn = dlsym(h, "hazmon_plugin_describe");
	if (abi_fn == NULL || desc_fn == NULL) {
		snprintf(err, errlen, "%s is not a hazmon plugin (no "
		    "hazmon_plugin_abi/hazmon_plugin_describe)", path);
		goto fail;
	}
	abi = abi_fn();
	if (abi >> 16 != HAZMON_PLUGIN_ABI_MAJOR ||
	    (abi & 0xffff) > HAZMON_PLUGIN_ABI_MINOR) {
		snprintf(err, errlen, "%s: unsupported plugin ABI version "
		    "(got %u.%u, expected %u.%u or older minor)", path,
		    abi >> 16, abi & 0xffff, HAZMON_PLUGIN_ABI_MAJOR,
		    HAZMON_PLUGIN_ABI_MINOR);
		goto fail;
	}
	d = desc_fn();
	if (d == NULL || d->abi != abi || d->struct_size < sizeof(*d) -
	    sizeof(d->future) || d->configure == NULL || d->decode == NULL ||
	    d->name == NULL) {
		snprintf(err, errlen, "%s: plugin description is incomplete or "
		    "inconsistent with its ABI version", path);
		goto fail;
	}
	p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(name);
	p->path = xstrdup(path);
	p->handle = h;
	p->desc = d;
	return p;
fail:
	dlclose(h);
	return NULL;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "; plugins in DIR: a b c" (the NAME.so files there) to err. */
static void
list_dir(const char *dir, char *err, size_t errlen)
{
	size_t n = strlen(err), k = 0, cap = 0;
	char **names = NULL;
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err + n, errlen - n, "; cannot list %s: %s", dir,
		    strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len <= 3 || strcmp(e->d_name + len - 3, ".so") != 0)
			continue;
		names = xgrow(names, &cap, k + 1, sizeof(*names));
		names[k] = xstrdup(e->d_name);
		names[k++][len - 3] = '\0';
	}
	closedir(d);
	qsort(names, k, sizeof(*names), by_name);
	n += (size_t)snprintf(err + n, errlen - n, "; plugins in %s:%s", dir,
	    k ? "" : " none");
	for (size_t i = 0; i < k; i++) {
		if (n < errlen)
			n += (size_t)snprintf(err + n, errlen - n, " %s", names[i]);
		free(names[i]);
	}
	free(names);
}

struct hz_plugin *
plugin_get(struct hz_plugin **list, const char *dir, const char *name,
    char *err, size_t errlen)
{
	struct hz_plugin *p;

	for (p = *list; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	if (!valid_name(name)) {
		snprintf(err, errlen, "invalid plugin name \"%s\" (letters, "
		    "digits, '_' and '-')", name);
		list_dir(dir, err, errlen);
		return NULL;
	}
	if ((p = plugin_load(dir, name, err, errlen)) == NULL) {
		list_dir(dir, err, errlen);
		return NULL;
	}
	p->next = *list;
	*list = p;
	return p;
}

void
plugin_unload_all(struct hz_plugin *list)
{
	while (list) {
		struct hz_plugin *next = list->next;

		dlclose(list->handle);
		free(list->name);
		free(list->path);
		free(list);
		list = next;
	}
}
