/*
 * go_batch.h: the stream of a POST /go/batch (http_go.h), shared by its
 * plain form (go_batch.c) and its zstd form (go_batch_zst.c). Internal to
 * gateway/objects/.
 */
#ifndef CACHEGATE_GATEWAY_GO_BATCH_H
#define CACHEGATE_GATEWAY_GO_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gateway/objects/ac_ns.h"
#include "store/store.h"
#include "wire/wire.h"

struct gateway;
struct go_batch_zst;

/* A POST /go/batch: the list asked for, then the state of its stream. */
struct go_batch {
	struct gateway *gw;
	const struct ac_ns *ac;      /* the request's action-entry stores */
	const struct grant *grant;   /* and its grant, for the metrics */
	size_t len;                  /* bytes of body */
	bool too_long;               /* the body had more than WIRE_BATCH_MAX lines */
	int tier_rounds;             /* times the shared tier was asked for what is missing */
	uint64_t asked[WIRE_BATCH_MAX / 64];  /* lines whose entry the first round asked for */
	size_t next;                 /* the next line to look up */
	char head[GO_ENTRY_LEN];     /* the current hit's entry line */
	size_t head_sent;            /* bytes of head sent; GO_ENTRY_LEN once all are */
	int fd;                      /* the current hit's output, or -1 */
	struct store_object obj;     /* it, as opened (fd is the field above) */
	struct store_reader *rd;     /* its uncompressed bytes, when they are what goes out */
	uint64_t left;               /* uncompressed bytes of it still to read */
	char output[STORE_ID_LEN + 1];
	struct store_check *check;   /* hashes the output on its way, unless known good */
	struct go_batch_zst *zst;    /* the zstd form's state, or NULL for the plain stream */
	uint64_t *sent;              /* the request's body_out: bytes of the stream so far */
	char body[WIRE_BATCH_MAX * WIRE_BATCH_LINE];
};

/*
 * Look up lines until one is a hit (true: its entry in head, its output
 * open in fd and obj, check set unless it is known good) or the list is
 * over (false).
 */
bool go_batch_advance(struct go_batch *b);

/*
 * The current output is read whole: close it, and false when it proved
 * damaged (then its last bytes must not leave). decoded_whole false says
 * its frames ended short or wrong: damage, whatever the hash.
 */
bool go_batch_output_done(struct go_batch *b, bool decoded_whole);

/* The zstd form's state for b, or NULL when out of memory. */
struct go_batch_zst *go_batch_zst_new(void);

/* Free the zstd form's state. NULL is allowed. */
void go_batch_zst_free(struct go_batch_zst *z);

/*
 * libmicrohttpd's reader for the zstd form: the plain stream's bytes, as
 * one zstd stream. Compressed outputs go out as their stored frames; entry
 * lines and raw outputs are compressed on the way.
 */
ssize_t go_batch_zst_read(void *cls, uint64_t pos, char *buf, size_t max);

#endif
