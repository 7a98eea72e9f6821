/*
 * encoding.h: reading the content codings a header value names
 * (Accept-Encoding, in a request or, by RFC 7694, in an answer), so that
 * both programs read "zstd;q=0" and its like the same way.
 */
#ifndef CACHEGATE_WIRE_ENCODING_H
#define CACHEGATE_WIRE_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when the Accept-Encoding value v[0..len) names WIRE_ZSTD (any case)
 * with a weight other than 0; v need not end in a NUL and may end in CRLF.
 */
bool wire_accepts_zstd(const char *v, size_t len);

#endif
