/*
 * tier.h: the shared tier behind the local store (with --s3: an S3
 * bucket). Any backend is one file that provides these operations; each
 * starts a request and returns at once, and the request's end is told to
 * done(ctx, ...) on the backend's own thread. An action entry is named by
 * its namespace and id (ns: the store's namespace name, "default" for the
 * entries of before namespaces); a CAS object by its id alone (ns NULL).
 */
#ifndef CACHEGATE_GATEWAY_TIER_H
#define CACHEGATE_GATEWAY_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum tier_result {
	TIER_OK = 0,
	TIER_NOT_FOUND,   /* the tier answered: no such object */
	TIER_FAILED,      /* the tier did not answer, or refused: why says so */
};

struct tier_reply {
	enum tier_result result;
	uint64_t size;        /* a get's bytes written, a head's length (uncompressed) */
	bool skipped;         /* an upload found the object there already */
	/*
	 * TIER_FAILED (or a fetch's TIER_NOT_FOUND): one sentence for the client
	 * and the log, set with cause_set. It belongs to whoever made the reply:
	 * done(ctx, reply) copies what it keeps, the maker frees it afterwards.
	 */
	char *why;
};

typedef void (*tier_done)(void *ctx, const struct tier_reply *reply);

/* A get's bytes so far, and the object's length once known (-1 before). */
typedef void (*tier_progress)(void *ctx, uint64_t written, int64_t length);

struct tier_ops {
	const char *name;     /* for messages, e.g. "S3" */
	/*
	 * Write object id's bytes into put (begun by the caller, who commits
	 * it), telling progress(ctx, ...) after each piece written; give up when
	 * no byte comes for stall_seconds (0: the backend's own bound). An
	 * object the tier holds compressed goes in as a zstd stream
	 * (store_put_take_zstd), and progress is told no length.
	 */
	bool (*get)(void *backend, enum store_kind k, const char *ns, const char *id,
	            struct store_put *put,
	            unsigned stall_seconds, tier_progress progress, tier_done done, void *ctx);
	/* Learn whether object id is there and its length. */
	bool (*head)(void *backend, enum store_kind k, const char *ns, const char *id,
	             tier_done done, void *ctx);
	/*
	 * Store size bytes read from fd (which stays the caller's) as object id;
	 * sha256_hex is their hash. raw_size >= 0 says they are a .zst object's
	 * file of that many uncompressed bytes: the tier keeps them as they are,
	 * with their encoding and that size recorded. A CAS object already there
	 * is not sent again.
	 */
	bool (*put)(void *backend, enum store_kind k, const char *ns, const char *id, int fd,
	            uint64_t size,
	            int64_t raw_size, const char *sha256_hex, tier_done done, void *ctx);
	/*
	 * True when the tier's last request was answered; else false, with
	 * *cause (the caller frees it; NULL: not wanted) saying why it failed.
	 */
	bool (*healthy)(void *backend, char **cause);
};

/* A backend and its operations. */
struct tier {
	const struct tier_ops *ops;
	void *backend;
};

#endif
