/*
 * respond_zst.h: the body of an answer with a compressed CAS object
 * (respond_object.c adds the headers and queues it).
 */
#ifndef CACHEGATE_GATEWAY_RESPOND_ZST_H
#define CACHEGATE_GATEWAY_RESPOND_ZST_H

#include <stdbool.h>

#include <microhttpd.h>

#include "store/store.h"

struct gateway;

/* True when the request's Accept-Encoding names zstd (without q=0). */
bool zst_accepted(struct MHD_Connection *c);

/*
 * A response with compressed object obj (taking obj->fd): its file as
 * stored (obj->stored_size bytes) when as_stored, else its decoded bytes
 * (obj->size); hashed on the way unless known good, and cut short if it is
 * damaged (then removed and counted). head: no body will be read. NULL
 * when out of memory.
 */
struct MHD_Response *zst_response(struct gateway *gw, struct store_object *obj,
                                  const char *id, bool as_stored, bool head);

#endif
