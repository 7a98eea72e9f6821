/*
 * common_worker_test.c: the worker thread (common/worker.h). A probe
 * function counts its rounds and how each wait ended; the tests wait for
 * those counts on a condition, never for a time, so a lost wake or a stop
 * that does not return shows as the suite's timeout.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "common/worker.h"

/* What the probe's thread did, guarded by lock (and told on changed). */
struct probe {
	struct worker worker;
	int64_t wait_ms;          /* each wait's deadline after its start, or CLOCK_NEVER */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool hold;                /* the thread stops before its next wait until cleared */
	bool held;                /* the thread is stopped there */
	int rounds;               /* times the function went round */
	int events[3];            /* waits that ended, by enum worker_event */
	int returned;             /* 1 once the function has returned */
	atomic_int pokes;
};

/* Count one more in *field, under p->lock, and tell the test. */
static void probe_note(struct probe *p, int *field)
{
	pthread_mutex_lock(&p->lock);
	(*field)++;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

/* The worker's function: count a round, stop at the gate while held, wait, count how it ended. */
static void probe_run(void *arg)
{
	struct probe *p = arg;
	enum worker_event ev;

	do {
		probe_note(p, &p->rounds);
		pthread_mutex_lock(&p->lock);
		while (p->hold) {
			p->held = true;
			pthread_cond_broadcast(&p->changed);
			pthread_cond_wait(&p->changed, &p->lock);
		}
		p->held = false;
		pthread_mutex_unlock(&p->lock);
		ev = worker_wait(&p->worker, p->wait_ms == CLOCK_NEVER ? CLOCK_NEVER
		                                                       : clock_ms() + p->wait_ms);
		probe_note(p, &p->events[ev]);
	} while (ev != WORKER_STOPPING);
	probe_note(p, &p->returned);
}

/* The worker's poke: only counted (it may take none of the owner's locks). */
static void probe_poke(void *arg)
{
	struct probe *p = arg;

	atomic_fetch_add(&p->pokes, 1);
}

static struct probe probe;

/* Start the probe's thread with waits of wait_ms, held at its gate if hold. */
static void probe_start(int64_t wait_ms, bool hold)
{
	probe.wait_ms = wait_ms;
	probe.hold = hold;
	pthread_mutex_init(&probe.lock, NULL);
	pthread_cond_init(&probe.changed, NULL);
	atomic_init(&probe.pokes, 0);
	cr_assert_eq(worker_start(&probe.worker, probe_run, probe_poke, &probe), 0);
}

/* Block until *field has reached n. */
static void await_count(const int *field, int n)
{
	pthread_mutex_lock(&probe.lock);
	while (*field < n)
		pthread_cond_wait(&probe.changed, &probe.lock);
	pthread_mutex_unlock(&probe.lock);
}

/* Read a field under the probe's lock. */
static int probe_get(const int *field)
{
	int v;

	pthread_mutex_lock(&probe.lock);
	v = *field;
	pthread_mutex_unlock(&probe.lock);
	return v;
}

static void teardown(void)
{
	worker_stop(&probe.worker);
	worker_destroy(&probe.worker);
	pthread_cond_destroy(&probe.changed);
	pthread_mutex_destroy(&probe.lock);
}

TestSuite(common_worker, .fini = teardown, .timeout = 30);

Test(common_worker, a_wake_runs_the_function_again)
{
	probe_start(CLOCK_NEVER, false);
	await_count(&probe.rounds, 1);
	worker_wake(&probe.worker);
	await_count(&probe.rounds, 2);
	cr_assert_eq(probe_get(&probe.events[WORKER_WOKEN]), 1);
	cr_assert_eq(probe_get(&probe.events[WORKER_DEADLINE]), 0);
	cr_assert_eq(atomic_load(&probe.pokes), 1, "the wake did not poke");
	worker_wake(&probe.worker);
	await_count(&probe.rounds, 3);
	cr_assert_eq(probe_get(&probe.events[WORKER_WOKEN]), 2);
}

Test(common_worker, a_deadline_ends_the_wait_without_a_wake)
{
	probe_start(10, false);
	await_count(&probe.events[WORKER_DEADLINE], 2);
	cr_assert_geq(probe_get(&probe.rounds), 2);
	cr_assert_eq(probe_get(&probe.events[WORKER_WOKEN]), 0);
	cr_assert_eq(atomic_load(&probe.pokes), 0);
}

Test(common_worker, stop_returns_once_the_function_has_returned)
{
	probe_start(CLOCK_NEVER, false);
	await_count(&probe.rounds, 1);
	cr_assert_not(worker_stopping(&probe.worker));
	worker_stop(&probe.worker);
	cr_assert_eq(probe_get(&probe.returned), 1, "stop returned before the function");
	cr_assert_eq(probe_get(&probe.events[WORKER_STOPPING]), 1);
	cr_assert(worker_stopping(&probe.worker));
	cr_assert_geq(atomic_load(&probe.pokes), 1, "the stop did not poke");
}

Test(common_worker, a_wake_before_the_wait_is_not_lost)
{
	probe_start(CLOCK_NEVER, true);
	pthread_mutex_lock(&probe.lock);
	while (!probe.held)
		pthread_cond_wait(&probe.changed, &probe.lock);
	pthread_mutex_unlock(&probe.lock);
	/* The thread is at its gate, not waiting: the wake must be kept for its wait. */
	worker_wake(&probe.worker);
	pthread_mutex_lock(&probe.lock);
	probe.hold = false;
	pthread_cond_broadcast(&probe.changed);
	pthread_mutex_unlock(&probe.lock);
	await_count(&probe.events[WORKER_WOKEN], 1);
	cr_assert_eq(probe_get(&probe.events[WORKER_DEADLINE]), 0);
}

Test(common_worker, wakes_after_the_stop_and_a_second_stop_do_nothing)
{
	probe_start(CLOCK_NEVER, false);
	await_count(&probe.rounds, 1);
	worker_stop(&probe.worker);
	int pokes = atomic_load(&probe.pokes);
	worker_wake(&probe.worker);
	worker_stop(&probe.worker);
	cr_assert_eq(atomic_load(&probe.pokes), pokes);
	cr_assert_eq(probe_get(&probe.rounds), 1);
	cr_assert_eq(probe_get(&probe.events[WORKER_STOPPING]), 1);
}

Test(common_worker_idle, a_zeroed_worker_never_started_stops_and_is_destroyed_as_nothing)
{
	struct worker idle = {0};

	worker_stop(&idle);
	worker_destroy(&idle);
	cr_assert_not(idle.started);
	cr_assert_not(idle.joined);
}
