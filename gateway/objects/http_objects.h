/*
 * http_objects.h: GET, HEAD and PUT of /ac/<id> and /cas/<id>.
 * The server has checked the route, the method and the credentials.
 */
#ifndef CACHEGATE_GATEWAY_HTTP_OBJECTS_H
#define CACHEGATE_GATEWAY_HTTP_OBJECTS_H

#include <stddef.h>

#include <microhttpd.h>

#include "gateway/http/request.h"

/*
 * First call of a request: answer a GET or HEAD, refuse a PUT that cannot
 * succeed (413, 507), answer a PUT of a CAS object already present (at once
 * when the client waits for 100 Continue, else once its body is drained),
 * or start streaming the PUT's body into the store.
 */
enum MHD_Result objects_begin(struct MHD_Connection *c, struct request *r);

/* Take the next n bytes of a PUT's body. MHD_NO drops the connection. */
enum MHD_Result objects_upload(struct request *r, const char *data, size_t n);

/* The PUT's body is over: publish the object and answer. */
enum MHD_Result objects_finish(struct MHD_Connection *c, struct request *r);

/* The request is over however it ended: discard an upload never committed. */
void objects_done(struct request *r);

#endif
