/*
 * actionset.h: a table of actions keyed by the first 64 bits of their ids,
 * with a record of the caller's own per action. The usedlist lists each
 * action once with it; the preload keeps where each action stands. Two
 * actions whose ids share those 64 bits share a record, which both callers
 * allow for.
 */
#ifndef CACHEGATE_PROG_ACTIONSET_H
#define CACHEGATE_PROG_ACTIONSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/*
 * Open addressing over records of size bytes, each beginning with its
 * uint64_t key (0: a free slot); cap is a power of two, at least twice count.
 */
struct actionset {
	unsigned char *slots;
	size_t size, cap, count;
};

/* An empty set of records of size bytes (at least a key's), allocated on the first add. */
void actionset_init(struct actionset *s, size_t size);

/* The key of action: the first 64 bits of its id, never 0. */
uint64_t actionset_key(const unsigned char action[STORE_HASH_LEN]);

/* The record of key, or NULL. */
void *actionset_find(const struct actionset *s, uint64_t key);

/*
 * The record of key, added (zeroed but for its key, *added set) if new;
 * NULL when the set cannot grow. Records move as it grows.
 */
void *actionset_add(struct actionset *s, uint64_t key, bool *added);

/* Slot i (below cap), for walking the set: its record, or NULL when free. */
void *actionset_slot(const struct actionset *s, size_t i);

/* Free the records; the set is empty again. */
void actionset_free(struct actionset *s);

#endif
