/*
 * respond.c: build and queue responses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "gateway/gateway.h"
#include "gateway/http/respond.h"
#include "wire/wire.h"

#define TEXT_TYPE "text/plain; charset=utf-8"

enum MHD_Result respond_queue(struct MHD_Connection *c, struct request *r, unsigned status,
                             struct MHD_Response *resp, uint64_t body)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	/* Answers of the Go endpoints say so, so that a helper can tell a miss from an old server. */
	if (r->route == ENDPOINT_GO || r->route == ENDPOINT_GO_BATCH)
		MHD_add_response_header(resp, WIRE_GO_HEADER, "1");
	/* A compressing gateway takes zstd bodies on /cas (RFC 7694): helpers then upload so. */
	if (r->gw->opt->compression && r->route <= ENDPOINT_GO_BATCH)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_ENCODING, WIRE_ZSTD);
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

	return respond_queue(c, r, status, resp, len);
}

enum MHD_Result respond_not_allowed(struct MHD_Connection *c, struct request *r,
                                    const char *allow)
{
	size_t len = 0;
	char *why = NULL;
	struct MHD_Response *resp;

	cause_set(&why, "method not allowed here; allowed: %s", allow);
	resp = text_response(cause_text(why), &len);
	free(why);
	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	return respond_queue(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, resp, len);
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
	return respond_queue(c, r, MHD_HTTP_UNAUTHORIZED, resp, len);
}

enum MHD_Result respond_stream(struct MHD_Connection *c, struct request *r,
                               MHD_ContentReaderCallback read, void *cls,
                               MHD_ContentReaderFreeCallback done, const char *encoding)
{
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, RESPOND_STREAM_BLOCK, read, cls, done);

	if (resp == NULL) {
		done(cls);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	if (encoding != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	return respond_queue(c, r, MHD_HTTP_OK, resp, 0);
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
	return respond_queue(c, r, status, resp, len);
}
