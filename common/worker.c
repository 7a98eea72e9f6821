/*
 * worker.c: a background thread and what wakes it (worker.h). A wake or a
 * stop is a flag set under the lock before the signal, so a thread that is
 * not yet waiting finds it when it comes to wait: none is lost.
 */
#include "common/worker.h"

#include <string.h>
#include <time.h>

/* The thread: run the owner's function once. */
static void *worker_thread(void *arg)
{
	struct worker *w = arg;

	w->run(w->arg);
	return NULL;
}

int worker_start(struct worker *w, worker_fn *run, worker_fn *poke, void *arg)
{
	pthread_condattr_t ca;
	int err;

	memset(w, 0, sizeof(*w));
	w->run = run;
	w->poke = poke;
	w->arg = arg;
	atomic_init(&w->stopping, false);
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&w->thread, NULL, worker_thread, w);
	if (err != 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return err;
	}
	w->started = true;
	return 0;
}

void worker_wake(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	if (!atomic_load(&w->stopping)) {
		w->woken = true;
		pthread_cond_signal(&w->cond);
		if (w->poke != NULL)
			w->poke(w->arg);
	}
	pthread_mutex_unlock(&w->lock);
}

enum worker_event worker_wait(struct worker *w, int64_t deadline_ms)
{
	struct timespec until = {
		.tv_sec = deadline_ms / 1000, .tv_nsec = (long)(deadline_ms % 1000) * 1000000,
	};
	enum worker_event ev;
	bool timed_out = false;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		if (atomic_load(&w->stopping)) {
			ev = WORKER_STOPPING;
			break;
		}
		if (w->woken) {
			w->woken = false;
			ev = WORKER_WOKEN;
			break;
		}
		if (timed_out) {
			ev = WORKER_DEADLINE;
			break;
		}
		if (deadline_ms == CLOCK_NEVER)
			pthread_cond_wait(&w->cond, &w->lock);
		else
			timed_out = pthread_cond_timedwait(&w->cond, &w->lock, &until) != 0;
	}
	pthread_mutex_unlock(&w->lock);
	return ev;
}

bool worker_stopping(struct worker *w)
{
	return atomic_load(&w->stopping);
}

void worker_stop(struct worker *w)
{
	if (!w->started || w->joined)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stopping, true);
	pthread_cond_signal(&w->cond);
	if (w->poke != NULL)
		w->poke(w->arg);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->joined = true;
}

void worker_destroy(struct worker *w)
{
	if (!w->started)
		return;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	w->started = false;
}
