/*
 * s3.h: the S3 client of the shared tier. One thread drives a libcurl
 * multi handle; requests are signed by libcurl's own SigV4, a body's
 * payload hash given by the caller (a CAS object's is its id), so no body
 * is read twice. Each request's end is told to a callback on that thread.
 */
#ifndef CACHEGATE_GATEWAY_S3_H
#define CACHEGATE_GATEWAY_S3_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/ops/metrics.h"
#include "gateway/tier/s3/s3config.h"
#include "gateway/tier/tier.h"
#include "store/store.h"

struct s3;

/*
 * Check that the bucket answers with these credentials (one request,
 * bounded), then start the thread. On failure returns NULL and sets
 * *cause to one line naming what is wrong (credentials, bucket, endpoint).
 * Takes c (freed by s3_free, or here on failure).
 */
struct s3 *s3_start(struct s3_config *c, struct metrics *m, char **cause);

/*
 * End every request in flight (each is told S3 failed) and stop the thread;
 * requests made after it fail at once. NULL is allowed.
 */
void s3_stop(struct s3 *s);

/* s3_stop, then free s. NULL is allowed. */
void s3_free(struct s3 *s);

/* The shared tier's operations over s (tier.h). */
extern const struct tier_ops s3_tier_ops;

#endif
