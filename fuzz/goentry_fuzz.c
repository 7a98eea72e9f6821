/*
 * goentry_fuzz.c: libFuzzer target for the action entry line
 * (go_entry_parse), the helper's local AC entry and the gateway's /ac body.
 * The input is a line to parse and, read as the fields of an entry, an
 * entry to format: each way, the other must give it back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/goentry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Format e (sizes and times are never negative) and parse it back: the same entry. */
static void round_trip(const struct go_entry *e)
{
	struct go_entry again;
	char line[GO_ENTRY_LEN + 1];

	go_entry_format(e, line);
	if (e->size < 0 || e->time_ns < 0 || !go_entry_parse(line, GO_ENTRY_LEN, &again) ||
	    memcmp(e, &again, sizeof *e) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct go_entry e;

	if (go_entry_parse((const char *)data, size, &e))
		round_trip(&e);
	if (size >= sizeof e) {
		memcpy(&e, data, sizeof e);
		e.size &= INT64_MAX;
		e.time_ns &= INT64_MAX;
		round_trip(&e);
	}
	return 0;
}
