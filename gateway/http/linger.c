/*
 * linger.c: one thread that drains and closes answered connections (linger.h).
 *
 * Every socket here belongs to this file alone: a duplicate made by
 * linger_add, closed by release() under the lock, so libmicrohttpd's own
 * close of the original never resets the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cause.h"
#include "common/clock.h"
#include "common/worker.h"
#include "gateway/http/linger.h"

/* The epoll tag of the stop event; sockets are tagged with their slot. */
#define WAKE_TAG UINT32_MAX

struct lingering {
	int fd;               /* -1 when the slot is free */
	uint64_t bytes;       /* dropped so far */
	int64_t idle_until;   /* clock_ms: closed if silent until then */
	int64_t end;          /* closed then in any case */
};

struct linger_pool {
	int epfd, wakefd;      /* wakefd: the stop's event, in epfd */
	pthread_mutex_t lock;  /* guards slots */
	struct lingering slots[LINGER_MAX_SOCKETS];
	struct worker worker;  /* sleeps in epoll_wait; the stop pokes wakefd */
};

/* Close a slot's socket and free the slot; the caller holds the lock. */
static void release(struct linger_pool *l, struct lingering *s)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
}

/* Read and drop what a socket has; release it once done or over its bounds. */
static void drain(struct linger_pool *l, struct lingering *s)
{
	char buf[64 * 1024];

	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			s->idle_until = clock_ms() + LINGER_IDLE_SECONDS * 1000;
			return;
		}
		if (n <= 0)
			break;  /* the client closed, or the connection failed */
		s->bytes += (uint64_t)n;
		if (s->bytes > LINGER_MAX_BYTES)
			break;
	}
	release(l, s);
}

/* The thread: drain readable sockets, release expired ones, until stopped. */
static void linger_main(void *arg)
{
	struct linger_pool *l = arg;
	struct epoll_event ev[64];
	bool stop = false;

	while (!stop) {
		int n = epoll_wait(l->epfd, ev, 64, 500);
		int64_t now;

		stop = worker_stopping(&l->worker);
		pthread_mutex_lock(&l->lock);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u32 != WAKE_TAG && l->slots[ev[i].data.u32].fd >= 0)
				drain(l, &l->slots[ev[i].data.u32]);
		}
		now = clock_ms();
		for (int i = 0; i < LINGER_MAX_SOCKETS; i++) {
			struct lingering *s = &l->slots[i];
			if (s->fd >= 0 && (stop || now >= s->idle_until || now >= s->end))
				release(l, s);
		}
		pthread_mutex_unlock(&l->lock);
	}
}

/* The worker's poke: make wakefd readable, which ends the thread's epoll_wait. */
static void linger_poke(void *arg)
{
	struct linger_pool *l = arg;
	uint64_t one = 1;

	if (write(l->wakefd, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, "cachegate: cannot wake the lingering-close thread: %s\n",
		        strerror(errno));
}

struct linger_pool *linger_start(char **cause)
{
	struct linger_pool *l = calloc(1, sizeof(*l));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WAKE_TAG};
	int err;

	*cause = NULL;
	if (l == NULL) {
		*cause = strdup("out of memory");
		return NULL;
	}
	for (int i = 0; i < LINGER_MAX_SOCKETS; i++)
		l->slots[i].fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = l->epfd < 0 || l->wakefd < 0 ? errno
	      : epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) != 0 ? errno
	      : worker_start(&l->worker, linger_main, linger_poke, l);
	if (err != 0) {
		cause_set(cause, "cannot start the lingering-close thread: %s", strerror(err));
		if (l->epfd >= 0)
			close(l->epfd);
		if (l->wakefd >= 0)
			close(l->wakefd);
		pthread_mutex_destroy(&l->lock);
		free(l);
		return NULL;
	}
	return l;
}

void linger_add(struct linger_pool *l, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	int64_t now = clock_ms();
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (dup < 0)
		return;
	/* The answer is out; make sure the client sees its end (TLS closes only its layer). */
	shutdown(dup, SHUT_WR);
	fcntl(dup, F_SETFL, fcntl(dup, F_GETFL) | O_NONBLOCK);
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < LINGER_MAX_SOCKETS; i++) {
		struct lingering *s = &l->slots[i];
		if (s->fd >= 0)
			continue;
		ev.data.u32 = i;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, dup, &ev) != 0)
			break;
		*s = (struct lingering){dup, 0, now + LINGER_IDLE_SECONDS * 1000,
		                        now + LINGER_TOTAL_SECONDS * 1000};
		dup = -1;
		break;
	}
	pthread_mutex_unlock(&l->lock);
	if (dup >= 0)
		close(dup);
}

void linger_stop(struct linger_pool *l)
{
	if (l == NULL)
		return;
	worker_stop(&l->worker);
	worker_destroy(&l->worker);
	close(l->epfd);
	close(l->wakefd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
