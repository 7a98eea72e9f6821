/*
 * usedlist.h: the list of what this build used, for the next build of its
 * scope to preload (preload.h). A list (wire/wire.h) is a header line, then
 * one Go entry line per entry in the order the build used them: gets
 * that hit (local, remote or preloaded) and puts. It grows in a temp file,
 * never in memory; both threads add to it.
 */
#ifndef CACHEGATE_PROG_USEDLIST_H
#define CACHEGATE_PROG_USEDLIST_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/wire.h"

struct usedlist;

/*
 * A digest of a list's entries that ignores their order and their times:
 * builds that use the same entries in another order (the go command works
 * in parallel), or put the same outputs again, leave the list as it is.
 */
struct usedlist_digest {
	uint64_t lane[4];
};

/* Add one entry line to d. */
void usedlist_digest_add(struct usedlist_digest *d, const char line[GO_ENTRY_LEN]);

/* A new empty list in a temp file, or NULL. */
struct usedlist *usedlist_open(void);

/*
 * Add e at the end (any thread), unless its action is listed already. A
 * write error quietly ends the list.
 */
void usedlist_add(struct usedlist *u, const struct go_entry *e);

/*
 * Finish the list, ending it with the checkout record of the go command's
 * directory: a new descriptor reading it from the start (the caller
 * closes it), its length and its digest. False when it cannot be read back
 * or holds no entry.
 */
bool usedlist_finish(struct usedlist *u, int *fd, uint64_t *size, struct usedlist_digest *d);

/* Free u and its temp file. NULL is allowed. */
void usedlist_free(struct usedlist *u);

#endif
