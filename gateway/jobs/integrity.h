/*
 * integrity.h: no damaged CAS object is served. Which files were already
 * hashed whole to their ids (so later reads may go out by sendfile), and
 * what happens to one found damaged: removed, counted, logged.
 */
#ifndef CACHEGATE_GATEWAY_INTEGRITY_H
#define CACHEGATE_GATEWAY_INTEGRITY_H

#include <stdbool.h>
#include <sys/stat.h>

#include "gateway/ops/metrics.h"
#include "store/store.h"

struct integrity;

/* An empty record of checked files, or NULL when out of memory. Thread-safe. */
struct integrity *integrity_new(struct store *s, struct metrics *m);

void integrity_free(struct integrity *ig);

/*
 * True when the file st describes was hashed whole to id and has not
 * changed since (same device, inode, size and ctime). A false answer only
 * means "not known": the record is bounded and forgets.
 */
bool integrity_known_good(struct integrity *ig, const char *id, const struct stat *st);

/* Remember that the file st describes hashed whole to id. */
void integrity_mark_good(struct integrity *ig, const char *id, const struct stat *st);

/*
 * CAS object id was just stored, hashed on the way in: remember its file
 * as good, so that its first read may go by sendfile, and count its raw and
 * stored bytes. Returns its bytes on disk (0 when it is gone already).
 */
uint64_t integrity_mark_stored(struct integrity *ig, struct store *s, const char *id);

/*
 * CAS object id, the file st describes, does not hash to its id: remove it
 * (unless a fresh write replaced it meanwhile), count it by what found it
 * and say so on stderr.
 */
void integrity_damaged(struct integrity *ig, const char *id, const struct stat *st,
                       enum metrics_damage found_by);

#endif
