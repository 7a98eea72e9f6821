/*
 * prog_remote_test.c: the helper's remote client against a real cachegate
 * on loopback: uploads, fetches into the local store, bad entries, an
 * unreachable server and --read-only.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "proghelper/local.h"
#include "tests/prog_remote_fixture.h"

TestSuite(prog_remote, .init = remote_fixture_setup, .fini = remote_fixture_teardown,
          .timeout = 60);

/* Drop a response body. */
static size_t ignore(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/* HTTP PUT of body to the gateway path; returns the status. */
static long http_put(const char *path, const void *body, size_t n)
{
	char full[256];
	CURL *c = curl_easy_init();
	long code = 0;

	snprintf(full, sizeof full, "%s%s", url, path);
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ignore);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code;
}

/* HTTP status of a HEAD of the gateway path. */
static long http_head(const char *path)
{
	char full[256];
	CURL *c = curl_easy_init();
	long code = 0;

	snprintf(full, sizeof full, "%s%s", url, path);
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code;
}

/* Lines of the gateway's access log (--log) that contain needle. */
static int log_count(const char *needle)
{
	char path[512], line[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "%s/gw.log", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

Test(prog_remote, upload_then_fetch_on_another_machine)
{
	struct store *a, *b;
	struct remote *r;
	struct go_entry e, small;
	char path[4096], hex[STORE_ID_LEN + 1], ahex[STORE_ID_LEN + 1];
	size_t n = 200000;
	unsigned char *body = malloc(n);
	json_t *j;
	struct stat sb;

	gateway_start((const char *[]){"--log", NULL});
	for (size_t i = 0; i < n; i++)
		body[i] = (unsigned char)(i % 251);
	a = store_named("a");
	local_put(a, body, n, 0x41, &e);
	local_put(a, "tiny", 4, 0x42, &small);
	r = client(a, NULL, false);
	cr_assert_eq(remote_upload(r, &e), REMOTE_QUEUED);
	cr_assert_eq(remote_upload(r, &small), REMOTE_QUEUED);
	remote_stop(r, 10000);
	cr_assert_eq(atomic_load(&counters.uploads), 2);
	store_hex(e.output, hex);
	store_hex(e.action, ahex);
	snprintf(path, sizeof path, "/cas/%s", hex);
	cr_assert_eq(http_head(path), 200);
	snprintf(path, sizeof path, "/ac/%s", ahex);
	cr_assert_eq(http_head(path), 200);

	/* Machine B: nothing local, everything from the gateway. */
	b = store_named("b");
	r = client(b, NULL, false);
	j = ask(r, 1, e.action);
	cr_assert_eq(json_integer_value(json_object_get(j, "Size")), (json_int_t)n);
	snprintf(path, sizeof path, "%s", json_string_value(json_object_get(j, "DiskPath")));
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_size, (off_t)n);
	json_decref(j);
	j = ask(r, 2, small.action);
	cr_assert_eq(json_integer_value(json_object_get(j, "Size")), 4);
	json_decref(j);
	remote_stop(r, 10000);
	cr_assert_eq(atomic_load(&counters.remote_hits), 2);
	/* One request per hit: the entry and the output came in one answer. */
	cr_assert_eq(log_count(" GET /go/"), 2);
	cr_assert_eq(log_count(" GET /ac/") + log_count(" GET /cas/"), 0);

	/* B now has the entry and output itself. */
	struct go_entry got;
	cr_assert_eq(local_get(b, e.action, &got), LOCAL_OK);
	cr_assert_eq(got.time_ns, e.time_ns, "the time of the original put travels with it");
	store_close(a);
	store_close(b);
	free(body);
}

Test(prog_remote, a_large_output_the_gateway_has_is_not_sent_again)
{
	struct store *a, *b;
	struct remote *r;
	struct go_entry e1, e2;
	size_t n = 300000;
	unsigned char *body = calloc(1, n);
	uint64_t first;

	gateway_start(NULL);
	a = store_named("a");
	b = store_named("b");
	local_put(a, body, n, 1, &e1);
	local_put(b, body, n, 2, &e2);  /* same output, another action */
	r = client(a, NULL, false);
	remote_upload(r, &e1);
	remote_stop(r, 10000);
	first = atomic_load(&counters.bytes_up_raw);
	cr_assert_geq(first, n);
	r = client(b, NULL, false);
	remote_upload(r, &e2);
	remote_stop(r, 10000);
	cr_assert_eq(atomic_load(&counters.uploads), 2);
	cr_assert_eq(atomic_load(&counters.bytes_up_raw) - first, GO_ENTRY_LEN,
	             "only the entry is sent the second time");
	store_close(a);
	store_close(b);
	free(body);
}

Test(prog_remote, misses_and_bad_entries_are_misses)
{
	struct store *s;
	struct remote *r;
	unsigned char action[32], other[32];
	char path[256], ahex[STORE_ID_LEN + 1], line[GO_ENTRY_LEN + 1];
	struct go_entry e;
	json_t *j;

	gateway_start(NULL);
	s = store_named("s");
	r = client(s, NULL, false);
	memset(action, 0x77, sizeof action);
	j = ask(r, 1, action);
	cr_assert(json_is_true(json_object_get(j, "Miss")));
	json_decref(j);

	/* Garbage under the action. */
	store_hex(action, ahex);
	snprintf(path, sizeof path, "/ac/%s", ahex);
	cr_assert_eq(http_put(path, "not an entry", 12) / 100, 2);
	j = ask(r, 2, action);
	cr_assert(json_is_true(json_object_get(j, "Miss")));
	json_decref(j);

	/* A well-formed entry, but for another action. */
	memset(other, 0x78, sizeof other);
	memcpy(e.action, other, 32);
	EVP_Digest("x", 1, e.output, NULL, EVP_sha256(), NULL);
	e.size = 1;
	e.time_ns = 5;
	go_entry_format(&e, line);
	cr_assert_eq(http_put(path, line, GO_ENTRY_LEN) / 100, 2);
	cr_assert_eq(http_put("/cas/2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
	                      "x", 1) / 100, 2);
	j = ask(r, 3, action);
	cr_assert(json_is_true(json_object_get(j, "Miss")));
	json_decref(j);

	/* The right action, but its output is absent. */
	memcpy(e.action, action, 32);
	memset(e.output, 0x79, 32);
	go_entry_format(&e, line);
	cr_assert_eq(http_put(path, line, GO_ENTRY_LEN) / 100, 2);
	j = ask(r, 4, action);
	cr_assert(json_is_true(json_object_get(j, "Miss")));
	json_decref(j);
	remote_stop(r, 1000);
	cr_assert_eq(atomic_load(&counters.remote_hits), 0);
	cr_assert_eq(local_get(s, action, &e), LOCAL_MISS);
	store_close(s);
}

Test(prog_remote, an_unreachable_remote_is_given_up_after_a_few_failures)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct store *s = store_named("s");
	struct remote *r;
	struct go_entry e;
	unsigned char action[32];
	json_t *j;
	int64_t id = 1;

	/* A port that was free a moment ago: connections are refused. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(sa.sin_port));

	r = client(s, NULL, false);
	memset(action, 1, sizeof action);
	for (; id <= 3; id++) {
		j = ask(r, id, action);
		cr_assert(json_is_true(json_object_get(j, "Miss")));
		json_decref(j);
	}
	cr_assert_eq(remote_get(r, id, action), REMOTE_OFF, "the remote is skipped now");
	local_put(s, "abc", 3, 9, &e);
	cr_assert_eq(remote_upload(r, &e), REMOTE_OFF);
	remote_stop(r, 1000);
	cr_assert_eq(atomic_load(&counters.remote_errors), 3);
	store_close(s);
}

Test(prog_remote, read_only_never_writes)
{
	struct store *s;
	struct remote *r;
	struct go_entry e;
	char path[256], hex[STORE_ID_LEN + 1];

	gateway_start(NULL);
	s = store_named("s");
	local_put(s, "abc", 3, 3, &e);
	r = client(s, NULL, true);
	cr_assert_eq(remote_upload(r, &e), REMOTE_OFF);
	remote_stop(r, 1000);
	store_hex(e.output, hex);
	snprintf(path, sizeof path, "/cas/%s", hex);
	cr_assert_eq(http_head(path), 404);
	store_close(s);
}

Test(prog_remote, a_remote_hit_on_an_output_already_here_marks_it_used)
{
	struct store *a, *b;
	struct remote *r;
	struct go_entry e;
	char hex[STORE_ID_LEN + 1], path[4096];
	struct timespec t[2];
	struct stat sb;
	json_t *j;

	gateway_start(NULL);
	a = store_named("a");
	b = store_named("b");
	local_put(a, "output", 6, 8, &e);
	r = client(a, NULL, false);
	remote_upload(r, &e);
	remote_stop(r, 5000);
	cr_assert_eq(atomic_load(&counters.uploads), 1);

	/* B has the output (from another action) but not the entry; unused for 6 days. */
	store_hex(e.output, hex);
	cr_assert_eq(store_put_bytes(b, STORE_CAS, hex, "output", 6), STORE_OK);
	cr_assert_eq(store_object_path(b, STORE_CAS, hex, path, sizeof path), STORE_OK);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 6 * 24 * 3600;
	t[1] = t[0];
	cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0);

	r = client(b, NULL, false);
	j = ask(r, 1, e.action);
	cr_assert_str_eq(json_string_value(json_object_get(j, "DiskPath")), path);
	json_decref(j);
	remote_stop(r, 1000);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_gt(sb.st_mtime, t[0].tv_sec + 5 * 24 * 3600,
	             "a DiskPath just handed out must not look unused to the next trim");
	store_close(a);
	store_close(b);
}
