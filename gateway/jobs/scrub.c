/*
 * scrub.c: the background re-hashing of the store (scrub.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cause.h"
#include "gateway/jobs/scrub.h"

struct scrub {
	struct store *store;
	struct integrity *integrity;
	struct metrics *metrics;
	uint64_t rate;
	unsigned interval;
	bool running;            /* a thread was started */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_bool stopping;
};

/* store_verify callback: stop once asked to. */
static bool scrub_stopping(void *ctx)
{
	struct scrub *sc = ctx;

	return atomic_load(&sc->stopping);
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
static void *scrub_main(void *arg)
{
	struct scrub *sc = arg;
	struct store_verify_options o = {
		.rate = sc->rate, .intact = scrub_intact, .damaged = scrub_damaged,
		.stop = scrub_stopping, .ctx = sc,
	};

	while (!atomic_load(&sc->stopping)) {
		struct timespec next;

		clock_gettime(CLOCK_REALTIME, &next);
		next.tv_sec += sc->interval;
		store_verify(sc->store, &o, NULL);
		pthread_mutex_lock(&sc->lock);
		while (!atomic_load(&sc->stopping) &&
		       pthread_cond_timedwait(&sc->wake, &sc->lock, &next) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&sc->lock);
	}
	return NULL;
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
	atomic_init(&sc->stopping, false);
	pthread_mutex_init(&sc->lock, NULL);
	pthread_cond_init(&sc->wake, NULL);
	if (rate == 0)
		return sc;
	err = pthread_create(&sc->thread, NULL, scrub_main, sc);
	if (err != 0) {
		cause_set(cause, "cannot start the scrub thread: %s", strerror(err));
		scrub_stop(sc);
		return NULL;
	}
	sc->running = true;
	return sc;
}

void scrub_stop(struct scrub *sc)
{
	if (sc == NULL)
		return;
	if (sc->running) {
		pthread_mutex_lock(&sc->lock);
		atomic_store(&sc->stopping, true);
		pthread_cond_signal(&sc->wake);
		pthread_mutex_unlock(&sc->lock);
		pthread_join(sc->thread, NULL);
	}
	pthread_cond_destroy(&sc->wake);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}
