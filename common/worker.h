/*
 * worker.h: a background thread and the lock and condition that wake it;
 * the one place the programs start a thread.
 *
 * The owner embeds a zeroed struct worker and starts it with the function
 * the thread runs. That function runs once and loops on its own: it sleeps
 * in worker_wait (until a wake, a deadline or the stop), or, when it sleeps
 * elsewhere (epoll_wait, curl_multi_poll), the owner names a poke that
 * breaks that sleep and the function asks worker_stopping itself. It
 * returns once stopping, after whatever last work its owner promises.
 *
 * Locks: the worker's lock guards only the worker's own state (the pending
 * wake, the condition, the stop); it is held inside the calls below and
 * while the poke runs, never across the owner's code. What the thread
 * works on stays under its owner's locks: change it there, then call
 * worker_wake, which may be called with the owner's lock held (the worker
 * never takes it).
 *
 * Threads: worker_start, worker_stop and worker_destroy are called by the
 * owner (from one thread); worker_wake and worker_stopping from any thread
 * between start and destroy; worker_wait by the worker's thread only.
 */
#ifndef CACHEGATE_COMMON_WORKER_H
#define CACHEGATE_COMMON_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"

/* What the thread runs, and a poke: both are given the owner's arg. */
typedef void worker_fn(void *arg);

struct worker {
	worker_fn *run;
	worker_fn *poke;          /* breaks the function's own sleep, or NULL */
	void *arg;
	pthread_t thread;
	bool started, joined;     /* the owner's thread only */
	pthread_mutex_t lock;     /* guards woken and the condition; stopping is set under it */
	pthread_cond_t cond;      /* on CLOCK_MONOTONIC */
	bool woken;               /* a wake no worker_wait has taken yet */
	atomic_bool stopping;
};

/* Why worker_wait returned. */
enum worker_event {
	WORKER_WOKEN,     /* worker_wake was called since the last wait returned */
	WORKER_DEADLINE,  /* the deadline came */
	WORKER_STOPPING,  /* worker_stop was called: the function should return */
};

/*
 * Start a thread running run(arg). poke(arg), unless NULL, runs at every
 * wake and at the stop, under the worker's lock: it must be quick and take
 * none of the owner's locks (curl_multi_wakeup, a write to an eventfd).
 * Returns 0, or an error number (w then holds nothing).
 */
int worker_start(struct worker *w, worker_fn *run, worker_fn *poke, void *arg);

/*
 * Wake the thread: its next worker_wait returns WORKER_WOKEN at once (a
 * wake before it waits is kept; wakes before it are one), and the poke
 * runs. Once stopping, does nothing.
 */
void worker_wake(struct worker *w);

/*
 * Sleep until a wake, the deadline (CLOCK_MONOTONIC milliseconds as
 * clock_ms; CLOCK_NEVER for none) or the stop, and say which; the stop
 * wins over a wake pending with it. A wake is taken by the wait it ends.
 */
enum worker_event worker_wait(struct worker *w, int64_t deadline_ms);

/* True once worker_stop has begun (never blocks). */
bool worker_stopping(struct worker *w);

/*
 * Ask the thread to stop (worker_stopping turns true, worker_wait returns
 * WORKER_STOPPING, the poke runs) and wait until its function has
 * returned. Does nothing on a worker already stopped, or zeroed and never
 * started. Wakes may still come until worker_destroy; they do nothing.
 */
void worker_stop(struct worker *w);

/* Release the lock and condition of a stopped worker; nothing for a zeroed one never started. */
void worker_destroy(struct worker *w);

#endif
