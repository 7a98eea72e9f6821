/*
 * usedlist.h: the list of what this build used, for the next build of its
 * scope to preload (preload.h). A list is a header line, then one Go entry
 * line (common/goentry.h) per entry in the order the build used them: gets
 * that hit (local, remote or preloaded) and puts. It grows in a temp file,
 * never in memory; both threads add to it.
 */
#ifndef CACHEGATE_PROG_USEDLIST_H
#define CACHEGATE_PROG_USEDLIST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/goentry.h"

/* The first line of every list. */
#define USEDLIST_HEADER "cachegate preload list v1\n"
#define USEDLIST_HEADER_LEN (sizeof USEDLIST_HEADER - 1)
/* Entries a list holds at most; later ones are left out. */
#define USEDLIST_MAX_ENTRIES 65536

struct usedlist;

/* A new empty list in a temp file, or NULL. */
struct usedlist *usedlist_open(void);

/* Add e at the end (any thread). A write error quietly ends the list. */
void usedlist_add(struct usedlist *u, const struct go_entry *e);

/*
 * Finish the list: a new descriptor reading it from the start (the caller
 * closes it), its length and its SHA-256. False when it cannot be read
 * back or holds no entry.
 */
bool usedlist_finish(struct usedlist *u, int *fd, uint64_t *size,
                     unsigned char hash[STORE_HASH_LEN]);

/* Free u and its temp file. NULL is allowed. */
void usedlist_free(struct usedlist *u);

#endif
