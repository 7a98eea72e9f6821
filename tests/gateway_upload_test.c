/*
 * gateway_upload_test.c: uploads against a real cachegate: refusals (413,
 * 507) before the body, truncated ones leave nothing, Expect: 100-continue,
 * an object already present is drained and counts as used, many at once,
 * and one in flight at SIGTERM still finishes.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_upload, .fini = teardown, .timeout = 120);

Test(gateway_upload, too_large_is_413_before_any_body_byte)
{
	static const char *const flags[] = {"--max-object-size", "1K", NULL};
	char req[512], resp[4096], path[128], body[2048];
	struct gw_reply r;
	int fd;

	gw_start(&g, flags, NULL);
	/* Headers announce ten gigabytes; not one body byte is ever sent. */
	fd = gw_connect(&g);
	snprintf(req, sizeof(req),
	         "PUT /ac/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 10737418240\r\n\r\n", GW_ZERO_ID);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	close(fd);
	cr_assert(strncmp(resp, "HTTP/1.1 413", 12) == 0, "got: %s", resp);

	/* The same through curl, and a chunked body that grows past the limit. */
	gw_fill(body, sizeof(body), 2);
	snprintf(path, sizeof(path), "/ac/%s", GW_ZERO_ID);
	cr_assert_eq(gw_http(&g, "PUT", path, body, sizeof(body), NULL, &r), 413);
	gw_assert_one_line(&r);
	gw_reply_free(&r);
	fd = gw_connect(&g);
	snprintf(req, sizeof(req),
	         "PUT /ac/%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n", GW_ZERO_ID);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	cr_assert(gw_send_all(fd, body, 2048));
	cr_assert(gw_send_all(fd, "\r\n0\r\n\r\n", 7));
	gw_read_response(fd, resp, sizeof(resp), 20000);
	close(fd);
	cr_assert(strncmp(resp, "HTTP/1.1 413", 12) == 0, "got: %s", resp);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_count_files(&g, "ac") + gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(gw_http(&g, "PUT", path, body, 1024, NULL, NULL), 201);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_upload, object_larger_than_store_is_507)
{
	static const char *const flags[] = {"--max-size", "1K", NULL};
	char body[4096], id[65], path[128];
	struct gw_reply r;

	gw_start(&g, flags, NULL);
	gw_fill(body, sizeof(body), 3);
	gw_sha256_hex(body, sizeof(body), id);
	snprintf(path, sizeof(path), "/cas/%s", id);
	cr_assert_eq(gw_http(&g, "PUT", path, body, sizeof(body), NULL, &r), 507);
	gw_assert_one_line(&r);
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_count_files(&g, "cas") + gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(gw_metric(&g, "cachegate_uploads_rejected_total{reason=\"store_full\"}"), 1);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_upload, truncated_upload_leaves_nothing)
{
	char req[512], body[50000], path[128];
	int fd;

	gw_start(&g, NULL, NULL);
	gw_fill(body, sizeof(body), 4);
	fd = gw_connect(&g);
	snprintf(req, sizeof(req),
	         "PUT /ac/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", GW_ZERO_ID);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	cr_assert(gw_send_all(fd, body, sizeof(body)));
	/* Hang up only once the upload is under way (its first bytes are written). */
	for (int i = 0; i < 2000 && gw_metric(&g, "cachegate_received_bytes_total") == 0; i++)
		usleep(10000);
	cr_assert_gt(gw_metric(&g, "cachegate_received_bytes_total"), 0, "the upload never started");
	close(fd);
	/* The server notices the close and discards the upload; wait for it, bounded. */
	for (int i = 0; i < 2000 && gw_metric(&g, "cachegate_uploads_rejected_total{reason=\"truncated\"}") != 1; i++)
		usleep(10000);
	cr_assert_eq(gw_metric(&g, "cachegate_uploads_rejected_total{reason=\"truncated\"}"), 1);
	snprintf(path, sizeof(path), "/ac/%s", GW_ZERO_ID);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_count_files(&g, "ac") + gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_upload, expect_continue)
{
	char req[512], resp[4096], id[65], path[128];
	int fd;

	gw_start(&g, NULL, NULL);
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
	snprintf(path, sizeof(path), "/cas/%s", id);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_upload, existing_object_sent_without_expect_is_drained)
{
	size_t n = 3 * 1024 * 1024;
	char *body = malloc(n), id[65], path[128];

	gw_start(&g, NULL, NULL);
	gw_fill(body, n, 6);
	gw_sha256_hex(body, n, id);
	snprintf(path, sizeof(path), "/cas/%s", id);
	cr_assert_eq(gw_http(&g, "PUT", path, body, n, NULL, NULL), 201);
	/* The client sends everything at once: it must still read a 200, never a reset. */
	for (int i = 0; i < 10; i++)
		cr_assert_eq(gw_http(&g, "PUT", path, body, n, NULL, NULL), 200, "attempt %d", i);
	free(body);
	cr_assert_eq(gw_stop(&g), 0);
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
Test(gateway_upload, put_of_present_object_refreshes_its_use)
{
	char req[512], resp[4096], id[65], path[128];
	int fd;

	gw_start(&g, NULL, NULL);
	gw_sha256_hex("in use", 6, id);
	snprintf(path, sizeof(path), "/cas/%s", id);
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
	cr_assert_eq(gw_stop(&g), 0);
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

		gw_fill(body, n, seed);
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

Test(gateway_upload, concurrent_puts)
{
	pthread_t threads[PUT_THREADS];
	long total = 0;

	gw_start(&g, NULL, NULL);
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
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_upload, sigterm_lets_a_request_in_flight_finish)
{
	char req[512], resp[4096], id[65], file[1024], body[20000];
	struct stat st;
	int fd;

	gw_start(&g, NULL, NULL);
	gw_fill(body, sizeof(body), 5);
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
	cr_assert_eq(gw_stop(&g), 0);
}
