/*
 * authfile_fuzz.c: libFuzzer target for the auth file ("<token> read|write
 * [ns=NAME] [reads=A,B]" lines, comments, blank lines) read by auth_read,
 * and for the reads= list on its own (grant_parse_reads).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/auth.h"

/* The input as a reads= list: what it takes is up to 8 valid names, else nothing changes. */
static void check_reads(const uint8_t *data, size_t size)
{
	char list[512];
	struct grant g;

	if (size >= sizeof(list))
		return;
	memcpy(list, data, size);
	list[size] = '\0';
	grant_default(&g, false);
	if (!grant_parse_reads(&g, list)) {
		if (g.nreads != 1 || strcmp(g.reads[0], GRANT_NS_DEFAULT) != 0)
			abort();
		return;
	}
	if (g.nreads < 1 || g.nreads > GRANT_READS_MAX)
		abort();
	for (size_t i = 0; i < g.nreads; i++)
		if (!grant_ns_valid(g.reads[i]) || strchr(g.reads[i], ',') != NULL)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	char *cause = NULL;
	struct auth *a;

	check_reads(data, size);
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
