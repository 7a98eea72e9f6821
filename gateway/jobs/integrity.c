/*
 * integrity.c: a bounded, lossy record of files known to hash to their ids,
 * and the handling of damaged ones.
 *
 * The record is a direct-mapped table keyed by (device, inode): a slot
 * holds the last file checked there. A write, truncation or rename of a
 * file changes its ctime, so a changed file never matches its old slot.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/jobs/integrity.h"

#define SLOTS (1u << 16)   /* 64 Ki files remembered, 3 MiB */
#define LOCKS 64           /* slots share this many locks */

/* One file hashed whole to its id. */
struct slot {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec ctime;
	char id[STORE_ID_LEN];
};

struct integrity {
	struct store *store;
	struct metrics *metrics;
	pthread_mutex_t locks[LOCKS];
	struct slot slots[SLOTS];
};

static const char *const found_by_names[DAMAGE_COUNT] = {
	"a read", "an upload", "the scrub", "a fetch from S3",
};

struct integrity *integrity_new(struct store *s, struct metrics *m)
{
	struct integrity *ig = calloc(1, sizeof(*ig));

	if (ig == NULL)
		return NULL;
	ig->store = s;
	ig->metrics = m;
	for (size_t i = 0; i < LOCKS; i++)
		pthread_mutex_init(&ig->locks[i], NULL);
	return ig;
}

void integrity_free(struct integrity *ig)
{
	if (ig == NULL)
		return;
	for (size_t i = 0; i < LOCKS; i++)
		pthread_mutex_destroy(&ig->locks[i]);
	free(ig);
}

/* The slot a file belongs in. */
static size_t slot_of(const struct stat *st)
{
	uint64_t h = (uint64_t)st->st_ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)st->st_dev;

	return (size_t)(h >> 32) % SLOTS;
}

/* True when slot e describes the file st as it is now, checked against id. */
static bool slot_matches(const struct slot *e, const char *id, const struct stat *st)
{
	return e->ino == st->st_ino && e->dev == st->st_dev && e->size == st->st_size &&
	       e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec &&
	       memcmp(e->id, id, STORE_ID_LEN) == 0;
}

bool integrity_known_good(struct integrity *ig, const char *id, const struct stat *st)
{
	size_t i = slot_of(st);
	bool good;

	pthread_mutex_lock(&ig->locks[i % LOCKS]);
	good = slot_matches(&ig->slots[i], id, st);
	pthread_mutex_unlock(&ig->locks[i % LOCKS]);
	return good;
}

void integrity_mark_good(struct integrity *ig, const char *id, const struct stat *st)
{
	size_t i = slot_of(st);
	struct slot *e = &ig->slots[i];

	pthread_mutex_lock(&ig->locks[i % LOCKS]);
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->ctime = st->st_ctim;
	memcpy(e->id, id, STORE_ID_LEN);
	pthread_mutex_unlock(&ig->locks[i % LOCKS]);
}

uint64_t integrity_mark_stored(struct integrity *ig, struct store *s, const char *id)
{
	struct store_object obj;

	if (store_get(s, STORE_CAS, id, -1, &obj) != STORE_OK)
		return 0;
	integrity_mark_good(ig, id, &obj.st);
	metrics_count_stored(ig->metrics, obj.size, obj.stored_size);
	close(obj.fd);
	return obj.stored_size;
}

void integrity_damaged(struct integrity *ig, const char *id, const struct stat *st,
                       enum metrics_damage found_by)
{
	enum store_result r = store_remove_if_same(ig->store, STORE_CAS, id, st);

	metrics_count_damaged(ig->metrics, found_by);
	fprintf(stderr, "cachegate: cas/%s (%lld bytes) does not hash to its id, found by %s; %s\n",
	        id, (long long)st->st_size, found_by_names[found_by],
	        r == STORE_OK ? "removed" : "could not remove it");
}
