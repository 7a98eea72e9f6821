/*
 * grant.c: namespace names and the grants built from them.
 */
#include <string.h>

#include "gateway/access/grant.h"

bool grant_ns_valid(const char *name)
{
	size_t len = strlen(name), part = 0;

	if (len == 0 || len > GRANT_NS_MAX)
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
