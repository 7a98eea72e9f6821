/*
 * goentry.h: the line Go's own cache keeps for an action, which is also the
 * helper's local AC entry and the beginning of its /ac body on the gateway:
 *   v1 <action hex> <output hex> <size, %20d> <put time, unix ns, %20d>\n
 * Both programs read it: the helper for its store, the gateway to answer
 * an action with its output in one response.
 */
#ifndef CACHEGATE_WIRE_GOENTRY_H
#define CACHEGATE_WIRE_GOENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Bytes in an entry line, newline included. */
#define GO_ENTRY_LEN (3 + STORE_ID_LEN + 1 + STORE_ID_LEN + 1 + 20 + 1 + 20 + 1)

struct go_entry {
	unsigned char action[STORE_HASH_LEN];
	unsigned char output[STORE_HASH_LEN];
	int64_t size;
	int64_t time_ns;  /* when the output was put, Unix nanoseconds */
};

/* Write e as an entry line into buf (GO_ENTRY_LEN bytes plus a NUL). */
void go_entry_format(const struct go_entry *e, char buf[GO_ENTRY_LEN + 1]);

/* Parse an entry line; false unless it is exactly one well-formed line. */
bool go_entry_parse(const char *buf, size_t len, struct go_entry *e);

#endif
