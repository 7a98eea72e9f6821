/*
 * grant.h: what one credential may do with the action cache. Every /ac
 * write, Go entry and preload list lands in the one namespace the grant may
 * write; every read looks through the namespaces it may read, in order, and
 * the first hit wins. The CAS is one shared pool outside any namespace.
 * The namespace comes from the credential alone (a token's line in the auth
 * file, or the rule an OIDC token matched), never from the request.
 */
#ifndef CACHEGATE_GATEWAY_GRANT_H
#define CACHEGATE_GATEWAY_GRANT_H

#include <stdbool.h>
#include <stddef.h>

/* Longest namespace name, and the most namespaces one grant reads. */
#define GRANT_NS_MAX 64
#define GRANT_READS_MAX 8

/* The namespace of tokens written before namespaces, and of anonymous reads. */
#define GRANT_NS_DEFAULT "default"

struct grant {
	bool write;                                    /* may store in ns */
	char ns[GRANT_NS_MAX + 1];                     /* where writes land; "" when read only */
	size_t nreads;                                 /* how many of reads[] are set */
	char reads[GRANT_READS_MAX][GRANT_NS_MAX + 1]; /* read in this order, first hit wins */
	char label[GRANT_NS_MAX + 1];                  /* metrics label: bounded cardinality */
};

/*
 * True when name is a namespace name: 1 to GRANT_NS_MAX characters, parts of
 * letters, digits, '-', '_' and '.' joined by single '/', no part "." or "..".
 * Such a name is safe as a directory name or an S3 key part.
 */
bool grant_ns_valid(const char *name);

/*
 * Set g to the grant of the old auth-file lines and of anonymous reads:
 * namespace "default", read "default", writing when write is true.
 */
void grant_default(struct grant *g, bool write);

/*
 * Parse a comma-separated list of namespaces ("pr-42,main") into g->reads.
 * False, with g unchanged, when a name is invalid, the list empty or longer
 * than GRANT_READS_MAX.
 */
bool grant_parse_reads(struct grant *g, const char *list);

#endif
