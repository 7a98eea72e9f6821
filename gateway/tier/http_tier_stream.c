/*
 * http_tier_stream.c: GETs that take a fetch from the shared tier as it
 * arrives, reading the temp file it is written to. All but the object's
 * last byte go out as they come; the last waits until the whole object is
 * in and checked, so a damaged one never arrives whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "gateway/tier/http_tier_fetch.h"
#include "gateway/http/respond.h"

/* A GET streaming a fetch as it arrives. */
struct tier_stream {
	struct tier_fetch *f;
	struct MHD_Connection *conn;
	struct tier_stream *next;    /* among f->readers while suspended */
};

void tier_fetch_unref(struct tier_fetch *f)
{
	if (--f->refs > 0)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

void tier_wake_readers(struct tier_stream *s)
{
	while (s != NULL) {
		struct tier_stream *next = s->next;
		MHD_resume_connection(s->conn);
		s = next;
	}
}

bool tier_can_stream(const struct request *r)
{
	return r->method == METHOD_GET && (r->route == ENDPOINT_CAS || r->route == ENDPOINT_AC);
}

void tier_stream_from(struct request *r, struct tier_fetch *f)
{
	r->tier_stream = f;
	f->refs++;
}

void tier_fetch_progress(void *ctx, uint64_t written, int64_t length)
{
	struct tier_fetch *f = ctx;
	struct http_tier *t = f->tier;
	struct tier_reply ok = { .result = TIER_OK };
	struct request *start = NULL, **p;
	struct tier_stream *readers;

	pthread_mutex_lock(&t->lock);
	f->written = written;
	if (f->length < 0 && length > 0) {
		f->length = length;
		for (p = &f->waiters; *p != NULL;) {
			struct request *r = *p;
			if (!tier_can_stream(r)) {
				p = &r->tier_next;
				continue;
			}
			*p = r->tier_next;
			tier_stream_from(r, f);
			r->tier_next = start;
			start = r;
		}
	}
	readers = f->readers;
	f->readers = NULL;
	pthread_mutex_unlock(&t->lock);
	tier_resume_all(start, &ok);
	tier_wake_readers(readers);
}

/*
 * libmicrohttpd asks for bytes from pos: what the fetch has written, but
 * the last byte only once the whole object is checked. With nothing to
 * give yet the connection is suspended until the fetch moves on.
 */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct tier_stream *s = cls;
	struct tier_fetch *f = s->f;
	uint64_t limit;
	ssize_t n;

	pthread_mutex_lock(&f->tier->lock);
	if (f->state == FETCH_FAILED) {
		pthread_mutex_unlock(&f->tier->lock);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	limit = (uint64_t)f->length;
	if (f->state == FETCH_RUNNING && f->written < limit)
		limit = f->written;
	else if (f->state == FETCH_RUNNING)
		limit--;
	if (pos >= limit) {
		s->next = f->readers;
		f->readers = s;
		MHD_suspend_connection(s->conn);
		pthread_mutex_unlock(&f->tier->lock);
		return 0;
	}
	pthread_mutex_unlock(&f->tier->lock);
	if (max > limit - pos)
		max = (size_t)(limit - pos);
	do
		n = pread(f->fd, buf, max, (off_t)pos);
	while (n < 0 && errno == EINTR);
	return n > 0 ? n : MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The response is done with the stream. */
static void stream_free(void *cls)
{
	struct tier_stream *s = cls;
	struct http_tier *t = s->f->tier;

	pthread_mutex_lock(&t->lock);
	tier_fetch_unref(s->f);
	pthread_mutex_unlock(&t->lock);
	free(s);
}

enum MHD_Result http_tier_stream(struct MHD_Connection *c, struct request *r)
{
	struct tier_fetch *f = r->tier_stream;
	struct tier_stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;
	int64_t length;

	r->tier_stream = NULL;  /* the stream has the reference now */
	if (s == NULL) {
		pthread_mutex_lock(&f->tier->lock);
		tier_fetch_unref(f);
		pthread_mutex_unlock(&f->tier->lock);
		return MHD_NO;
	}
	s->f = f;
	s->conn = c;
	pthread_mutex_lock(&f->tier->lock);
	length = f->length;
	pthread_mutex_unlock(&f->tier->lock);
	resp = MHD_create_response_from_callback((uint64_t)length, 64 * 1024, stream_read, s,
	                                         stream_free);
	if (resp == NULL) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	metrics_count_lookup(r->gw->metrics, r->route == ENDPOINT_AC ? STORE_AC : STORE_CAS, true);
	if (r->route == ENDPOINT_AC)
		metrics_count_grant(r->gw->metrics, &r->grant, GRANT_HIT);
	return respond_queue(c, r, MHD_HTTP_OK, resp, (uint64_t)length);
}

void http_tier_request_done(struct request *r)
{
	struct tier_fetch *f = r->tier_stream;

	free(r->tier_reply.why);
	r->tier_reply.why = NULL;
	if (f == NULL)
		return;
	r->tier_stream = NULL;
	pthread_mutex_lock(&f->tier->lock);
	tier_fetch_unref(f);
	pthread_mutex_unlock(&f->tier->lock);
}
