/*
 * watchdog.c: cut off requests that run past their deadline.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "common/cause.h"
#include "common/clock.h"
#include "common/worker.h"
#include "gateway/jobs/watchdog.h"

struct conn_watch {
	int fd;
	atomic_int_fast64_t deadline_ms;  /* clock_ms */
	atomic_bool receiving;             /* a request body is still expected */
	atomic_bool in_request;            /* a request's head is in: deadline_ms is its total */
	atomic_bool linger;                /* answered before its body was read */
	atomic_uint_fast64_t body_bytes;   /* of the request being received */
	int64_t window_end_ms;             /* 0: no body window open (watchdog thread only) */
	uint64_t window_bytes;             /* body_bytes when the window opened */
	bool cut;                          /* shut down already (under the lock) */
	struct conn_watch *prev, *next;
};

struct watchdog {
	int64_t timeout_ms;     /* a request, from its head in to its end */
	int64_t header_ms;      /* a request's head, from the connection's start or the last request */
	uint64_t min_window_bytes; /* a body brings at least this much per window; 0: no minimum */
	pthread_mutex_t lock;  /* guards the list and cut */
	struct conn_watch *head;
	struct worker worker;  /* never woken: checks each second until stopped */
};

/*
 * True when the peer of a connection expecting a body has hung up and left
 * nothing unread: the body can never complete. (libmicrohttpd 0.9.75 in
 * epoll mode sometimes misses such a hang-up until the idle timeout.)
 */
static bool hung_up_mid_body(struct conn_watch *cw)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int unread = 0;

	if (!atomic_load(&cw->receiving))
		return false;
	if (getsockopt(cw->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    ti.tcpi_state != TCP_CLOSE_WAIT)
		return false;
	return ioctl(cw->fd, FIONREAD, &unread) == 0 && unread == 0;
}

/*
 * True when cw's body has brought less than the minimum in its last whole
 * window (the first window is the grace period). Opens and moves windows.
 */
static bool body_too_slow(const struct watchdog *w, struct conn_watch *cw, int64_t now)
{
	uint64_t got = atomic_load(&cw->body_bytes);
	bool slow;

	if (w->min_window_bytes == 0 || !atomic_load(&cw->receiving)) {
		cw->window_end_ms = 0;
		return false;
	}
	if (cw->window_end_ms == 0 || got < cw->window_bytes) {  /* a new body */
		cw->window_end_ms = now + WATCHDOG_BODY_WINDOW_MS;
		cw->window_bytes = got;
		return false;
	}
	if (now < cw->window_end_ms)
		return false;
	slow = got - cw->window_bytes < w->min_window_bytes;
	cw->window_end_ms = now + WATCHDOG_BODY_WINDOW_MS;
	cw->window_bytes = got;
	return slow;
}

/*
 * Shut down the sockets of overdue connections, of uploads too slow, and of
 * uploads whose client is gone. libmicrohttpd then sees the socket fail, ends the
 * request (an upload is discarded) and closes it; the fd stays ours until
 * watchdog_close, so it cannot be reused under us.
 */
static void cut_connections(struct watchdog *w)
{
	int64_t now = clock_ms();

	for (struct conn_watch *cw = w->head; cw != NULL; cw = cw->next) {
		bool overdue, slow;

		if (cw->cut)
			continue;
		overdue = atomic_load(&cw->deadline_ms) <= now;
		slow = body_too_slow(w, cw, now);
		if (!overdue && !slow && !hung_up_mid_body(cw))
			continue;
		cw->cut = true;
		shutdown(cw->fd, SHUT_RDWR);
		if (slow)
			fprintf(stderr, "cachegate: an upload arrived slower than --min-body-rate; "
			        "connection closed\n");
		/* A head that never came whole is a slow client or an idle one: no news. */
		if (overdue && atomic_load(&cw->in_request))
			fprintf(stderr, "cachegate: a request ran past --request-timeout; "
			        "connection closed\n");
	}
}

/* The thread: check once a second until stopped. */
static void watchdog_main(void *arg)
{
	struct watchdog *w = arg;

	while (!worker_stopping(&w->worker)) {
		pthread_mutex_lock(&w->lock);
		cut_connections(w);
		pthread_mutex_unlock(&w->lock);
		worker_wait(&w->worker, clock_ms() + 1000);
	}
}

struct watchdog *watchdog_start(unsigned request_timeout, unsigned header_timeout,
                                uint64_t min_body_rate, char **cause)
{
	struct watchdog *w = calloc(1, sizeof(*w));
	int err;

	*cause = NULL;
	if (w == NULL) {
		*cause = strdup("out of memory");
		return NULL;
	}
	w->timeout_ms = (int64_t)request_timeout * 1000;
	w->header_ms = (int64_t)header_timeout * 1000;
	w->min_window_bytes = min_body_rate * (WATCHDOG_BODY_WINDOW_MS / 1000);
	pthread_mutex_init(&w->lock, NULL);
	err = worker_start(&w->worker, watchdog_main, NULL, w);
	if (err != 0) {
		cause_set(cause, "cannot start the watchdog thread: %s", strerror(err));
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

void watchdog_stop(struct watchdog *w)
{
	if (w == NULL)
		return;
	worker_stop(&w->worker);
	worker_destroy(&w->worker);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

struct conn_watch *watchdog_open(struct watchdog *w, int fd)
{
	struct conn_watch *cw = calloc(1, sizeof(*cw));

	if (cw == NULL)
		return NULL;
	cw->fd = fd;
	atomic_init(&cw->deadline_ms, clock_ms() + w->header_ms);
	atomic_init(&cw->receiving, false);
	atomic_init(&cw->in_request, false);
	atomic_init(&cw->linger, false);
	atomic_init(&cw->body_bytes, 0);
	pthread_mutex_lock(&w->lock);
	cw->next = w->head;
	if (w->head != NULL)
		w->head->prev = cw;
	w->head = cw;
	pthread_mutex_unlock(&w->lock);
	return cw;
}

void watchdog_request_started(struct watchdog *w, struct conn_watch *cw)
{
	if (cw == NULL)
		return;
	atomic_store(&cw->deadline_ms, clock_ms() + w->timeout_ms);
	atomic_store(&cw->in_request, true);
}

void watchdog_request_done(struct watchdog *w, struct conn_watch *cw)
{
	if (cw == NULL)
		return;
	atomic_store(&cw->receiving, false);
	atomic_store(&cw->in_request, false);
	atomic_store(&cw->deadline_ms, clock_ms() + w->header_ms);
}

void watchdog_receiving(struct conn_watch *cw, bool receiving)
{
	if (cw == NULL)
		return;
	if (receiving)
		atomic_store(&cw->body_bytes, 0);
	atomic_store(&cw->receiving, receiving);
}

void watchdog_body(struct conn_watch *cw, size_t n)
{
	if (cw != NULL)
		atomic_fetch_add(&cw->body_bytes, n);
}

void watchdog_answered_early(struct conn_watch *cw)
{
	if (cw != NULL)
		atomic_store(&cw->linger, true);
}

bool watchdog_close(struct watchdog *w, struct conn_watch *cw)
{
	bool linger;

	if (cw == NULL)
		return false;
	linger = atomic_load(&cw->linger);
	pthread_mutex_lock(&w->lock);
	if (cw->prev != NULL)
		cw->prev->next = cw->next;
	else
		w->head = cw->next;
	if (cw->next != NULL)
		cw->next->prev = cw->prev;
	pthread_mutex_unlock(&w->lock);
	free(cw);
	return linger;
}
