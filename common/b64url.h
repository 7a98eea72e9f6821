/*
 * b64url.h: base64url without padding (RFC 4648 section 5), the encoding of
 * a JWT's parts (which the gateway checks and the helper reads the expiry
 * of) and of a JWK's numbers.
 */
#ifndef CACHEGATE_COMMON_B64URL_H
#define CACHEGATE_COMMON_B64URL_H

#include <stddef.h>

/*
 * Decode the len characters of text. Returns a buffer of *out_len bytes the
 * caller frees (with a '\0' after them, so a decoded JSON text is a string),
 * or NULL when text is not base64url (padding '=' at the end is allowed).
 */
unsigned char *b64url_decode(const char *text, size_t len, size_t *out_len);

#endif
