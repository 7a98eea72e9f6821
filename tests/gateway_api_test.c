/*
 * gateway_api_test.c: every row of the HTTP API table and every error
 * status, against a real cachegate on loopback.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_api, .fini = teardown, .timeout = 120);

static const char zero_id[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* Start the server with flags (NULL-terminated list, may be NULL). */
static void start(const char *const *flags)
{
	gw_start(&g, flags, NULL);
}

/* Stop the server and require a clean exit (status 0: no leak, no error). */
static void stop_clean(void)
{
	cr_assert_eq(gw_stop(&g), 0, "cachegate did not exit cleanly");
}

/* "/<kind>/<id>" in a static buffer per call site is avoided: write into buf. */
static const char *object_path(char *buf, size_t n, const char *kind, const char *id)
{
	snprintf(buf, n, "/%s/%s", kind, id);
	return buf;
}

/* An error body is exactly one non-empty line. */
static void assert_one_line(const struct gw_reply *r)
{
	cr_assert_gt(r->len, 1, "error body is empty");
	cr_assert_eq(r->body[r->len - 1], '\n', "error body does not end its line: %s", r->body);
	cr_assert_null(memchr(r->body, '\n', r->len - 1), "error body has several lines: %s",
	               r->body);
}

/* The value of header name in raw headers, copied into out, or false. */
static bool header_value(const char *headers, const char *name, char *out, size_t n)
{
	size_t len = strlen(name);

	for (const char *p = headers; p != NULL && *p != '\0'; ) {
		const char *eol = strstr(p, "\r\n");
		if (strncasecmp(p, name, len) == 0 && p[len] == ':') {
			const char *v = p + len + 1;
			size_t vlen;
			while (*v == ' ')
				v++;
			vlen = eol != NULL ? (size_t)(eol - v) : strlen(v);
			snprintf(out, n, "%.*s", (int)vlen, v);
			return true;
		}
		p = eol != NULL ? eol + 2 : NULL;
	}
	return false;
}

/* Read a Prometheus sample line's value from /metrics; -1 when absent. */
static long long metric(const char *sample)
{
	struct gw_reply r;
	long long v = -1;
	size_t n = strlen(sample);

	cr_assert_eq(gw_http(&g, "GET", "/metrics", NULL, 0, NULL, &r), 200);
	for (char *line = strtok(r.body, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (strncmp(line, sample, n) == 0 && line[n] == ' ')
			v = atoll(line + n + 1);
	gw_reply_free(&r);
	return v;
}

/* Fill buf with n deterministic bytes from seed. */
static void fill(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (char)(seed >> 16);
	}
}

Test(gateway_api, cas_put_get_head)
{
	char body[5000], id[65], path[128], value[64], file[1024];
	struct gw_reply r;
	struct stat st;

	start(NULL);
	fill(body, sizeof(body), 1);
	gw_sha256_hex(body, sizeof(body), id);
	object_path(path, sizeof(path), "cas", id);

	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 404);
	assert_one_line(&r);
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "HEAD", path, NULL, 0, NULL, NULL), 404);

	cr_assert_eq(gw_http(&g, "PUT", path, body, sizeof(body), NULL, NULL), 201);
	snprintf(file, sizeof(file), "%s/cas/%.2s/%s", g.store, id, id);
	cr_assert_eq(stat(file, &st), 0, "object not at %s", file);
	cr_assert_eq(st.st_size, (off_t)sizeof(body));

	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_eq(r.len, sizeof(body));
	cr_assert_eq(memcmp(r.body, body, sizeof(body)), 0);
	cr_assert(header_value(r.headers, "Content-Type", value, sizeof(value)));
	cr_assert_str_eq(value, "application/octet-stream");
	cr_assert(header_value(r.headers, "Content-Length", value, sizeof(value)));
	cr_assert_str_eq(value, "5000");
	gw_reply_free(&r);

	cr_assert_eq(gw_http(&g, "HEAD", path, NULL, 0, NULL, &r), 200);
	cr_assert_eq(r.len, 0);
	cr_assert(header_value(r.headers, "Content-Length", value, sizeof(value)));
	cr_assert_str_eq(value, "5000");
	gw_reply_free(&r);
	stop_clean();
}

Test(gateway_api, empty_cas_object)
{
	char id[65], path[128];
	struct gw_reply r;

	start(NULL);
	gw_sha256_hex("", 0, id);
	object_path(path, sizeof(path), "cas", id);
	cr_assert_eq(gw_http(&g, "PUT", path, "", 0, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_eq(r.len, 0);
	gw_reply_free(&r);
	stop_clean();
}

Test(gateway_api, ac_put_replaces)
{
	char path[128];
	struct gw_reply r;

	start(NULL);
	object_path(path, sizeof(path), "ac", zero_id);
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
	stop_clean();
}

Test(gateway_api, instance_prefix_is_ignored)
{
	char id[65], path[256];
	struct gw_reply r;

	start(NULL);
	gw_sha256_hex("prefixed", 8, id);
	snprintf(path, sizeof(path), "/my-instance/cas/%s", id);
	cr_assert_eq(gw_http(&g, "PUT", path, "prefixed", 8, NULL, NULL), 201);
	snprintf(path, sizeof(path), "/cas/%s", id);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_str_eq(r.body, "prefixed");
	gw_reply_free(&r);
	snprintf(path, sizeof(path), "/a/b/c/cas/%s", id);
	cr_assert_eq(gw_http(&g, "HEAD", path, NULL, 0, NULL, NULL), 200);
	snprintf(path, sizeof(path), "/x/ac/%s", zero_id);
	cr_assert_eq(gw_http(&g, "PUT", path, "entry", 5, NULL, NULL), 201);
	snprintf(path, sizeof(path), "/ac/%s", zero_id);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	stop_clean();
}

Test(gateway_api, hash_mismatch_is_400_and_stores_nothing)
{
	char path[128];
	struct gw_reply r;

	start(NULL);
	object_path(path, sizeof(path), "cas", zero_id);
	cr_assert_eq(gw_http(&g, "PUT", path, "not the zero hash", 17, NULL, &r), 400);
	assert_one_line(&r);
	cr_assert(strstr(r.body, "hash") != NULL, "reason does not say hash: %s", r.body);
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_count_files(&g, "cas"), 0);
	cr_assert_eq(gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(metric("cachegate_uploads_rejected_total{reason=\"hash_mismatch\"}"), 1);
	stop_clean();
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
		"/cas/0000000000000000000000000000000000000000000000000000000000000000/x",
		"/cas/00000000000000000000000000000000%2f00000000000000000000000000000000",
		"/x/../cas/0000000000000000000000000000000000000000000000000000000000000000",
		"/cas/./0000000000000000000000000000000000000000000000000000000000000000",
	};
	struct gw_reply r;

	start(NULL);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(gw_http(&g, "GET", paths[i], NULL, 0, NULL, &r), 400, "GET %s", paths[i]);
		assert_one_line(&r);
		gw_reply_free(&r);
		cr_assert_eq(gw_http(&g, "PUT", paths[i], "x", 1, NULL, &r), 400, "PUT %s", paths[i]);
		assert_one_line(&r);
		gw_reply_free(&r);
		cr_assert_eq(gw_http(&g, "HEAD", paths[i], NULL, 0, NULL, NULL), 400, "HEAD %s",
		             paths[i]);
	}
	cr_assert_eq(gw_count_files(&g, "ac") + gw_count_files(&g, "cas") +
	             gw_count_files(&g, "tmp"), 0);
	stop_clean();
}

Test(gateway_api, unknown_paths_are_404)
{
	static const char *const paths[] = {
		"/", "/index.html", "/healthz/x", "/casx/0000", "/status/", "/metricsz",
	};
	struct gw_reply r;

	start(NULL);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(gw_http(&g, "GET", paths[i], NULL, 0, NULL, &r), 404, "GET %s", paths[i]);
		assert_one_line(&r);
		gw_reply_free(&r);
	}
	stop_clean();
}

Test(gateway_api, wrong_methods_are_405_with_allow)
{
	char path[128], allow[64];
	struct gw_reply r;

	start(NULL);
	object_path(path, sizeof(path), "cas", zero_id);
	cr_assert_eq(gw_http(&g, "DELETE", path, NULL, 0, NULL, &r), 405);
	assert_one_line(&r);
	cr_assert(header_value(r.headers, "Allow", allow, sizeof(allow)));
	cr_assert_str_eq(allow, "GET, HEAD, PUT");
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "POST", "/healthz", "x", 1, NULL, &r), 405);
	cr_assert(header_value(r.headers, "Allow", allow, sizeof(allow)));
	cr_assert_str_eq(allow, "GET, HEAD");
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "PUT", "/status", "x", 1, NULL, NULL), 405);
	cr_assert_eq(gw_http(&g, "PUT", "/metrics", "x", 1, NULL, NULL), 405);
	stop_clean();
}

Test(gateway_api, healthz)
{
	char tmp[600], moved[620];
	struct gw_reply r;

	start(NULL);
	cr_assert_eq(gw_http(&g, "GET", "/healthz", NULL, 0, NULL, &r), 200);
	cr_assert_str_eq(r.body, "ok\n");
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "HEAD", "/healthz", NULL, 0, NULL, NULL), 200);
	/* A store whose temp folder is gone cannot take uploads: not healthy. */
	snprintf(tmp, sizeof(tmp), "%s/tmp", g.store);
	snprintf(moved, sizeof(moved), "%s/tmp-moved", g.store);
	cr_assert_eq(rename(tmp, moved), 0);
	cr_assert_eq(gw_http(&g, "GET", "/healthz", NULL, 0, NULL, &r), 503);
	assert_one_line(&r);
	gw_reply_free(&r);
	cr_assert_eq(rename(moved, tmp), 0);
	cr_assert_eq(gw_http(&g, "GET", "/healthz", NULL, 0, NULL, NULL), 200);
	stop_clean();
}

Test(gateway_api, metrics_count_requests_hits_misses_bytes)
{
	char id[65], path[128];

	start(NULL);
	gw_sha256_hex("metric body", 11, id);
	object_path(path, sizeof(path), "cas", id);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_http(&g, "PUT", path, "metric body", 11, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	cr_assert_eq(metric("cachegate_requests_total{method=\"PUT\",kind=\"cas\",status=\"201\"}"), 1);
	cr_assert_eq(metric("cachegate_requests_total{method=\"GET\",kind=\"cas\",status=\"200\"}"), 2);
	cr_assert_eq(metric("cachegate_requests_total{method=\"GET\",kind=\"cas\",status=\"404\"}"), 1);
	cr_assert_eq(metric("cachegate_hits_total{kind=\"cas\"}"), 2);
	cr_assert_eq(metric("cachegate_misses_total{kind=\"cas\"}"), 1);
	cr_assert_eq(metric("cachegate_hits_total{kind=\"ac\"}"), 0);
	cr_assert_eq(metric("cachegate_received_bytes_total"), 11);
	/* Bytes sent are counted once a response is fully out: wait for it, bounded. */
	for (int i = 0; i < 2000 && metric("cachegate_sent_bytes_total") < 22; i++)
		usleep(10000);
	cr_assert_geq(metric("cachegate_sent_bytes_total"), 22);
	cr_assert_eq(metric("cachegate_store_objects{kind=\"cas\"}"), 1);
	cr_assert_eq(metric("cachegate_store_bytes"), 11);
	cr_assert_eq(metric("cachegate_evictions_total"), 0);
	cr_assert_eq(metric("cachegate_uploads_rejected_total{reason=\"too_large\"}"), 0);
	stop_clean();
}

/* True when a sample named name belongs to family (a histogram's have suffixes). */
static bool sample_of(const char *name, const char *family)
{
	static const char *const suffixes[] = {"", "_bucket", "_sum", "_count"};
	size_t n = strlen(family);

	if (strncmp(name, family, n) != 0)
		return false;
	for (size_t i = 0; i < 4; i++)
		if (strcmp(name + n, suffixes[i]) == 0)
			return true;
	return false;
}

/*
 * The Prometheus text format: each family's HELP and TYPE once, before its
 * samples, and all of a family's samples in one group.
 */
Test(gateway_api, metrics_families_are_grouped)
{
	char seen[64][96], current[96] = "";
	size_t nseen = 0;
	struct gw_reply r;
	char *save = NULL;

	start(NULL);
	cr_assert_eq(gw_http(&g, "GET", "/healthz", NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_http(&g, "GET", "/metrics", NULL, 0, NULL, &r), 200);
	for (char *line = strtok_r(r.body, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (sscanf(line, "# TYPE %95s", name) == 1) {
			for (size_t i = 0; i < nseen; i++)
				cr_assert_str_neq(seen[i], name, "family %s appears twice", name);
			cr_assert_lt(nseen, 64);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			snprintf(current, sizeof(current), "%s", name);
			continue;
		}
		if (line[0] == '#')
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, "{ "), line);
		cr_assert(sample_of(name, current), "sample \"%s\" is outside its family's group "
		          "(under TYPE %s)", line, current);
	}
	cr_assert_gt(nseen, 5);
	gw_reply_free(&r);
	stop_clean();
}

Test(gateway_api, status_is_json)
{
	char id[65], path[128], real[PATH_MAX];
	struct gw_reply r;
	json_error_t err;
	json_t *doc;

	start(NULL);
	gw_sha256_hex("status body", 11, id);
	object_path(path, sizeof(path), "cas", id);
	cr_assert_eq(gw_http(&g, "PUT", path, "status body", 11, NULL, NULL), 201);
	object_path(path, sizeof(path), "ac", zero_id);
	cr_assert_eq(gw_http(&g, "PUT", path, "entry", 5, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", "/status", NULL, 0, NULL, &r), 200);
	doc = json_loads(r.body, 0, &err);
	cr_assert_not_null(doc, "status is not JSON: %s", err.text);
	cr_assert(json_is_string(json_object_get(doc, "version")));
	cr_assert_gt(strlen(json_string_value(json_object_get(doc, "version"))), 0);
	cr_assert(json_integer_value(json_object_get(doc, "uptime_seconds")) >= 0);
	cr_assert_not_null(realpath(g.store, real));
	cr_assert_str_eq(json_string_value(json_object_get(doc, "store_path")), real);
	cr_assert_eq(json_integer_value(json_object_get(doc, "bytes_used")), 16);
	cr_assert(json_is_null(json_object_get(doc, "bytes_limit")));
	cr_assert_eq(json_integer_value(json_object_get(doc, "objects")), 2);
	cr_assert_eq(json_integer_value(json_object_get(doc, "ac_objects")), 1);
	cr_assert_eq(json_integer_value(json_object_get(doc, "cas_objects")), 1);
	json_decref(doc);
	gw_reply_free(&r);
	stop_clean();
}

Test(gateway_api, too_large_is_413_before_any_body_byte)
{
	static const char *const flags[] = {"--max-object-size", "1K", NULL};
	char req[512], resp[4096], path[128], body[2048];
	struct gw_reply r;
	int fd;

	start(flags);
	/* Headers announce ten gigabytes; not one body byte is ever sent. */
	fd = gw_connect(&g);
	snprintf(req, sizeof(req),
	         "PUT /ac/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 10737418240\r\n\r\n", zero_id);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	close(fd);
	cr_assert(strncmp(resp, "HTTP/1.1 413", 12) == 0, "got: %s", resp);

	/* The same through curl, and a chunked body that grows past the limit. */
	fill(body, sizeof(body), 2);
	object_path(path, sizeof(path), "ac", zero_id);
	cr_assert_eq(gw_http(&g, "PUT", path, body, sizeof(body), NULL, &r), 413);
	assert_one_line(&r);
	gw_reply_free(&r);
	fd = gw_connect(&g);
	snprintf(req, sizeof(req),
	         "PUT /ac/%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n", zero_id);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	cr_assert(gw_send_all(fd, body, 2048));
	cr_assert(gw_send_all(fd, "\r\n0\r\n\r\n", 7));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	close(fd);
	cr_assert(strncmp(resp, "HTTP/1.1 413", 12) == 0, "got: %s", resp);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_count_files(&g, "ac") + gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(gw_http(&g, "PUT", path, body, 1024, NULL, NULL), 201);
	stop_clean();
}

Test(gateway_api, object_larger_than_store_is_507)
{
	static const char *const flags[] = {"--max-size", "1K", NULL};
	char body[4096], id[65], path[128];
	struct gw_reply r;

	start(flags);
	fill(body, sizeof(body), 3);
	gw_sha256_hex(body, sizeof(body), id);
	object_path(path, sizeof(path), "cas", id);
	cr_assert_eq(gw_http(&g, "PUT", path, body, sizeof(body), NULL, &r), 507);
	assert_one_line(&r);
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_count_files(&g, "cas") + gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(metric("cachegate_uploads_rejected_total{reason=\"store_full\"}"), 1);
	stop_clean();
}

Test(gateway_api, truncated_upload_leaves_nothing)
{
	char req[512], body[50000], path[128];
	int fd;

	start(NULL);
	fill(body, sizeof(body), 4);
	fd = gw_connect(&g);
	snprintf(req, sizeof(req),
	         "PUT /ac/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", zero_id);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	cr_assert(gw_send_all(fd, body, sizeof(body)));
	/* Hang up only once the upload is under way (its first bytes are written). */
	for (int i = 0; i < 2000 && metric("cachegate_received_bytes_total") == 0; i++)
		usleep(10000);
	cr_assert_gt(metric("cachegate_received_bytes_total"), 0, "the upload never started");
	close(fd);
	/* The server notices the close and discards the upload; wait for it, bounded. */
	for (int i = 0; i < 2000 && metric("cachegate_uploads_rejected_total{reason=\"truncated\"}") != 1; i++)
		usleep(10000);
	cr_assert_eq(metric("cachegate_uploads_rejected_total{reason=\"truncated\"}"), 1);
	object_path(path, sizeof(path), "ac", zero_id);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_count_files(&g, "ac") + gw_count_files(&g, "tmp"), 0);
	stop_clean();
}

Test(gateway_api, expect_continue)
{
	char req[512], resp[4096], id[65], path[128];
	int fd;

	start(NULL);
	gw_sha256_hex("continued", 9, id);
	/* A new object: 100 Continue, then the body, then 201. */
	fd = gw_connect(&g);
	snprintf(req, sizeof(req), "PUT /cas/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n"
	         "Expect: 100-continue\r\n\r\n", id);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	cr_assert(strncmp(resp, "HTTP/1.1 100", 12) == 0, "got: %s", resp);
	cr_assert(gw_send_all(fd, "continued", 9));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	cr_assert(strncmp(resp, "HTTP/1.1 201", 12) == 0, "got: %s", resp);
	close(fd);

	/* Already present: answered at once, without asking for the body. */
	fd = gw_connect(&g);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	close(fd);
	cr_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0, "got: %s", resp);
	cr_assert_null(strstr(resp, "100 Continue"));

	/* Refusals need no body either. */
	fd = gw_connect(&g);
	snprintf(req, sizeof(req), "PUT /cas/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n"
	         "Expect: 100-continue\r\n\r\n", "nothex");
	cr_assert(gw_send_all(fd, req, strlen(req)));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	close(fd);
	cr_assert(strncmp(resp, "HTTP/1.1 400", 12) == 0, "got: %s", resp);
	object_path(path, sizeof(path), "cas", id);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	stop_clean();
}

Test(gateway_api, existing_object_sent_without_expect_is_drained)
{
	size_t n = 3 * 1024 * 1024;
	char *body = malloc(n), id[65], path[128];

	start(NULL);
	fill(body, n, 6);
	gw_sha256_hex(body, n, id);
	object_path(path, sizeof(path), "cas", id);
	cr_assert_eq(gw_http(&g, "PUT", path, body, n, NULL, NULL), 201);
	/* The client sends everything at once: it must still read a 200, never a reset. */
	for (int i = 0; i < 10; i++)
		cr_assert_eq(gw_http(&g, "PUT", path, body, n, NULL, NULL), 200, "attempt %d", i);
	free(body);
	stop_clean();
}

/* Set the mtime of the CAS object id to age seconds ago. */
static void age_cas(const char *id, time_t age)
{
	char file[1024];
	struct timespec times[2];

	snprintf(file, sizeof(file), "%s/cas/%.2s/%s", g.store, id, id);
	times[0].tv_sec = times[1].tv_sec = time(NULL) - age;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	cr_assert_eq(utimensat(AT_FDCWD, file, times, 0), 0, "cannot age %s", file);
}

/* Seconds since the CAS object id was last marked as used. */
static time_t cas_age(const char *id)
{
	char file[1024];
	struct stat st;

	snprintf(file, sizeof(file), "%s/cas/%.2s/%s", g.store, id, id);
	cr_assert_eq(stat(file, &st), 0, "no object at %s", file);
	return time(NULL) - st.st_mtime;
}

/* A PUT of an object already present is a use: eviction must see it as recent. */
Test(gateway_api, put_of_present_object_refreshes_its_use)
{
	char req[512], resp[4096], id[65], path[128];
	int fd;

	start(NULL);
	gw_sha256_hex("in use", 6, id);
	object_path(path, sizeof(path), "cas", id);
	cr_assert_eq(gw_http(&g, "PUT", path, "in use", 6, NULL, NULL), 201);

	/* Answered at once (Expect: 100-continue). */
	age_cas(id, 3 * 3600);
	fd = gw_connect(&g);
	snprintf(req, sizeof(req), "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
	         "Expect: 100-continue\r\n\r\n", path);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	close(fd);
	cr_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0, "got: %s", resp);
	cr_assert_lt(cas_age(id), 3600, "an early answered PUT left the object looking unused");

	/* Body sent regardless, and drained. */
	age_cas(id, 3 * 3600);
	cr_assert_eq(gw_http(&g, "PUT", path, "in use", 6, NULL, NULL), 200);
	cr_assert_lt(cas_age(id), 3600, "a drained PUT left the object looking unused");
	stop_clean();
}

#define PUT_THREADS 8
#define PUTS_EACH 12

/* One client thread: PUT a mix of shared and own objects, then read them back. */
static void *put_many(void *arg)
{
	long t = (long)arg;
	long failures = 0;

	for (int i = 0; i < PUTS_EACH; i++) {
		/* Even i: an object every thread puts; odd i: this thread's own. */
		unsigned seed = (i % 2 == 0) ? (unsigned)i : (unsigned)(1000 + t * 100 + i);
		size_t n = 1000 + (size_t)seed * 37 % 70000;
		char *body = malloc(n), id[65], path[128];
		struct gw_reply r;

		fill(body, n, seed);
		gw_sha256_hex(body, n, id);
		snprintf(path, sizeof(path), "/cas/%s", id);
		long st = gw_http(&g, "PUT", path, body, n, NULL, NULL);
		if (st != 200 && st != 201)
			failures++;
		if (gw_http(&g, "GET", path, NULL, 0, NULL, &r) != 200 || r.len != n ||
		    memcmp(r.body, body, n) != 0)
			failures++;
		gw_reply_free(&r);
		free(body);
	}
	return (void *)failures;
}

Test(gateway_api, concurrent_puts)
{
	pthread_t threads[PUT_THREADS];
	long total = 0;

	start(NULL);
	for (long t = 0; t < PUT_THREADS; t++)
		cr_assert_eq(pthread_create(&threads[t], NULL, put_many, (void *)t), 0);
	for (int t = 0; t < PUT_THREADS; t++) {
		void *failures;
		pthread_join(threads[t], &failures);
		total += (long)failures;
	}
	cr_assert_eq(total, 0, "%ld requests failed", total);
	cr_assert_eq(gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(gw_count_files(&g, "cas"), PUTS_EACH / 2 + PUT_THREADS * (PUTS_EACH / 2));
	stop_clean();
}

Test(gateway_api, slow_request_is_cut_at_the_deadline)
{
	static const char *const flags[] = {"--request-timeout", "1", NULL};
	char req[512], resp[256];
	bool closed = false;
	int fd;

	start(flags);
	fd = gw_connect(&g);
	snprintf(req, sizeof(req),
	         "PUT /ac/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", zero_id);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	/* Trickle a byte every 100 ms: never idle, but never done; bounded at 30 s. */
	for (int i = 0; i < 300 && !closed; i++) {
		if (!gw_send_all(fd, "x", 1))
			closed = true;
		else if (gw_read_response(fd, resp, sizeof(resp), 100) == 0 &&
		         recv(fd, resp, 1, MSG_DONTWAIT) == 0)
			closed = true;
	}
	close(fd);
	cr_assert(closed, "the server never cut the trickling request");
	for (int i = 0; i < 2000 && gw_count_files(&g, "tmp") != 0; i++)
		usleep(10000);
	cr_assert_eq(gw_count_files(&g, "ac") + gw_count_files(&g, "tmp"), 0);
	stop_clean();
}

Test(gateway_api, sigterm_lets_a_request_in_flight_finish)
{
	char req[512], resp[4096], id[65], file[1024], body[20000];
	struct stat st;
	int fd;

	start(NULL);
	fill(body, sizeof(body), 5);
	gw_sha256_hex(body, sizeof(body), id);
	fd = gw_connect(&g);
	snprintf(req, sizeof(req), "PUT /cas/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
	         id, sizeof(body));
	cr_assert(gw_send_all(fd, req, strlen(req)));
	cr_assert(gw_send_all(fd, body, sizeof(body) / 2));
	usleep(200000);  /* let the server start the upload */
	cr_assert_eq(kill(g.pid, SIGTERM), 0);
	usleep(200000);
	cr_assert(gw_send_all(fd, body + sizeof(body) / 2, sizeof(body) - sizeof(body) / 2));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	close(fd);
	cr_assert(strncmp(resp, "HTTP/1.1 201", 12) == 0, "got: %s", resp);
	snprintf(file, sizeof(file), "%s/cas/%.2s/%s", g.store, id, id);
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_size, (off_t)sizeof(body));
	stop_clean();
}

Test(gateway_api, too_many_connections_is_503)
{
	/* Every client here has one address: its own limit must not come first. */
	static const char *const flags[] = {"--max-connections", "2", "--max-connections-per-ip", "0",
	                                    NULL};
	const char partial[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
	struct gw_reply r;
	long st = 0;
	int idle[2];

	start(flags);
	/* Two clients hold their connections open, mid-request. */
	for (int i = 0; i < 2; i++) {
		idle[i] = gw_connect(&g);
		cr_assert(gw_send_all(idle[i], partial, strlen(partial)));
	}
	/* Once the server has taken both, a third is told to come back later; bounded wait. */
	for (int i = 0; i < 1000 && st != 503; i++) {
		st = gw_http(&g, "GET", "/healthz", NULL, 0, NULL, &r);
		if (st == 503)
			assert_one_line(&r);
		gw_reply_free(&r);
		if (st != 503)
			usleep(10000);
	}
	cr_assert_eq(st, 503);
	close(idle[0]);
	close(idle[1]);
	for (int i = 0; i < 1000 && st != 200; i++) {
		st = gw_http(&g, "GET", "/healthz", NULL, 0, NULL, NULL);
		if (st != 200)
			usleep(10000);
	}
	cr_assert_eq(st, 200);
	stop_clean();
}
