/*
 * gateway_s3_outage_test.c: cachegate with --s3 in front of a stand-in
 * bucket in the test's own process, which then answers 503, stalls (takes
 * requests and never answers) or refuses connections: local objects are
 * still served, a miss is a 404 and a write a 503 (each answered: the
 * client's own limit is 60 s), and once the bucket answers again a write
 * reaches it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/gateway_fixture.h"
#include "tests/s3_bucket.h"

static struct gw g;
static uint16_t port;  /* the bucket's */

static void teardown(void)
{
	gw_stop(&g);
	bucket_reset();
}

TestSuite(gateway_s3_outage, .fini = teardown, .timeout = 180);

/* PUT body as a CAS object; returns the status, and its id in id. */
static long put_cas(const char *body, char id[65])
{
	char path[128];

	gw_sha256_hex(body, strlen(body), id);
	snprintf(path, sizeof(path), "/cas/%s", id);
	return gw_http(&g, "PUT", path, body, strlen(body), NULL, NULL);
}

/*
 * With the bucket in trouble (put in it by fail, taken out by recover):
 * a local object is served, a miss is 404, a write 503 saying why in one
 * line; once recovered a write reaches the bucket again.
 */
static void outage(void (*fail)(void), void (*recover)(void))
{
	char local[65], missing[65], later[65], path[128];
	struct gw_reply r;

	port = bucket_gateway_start(&g);
	cr_assert_eq(put_cas("here before the outage", local), 201);
	cr_assert(bucket_has(local, "here before the outage"), "the write did not reach the bucket");
	fail();

	snprintf(path, sizeof(path), "/cas/%s", local);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200, "a local object is not served");
	cr_assert_str_eq(r.body, "here before the outage");
	gw_reply_free(&r);
	gw_sha256_hex("never written", 13, missing);
	snprintf(path, sizeof(path), "/cas/%s", missing);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404, "a miss is not a 404");
	gw_sha256_hex("written in the outage", 21, later);
	snprintf(path, sizeof(path), "/cas/%s", later);
	cr_assert_eq(gw_http(&g, "PUT", path, "written in the outage", 21, NULL, &r), 503,
	             "a write is not a 503");
	gw_assert_one_line(&r);
	gw_reply_free(&r);
	cr_assert_not(bucket_has(later, "written in the outage"));

	recover();
	cr_assert_eq(put_cas("written in the outage", later), 201, "no recovery");
	cr_assert(bucket_has(later, "written in the outage"), "the bucket did not get the write");
	cr_assert_eq(gw_stop(&g), 0);
}

static void mode_503(void)
{
	bucket_set_mode(BUCKET_503);
}

static void mode_stall(void)
{
	bucket_set_mode(BUCKET_STALL);
}

static void mode_ok(void)
{
	bucket_set_mode(BUCKET_OK);
}

/* The bucket goes away: its port refuses connections. */
static void bucket_down(void)
{
	bucket_stop();
}

/* The bucket comes back on its old port, with what it held. */
static void bucket_up(void)
{
	bucket_start(port);
}

Test(gateway_s3_outage, a_bucket_answering_503)
{
	outage(mode_503, mode_ok);
}

Test(gateway_s3_outage, a_bucket_that_stalls)
{
	outage(mode_stall, mode_ok);
}

Test(gateway_s3_outage, a_bucket_that_refuses_connections)
{
	outage(bucket_down, bucket_up);
}
