/*
 * request.h: what the server knows about one HTTP request while it runs.
 * Created by the server on the first call of the access handler, freed by
 * the request-completed callback.
 */
#ifndef CACHEGATE_GATEWAY_REQUEST_H
#define CACHEGATE_GATEWAY_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/access/grant.h"
#include "gateway/objects/ac_ns.h"
#include "gateway/tier/tier.h"
#include "store/store.h"

/* What a path names. */
enum endpoint {
	ENDPOINT_AC = 0,
	ENDPOINT_CAS,
	ENDPOINT_GO,          /* an action with its output (http_go.h) */
	ENDPOINT_GO_BATCH,    /* many actions with their outputs */
	ENDPOINT_HEALTHZ,
	ENDPOINT_METRICS,
	ENDPOINT_STATUS,
	ENDPOINT_UNKNOWN,
	ENDPOINT_COUNT,
};

enum method {
	METHOD_GET = 0,
	METHOD_HEAD,
	METHOD_PUT,
	METHOD_POST,
	METHOD_OTHER,
	METHOD_COUNT,
};

struct gateway;
struct conn_watch;
struct go_batch;
struct tier_fetch;
struct MHD_Connection;

struct request {
	struct gateway *gw;
	struct conn_watch *watch;   /* the connection's watchdog entry, or NULL */
	enum method method;
	enum endpoint route;
	char id[STORE_ID_LEN + 1];  /* valid for ENDPOINT_AC, ENDPOINT_CAS and ENDPOINT_GO */
	struct grant grant;         /* what its credential may do, once auth_check passed it */
	struct ac_ns ac;            /* the action-entry stores of the grant: /ac, /go, /go/batch */
	int64_t started_us;         /* clock_us when it came */
	unsigned status;            /* the status queued; 0 until then */
	uint64_t body_out;          /* response body bytes queued */
	uint64_t body_in;           /* request body bytes received */
	int64_t content_length;     /* -1 when the request gave none */
	struct store_put *put;      /* an upload in progress, or NULL */
	bool zstd_body;             /* a PUT with Content-Encoding: zstd (its put takes the stream) */
	int64_t raw_length;         /* with zstd_body: X-Digest-SizeBytes, or -1 */
	bool already_stored;        /* a PUT of a present object: answered 200 after the body */
	enum store_result write_error; /* why an upload failed, answered once the body is over */
	struct go_batch *batch;     /* ENDPOINT_GO_BATCH: the actions asked for (http_go.h) */
	/* A request waiting on the shared tier (http_tier.h); the connection is suspended. */
	struct MHD_Connection *conn;
	struct request *tier_next;  /* the next request waiting on the same fetch */
	unsigned tier_asked;        /* kinds asked of the tier: 1 << enum store_kind (CAS) */
	size_t tier_ac_asked;       /* read namespaces asked of the tier for the action entry */
	bool tier_answered;         /* the tier's reply is in: answer on the next call */
	struct tier_fetch *tier_stream; /* a fetch to stream from as it arrives (http_tier.h) */
	struct tier_reply tier_reply;
	int tier_fd;                /* an upload's local object, or -1 */
	unsigned put_status;        /* an upload's answer once S3 has the object */
	char method_name[12];       /* for the access log */
	char path[160];             /* for the access log, truncated, printable */
};

#endif
