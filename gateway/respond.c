/*
 * respond.c: build and queue responses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "gateway/respond.h"

#define TEXT_TYPE "text/plain; charset=utf-8"

/* Queue resp with status, then drop our reference to it. */
static enum MHD_Result queue(struct MHD_Connection *c, struct request *r, unsigned status,
                             struct MHD_Response *resp, uint64_t body)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	/* Answers of the Go endpoints say so, so that a helper can tell a miss from an old server. */
	if (r->route == ROUTE_GO || r->route == ROUTE_GO_BATCH)
		MHD_add_response_header(resp, RESPOND_GO_HEADER, "1");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES) {
		r->status = status;
		r->body_out = r->method == METHOD_HEAD ? 0 : body;
		metrics_count_request(r->gw->metrics, r->method, r->route, status);
	}
	return ret;
}

/* A text response "text\n" not yet queued, or NULL. */
static struct MHD_Response *text_response(const char *text, size_t *len)
{
	struct MHD_Response *resp;
	char *body;
	int n = asprintf(&body, "%s\n", text);

	if (n < 0)
		return NULL;
	resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TEXT_TYPE);
	*len = (size_t)n;
	return resp;
}

enum MHD_Result respond_text(struct MHD_Connection *c, struct request *r, unsigned status,
                             const char *text)
{
	size_t len = 0;
	struct MHD_Response *resp = text_response(text, &len);

	return queue(c, r, status, resp, len);
}

enum MHD_Result respond_not_allowed(struct MHD_Connection *c, struct request *r,
                                    const char *allow)
{
	size_t len = 0;
	char why[96];
	struct MHD_Response *resp;

	snprintf(why, sizeof(why), "method not allowed here; allowed: %s", allow);
	resp = text_response(why, &len);
	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	return queue(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, resp, len);
}

enum MHD_Result respond_unauthorized(struct MHD_Connection *c, struct request *r,
                                     const char *why)
{
	size_t len = 0;
	struct MHD_Response *resp = text_response(why, &len);

	if (resp != NULL) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Bearer realm=\"cachegate\"");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Basic realm=\"cachegate\"");
	}
	return queue(c, r, MHD_HTTP_UNAUTHORIZED, resp, len);
}

/*
 * Objects up to this size are read into the response, so that headers and
 * body leave in one send (one packet, one wake-up of the client); larger
 * ones go out with sendfile. Bounds the memory a response may hold.
 */
#define SMALL_OBJECT_MAX (16 * 1024)

/* A response holding a small object's bytes, read from fd (which stays open), or NULL. */
static struct MHD_Response *small_object_response(int fd, uint64_t size)
{
	char *body = malloc(size > 0 ? size : 1);
	struct MHD_Response *resp;
	size_t got = 0;

	while (body != NULL && got < size) {
		ssize_t n = pread(fd, body + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (body == NULL || got != size) {
		free(body);
		return NULL;
	}
	resp = MHD_create_response_from_buffer(got, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		free(body);
	return resp;
}

enum MHD_Result respond_object(struct MHD_Connection *c, struct request *r,
                               struct store_object *obj, const char *entry)
{
	struct MHD_Response *resp;

	if (r->method == METHOD_GET && obj->size <= SMALL_OBJECT_MAX) {
		resp = small_object_response(obj->fd, obj->size);
		close(obj->fd);
		if (resp == NULL)
			return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			                    "store error: cannot read the object");
	} else {
		resp = MHD_create_response_from_fd64(obj->size, obj->fd);
		if (resp == NULL) {
			close(obj->fd);
			return MHD_NO;
		}
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	if (entry != NULL)
		MHD_add_response_header(resp, RESPOND_ENTRY_HEADER, entry);
	return queue(c, r, MHD_HTTP_OK, resp, obj->size);
}

enum MHD_Result respond_stream(struct MHD_Connection *c, struct request *r,
                               MHD_ContentReaderCallback read, void *cls,
                               MHD_ContentReaderFreeCallback done)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
	                                                              read, cls, done);

	if (resp == NULL) {
		done(cls);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	return queue(c, r, MHD_HTTP_OK, resp, 0);
}

enum MHD_Result respond_buffer(struct MHD_Connection *c, struct request *r, unsigned status,
                               char *body, size_t len, const char *content_type)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body,
	                                                           MHD_RESPMEM_MUST_FREE);

	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	return queue(c, r, status, resp, len);
}
