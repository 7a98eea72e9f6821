/*
 * route.h: what a request path names, checked before any file-system
 * access. Paths are taken as sent (percent-escapes are not decoded), so an
 * escaped slash or dot can never become part of a file name.
 */
#ifndef CACHEGATE_GATEWAY_ROUTE_H
#define CACHEGATE_GATEWAY_ROUTE_H

#include "gateway/http/request.h"

enum route_result {
	ROUTE_FOUND = 0,
	ROUTE_NOT_FOUND,   /* no such path */
	ROUTE_BAD_ID,      /* an ac/, cas/ or go/ path whose id is not 64 lowercase hex */
	ROUTE_TRAVERSAL,   /* a "." or ".." segment */
};

/*
 * Classify url ("/cas/<id>", "/<instance>/ac/<id>", "/go/<id>", "/go/batch",
 * "/healthz", ...): sets
 * *route, and id for objects. Anything but ROUTE_FOUND leaves *route as
 * ENDPOINT_UNKNOWN, or the kind for ROUTE_BAD_ID.
 */
enum route_result route_parse(const char *url, enum endpoint *route, char id[STORE_ID_LEN + 1]);

/* The method of an HTTP method name; METHOD_OTHER for all we do not serve. */
enum method route_method(const char *name);

/* One sentence for a result, e.g. "bad id: ...". */
const char *route_result_str(enum route_result r);

#endif
