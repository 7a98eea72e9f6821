/*
 * authfile_fuzz.c: libFuzzer target for the auth file ("<token> read|write"
 * lines, comments, blank lines) read by auth_read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gateway/access/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	char *cause = NULL;
	struct auth *a;

	if (f == NULL)
		return 0;
	a = auth_read(f, "fuzz", false, &cause);
	fclose(f);
	/* Exactly one of a server or a reason. */
	if ((a == NULL) == (cause == NULL))
		abort();
	if (a != NULL && (!auth_enabled(a) || auth_check(a, NULL, false, NULL) != AUTH_MISSING))
		abort();
	if (a != NULL && auth_check(a, "Bearer", true, NULL) != AUTH_INVALID)
		abort();
	auth_free(a);
	free(cause);
	return 0;
}
