/*
 * evict.h: the store's usage, kept current, and eviction down to --max-size
 * in one background thread (never on a request's path).
 */
#ifndef CACHEGATE_GATEWAY_EVICT_H
#define CACHEGATE_GATEWAY_EVICT_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/ops/metrics.h"
#include "store/store.h"

struct evict;

/*
 * Start the thread: it scans the store once, then trims least recently
 * used objects to a low-water mark whenever the total passes max_size
 * (0: never trims, only keeps the usage current). Every few seconds it
 * also removes temp files no live writer holds and counts the others. On failure returns NULL
 * and sets *cause to a sentence the caller frees.
 */
struct evict *evict_start(struct store *s, struct metrics *m, uint64_t max_size, char **cause);

/* Stop the thread and free e. NULL is allowed. */
void evict_stop(struct evict *e);

/*
 * Record a stored object of kind k: size bytes, replacing one of
 * old_size bytes (old_size < 0 when it is new). Wakes the thread when the
 * store grew past its cap.
 */
void evict_note_put(struct evict *e, enum store_kind k, uint64_t size, int64_t old_size);

/* True when the last trim could not bring the store under its cap. */
bool evict_store_full(const struct evict *e);

/*
 * The usage as last counted plus what was put since; bytes include the
 * temp files of writes in progress (temp_bytes), as the cap does.
 */
void evict_usage(const struct evict *e, struct store_usage *u);

/* The cap given at start (0: none). */
uint64_t evict_limit(const struct evict *e);

#endif
