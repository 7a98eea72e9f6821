/*
 * framing.h: how a request's body is delimited, checked before anything
 * else (RFC 9112 section 6). A request whose framing two parties could read
 * differently (two Content-Length values that differ, or Content-Length
 * together with Transfer-Encoding) is refused with 400 and its connection
 * closed, so no bytes of it can run as a request smuggled behind a proxy;
 * a transfer coding other than chunked is 501; a PUT without a length 411.
 */
#ifndef CACHEGATE_GATEWAY_FRAMING_H
#define CACHEGATE_GATEWAY_FRAMING_H

#include <microhttpd.h>

#include "gateway/http/request.h"

/*
 * 0 when the request's framing is sound, else the status to refuse it with
 * and, in *why, the sentence to say.
 */
unsigned framing_check(struct MHD_Connection *c, enum method m, const char **why);

#endif
