/*
 * respond.h: queue the answers of the server. Each records its status and
 * body size in the request for the access log and the metrics.
 */
#ifndef CACHEGATE_GATEWAY_RESPOND_H
#define CACHEGATE_GATEWAY_RESPOND_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "gateway/http/request.h"
#include "store/store.h"

/*
 * Queue resp (NULL: fails) with status, then drop our reference to it;
 * body is the length the access log and metrics record.
 */
enum MHD_Result respond_queue(struct MHD_Connection *c, struct request *r, unsigned status,
                              struct MHD_Response *resp, uint64_t body);

/* A one-line text body ("why\n"), text/plain. */
enum MHD_Result respond_text(struct MHD_Connection *c, struct request *r, unsigned status,
                             const char *text);

/* 405 with the Allow header listing what the path accepts. */
enum MHD_Result respond_not_allowed(struct MHD_Connection *c, struct request *r,
                                    const char *allow);

/* 401 with WWW-Authenticate challenges for Bearer and Basic. */
enum MHD_Result respond_unauthorized(struct MHD_Connection *c, struct request *r,
                                     const char *why);

/*
 * 200 with an object's bytes; takes obj->fd. For a CAS object (cas_id not
 * NULL) no byte is acknowledged unless the whole object hashes to its id:
 * a damaged one found before the answer is a 404, one found while it
 * streams is cut short of its length. entry, when not NULL, goes out as
 * the WIRE_ENTRY_HEADER header (wire/wire.h). (respond_object.c)
 */
enum MHD_Result respond_object(struct MHD_Connection *c, struct request *r,
                               struct store_object *obj, const char *cas_id,
                               const char *entry);

/* The most bytes a stream's read callback is asked for at once. */
#define RESPOND_STREAM_BLOCK (32 * 1024)

/*
 * 200 with a body of unknown length (chunked) produced by read(cls, ...),
 * in the given Content-Encoding (NULL: none; the answer varies with
 * Accept-Encoding); done(cls) is called once the response is freed, also
 * when this fails. The caller counts the bytes sent (metrics_add_bytes_out).
 */
enum MHD_Result respond_stream(struct MHD_Connection *c, struct request *r,
                               MHD_ContentReaderCallback read, void *cls,
                               MHD_ContentReaderFreeCallback done, const char *encoding);

/* status with a malloc'd body of len bytes; takes body. */
enum MHD_Result respond_buffer(struct MHD_Connection *c, struct request *r, unsigned status,
                               char *body, size_t len, const char *content_type);

#endif
