/*
 * authheader_fuzz.c: libFuzzer target for the Authorization header
 * (auth_check: Bearer, or Basic with base64 "user:token"), against a
 * server with one read and one write token.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct auth *tokens;      /* every request needs a token */
static struct auth *anonymous;   /* reads need none */

/* Load the two tokens, with and without anonymous reads. */
static struct auth *load(bool anonymous_read)
{
	static char file[] = "# fuzz tokens\nreader read\nwriter write\n";
	FILE *f = fmemopen(file, strlen(file), "r");
	char *cause = NULL;
	struct auth *a = f != NULL ? auth_read(f, "fuzz", anonymous_read, &cause) : NULL;

	if (a == NULL)
		abort();
	fclose(f);
	return a;
}

/* Free both at exit, so LeakSanitizer only reports what a check leaks. */
static void unload(void)
{
	auth_free(tokens);
	auth_free(anonymous);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tokens = load(false);
	anonymous = load(true);
	atexit(unload);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = malloc(size + 1);
	enum auth_result can_read, can_write;

	if (header == NULL)
		return 0;
	memcpy(header, data, size);
	header[size] = '\0';  /* MHD hands header values over as C strings */
	can_read = auth_check(tokens, header, false, NULL);
	can_write = auth_check(tokens, header, true, NULL);
	/*
	 * Whatever may write may read; what reads with a token reads without
	 * one too where reads are anonymous; anonymous reads change no write.
	 */
	if ((can_write == AUTH_OK && can_read != AUTH_OK) || auth_result_str(can_read) == NULL ||
	    (can_read == AUTH_OK && auth_check(anonymous, header, false, NULL) != AUTH_OK) ||
	    can_write != auth_check(anonymous, header, true, NULL))
		abort();
	free(header);
	return 0;
}
