/*
 * route.c: map request paths to what they name.
 */
#include <string.h>

#include "gateway/http/route.h"

/* The kind a path segment of length n names, or ENDPOINT_UNKNOWN. */
static enum endpoint segment_kind(const char *seg, size_t n)
{
	if (n == 2 && memcmp(seg, "ac", 2) == 0)
		return ENDPOINT_AC;
	if (n == 3 && memcmp(seg, "cas", 3) == 0)
		return ENDPOINT_CAS;
	if (n == 2 && memcmp(seg, "go", 2) == 0)
		return ENDPOINT_GO;
	return ENDPOINT_UNKNOWN;
}

enum route_result route_parse(const char *url, enum endpoint *route, char id[STORE_ID_LEN + 1])
{
	const char *prev = NULL, *last = NULL, *p;
	size_t prev_len = 0, last_len = 0;
	enum endpoint any_kind = ENDPOINT_UNKNOWN;

	*route = ENDPOINT_UNKNOWN;
	if (strcmp(url, "/healthz") == 0)
		*route = ENDPOINT_HEALTHZ;
	else if (strcmp(url, "/metrics") == 0)
		*route = ENDPOINT_METRICS;
	else if (strcmp(url, "/status") == 0)
		*route = ENDPOINT_STATUS;
	if (*route != ENDPOINT_UNKNOWN)
		return ROUTE_FOUND;
	if (url[0] != '/')
		return ROUTE_NOT_FOUND;

	/* Walk the segments, remembering the last two. */
	for (p = url + 1;; ) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return ROUTE_TRAVERSAL;
		if (segment_kind(p, n) != ENDPOINT_UNKNOWN && any_kind == ENDPOINT_UNKNOWN)
			any_kind = segment_kind(p, n);
		prev = last;
		prev_len = last_len;
		last = p;
		last_len = n;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	if (prev != NULL && segment_kind(prev, prev_len) != ENDPOINT_UNKNOWN) {
		*route = segment_kind(prev, prev_len);
		if (*route == ENDPOINT_GO && last_len == 5 && memcmp(last, "batch", 5) == 0) {
			*route = ENDPOINT_GO_BATCH;
			return ROUTE_FOUND;
		}
		if (!store_id_valid(last, last_len))
			return ROUTE_BAD_ID;
		memcpy(id, last, STORE_ID_LEN);
		id[STORE_ID_LEN] = '\0';
		return ROUTE_FOUND;
	}
	if (any_kind != ENDPOINT_UNKNOWN) {
		*route = any_kind;
		return ROUTE_BAD_ID;
	}
	return ROUTE_NOT_FOUND;
}

enum method route_method(const char *name)
{
	if (strcmp(name, "GET") == 0)
		return METHOD_GET;
	if (strcmp(name, "HEAD") == 0)
		return METHOD_HEAD;
	if (strcmp(name, "PUT") == 0)
		return METHOD_PUT;
	if (strcmp(name, "POST") == 0)
		return METHOD_POST;
	return METHOD_OTHER;
}

const char *route_result_str(enum route_result r)
{
	switch (r) {
	case ROUTE_FOUND:
		return "found";
	case ROUTE_NOT_FOUND:
		return "no such path: use /ac/<id>, /cas/<id>, /go/<id>, /go/batch, /healthz, /metrics or /status";
	case ROUTE_BAD_ID:
		return "bad id: an id is exactly 64 lowercase hex characters";
	case ROUTE_TRAVERSAL:
		return "bad path: \".\" and \"..\" segments are not allowed";
	}
	return "unknown route result";
}
