/*
 * s3_bucket.h: a stand-in S3 bucket in the test's own process, on
 * 127.0.0.1, for cachegate's --s3 tier: objects by path in memory (with the
 * Content-Encoding and x-amz-meta-raw-size they were put with), no
 * signature checked, one thread per connection; it can be told to answer
 * 503, to stall, or to trickle, and it counts the GETs it is asked.
 */
#ifndef CACHEGATE_TESTS_S3_BUCKET_H
#define CACHEGATE_TESTS_S3_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bucket_mode {
	BUCKET_OK,       /* answers as S3 does */
	BUCKET_503,      /* every request: 503 SlowDown */
	BUCKET_STALL,    /* takes requests, answers none until the mode changes */
	BUCKET_TRICKLE,  /* GETs: a head, then a byte of the body every 200 ms until the mode changes */
};

#define BUCKET_OBJECT_MAX 4096  /* bytes an object may have; a larger PUT is a 507 */

/* Start the bucket on port of 127.0.0.1 (0: a free one), with no objects; returns its port. */
uint16_t bucket_start(uint16_t port);

/* Stop it: its port refuses connections; its objects stay for a later bucket_start. */
void bucket_stop(void);

/* Stop it and forget its objects and counts. Safe when it is not running. */
void bucket_reset(void);

void bucket_set_mode(enum bucket_mode m);

/* Store len bytes under path ("/<bucket>/<key>"), as a PUT would. */
void bucket_put(const char *path, const void *body, size_t len);

/* bucket_put of an object with a Content-Encoding and an x-amz-meta-raw-size ("": none). */
void bucket_put_encoded(const char *path, const void *body, size_t len, const char *encoding,
                        const char *raw_size);

struct gw;

/*
 * Start the bucket on a free port, then cachegate (g) with --s3 in front of
 * it (the bucket s3://stand-in/team, test credentials); returns the port.
 */
uint16_t bucket_gateway_start(struct gw *g);

/* True when an object whose path ends in id holds exactly body (a string). */
bool bucket_has(const char *id, const char *body);

/*
 * The object whose path ends in id: its bytes into buf (at most cap), its
 * Content-Encoding into encoding ("" for none); its length, or -1 if absent.
 */
long bucket_object(const char *id, void *buf, size_t cap, char encoding[32]);

/* GETs asked so far whose path contains part (e.g. "/ac/", or an id). */
int bucket_gets(const char *part);

#endif
