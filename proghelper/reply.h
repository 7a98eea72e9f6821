/*
 * reply.h: the one writer of the helper's stdout.
 */
#ifndef CACHEGATE_PROG_REPLY_H
#define CACHEGATE_PROG_REPLY_H

#include "proghelper/protocol.h"

/* Where replies go; one per process, safe to use from any thread. */
struct reply;

/* Make a writer of fd; NULL when out of memory. */
struct reply *reply_open(int fd);

/* Free the writer (does not close fd). NULL is allowed. */
void reply_free(struct reply *w);

/*
 * Write r as one whole JSON line, under the writer's lock. A reply that
 * cannot be encoded becomes an Err reply for its ID. Returns false once the
 * reader has gone away (write failed); later calls then do nothing.
 */
bool reply_send(struct reply *w, const struct protocol_reply *r);

#endif
