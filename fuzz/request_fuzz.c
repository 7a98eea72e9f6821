/*
 * request_fuzz.c: libFuzzer target for one GOCACHEPROG request line
 * (protocol_decode_request) and for the base64 ids in it
 * (protocol_decode_id).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "proghelper/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An id decodes only from its one canonical encoding: encode it back and compare. */
static void check_id(const char *text, size_t len, size_t want)
{
	unsigned char out[48];
	char again[4 * 48 / 3 + 1];

	if (!protocol_decode_id(text, len, out, want))
		return;
	if ((size_t)EVP_EncodeBlock((unsigned char *)again, out, (int)want) != len ||
	    memcmp(again, text, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct protocol_request req;
	enum protocol_result r;
	char *cause = NULL;

	r = protocol_decode_request(text, size, &req, &cause);
	/* A cause exactly when the request is refused; a size is never negative. */
	if ((r == PROTOCOL_OK) != (cause == NULL) || req.body_size < 0)
		abort();
	free(cause);

	/* The same bytes as an id of each length whose encoding is size long. */
	for (size_t want = size / 4 * 3; want > 0 && want + 3 > size / 4 * 3; want--)
		check_id(text, size, want);
	return 0;
}
