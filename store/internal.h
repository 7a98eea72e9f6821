/*
 * internal.h: what the store's own files share; not part of its interface.
 */
#ifndef CACHEGATE_STORE_INTERNAL_H
#define CACHEGATE_STORE_INTERNAL_H

#include "store/store.h"

#include <sys/stat.h>

struct store {
	char *dir;                   /* absolute, no trailing slash */
	size_t dir_len;
	struct store_options opts;
	bool unnamed_temps;          /* puts write unnamed files (O_TMPFILE): put.c */
	bool made;                   /* store_open created ac/: the store is new */
};

/*
 * Temp files untouched for this long are fair game for removal, if unlocked:
 * a live writer holds its lock from a moment after it creates the file.
 */
#define STORE_TEMP_GRACE_SECONDS 5

/* Called for every object a scan finds; returns false to stop with STORE_IO_ERROR. */
typedef bool (*store_scan_visit)(void *ctx, enum store_kind k, const char *id,
                                 int dir_fd, const struct stat *st);

/* Visit every well-named regular file in <dir>/<kind>/<xx>/ (scan.c). */
enum store_result store_scan_kind(struct store *s, enum store_kind k, store_scan_visit visit,
                                  void *ctx);

/* store_scan_kind for action entries, then for CAS objects. */
enum store_result store_scan(struct store *s, store_scan_visit visit, void *ctx);

/*
 * True when files can be made unnamed in dir (O_TMPFILE) and named later
 * through /proc/self/fd (put.c); tried once, with a file linked and removed.
 */
bool store_probe_unnamed(const char *dir);

/* Map the current errno to a result. */
enum store_result store_errno_result(void);

/* Set an object's mtime to now if it is older than STORE_REFRESH_SECONDS; true if it did. */
bool store_refresh(int fd, time_t mtime);

#endif
