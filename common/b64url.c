/*
 * b64url.c: base64url decoding, by hand: OpenSSL's EVP_DecodeBlock knows
 * only the standard alphabet and pads, and the mapping is a few lines.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/b64url.h"

/* The value of one base64url character, or -1. */
static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

unsigned char *b64url_decode(const char *text, size_t len, size_t *out_len)
{
	unsigned char *out;
	uint32_t acc = 0;
	size_t n = 0, bits = 0;

	while (len > 0 && text[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return NULL;
	out = malloc(len / 4 * 3 + 3);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int v = sextet(text[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}
