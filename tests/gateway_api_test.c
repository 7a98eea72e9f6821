/*
 * gateway_api_test.c: every row of the HTTP API table for objects, and
 * /healthz, with their error statuses, against a real cachegate on loopback.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_api, .fini = teardown, .timeout = 120);

Test(gateway_api, cas_put_get_head)
{
	char body[5000], id[65], path[128], value[64], file[1024];
	struct gw_reply r;
	struct stat st;

	gw_start(&g, NULL, NULL);
	gw_fill(body, sizeof(body), 1);
	gw_sha256_hex(body, sizeof(body), id);
	snprintf(path, sizeof(path), "/cas/%s", id);

	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 404);
	gw_assert_one_line(&r);
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "HEAD", path, NULL, 0, NULL, NULL), 404);

	cr_assert_eq(gw_http(&g, "PUT", path, body, sizeof(body), NULL, NULL), 201);
	snprintf(file, sizeof(file), "%s/cas/%.2s/%s", g.store, id, id);
	cr_assert_eq(stat(file, &st), 0, "object not at %s", file);
	cr_assert_eq(st.st_size, (off_t)sizeof(body));

	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_eq(r.len, sizeof(body));
	cr_assert_eq(memcmp(r.body, body, sizeof(body)), 0);
	cr_assert(gw_header_value(&r, "Content-Type", value, sizeof(value)));
	cr_assert_str_eq(value, "application/octet-stream");
	cr_assert(gw_header_value(&r, "Content-Length", value, sizeof(value)));
	cr_assert_str_eq(value, "5000");
	gw_reply_free(&r);

	cr_assert_eq(gw_http(&g, "HEAD", path, NULL, 0, NULL, &r), 200);
	cr_assert_eq(r.len, 0);
	cr_assert(gw_header_value(&r, "Content-Length", value, sizeof(value)));
	cr_assert_str_eq(value, "5000");
	gw_reply_free(&r);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_api, empty_cas_object)
{
	char id[65], path[128];
	struct gw_reply r;

	gw_start(&g, NULL, NULL);
	gw_sha256_hex("", 0, id);
	snprintf(path, sizeof(path), "/cas/%s", id);
	cr_assert_eq(gw_http(&g, "PUT", path, "", 0, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_eq(r.len, 0);
	gw_reply_free(&r);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_api, ac_put_replaces)
{
	char path[128];
	struct gw_reply r;

	gw_start(&g, NULL, NULL);
	snprintf(path, sizeof(path), "/ac/%s", GW_ZERO_ID);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_http(&g, "PUT", path, "first entry", 11, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_str_eq(r.body, "first entry");
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "PUT", path, "second", 6, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_str_eq(r.body, "second");
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "HEAD", path, NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_api, instance_prefix_is_ignored)
{
	char id[65], path[256];
	struct gw_reply r;

	gw_start(&g, NULL, NULL);
	gw_sha256_hex("prefixed", 8, id);
	snprintf(path, sizeof(path), "/my-instance/cas/%s", id);
	cr_assert_eq(gw_http(&g, "PUT", path, "prefixed", 8, NULL, NULL), 201);
	snprintf(path, sizeof(path), "/cas/%s", id);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_str_eq(r.body, "prefixed");
	gw_reply_free(&r);
	snprintf(path, sizeof(path), "/a/b/c/cas/%s", id);
	cr_assert_eq(gw_http(&g, "HEAD", path, NULL, 0, NULL, NULL), 200);
	snprintf(path, sizeof(path), "/x/ac/%s", GW_ZERO_ID);
	cr_assert_eq(gw_http(&g, "PUT", path, "entry", 5, NULL, NULL), 201);
	snprintf(path, sizeof(path), "/ac/%s", GW_ZERO_ID);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_api, hash_mismatch_is_400_and_stores_nothing)
{
	char path[128];
	struct gw_reply r;

	gw_start(&g, NULL, NULL);
	snprintf(path, sizeof(path), "/cas/%s", GW_ZERO_ID);
	cr_assert_eq(gw_http(&g, "PUT", path, "not the zero hash", 17, NULL, &r), 400);
	gw_assert_one_line(&r);
	cr_assert(strstr(r.body, "hash") != NULL, "reason does not say hash: %s", r.body);
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_count_files(&g, "cas"), 0);
	cr_assert_eq(gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(gw_metric(&g, "cachegate_uploads_rejected_total{reason=\"hash_mismatch\"}"), 1);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_api, bad_ids_and_traversal_are_400)
{
	static const char *const paths[] = {
		"/cas/ABCDEF0000000000000000000000000000000000000000000000000000000000",
		"/cas/000000000000000000000000000000000000000000000000000000000000000",
		"/cas/00000000000000000000000000000000000000000000000000000000000000000",
		"/cas/g000000000000000000000000000000000000000000000000000000000000000",
		"/ac/not-an-id",
		"/cas/",
		"/ac/..",
		"/cas/../../etc/passwd",
		"/cas/..%2f..%2fetc%2fpasswd",
		"/ac/%2e%2e%2f%2e%2e%2fREADME",
		"/cas/" GW_ZERO_ID "/x",
		"/cas/00000000000000000000000000000000%2f00000000000000000000000000000000",
		"/x/../cas/" GW_ZERO_ID,
		"/cas/./" GW_ZERO_ID,
	};
	struct gw_reply r;

	gw_start(&g, NULL, NULL);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(gw_http(&g, "GET", paths[i], NULL, 0, NULL, &r), 400, "GET %s", paths[i]);
		gw_assert_one_line(&r);
		gw_reply_free(&r);
		cr_assert_eq(gw_http(&g, "PUT", paths[i], "x", 1, NULL, &r), 400, "PUT %s", paths[i]);
		gw_assert_one_line(&r);
		gw_reply_free(&r);
		cr_assert_eq(gw_http(&g, "HEAD", paths[i], NULL, 0, NULL, NULL), 400, "HEAD %s",
		             paths[i]);
	}
	cr_assert_eq(gw_count_files(&g, "ac") + gw_count_files(&g, "cas") +
	             gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_api, unknown_paths_are_404)
{
	static const char *const paths[] = {
		"/", "/index.html", "/healthz/x", "/casx/0000", "/status/", "/metricsz",
	};
	struct gw_reply r;

	gw_start(&g, NULL, NULL);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(gw_http(&g, "GET", paths[i], NULL, 0, NULL, &r), 404, "GET %s", paths[i]);
		gw_assert_one_line(&r);
		gw_reply_free(&r);
	}
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_api, wrong_methods_are_405_with_allow)
{
	char path[128], allow[64];
	struct gw_reply r;

	gw_start(&g, NULL, NULL);
	snprintf(path, sizeof(path), "/cas/%s", GW_ZERO_ID);
	cr_assert_eq(gw_http(&g, "DELETE", path, NULL, 0, NULL, &r), 405);
	gw_assert_one_line(&r);
	cr_assert(gw_header_value(&r, "Allow", allow, sizeof(allow)));
	cr_assert_str_eq(allow, "GET, HEAD, PUT");
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "POST", "/healthz", "x", 1, NULL, &r), 405);
	cr_assert(gw_header_value(&r, "Allow", allow, sizeof(allow)));
	cr_assert_str_eq(allow, "GET, HEAD");
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "PUT", "/status", "x", 1, NULL, NULL), 405);
	cr_assert_eq(gw_http(&g, "PUT", "/metrics", "x", 1, NULL, NULL), 405);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_api, healthz)
{
	char tmp[600], moved[620];
	struct gw_reply r;

	gw_start(&g, NULL, NULL);
	cr_assert_eq(gw_http(&g, "GET", "/healthz", NULL, 0, NULL, &r), 200);
	cr_assert_str_eq(r.body, "ok\n");
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "HEAD", "/healthz", NULL, 0, NULL, NULL), 200);
	/* A store whose temp folder is gone cannot take uploads: not healthy. */
	snprintf(tmp, sizeof(tmp), "%s/tmp", g.store);
	snprintf(moved, sizeof(moved), "%s/tmp-moved", g.store);
	cr_assert_eq(rename(tmp, moved), 0);
	cr_assert_eq(gw_http(&g, "GET", "/healthz", NULL, 0, NULL, &r), 503);
	gw_assert_one_line(&r);
	gw_reply_free(&r);
	cr_assert_eq(rename(moved, tmp), 0);
	cr_assert_eq(gw_http(&g, "GET", "/healthz", NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_stop(&g), 0);
}
