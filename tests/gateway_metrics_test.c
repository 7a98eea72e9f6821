/*
 * gateway_metrics_test.c: what cachegate says of itself: /metrics counts
 * requests, hits, misses and bytes, in the Prometheus text format; /status
 * is JSON about the store.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_metrics, .fini = teardown, .timeout = 120);

Test(gateway_metrics, metrics_count_requests_hits_misses_bytes)
{
	char id[65], path[128];

	gw_start(&g, NULL, NULL);
	gw_sha256_hex("metric body", 11, id);
	snprintf(path, sizeof(path), "/cas/%s", id);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_http(&g, "PUT", path, "metric body", 11, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_metric(&g, "cachegate_requests_total{method=\"PUT\",kind=\"cas\",status=\"201\"}"), 1);
	cr_assert_eq(gw_metric(&g, "cachegate_requests_total{method=\"GET\",kind=\"cas\",status=\"200\"}"), 2);
	cr_assert_eq(gw_metric(&g, "cachegate_requests_total{method=\"GET\",kind=\"cas\",status=\"404\"}"), 1);
	cr_assert_eq(gw_metric(&g, "cachegate_hits_total{kind=\"cas\"}"), 2);
	cr_assert_eq(gw_metric(&g, "cachegate_misses_total{kind=\"cas\"}"), 1);
	cr_assert_eq(gw_metric(&g, "cachegate_hits_total{kind=\"ac\"}"), 0);
	cr_assert_eq(gw_metric(&g, "cachegate_received_bytes_total"), 11);
	/* Bytes sent are counted once a response is fully out: wait for it, bounded. */
	for (int i = 0; i < 2000 && gw_metric(&g, "cachegate_sent_bytes_total") < 22; i++)
		usleep(10000);
	cr_assert_geq(gw_metric(&g, "cachegate_sent_bytes_total"), 22);
	cr_assert_eq(gw_metric(&g, "cachegate_store_objects{kind=\"cas\"}"), 1);
	cr_assert_eq(gw_metric(&g, "cachegate_store_bytes"), 11);
	cr_assert_eq(gw_metric(&g, "cachegate_evictions_total"), 0);
	cr_assert_eq(gw_metric(&g, "cachegate_uploads_rejected_total{reason=\"too_large\"}"), 0);
	cr_assert_eq(gw_stop(&g), 0);
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
Test(gateway_metrics, metrics_families_are_grouped)
{
	char seen[64][96], current[96] = "";
	size_t nseen = 0;
	struct gw_reply r;
	char *save = NULL;

	gw_start(&g, NULL, NULL);
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
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_metrics, status_is_json)
{
	char id[65], path[128], real[PATH_MAX];
	struct gw_reply r;
	json_error_t err;
	json_t *doc;

	gw_start(&g, NULL, NULL);
	gw_sha256_hex("status body", 11, id);
	snprintf(path, sizeof(path), "/cas/%s", id);
	cr_assert_eq(gw_http(&g, "PUT", path, "status body", 11, NULL, NULL), 201);
	snprintf(path, sizeof(path), "/ac/%s", GW_ZERO_ID);
	cr_assert_eq(gw_http(&g, "PUT", path, "entry", 5, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", "/status", NULL, 0, NULL, &r), 200);
	doc = json_loads(r.body, 0, &err);
	cr_assert_not_null(doc, "status is not JSON: %s", err.text);
	cr_assert(json_is_string(json_object_get(doc, "version")));
	cr_assert_gt(strlen(json_string_value(json_object_get(doc, "version"))), 0);
	cr_assert(json_is_integer(json_object_get(doc, "uptime_seconds")), "no integer uptime_seconds");
	cr_assert_geq(json_integer_value(json_object_get(doc, "uptime_seconds")), 0);
	cr_assert_not_null(realpath(g.store, real));
	cr_assert_str_eq(json_string_value(json_object_get(doc, "store_path")), real);
	cr_assert_eq(json_integer_value(json_object_get(doc, "bytes_used")), 16);
	cr_assert(json_is_null(json_object_get(doc, "bytes_limit")));
	cr_assert_eq(json_integer_value(json_object_get(doc, "objects")), 2);
	cr_assert_eq(json_integer_value(json_object_get(doc, "ac_objects")), 1);
	cr_assert_eq(json_integer_value(json_object_get(doc, "cas_objects")), 1);
	json_decref(doc);
	gw_reply_free(&r);
	cr_assert_eq(gw_stop(&g), 0);
}
