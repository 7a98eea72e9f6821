/*
 * body.h: stream a put's body line (a JSON string of base64) into the store.
 */
#ifndef CACHEGATE_PROG_BODY_H
#define CACHEGATE_PROG_BODY_H

#include <stdint.h>

#include "proghelper/input.h"
#include "store/store.h"

enum body_result {
	BODY_OK = 0,
	BODY_BAD,          /* not valid base64 or not size bytes: the line was consumed */
	BODY_STORE_ERROR,  /* writing to the store failed: the line was consumed */
	BODY_BROKEN,       /* no body line where one must be: the stream is lost */
};

/*
 * Read the body line that follows a put request (skipping the empty line
 * before it), decoding base64 as it arrives into p, a little at a time.
 * size is the declared BodySize (> 0). With p NULL the line is only
 * skipped. On anything but BODY_OK *cause says why (the caller frees it).
 * The store's checks (length, SHA-256) are left to store_put_commit.
 */
enum body_result body_read(struct input *in, struct store_put *p, int64_t size, char **cause);

#endif
