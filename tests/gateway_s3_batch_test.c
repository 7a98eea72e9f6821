/*
 * gateway_s3_batch_test.c: the bounds of what a /go/batch asks the shared
 * tier for (README, "/go/batch"), against a stand-in bucket in the test's
 * own process that counts what it is asked: at most 64 objects per round,
 * no output over 32 MiB, and no more than 128 such fetches in the gateway
 * at once; the rest are misses the client asks for itself.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire/goentry.h"
#include "tests/gateway_fixture.h"
#include "tests/s3_bucket.h"

#define ACTIONS 192
#define OUTPUT_LEN 100

static struct gw g;

/* The actions of a test: ids, and whether the bucket has each one's entry and output. */
static struct {
	char action[STORE_ID_LEN + 1];
	char output[STORE_ID_LEN + 1];
} a[ACTIONS];

static void teardown(void)
{
	gw_stop(&g);
	bucket_reset();
}

TestSuite(gateway_s3_batch, .fini = teardown, .timeout = 180);

/*
 * Action i: its entry (claiming size bytes of output) in the bucket, and
 * when stored, its output of OUTPUT_LEN bytes too.
 */
static void make_action(int i, int64_t size, bool stored)
{
	char path[256], line[GO_ENTRY_LEN + 1], out[OUTPUT_LEN];
	struct go_entry e = {.size = size, .time_ns = 1700000000000000000LL};

	gw_fill(out, sizeof(out), (unsigned)i);
	gw_sha256_hex(out, sizeof(out), a[i].output);
	snprintf(a[i].action, sizeof(a[i].action), "%064x", i + 1);
	cr_assert(store_unhex(a[i].action, e.action));
	cr_assert(store_unhex(a[i].output, e.output));
	go_entry_format(&e, line);
	snprintf(path, sizeof(path), "/stand-in/team/ac/%s", a[i].action);
	bucket_put(path, line, GO_ENTRY_LEN);
	if (stored) {
		snprintf(path, sizeof(path), "/stand-in/team/cas/%s", a[i].output);
		bucket_put(path, out, sizeof(out));
	}
}

/* The body of a batch of actions from, for n of them; the caller frees it. */
static char *batch_body(int from, int n)
{
	char *body = malloc((size_t)n * (STORE_ID_LEN + 1) + 1), *p = body;

	cr_assert_not_null(body);
	for (int i = from; i < from + n; i++)
		p += sprintf(p, "%s\n", a[i].action);
	return body;
}

/* GETs the bucket was asked for the entries (or the outputs) of actions from .. from+n-1. */
static int asked(int from, int n, bool outputs)
{
	int count = 0;

	for (int i = from; i < from + n; i++)
		count += bucket_gets(outputs ? a[i].output : a[i].action);
	return count;
}

Test(gateway_s3_batch, a_batch_asks_at_most_64_objects_per_round)
{
	char *body, path[128];
	struct gw_reply r;

	for (int i = 0; i < 100; i++)
		make_action(i, OUTPUT_LEN, true);
	bucket_gateway_start(&g);
	body = batch_body(0, 100);
	cr_assert_eq(gw_http(&g, "POST", "/go/batch", body, strlen(body), NULL, &r), 200);
	/* The first round asks for 64 entries, the second for their 64 outputs. */
	cr_assert_eq(asked(0, 100, false), 64, "entries asked: %d", asked(0, 100, false));
	cr_assert_eq(asked(0, 100, true), 64, "outputs asked: %d", asked(0, 100, true));
	cr_assert_eq(r.len, 64 * (GO_ENTRY_LEN + OUTPUT_LEN), "not 64 hits: %zu bytes", r.len);
	gw_reply_free(&r);
	/* What did not come is there for the client's own gets. */
	snprintf(path, sizeof(path), "/go/%s", a[99].action);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	free(body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_s3_batch, an_output_over_32_MiB_is_left_to_the_client)
{
	char *body;
	struct gw_reply r;

	make_action(0, 32 << 20, false);
	make_action(1, (32 << 20) + 1, false);
	bucket_gateway_start(&g);
	body = batch_body(0, 2);
	cr_assert_eq(gw_http(&g, "POST", "/go/batch", body, strlen(body), NULL, &r), 200);
	cr_assert_eq(r.len, 0, "a hit without its output");
	gw_reply_free(&r);
	cr_assert_eq(asked(0, 2, false), 2, "the entries were not asked for");
	cr_assert_eq(asked(0, 1, true), 1, "an output of 32 MiB was not asked for");
	cr_assert_eq(asked(1, 1, true), 0, "an output over 32 MiB was asked for");
	free(body);
	cr_assert_eq(gw_stop(&g), 0);
}

/* A batch sent on a thread of its own (no assertions there): its body, and the status it got. */
struct batch_call {
	char url[128];
	char *body;
	long status;
	pthread_t thread;
};

/* Drop a response body. */
static size_t ignore(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data, (void)arg;
	return size * nmemb;
}

/* POST the batch; its status goes into the call. */
static void *batch_post(void *arg)
{
	struct batch_call *b = arg;
	CURL *c = curl_easy_init();

	curl_easy_setopt(c, CURLOPT_URL, b->url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, b->body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ignore);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &b->status);
	curl_easy_cleanup(c);
	return NULL;
}

Test(gateway_s3_batch, at_most_128_batch_fetches_at_once)
{
	struct batch_call calls[2];
	struct gw_reply r;
	char *third;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < ACTIONS; i++)
		make_action(i, OUTPUT_LEN, true);
	bucket_gateway_start(&g);
	/* The bucket keeps every fetch going, a byte at a time: none ends while the test looks. */
	bucket_set_mode(BUCKET_TRICKLE);
	for (int k = 0; k < 2; k++) {
		snprintf(calls[k].url, sizeof(calls[k].url), "%s/go/batch", g.base);
		calls[k].body = batch_body(k * 64, 64);
		calls[k].status = 0;
		cr_assert_eq(pthread_create(&calls[k].thread, NULL, batch_post, &calls[k]), 0);
	}
	for (int waited = 0; asked(0, 128, false) < 128 && waited < 60000; waited += 20)
		usleep(20000);
	cr_assert_eq(asked(0, 128, false), 128, "the first two batches did not start their fetches");
	/* A third batch finds no room: its actions are misses at once, nothing is asked. */
	third = batch_body(128, 64);
	cr_assert_eq(gw_http(&g, "POST", "/go/batch", third, strlen(third), NULL, &r), 200);
	cr_assert_eq(r.len, 0);
	gw_reply_free(&r);
	cr_assert_eq(asked(128, 64, false), 0, "fetches beyond 128 at once");
	cr_assert_eq(asked(0, 128, false), 128);
	/* The bucket breaks the trickles off; the first two batches end. */
	bucket_set_mode(BUCKET_OK);
	for (int k = 0; k < 2; k++) {
		pthread_join(calls[k].thread, NULL);
		cr_assert_eq(calls[k].status, 200);
		free(calls[k].body);
	}
	free(third);
	curl_global_cleanup();
	cr_assert_eq(gw_stop(&g), 0);
}
