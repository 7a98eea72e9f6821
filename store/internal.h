/*
 * internal.h: what the store's own files share; not part of its interface.
 */
#ifndef CACHEGATE_STORE_INTERNAL_H
#define CACHEGATE_STORE_INTERNAL_H

#include "store/store.h"

struct store {
	char *dir;                   /* absolute, no trailing slash */
	size_t dir_len;
	struct store_options opts;
};

/*
 * Temp files untouched for this long are fair game for removal, if unlocked:
 * a live writer holds its lock from a moment after it creates the file.
 */
#define STORE_TEMP_GRACE_SECONDS 5

/* Map the current errno to a result. */
enum store_result store_errno_result(void);

/* Set an object's mtime to now if it is older than STORE_REFRESH_SECONDS. */
void store_refresh(int fd, time_t mtime);

#endif
