/*
 * gateway_metrics_render_test.c: the Prometheus text of /metrics
 * (gateway/ops/metrics.c), rendered directly from counters: each count
 * lands in its own sample, statuses outside the known set are "other", and
 * the S3 latency histogram is cumulative.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/ops/metrics.h"

static struct metrics *m;
static char *text;

static void teardown(void)
{
	free(text);
	metrics_free(m);
}

TestSuite(gateway_metrics_render, .fini = teardown);

/* Render m with usage u and limit into text. */
static void render(const struct store_usage *u, uint64_t limit)
{
	size_t len = 0;

	free(text);
	text = metrics_render(m, u, limit, &len);
	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
}

/* The value of the sample named exactly sample (with its labels), or -1 when absent. */
static double sample(const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

Test(gateway_metrics_render, each_count_lands_in_its_sample)
{
	struct store_usage u = {.objects = 3, .bytes = 4096, .ac_objects = 1, .cas_objects = 2};

	m = metrics_new();
	cr_assert_not_null(m);
	metrics_count_request(m, METHOD_GET, ENDPOINT_CAS, 200);
	metrics_count_request(m, METHOD_GET, ENDPOINT_CAS, 200);
	metrics_count_request(m, METHOD_PUT, ENDPOINT_AC, 413);
	metrics_count_request(m, METHOD_GET, ENDPOINT_HEALTHZ, 418);
	metrics_count_lookup(m, STORE_CAS, true);
	metrics_count_lookup(m, STORE_AC, false);
	metrics_count_lookup(m, STORE_AC, false);
	metrics_add_bytes_in(m, 100);
	metrics_add_bytes_out(m, 250);
	metrics_count_reject(m, REJECT_HASH_MISMATCH);
	metrics_count_evicted(m, 2, 500);
	metrics_count_damaged(m, DAMAGE_SCRUB);
	metrics_count_scrubbed(m, 7, 7000);
	render(&u, 1 << 20);
	cr_assert_eq(sample("cachegate_requests_total{method=\"GET\",kind=\"cas\",status=\"200\"}"), 2);
	cr_assert_eq(sample("cachegate_requests_total{method=\"PUT\",kind=\"ac\",status=\"413\"}"), 1);
	cr_assert_eq(sample("cachegate_requests_total{method=\"GET\",kind=\"healthz\",status=\"other\"}"),
	             1, "an unknown status is not \"other\"");
	cr_assert_eq(sample("cachegate_requests_total{method=\"HEAD\",kind=\"cas\",status=\"200\"}"), -1,
	             "a zero request count is rendered");
	cr_assert_eq(sample("cachegate_hits_total{kind=\"cas\"}"), 1);
	cr_assert_eq(sample("cachegate_hits_total{kind=\"ac\"}"), 0);
	cr_assert_eq(sample("cachegate_misses_total{kind=\"ac\"}"), 2);
	cr_assert_eq(sample("cachegate_received_bytes_total"), 100);
	cr_assert_eq(sample("cachegate_sent_bytes_total"), 250);
	cr_assert_eq(sample("cachegate_evictions_total"), 2);
	cr_assert_eq(sample("cachegate_evicted_bytes_total"), 500);
	cr_assert_eq(sample("cachegate_scrubbed_objects_total"), 7);
	cr_assert_eq(sample("cachegate_scrubbed_bytes_total"), 7000);
	cr_assert_eq(sample("cachegate_store_bytes"), 4096);
	cr_assert_eq(sample("cachegate_store_objects{kind=\"ac\"}"), 1);
	cr_assert_eq(sample("cachegate_store_objects{kind=\"cas\"}"), 2);
	cr_assert_eq(sample("cachegate_store_limit_bytes"), 1 << 20);
}

Test(gateway_metrics_render, the_s3_histogram_is_cumulative)
{
	struct store_usage u = {0};

	m = metrics_new();
	cr_assert_not_null(m);
	metrics_count_s3(m, S3_METRIC_GET, true, 0.004, 10, 0);    /* le 0.005 */
	metrics_count_s3(m, S3_METRIC_GET, false, 0.3, 0, 0);      /* le 0.5 */
	metrics_count_s3(m, S3_METRIC_PUT, true, 0.5, 0, 20);      /* le 0.5: bounds are inclusive */
	metrics_count_s3(m, S3_METRIC_HEAD, true, 60, 0, 0);       /* only +Inf */
	render(&u, 0);
	cr_assert_eq(sample("cachegate_s3_requests_total{op=\"GET\",result=\"answered\"}"), 1);
	cr_assert_eq(sample("cachegate_s3_requests_total{op=\"GET\",result=\"failed\"}"), 1);
	cr_assert_eq(sample("cachegate_s3_requests_total{op=\"PUT\",result=\"answered\"}"), 1);
	cr_assert_eq(sample("cachegate_s3_request_seconds_bucket{le=\"0.005\"}"), 1);
	cr_assert_eq(sample("cachegate_s3_request_seconds_bucket{le=\"0.25\"}"), 1);
	cr_assert_eq(sample("cachegate_s3_request_seconds_bucket{le=\"0.5\"}"), 3);
	cr_assert_eq(sample("cachegate_s3_request_seconds_bucket{le=\"10\"}"), 3);
	cr_assert_eq(sample("cachegate_s3_request_seconds_bucket{le=\"+Inf\"}"), 4);
	cr_assert_eq(sample("cachegate_s3_request_seconds_count"), 4);
	cr_assert_float_eq(sample("cachegate_s3_request_seconds_sum"), 60.804, 1e-3);
	cr_assert_eq(sample("cachegate_s3_received_bytes_total"), 10);
	cr_assert_eq(sample("cachegate_s3_sent_bytes_total"), 20);
	cr_assert_eq(sample("cachegate_store_limit_bytes"), 0);
}

Test(gateway_metrics_render, every_family_says_what_it_is_once)
{
	struct store_usage u = {0};
	const char *families[] = {"cachegate_requests_total", "cachegate_hits_total",
	                          "cachegate_s3_request_seconds", "cachegate_store_bytes"};
	char help[128];

	m = metrics_new();
	cr_assert_not_null(m);
	render(&u, 0);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		const char *first;
		snprintf(help, sizeof(help), "# HELP %s ", families[i]);
		first = strstr(text, help);
		cr_assert_not_null(first, "no HELP for %s", families[i]);
		cr_assert_null(strstr(first + 1, help), "two HELP lines for %s", families[i]);
		snprintf(help, sizeof(help), "# TYPE %s ", families[i]);
		cr_assert_not_null(strstr(text, help), "no TYPE for %s", families[i]);
	}
}
