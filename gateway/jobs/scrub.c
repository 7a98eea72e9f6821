/*
 * scrub.c: the background re-hashing of the store (scrub.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "common/worker.h"
#include "gateway/jobs/scrub.h"

struct scrub {
	struct store *store;
	struct integrity *integrity;
	struct metrics *metrics;
	uint64_t rate;
	unsigned interval;
	struct worker worker;    /* zeroed when rate is 0: no thread */
};

/* store_verify callback: stop once asked to. */
static bool scrub_stopping(void *ctx)
{
	struct scrub *sc = ctx;

	return worker_stopping(&sc->worker);
}

/* store_verify callback: remember an intact file, count it. */
static void scrub_intact(void *ctx, const char *id, const struct stat *st)
{
	struct scrub *sc = ctx;

	integrity_mark_good(sc->integrity, id, st);
	metrics_count_scrubbed(sc->metrics, 1, (uint64_t)st->st_size);
}

/* store_verify callback: a damaged object (already removed), count and report it. */
static void scrub_damaged(void *ctx, const char *id, const struct stat *st)
{
	struct scrub *sc = ctx;

	metrics_count_scrubbed(sc->metrics, 1, (uint64_t)st->st_size);
	integrity_damaged(sc->integrity, id, st, DAMAGE_SCRUB);
}

/* The thread: a pass, then wait for the next one's time or the stop. */
static void scrub_main(void *arg)
{
	struct scrub *sc = arg;
	struct store_verify_options o = {
		.rate = sc->rate, .intact = scrub_intact, .damaged = scrub_damaged,
		.stop = scrub_stopping, .ctx = sc,
	};

	while (!worker_stopping(&sc->worker)) {
		int64_t next = clock_ms() + (int64_t)sc->interval * 1000;

		store_verify(sc->store, &o, NULL);
		worker_wait(&sc->worker, next);
	}
}

struct scrub *scrub_start(struct store *s, struct integrity *ig, struct metrics *m,
                          uint64_t rate, unsigned interval, char **cause)
{
	struct scrub *sc = calloc(1, sizeof(*sc));
	int err;

	if (sc == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	sc->store = s;
	sc->integrity = ig;
	sc->metrics = m;
	sc->rate = rate;
	sc->interval = interval;
	if (rate == 0)
		return sc;
	err = worker_start(&sc->worker, scrub_main, NULL, sc);
	if (err != 0) {
		cause_set(cause, "cannot start the scrub thread: %s", strerror(err));
		scrub_stop(sc);
		return NULL;
	}
	return sc;
}

void scrub_stop(struct scrub *sc)
{
	if (sc == NULL)
		return;
	worker_stop(&sc->worker);
	worker_destroy(&sc->worker);
	free(sc);
}
