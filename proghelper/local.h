/*
 * local.h: the go command's cache on the local store.
 *
 * An output is a CAS object named by its SHA-256 (its file is the DiskPath
 * handed to the go command). An action is an AC entry holding the same line
 * Go's own cache keeps (wire/goentry.h); the same line is the remote's
 * /ac body, so entries travel unchanged.
 */
#ifndef CACHEGATE_PROG_LOCAL_H
#define CACHEGATE_PROG_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "wire/goentry.h"
#include "store/store.h"

/* Objects unused this long are trimmed (Go's own cache uses five days). */
#define LOCAL_TRIM_UNUSED (5 * 24 * 3600)
/* Trim at most this often. */
#define LOCAL_TRIM_INTERVAL (24 * 3600)

enum local_result {
	LOCAL_OK = 0,
	LOCAL_MISS,   /* no entry, or a bad one (which was removed) */
	LOCAL_ERROR,  /* the store failed */
};

/* The clock, Unix nanoseconds. */
int64_t local_now_ns(void);

/*
 * Look up action: its entry, then its output (which must have the entry's
 * size, and is marked used). On LOCAL_OK e is filled. A bad entry is
 * removed and is a miss.
 */
enum local_result local_get(struct store *s, const unsigned char action[STORE_HASH_LEN],
                            struct go_entry *e);

/*
 * True when s has e's output, of e's size; it is then marked used, so that
 * a trim cannot take the DiskPath about to be handed out. An object of
 * another size is left alone (the entry may be the wrong one).
 */
bool local_has_output(struct store *s, const struct go_entry *e);

/* Record e as the entry of its action (the output must already be stored). */
enum local_result local_record(struct store *s, const struct go_entry *e);

/*
 * Set *cause (the caller frees it) to why a write to the local store s
 * failed with r: one sentence that names the store and, for a full file
 * system, says what to do.
 */
void local_write_error(const struct store *s, enum store_result r, char **cause);

/*
 * Trim the store unless it was trimmed in the last day: remove objects
 * unused for five days, then least recently used ones while it is larger
 * than max_bytes (0: no limit), never anything used since run_start. A
 * store this run made (store_is_new) holds nothing older, so it is only
 * marked as trimmed now. Returns LOCAL_ERROR and sets *cause (caller
 * frees) when trimming failed.
 */
enum local_result local_trim(struct store *s, uint64_t max_bytes, time_t run_start, char **cause);

#endif
