/*
 * ac_ns.h: the action-entry stores of one request, from its grant
 * (grant.h): the namespace its writes land in and those its reads look
 * through, in order. The CAS is the base store's whatever the namespace.
 */
#ifndef CACHEGATE_GATEWAY_AC_NS_H
#define CACHEGATE_GATEWAY_AC_NS_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/access/grant.h"
#include "store/store.h"

struct ac_ns {
	struct store *base;                    /* the gateway's store */
	struct store *write;                   /* where writes land; NULL for a read-only grant */
	size_t nreads;
	struct store *reads[GRANT_READS_MAX];  /* where reads look, first hit wins */
};

/*
 * Set a up for grant g over base: "default" is base itself, any other
 * namespace a view of it. False when out of memory (a is then empty).
 */
bool ac_ns_open(struct ac_ns *a, struct store *base, const struct grant *g);

/* Free the views a holds; a is empty afterwards. An empty a is fine. */
void ac_ns_close(struct ac_ns *a);

/*
 * Open action entry id from the first read namespace that has it, as
 * store_get does; *at (NULL: not wanted) is that namespace's index.
 * STORE_NOT_FOUND when none has it.
 */
enum store_result ac_ns_get(const struct ac_ns *a, const char *id, struct store_object *obj,
                            size_t *at);

/*
 * How many of a's read namespaces a request may look in locally, having
 * asked the shared tier (when there is one) for the entry in the first
 * tier_asked of them: each namespace's tier copy comes before the next
 * namespace's, so that the first hit in the grant's order wins.
 */
size_t ac_ns_local_reads(const struct ac_ns *a, bool tier, size_t tier_asked);

/* A copy of a that reads only its first n namespaces; it owns nothing: never close it. */
struct ac_ns ac_ns_first(const struct ac_ns *a, size_t n);

#endif
