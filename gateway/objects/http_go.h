/*
 * http_go.h: answers for the Go helper, one round trip per cache hit.
 *
 * The helper stores an action's entry at /ac/<action>; the entry body
 * begins with the Go entry line (wire/goentry.h), which names the
 * output. These endpoints read that line, so a hit needs one request:
 *   GET /go/<action>   200: the output's bytes, the entry line in the
 *                      Cachegate-Entry header; 404 when the entry, its
 *                      output, or a Go entry line is missing.
 *   POST /go/batch     body: action ids, one per line (at most
 *                      WIRE_BATCH_MAX); 200 streams, in the order asked and
 *                      skipping misses, each hit as its entry line
 *                      (GO_ENTRY_LEN bytes) followed by its output's bytes.
 * Both answer "Content-Encoding: zstd" to a client that accepts it when the
 * gateway compresses: /go/<action> a compressed output's stored frames,
 * /go/batch the whole stream as one zstd stream (go_batch_zst.c).
 * With a shared tier (http_tier.h) both ask it for what the local store
 * lacks: /go/<action> its entry, then its output; /go/batch all of them
 * before its stream starts (the entries, then the outputs they name).
 * Every answer carries "Cachegate-Go: 1", so a 404 without it means a
 * server that does not have these paths. /ac and /cas are unchanged.
 * The contract with the helper, in full: wire/wire.h.
 * The server has checked the route, the method and the credentials.
 */
#ifndef CACHEGATE_GATEWAY_HTTP_GO_H
#define CACHEGATE_GATEWAY_HTTP_GO_H

#include <stddef.h>

#include <microhttpd.h>

#include "gateway/http/request.h"
#include "store/store.h"
#include "wire/goentry.h"

/* GET or HEAD /go/<action>: the output with its entry, or 404. */
enum MHD_Result go_serve(struct MHD_Connection *c, struct request *r);

/* Take the next n bytes of a POST body (kept up to WIRE_BATCH_MAX lines). */
enum MHD_Result go_batch_collect(struct request *r, const char *data, size_t n);

/* POST /go/batch, its body over: 400 for a bad list, else the stream of hits. */
enum MHD_Result go_batch_serve(struct MHD_Connection *c, struct request *r);

/* The request is over however it ended: free a list not handed to a response. */
void go_done(struct request *r);

/* What a lookup of an action found. */
enum go_found {
	GO_FOUND,        /* the entry and its output */
	GO_NO_ENTRY,     /* no entry for the action */
	GO_NOT_GO,       /* an entry, but not a Go one for this action */
	GO_NO_OUTPUT,    /* a Go entry whose output is missing (its id is known) */
};

/*
 * Look action up: its entry line (into line) from the first namespace of a
 * that has one, its output's id (into output) and the output from the CAS,
 * opened into *obj (its fd the caller's) when GO_FOUND.
 */
enum go_found go_find(const struct ac_ns *a, const char *action, char line[GO_ENTRY_LEN],
                      char output[STORE_ID_LEN + 1], struct store_object *obj);

#endif
