/*
 * evict.c: one thread that keeps the store's usage counted and, with a cap,
 * evicts least recently used objects down to a low-water mark.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cause.h"
#include "common/worker.h"
#include "gateway/jobs/evict.h"

/* How often the store is counted again when nothing wakes the thread. */
#define EVICT_RESCAN_SECONDS 300
/* How often temp files are swept (a killed writer's leftovers) and counted in between. */
#define EVICT_SWEEP_SECONDS 2

struct evict {
	struct store *store;
	struct metrics *metrics;
	uint64_t max_size;
	uint64_t low_water;   /* trims go down to this, so they do not run on every put */

	atomic_uint_fast64_t bytes, ac_objects, cas_objects;  /* objects in ac/ and cas/ */
	atomic_uint_fast64_t temp_bytes;  /* in tmp/: writes in progress; counts toward the cap */
	atomic_bool full;

	struct worker worker;  /* woken by a put past the cap */
};

/* Replace the usage counters with u. */
static void set_usage(struct evict *e, const struct store_usage *u)
{
	atomic_store(&e->bytes, u->bytes);
	atomic_store(&e->temp_bytes, u->temp_bytes);
	atomic_store(&e->ac_objects, u->ac_objects);
	atomic_store(&e->cas_objects, u->cas_objects);
}

/* True when a cap is set and objects plus temp files pass it. */
static bool over_cap(const struct evict *e, uint64_t objects, uint64_t temp)
{
	return e->max_size > 0 && objects + temp > e->max_size;
}

/*
 * Count the store, or trim it when it is over the cap. Either way the scan
 * also removes temp files no live writer holds (a crashed run's leftovers
 * that were too recent to remove at start).
 */
static void evict_pass(struct evict *e)
{
	struct store_trim_result tr;
	struct store_trim_options o;
	enum store_result r;

	memset(&o, 0, sizeof(o));
	o.now = time(NULL);
	if (over_cap(e, atomic_load(&e->bytes), atomic_load(&e->temp_bytes)))
		o.max_bytes = e->low_water;
	r = store_trim(e->store, &o, &tr);
	if (r == STORE_OK && o.max_bytes == 0 && over_cap(e, tr.after.bytes, tr.after.temp_bytes)) {
		/* The running count had drifted under the cap: trim after all. */
		o.max_bytes = e->low_water;
		r = store_trim(e->store, &o, &tr);
	}
	if (r != STORE_OK) {
		fprintf(stderr, "cachegate: %s: %s\n",
		        o.max_bytes > 0 ? "eviction failed" : "cannot count the store",
		        store_result_str(r));
		atomic_store(&e->full, o.max_bytes > 0);
		return;
	}
	set_usage(e, &tr.after);
	metrics_count_evicted(e->metrics, tr.removed_objects, tr.removed_bytes);
	atomic_store(&e->full, over_cap(e, tr.after.bytes, tr.after.temp_bytes));
}

/*
 * Between passes: remove the temp files no live writer holds and count the
 * rest; a pass follows when they push the store over its cap.
 */
static void evict_sweep(struct evict *e)
{
	uint64_t temp = store_sweep_temp(e->store, time(NULL));

	atomic_store(&e->temp_bytes, temp);
	if (over_cap(e, atomic_load(&e->bytes), temp))
		evict_pass(e);
}

/* The thread: a pass at start, then on every wake-up or rescan period; sweeps in between. */
static void evict_main(void *arg)
{
	struct evict *e = arg;
	int64_t next_pass = 0;
	bool woken = false;

	while (!worker_stopping(&e->worker)) {
		if (woken || clock_ms() >= next_pass) {
			evict_pass(e);
			next_pass = clock_ms() + EVICT_RESCAN_SECONDS * 1000;
		} else {
			evict_sweep(e);
		}
		woken = worker_wait(&e->worker, clock_ms() + EVICT_SWEEP_SECONDS * 1000) == WORKER_WOKEN;
	}
}

struct evict *evict_start(struct store *s, struct metrics *m, uint64_t max_size, char **cause)
{
	struct evict *e = calloc(1, sizeof(*e));
	int err;

	*cause = NULL;
	if (e == NULL) {
		*cause = strdup("out of memory");
		return NULL;
	}
	e->store = s;
	e->metrics = m;
	e->max_size = max_size;
	e->low_water = max_size - max_size / 10;
	atomic_init(&e->bytes, 0);
	atomic_init(&e->temp_bytes, 0);
	atomic_init(&e->ac_objects, 0);
	atomic_init(&e->cas_objects, 0);
	atomic_init(&e->full, false);
	err = worker_start(&e->worker, evict_main, NULL, e);
	if (err != 0) {
		cause_set(cause, "cannot start the eviction thread: %s", strerror(err));
		free(e);
		return NULL;
	}
	return e;
}

void evict_stop(struct evict *e)
{
	if (e == NULL)
		return;
	worker_stop(&e->worker);
	worker_destroy(&e->worker);
	free(e);
}

void evict_note_put(struct evict *e, enum store_kind k, uint64_t size, int64_t old_size)
{
	uint64_t total;

	if (old_size < 0) {
		atomic_fetch_add(k == STORE_AC ? &e->ac_objects : &e->cas_objects, 1);
		total = atomic_fetch_add(&e->bytes, size) + size;
	} else if (size >= (uint64_t)old_size) {
		total = atomic_fetch_add(&e->bytes, size - (uint64_t)old_size) + size - (uint64_t)old_size;
	} else {
		/* A shrinking replacement: the next count corrects any drift. */
		total = atomic_load(&e->bytes);
	}
	total += atomic_load(&e->temp_bytes);
	if (e->max_size == 0 || total <= e->max_size)
		return;
	worker_wake(&e->worker);
}

bool evict_store_full(const struct evict *e)
{
	return atomic_load(&e->full);
}

void evict_usage(const struct evict *e, struct store_usage *u)
{
	u->bytes = atomic_load(&e->bytes) + atomic_load(&e->temp_bytes);
	u->temp_bytes = atomic_load(&e->temp_bytes);
	u->ac_objects = atomic_load(&e->ac_objects);
	u->cas_objects = atomic_load(&e->cas_objects);
	u->objects = u->ac_objects + u->cas_objects;
}

uint64_t evict_limit(const struct evict *e)
{
	return e->max_size;
}
