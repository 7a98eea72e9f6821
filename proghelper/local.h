/*
 * local.h: the go command's cache on the local store.
 *
 * An output is a CAS object named by its SHA-256 (its file is the DiskPath
 * handed to the go command). An action is an AC entry holding the same line
 * Go's own cache keeps:
 *   v1 <action hex> <output hex> <size, %20d> <put time, unix ns, %20d>\n
 * The same line is the remote's /ac body, so entries travel unchanged.
 */
#ifndef CACHEGATE_PROG_LOCAL_H
#define CACHEGATE_PROG_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

/* Bytes in an entry line, newline included. */
#define LOCAL_ENTRY_LEN (3 + STORE_ID_LEN + 1 + STORE_ID_LEN + 1 + 20 + 1 + 20 + 1)

/* Objects unused this long are trimmed (Go's own cache uses five days). */
#define LOCAL_TRIM_UNUSED (5 * 24 * 3600)
/* Trim at most this often. */
#define LOCAL_TRIM_INTERVAL (24 * 3600)

enum local_result {
	LOCAL_OK = 0,
	LOCAL_MISS,   /* no entry, or a bad one (which was removed) */
	LOCAL_ERROR,  /* the store failed */
};

struct local_entry {
	unsigned char action[STORE_HASH_LEN];
	unsigned char output[STORE_HASH_LEN];
	int64_t size;
	int64_t time_ns;  /* when the output was put, Unix nanoseconds */
};

/* Write e as an entry line into buf (LOCAL_ENTRY_LEN bytes plus a NUL). */
void local_entry_format(const struct local_entry *e, char buf[LOCAL_ENTRY_LEN + 1]);

/* Parse an entry line; false unless it is exactly one well-formed line. */
bool local_entry_parse(const char *buf, size_t len, struct local_entry *e);

/* The clock, Unix nanoseconds. */
int64_t local_now_ns(void);

/*
 * Look up action: its entry, then its output (which must have the entry's
 * size, and is marked used). On LOCAL_OK e is filled. A bad entry is
 * removed and is a miss.
 */
enum local_result local_get(struct store *s, const unsigned char action[STORE_HASH_LEN],
                            struct local_entry *e);

/* Record e as the entry of its action (the output must already be stored). */
enum local_result local_record(struct store *s, const struct local_entry *e);

/*
 * Trim the store unless it was trimmed in the last day: remove objects
 * unused for five days, then least recently used ones while it is larger
 * than max_bytes (0: no limit), never anything used since run_start.
 * Returns false and sets *cause (caller frees) when trimming failed.
 */
bool local_trim(struct store *s, uint64_t max_bytes, time_t run_start, char **cause);

#endif
