/*
 * scrub.h: one background thread that re-hashes every CAS object at a
 * bounded read rate, pass after pass, and removes damaged ones. Bit rot in
 * an object that no read has hashed lately is found here; what it finds
 * intact is recorded (integrity.h), so reads of it may use sendfile.
 */
#ifndef CACHEGATE_GATEWAY_SCRUB_H
#define CACHEGATE_GATEWAY_SCRUB_H

#include <stdint.h>

#include "gateway/jobs/integrity.h"
#include "gateway/ops/metrics.h"
#include "store/store.h"

struct scrub;

/*
 * Start the thread: a pass at once, then one every interval seconds
 * (counted from the start of the last), each reading at most rate bytes
 * per second. rate 0 starts nothing and returns a handle that does
 * nothing. On failure returns NULL and sets *cause.
 */
struct scrub *scrub_start(struct store *s, struct integrity *ig, struct metrics *m,
                          uint64_t rate, unsigned interval, char **cause);

/* Stop the thread (a pass in progress ends within a fraction of a second), free sc. */
void scrub_stop(struct scrub *sc);

#endif
