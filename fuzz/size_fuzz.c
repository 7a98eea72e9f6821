/*
 * size_fuzz.c: libFuzzer target for sizes such as "20G" (optvalue_parse_size),
 * which both programs take from options and the environment.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/optvalue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	uint64_t bytes;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* Plain digits that fit are taken exactly as they are. */
	if (optvalue_parse_size(text, &bytes) && size > 0 && size < 16 &&
	    strspn(text, "0123456789") == size && bytes != strtoull(text, NULL, 10))
		abort();
	free(text);
	return 0;
}
