/*
 * http_tier.h: the shared tier (tier.h) on a request's path. A GET that
 * misses the local store is fetched from the tier into it (all misses of
 * one object share one fetch), a HEAD that misses asks the tier, and a PUT
 * is answered only once the tier has the object too. Meanwhile the
 * connection is suspended; when the tier has answered it is resumed, and
 * the request's handler runs again.
 */
#ifndef CACHEGATE_GATEWAY_HTTP_TIER_H
#define CACHEGATE_GATEWAY_HTTP_TIER_H

#include <microhttpd.h>

#include "gateway/http/request.h"
#include "gateway/tier/tier.h"

struct http_tier;

/* The tier's request state for the gateway, or NULL when out of memory. */
struct http_tier *http_tier_new(const struct tier *tier);

/* Free t; no request may be waiting (the backend has stopped). NULL is allowed. */
void http_tier_free(struct http_tier *t);

/*
 * The tier's state in one line for /healthz, into *health (the caller
 * frees it): "<name>: ok", or "<name> failing: <why>" when its last request
 * failed.
 */
void http_tier_health(const struct http_tier *t, char **health);

/* True when the tier's last request was answered (not refused, not timed out). */
bool http_tier_healthy(const struct http_tier *t);

/*
 * True when r may still ask the tier for an object of kind k: a CAS object
 * once, an action entry once in each namespace r reads.
 */
bool http_tier_may_ask(const struct request *r, enum store_kind k);

/*
 * Object id of kind k missed the local store (an action entry every
 * namespace r reads): for a GET fetch it into the store, for a HEAD ask for
 * its length; an action entry from the next namespace r reads not asked yet. Once answered the request runs its
 * handler again (the object is then local, or http_tier_may_ask is false).
 */
enum MHD_Result http_tier_fetch(struct MHD_Connection *c, struct request *r, enum store_kind k,
                                const char *id);

/*
 * r->tier_stream is set: answer with the object as its fetch brings it
 * (its last byte only once it is whole and checked).
 */
enum MHD_Result http_tier_stream(struct MHD_Connection *c, struct request *r);

struct tier_group;

#define TIER_GROUP_STALL_S 3
#define TIER_GROUP_FETCHES 128

/*
 * Fetch many objects into the local store for r (POST /go/batch): begin
 * suspends r, add asks for one object (joining its fetch if one is on its
 * way), end says no more come. Once every fetch added has ended, however it
 * ended, r's handler runs again and finds in the local store what came.
 * begin returns NULL, leaving r running, when out of memory. A group's own
 * fetches give up after TIER_GROUP_STALL_S seconds without a byte, so a hung
 * tier holds a batch only that long; and no more than TIER_GROUP_FETCHES of
 * them run at once in the gateway (add leaves the rest as misses), so
 * batches cannot open thousands of files and connections.
 */
struct tier_group *http_tier_group_begin(struct MHD_Connection *c, struct request *r);
void http_tier_group_add(struct tier_group *g, enum store_kind k, const char *ns, const char *id);
void http_tier_group_end(struct tier_group *g);

/* r is over: free its tier reply's sentence, let go of a fetch it was to stream and did not. */
void http_tier_request_done(struct request *r);

/* After http_tier_fetch of a HEAD: the length the tier gave, or 404. */
enum MHD_Result http_tier_answer_head(struct MHD_Connection *c, struct request *r);

/*
 * r's object is stored locally; answer status (with "stored" or "already
 * stored") once the tier has it too.
 */
enum MHD_Result http_tier_upload(struct MHD_Connection *c, struct request *r, unsigned status);

/* The tier has answered r's upload: the status given, or 503 with the tier's reason. */
enum MHD_Result http_tier_answer_upload(struct MHD_Connection *c, struct request *r);

#endif
