/*
 * goentry_fuzz.c: libFuzzer target for the action entry line
 * (go_entry_parse), the helper's local AC entry and the gateway's /ac body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/goentry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct go_entry e, again;
	char line[GO_ENTRY_LEN + 1];

	if (!go_entry_parse((const char *)data, size, &e))
		return 0;
	/* What parses formats back to a line that parses to the same entry. */
	go_entry_format(&e, line);
	if (e.size < 0 || e.time_ns < 0 || !go_entry_parse(line, GO_ENTRY_LEN, &again) ||
	    memcmp(&e, &again, sizeof e) != 0)
		abort();
	return 0;
}
