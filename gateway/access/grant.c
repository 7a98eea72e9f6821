/*
 * grant.c: namespace names and the grants built from them.
 */
#include <string.h>

#include "gateway/access/grant.h"
#include "store/store.h"

_Static_assert(GRANT_NS_MAX == STORE_NS_MAX, "a grant names the store's namespaces");

bool grant_ns_valid(const char *name)
{
	return store_ns_valid(name);
}

void grant_default(struct grant *g, bool write)
{
	memset(g, 0, sizeof(*g));
	g->write = write;
	if (write)
		strcpy(g->ns, GRANT_NS_DEFAULT);
	g->nreads = 1;
	strcpy(g->reads[0], GRANT_NS_DEFAULT);
	strcpy(g->label, GRANT_NS_DEFAULT);
}

bool grant_parse_reads(struct grant *g, const char *list)
{
	char names[GRANT_READS_MAX][GRANT_NS_MAX + 1];
	size_t n = 0;
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");

		if (n == GRANT_READS_MAX || len == 0 || len > GRANT_NS_MAX)
			return false;
		memcpy(names[n], p, len);
		names[n][len] = '\0';
		if (!grant_ns_valid(names[n]))
			return false;
		n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	memcpy(g->reads, names, sizeof(names[0]) * n);
	g->nreads = n;
	return true;
}
