/*
 * ac_ns.c: a request's action-entry stores (ac_ns.h).
 */
#include <string.h>

#include "gateway/objects/ac_ns.h"

/* base itself for the default namespace, else a fresh view of ns. */
static struct store *view(struct store *base, const char *ns)
{
	return strcmp(ns, GRANT_NS_DEFAULT) == 0 ? base : store_namespace(base, ns);
}

bool ac_ns_open(struct ac_ns *a, struct store *base, const struct grant *g)
{
	memset(a, 0, sizeof(*a));
	a->base = base;
	if (g->write && (a->write = view(base, g->ns)) == NULL)
		return false;
	for (size_t i = 0; i < g->nreads && i < GRANT_READS_MAX; i++) {
		if ((a->reads[i] = view(base, g->reads[i])) == NULL) {
			ac_ns_close(a);
			return false;
		}
		a->nreads = i + 1;
	}
	return true;
}

void ac_ns_close(struct ac_ns *a)
{
	if (a->write != a->base)
		store_close(a->write);
	for (size_t i = 0; i < a->nreads; i++)
		if (a->reads[i] != a->base)
			store_close(a->reads[i]);
	memset(a, 0, sizeof(*a));
}

size_t ac_ns_local_reads(const struct ac_ns *a, bool tier, size_t tier_asked)
{
	return tier && tier_asked < a->nreads ? tier_asked + 1 : a->nreads;
}

struct ac_ns ac_ns_first(const struct ac_ns *a, size_t n)
{
	struct ac_ns first = *a;

	first.nreads = n < a->nreads ? n : a->nreads;
	return first;
}

enum store_result ac_ns_get(const struct ac_ns *a, const char *id, struct store_object *obj,
                            size_t *at)
{
	for (size_t i = 0; i < a->nreads; i++) {
		enum store_result r = store_get(a->reads[i], STORE_AC, id, -1, obj);

		if (r == STORE_NOT_FOUND)
			continue;
		if (at != NULL)
			*at = i;
		return r;
	}
	return STORE_NOT_FOUND;
}
