/*
 * gateway_route_test.c: what a request path names (gateway/http/route.c),
 * called directly: objects under any instance prefix, the fixed paths,
 * bad ids, "." and ".." segments, and percent-escapes taken as sent.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "gateway/http/route.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parse url; it must give result and route (and, when found with an id, ID). */
static void expect(const char *url, enum route_result result, enum endpoint route)
{
	enum endpoint got = ENDPOINT_COUNT;
	char id[STORE_ID_LEN + 1] = "";

	cr_assert_eq(route_parse(url, &got, id), result, "%s: %s", url, route_result_str(result));
	cr_assert_eq(got, route, "%s: route %d, not %d", url, got, route);
	if (result == ROUTE_FOUND && (route == ENDPOINT_AC || route == ENDPOINT_CAS || route == ENDPOINT_GO))
		cr_assert_str_eq(id, ID, "%s", url);
}

Test(gateway_route, objects_and_fixed_paths)
{
	expect("/ac/" ID, ROUTE_FOUND, ENDPOINT_AC);
	expect("/cas/" ID, ROUTE_FOUND, ENDPOINT_CAS);
	expect("/go/" ID, ROUTE_FOUND, ENDPOINT_GO);
	expect("/go/batch", ROUTE_FOUND, ENDPOINT_GO_BATCH);
	expect("/healthz", ROUTE_FOUND, ENDPOINT_HEALTHZ);
	expect("/metrics", ROUTE_FOUND, ENDPOINT_METRICS);
	expect("/status", ROUTE_FOUND, ENDPOINT_STATUS);
}

Test(gateway_route, an_instance_prefix_is_allowed)
{
	/* Bazel's --remote_instance_name, ccache's layout: the last two segments count. */
	expect("/team/ac/" ID, ROUTE_FOUND, ENDPOINT_AC);
	expect("/a/b/c/cas/" ID, ROUTE_FOUND, ENDPOINT_CAS);
	expect("/cas/x/ac/" ID, ROUTE_FOUND, ENDPOINT_AC);
}

Test(gateway_route, bad_ids_keep_their_kind)
{
	expect("/ac/" "0123", ROUTE_BAD_ID, ENDPOINT_AC);
	expect("/cas/" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	       ROUTE_BAD_ID, ENDPOINT_CAS);
	expect("/cas/" ID "0", ROUTE_BAD_ID, ENDPOINT_CAS);
	expect("/go/" ID "/", ROUTE_BAD_ID, ENDPOINT_GO);
	expect("/ac/", ROUTE_BAD_ID, ENDPOINT_AC);
	expect("/cas/" ID "/more", ROUTE_BAD_ID, ENDPOINT_CAS);
}

Test(gateway_route, what_is_not_served)
{
	expect("/", ROUTE_NOT_FOUND, ENDPOINT_UNKNOWN);
	expect("/other/" ID, ROUTE_NOT_FOUND, ENDPOINT_UNKNOWN);
	expect("/healthz/", ROUTE_NOT_FOUND, ENDPOINT_UNKNOWN);
	expect("/Metrics", ROUTE_NOT_FOUND, ENDPOINT_UNKNOWN);
	expect("ac/" ID, ROUTE_NOT_FOUND, ENDPOINT_UNKNOWN);
	expect("", ROUTE_NOT_FOUND, ENDPOINT_UNKNOWN);
}

Test(gateway_route, dot_segments_are_refused_anywhere)
{
	expect("/../ac/" ID, ROUTE_TRAVERSAL, ENDPOINT_UNKNOWN);
	expect("/ac/./" ID, ROUTE_TRAVERSAL, ENDPOINT_UNKNOWN);
	expect("/cas/..", ROUTE_TRAVERSAL, ENDPOINT_UNKNOWN);
	expect("/a/../cas/" ID, ROUTE_TRAVERSAL, ENDPOINT_UNKNOWN);
	/* A name that merely starts with dots is a name. */
	expect("/...", ROUTE_NOT_FOUND, ENDPOINT_UNKNOWN);
}

Test(gateway_route, escapes_are_taken_as_sent)
{
	/* Nothing is decoded: an escaped slash or dot never becomes part of a file name. */
	expect("/ac%2f" ID, ROUTE_NOT_FOUND, ENDPOINT_UNKNOWN);
	expect("/cas/%2e%2e", ROUTE_BAD_ID, ENDPOINT_CAS);
	expect("/cas/" "%30123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	       ROUTE_BAD_ID, ENDPOINT_CAS);
}

Test(gateway_route, methods)
{
	cr_assert_eq(route_method("GET"), METHOD_GET);
	cr_assert_eq(route_method("HEAD"), METHOD_HEAD);
	cr_assert_eq(route_method("PUT"), METHOD_PUT);
	cr_assert_eq(route_method("POST"), METHOD_POST);
	cr_assert_eq(route_method("get"), METHOD_OTHER);
	cr_assert_eq(route_method("DELETE"), METHOD_OTHER);
	cr_assert_eq(route_method(""), METHOD_OTHER);
}
