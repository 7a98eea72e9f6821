/*
 * diskpath.h: the file names the go command is given for outputs.
 *
 * The go command installs a cached output (go build -o of a package, a
 * GOPATH install) by renaming it, unless its name starts with the go
 * command's own GOCACHE: only those are copied. A DiskPath that names the
 * store directly would be moved out of the store. So the helper gives its
 * DiskPaths through a symbolic link to the store, kept inside GOCACHE:
 *   $GOCACHE/cachegate/<16 hex digits of SHA-256(store directory)>
 * The go command never trims or cleans that name (it only touches its own
 * two-digit folders), and one link per store keeps stores apart.
 */
#ifndef CACHEGATE_PROG_DISKPATH_H
#define CACHEGATE_PROG_DISKPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* The folder in GOCACHE that holds the links. */
#define DISKPATH_LINKS "cachegate"

/*
 * The root that DiskPaths start with, for the store at store_dir (absolute,
 * resolved) and the go command's GOCACHE (may be NULL): the link in GOCACHE,
 * made or mended as needed; store_dir itself when it is already under
 * GOCACHE, when there is no usable GOCACHE, or when the link cannot be made.
 * Returns a string to free, or NULL when out of memory.
 */
char *diskpath_root(const char *store_dir, const char *gocache);

/* Write output's DiskPath, under root, into buf (n bytes); false if it does not fit. */
bool diskpath_format(const char *root, const unsigned char output[STORE_HASH_LEN], char *buf,
                     size_t n);

/* Bytes diskpath_format needs for root, the NUL included. */
size_t diskpath_max(const char *root);

#endif
