/*
 * respond.h: queue the answers of the server. Each records its status and
 * body size in the request for the access log and the metrics.
 */
#ifndef CACHEGATE_GATEWAY_RESPOND_H
#define CACHEGATE_GATEWAY_RESPOND_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "gateway/request.h"

/* A one-line text body ("why\n"), text/plain. */
enum MHD_Result respond_text(struct MHD_Connection *c, struct request *r, unsigned status,
                             const char *text);

/* 405 with the Allow header listing what the path accepts. */
enum MHD_Result respond_not_allowed(struct MHD_Connection *c, struct request *r,
                                    const char *allow);

/* 401 with WWW-Authenticate challenges for Bearer and Basic. */
enum MHD_Result respond_unauthorized(struct MHD_Connection *c, struct request *r,
                                     const char *why);

/* 200 with size bytes of the open file fd (sent with sendfile); takes fd. */
enum MHD_Result respond_file(struct MHD_Connection *c, struct request *r, int fd,
                             uint64_t size);

/* status with a malloc'd body of len bytes; takes body. */
enum MHD_Result respond_buffer(struct MHD_Connection *c, struct request *r, unsigned status,
                               char *body, size_t len, const char *content_type);

#endif
