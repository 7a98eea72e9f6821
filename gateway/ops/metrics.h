/*
 * metrics.h: counters of what the server did, as C11 atomics, rendered in
 * the Prometheus text format for GET /metrics.
 */
#ifndef CACHEGATE_GATEWAY_METRICS_H
#define CACHEGATE_GATEWAY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/http/request.h"
#include "gateway/ops/grant_metrics.h"
#include "store/store.h"

/* Why an upload was refused or dropped. */
enum metrics_reject {
	REJECT_TOO_LARGE = 0,   /* over --max-object-size */
	REJECT_HASH_MISMATCH,   /* CAS body did not hash to its id */
	REJECT_SIZE_MISMATCH,   /* body length differed from Content-Length */
	REJECT_STORE_FULL,      /* no room under --max-size or on disk */
	REJECT_TRUNCATED,       /* the client went away mid-body */
	REJECT_ERROR,           /* the store failed */
	REJECT_BAD_ENCODING,    /* a Content-Encoding: zstd body that does not decode */
	REJECT_COUNT,
};

/* What found a damaged CAS object (one whose bytes no longer hash to its id). */
enum metrics_damage {
	DAMAGE_READ = 0,        /* a GET, before its last byte left */
	DAMAGE_PUT,             /* a PUT of the same object */
	DAMAGE_SCRUB,           /* the background scrub */
	DAMAGE_S3,              /* a fetch from the S3 tier (the bucket's copy is bad) */
	DAMAGE_COUNT,
};

/* What the gateway asked of the S3 tier. */
enum metrics_s3_op {
	S3_METRIC_GET = 0,
	S3_METRIC_HEAD,
	S3_METRIC_PUT,
	S3_METRIC_OPS,
};

struct metrics;

/* A zeroed set of counters, or NULL when out of memory. */
struct metrics *metrics_new(void);

void metrics_free(struct metrics *m);

/* Count one answered request. Unknown statuses land in an "other" bucket. */
void metrics_count_request(struct metrics *m, enum method method, enum endpoint route,
                           unsigned status);

/* Count a GET or HEAD of an object that was found (hit) or not (miss). */
void metrics_count_lookup(struct metrics *m, enum store_kind k, bool hit);

/* Count an action entry's lookup or write by the label of the grant of who asked. */
void metrics_count_grant(struct metrics *m, const struct grant *g, enum grant_event e);

void metrics_add_bytes_in(struct metrics *m, uint64_t n);
void metrics_add_bytes_out(struct metrics *m, uint64_t n);
void metrics_count_reject(struct metrics *m, enum metrics_reject why);
void metrics_count_evicted(struct metrics *m, uint64_t objects, uint64_t bytes);
void metrics_count_damaged(struct metrics *m, enum metrics_damage found_by);
/*
 * Count one request to the S3 tier: answered (ok, a 404 included) or
 * failed, its seconds, and the body bytes it brought in and sent out.
 */
void metrics_count_s3(struct metrics *m, enum metrics_s3_op op, bool ok, double seconds,
                      uint64_t bytes_in, uint64_t bytes_out);

/* Count a CAS object written into the store: its raw bytes and its bytes on disk. */
void metrics_count_stored(struct metrics *m, uint64_t raw, uint64_t on_disk);

/* Count the body of an object answer, by how it is encoded. */
void metrics_count_sent(struct metrics *m, enum store_encoding e, uint64_t n);

/* What compression did, as metrics_render shows it (for /status). */
struct metrics_compression {
	uint64_t stored_raw;       /* raw bytes of the CAS objects written */
	uint64_t stored_disk;      /* their bytes on disk */
	uint64_t sent[2];          /* object answer bytes, by enum store_encoding */
};

void metrics_compression(const struct metrics *m, struct metrics_compression *out);

/* Count objects (and their bytes) the scrub hashed. */
void metrics_count_scrubbed(struct metrics *m, uint64_t objects, uint64_t bytes);

/*
 * Render every counter, plus the store usage u and limit, as Prometheus
 * text. Returns a buffer the caller frees and sets *len, or NULL.
 */
char *metrics_render(struct metrics *m, const struct store_usage *u,
                     uint64_t limit, size_t *len);

#endif
