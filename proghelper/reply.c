/*
 * reply.c: whole JSON lines to stdout, one writer at a time.
 */
#include "proghelper/reply.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct reply {
	int fd;
	bool broken;           /* a write failed: the go command is gone */
	pthread_mutex_t lock;  /* guards fd writes and broken */
};

struct reply *reply_open(int fd)
{
	struct reply *w = calloc(1, sizeof *w);

	if (w == NULL)
		return NULL;
	w->fd = fd;
	pthread_mutex_init(&w->lock, NULL);
	return w;
}

void reply_free(struct reply *w)
{
	if (w == NULL)
		return;
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Write all of buf; the caller holds the lock. */
static bool do_reply_write(struct reply *w, const char *buf, size_t len)
{
	while (len > 0 && !w->broken) {
		ssize_t n = write(w->fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->broken = true;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	return !w->broken;
}

bool reply_send(struct reply *w, const struct protocol_reply *r)
{
	char fallback[96];
	size_t len = 0;
	char *line = protocol_encode_reply(r, &len);
	bool ok;

	if (line == NULL) {
		snprintf(fallback, sizeof fallback,
		         "{\"ID\":%lld,\"Err\":\"cannot encode the reply\"}\n", (long long)r->id);
		len = strlen(fallback);
	}
	pthread_mutex_lock(&w->lock);
	ok = do_reply_write(w, line != NULL ? line : fallback, len);
	pthread_mutex_unlock(&w->lock);
	free(line);
	return ok;
}
