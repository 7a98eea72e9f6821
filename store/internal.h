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

/*
 * Called for every object a scan finds: its id, and its file's name in
 * dir_fd (the id, or for CAS the id and ".zst"). False stops with STORE_IO_ERROR.
 */
typedef bool (*store_scan_visit)(void *ctx, enum store_kind k, const char *id,
                                 const char *name, int dir_fd, const struct stat *st);

/* The encoding of an object file by its name, as a scan passes it. */
#define STORE_NAME_ENCODING(name) \
	(strlen(name) > STORE_ID_LEN ? STORE_ZSTD : STORE_IDENTITY)

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

/*
 * Write the .zst form of the size raw bytes of in_fd to out_fd at the given
 * level (compress.c). STORE_TOO_LARGE as soon as the output passes max_out
 * bytes (it does not pay); *written is the output's length so far.
 */
enum store_result store_compress_fd(int in_fd, uint64_t size, int out_fd, int level,
                                    uint64_t max_out, uint64_t *written);

/* Suffix of a compressed CAS object's file name. */
#define STORE_ZST_SUFFIX ".zst"

/* store_object_path for the file of the given encoding (open.c). */
enum store_result store_encoded_path(const struct store *s, enum store_kind k, const char *id,
                                     enum store_encoding e, char *buf, size_t n);

#endif
