/*
 * ns.c: namespaces of action entries. The namespace "default" is the
 * store's ac/ directory as it always was, so a store written before
 * namespaces needs no migration; any other lives in ns/<name>/ac/, its
 * name's '/' written as '+' (a character no name has), so that no two names
 * share a directory and no name nests inside another's. CAS objects are one
 * pool under cas/ whatever the namespace.
 */
#include "store/internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The character a '/' of a namespace name becomes in its directory's name. */
#define NS_SLASH '+'

bool store_ns_valid(const char *name)
{
	size_t len = strnlen(name, STORE_NS_MAX + 1), part = 0;

	if (len == 0 || len > STORE_NS_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '/' || c == '\0') {
			const char *start = name + i - part;

			if (part == 0 || (part == 1 && start[0] == '.') ||
			    (part == 2 && start[0] == '.' && start[1] == '.'))
				return false;
			part = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
		part++;
	}
	return true;
}

void store_ns_dir(const char *ns, char buf[STORE_AC_DIR_MAX])
{
	size_t n;

	if (strcmp(ns, STORE_NS_DEFAULT) == 0) {
		snprintf(buf, STORE_AC_DIR_MAX, "ac");
		return;
	}
	n = (size_t)snprintf(buf, STORE_AC_DIR_MAX, "ns/%s/ac", ns);
	for (size_t i = sizeof "ns/" - 1; i < n - sizeof "/ac" + 1; i++)
		if (buf[i] == '/')
			buf[i] = NS_SLASH;
}

struct store *store_namespace(struct store *s, const char *ns)
{
	struct store *v;

	if (!store_ns_valid(ns) || (v = malloc(sizeof *v)) == NULL)
		return NULL;
	*v = *s;
	v->view = true;
	snprintf(v->ns, sizeof v->ns, "%s", ns);
	store_ns_dir(ns, v->ac_dir);
	return v;
}

const char *store_ns(const struct store *s)
{
	return s->ns;
}

/* True when a directory entry under ns/ is a namespace's: its name, '+' for '/', is valid. */
static bool ns_entry(const char *entry, char ns[STORE_NS_MAX + 1])
{
	size_t len = strnlen(entry, STORE_NS_MAX + 1);

	if (len > STORE_NS_MAX)
		return false;
	for (size_t i = 0; i <= len; i++)
		ns[i] = entry[i] == NS_SLASH ? '/' : entry[i];
	return store_ns_valid(ns) && strcmp(ns, STORE_NS_DEFAULT) != 0;
}

bool store_ns_each(const struct store *s, bool (*visit)(void *ctx, const char *where),
                   void *ctx)
{
	char path[PATH_MAX], ns[STORE_NS_MAX + 1], where[STORE_AC_DIR_MAX];
	struct dirent *e;
	bool go_on = true;
	DIR *d;

	snprintf(path, sizeof path, "%s/ns", s->dir);
	if ((d = opendir(path)) == NULL)
		return true;  /* no namespace has been written yet */
	while (go_on && (e = readdir(d)) != NULL) {
		if (!ns_entry(e->d_name, ns))
			continue;
		store_ns_dir(ns, where);
		go_on = visit(ctx, where);
	}
	closedir(d);
	return go_on;
}
