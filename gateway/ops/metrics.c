/*
 * metrics.c: request, cache and store counters for GET /metrics.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "gateway/ops/metrics.h"

/* Statuses the server answers with; anything else counts as "other". */
static const unsigned known_status[] = {
	200, 201, 204, 400, 401, 403, 404, 405, 408, 411, 413, 500, 501, 503, 507,
};
#define STATUS_COUNT (sizeof(known_status) / sizeof(known_status[0]) + 1)

static const char *const method_names[METHOD_COUNT] = {"GET", "HEAD", "PUT", "POST", "other"};
static const char *const route_names[ENDPOINT_COUNT] = {
	"ac", "cas", "go", "go_batch", "healthz", "metrics", "status", "other",
};
static const char *const reject_names[REJECT_COUNT] = {
	"too_large", "hash_mismatch", "size_mismatch", "store_full", "truncated", "error",
	"bad_encoding",
};

static const char *const damage_names[DAMAGE_COUNT] = {"read", "put", "scrub", "s3"};
static const char *const s3_op_names[S3_METRIC_OPS] = {"GET", "HEAD", "PUT"};
/* Upper bounds, in seconds, of the S3 latency histogram's buckets (then +Inf). */
static const double s3_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define S3_BUCKETS (sizeof(s3_buckets) / sizeof(s3_buckets[0]))

struct metrics {
	atomic_uint_fast64_t requests[METHOD_COUNT][ENDPOINT_COUNT][STATUS_COUNT];
	atomic_uint_fast64_t hits[2], misses[2];  /* by enum store_kind */
	atomic_uint_fast64_t bytes_in, bytes_out;
	atomic_uint_fast64_t rejects[REJECT_COUNT];
	atomic_uint_fast64_t evicted_objects, evicted_bytes;
	atomic_uint_fast64_t damaged[DAMAGE_COUNT];
	atomic_uint_fast64_t scrubbed_objects, scrubbed_bytes;
	atomic_uint_fast64_t s3_requests[S3_METRIC_OPS][2];   /* [op][failed] */
	atomic_uint_fast64_t s3_latency[S3_BUCKETS + 1];      /* not cumulative; last: +Inf */
	atomic_uint_fast64_t s3_latency_us;                    /* sum, microseconds */
	atomic_uint_fast64_t s3_bytes_in, s3_bytes_out;
	atomic_uint_fast64_t stored_raw, stored_disk;
	atomic_uint_fast64_t sent[2];                          /* by enum store_encoding */
	struct grant_metrics *grants;                          /* action entries by grant */
};

static const char *const encoding_names[2] = {"identity", "zstd"};

struct metrics *metrics_new(void)
{
	struct metrics *m = malloc(sizeof(*m));

	if (m == NULL)
		return NULL;
	if ((m->grants = grant_metrics_new()) == NULL) {
		free(m);
		return NULL;
	}
	for (size_t i = 0; i < METHOD_COUNT; i++)
		for (size_t j = 0; j < ENDPOINT_COUNT; j++)
			for (size_t k = 0; k < STATUS_COUNT; k++)
				atomic_init(&m->requests[i][j][k], 0);
	for (size_t i = 0; i < 2; i++) {
		atomic_init(&m->hits[i], 0);
		atomic_init(&m->misses[i], 0);
	}
	for (size_t i = 0; i < REJECT_COUNT; i++)
		atomic_init(&m->rejects[i], 0);
	atomic_init(&m->bytes_in, 0);
	atomic_init(&m->bytes_out, 0);
	atomic_init(&m->evicted_objects, 0);
	atomic_init(&m->evicted_bytes, 0);
	for (size_t i = 0; i < DAMAGE_COUNT; i++)
		atomic_init(&m->damaged[i], 0);
	atomic_init(&m->scrubbed_objects, 0);
	atomic_init(&m->scrubbed_bytes, 0);
	for (size_t i = 0; i < S3_METRIC_OPS; i++)
		for (size_t k = 0; k < 2; k++)
			atomic_init(&m->s3_requests[i][k], 0);
	for (size_t i = 0; i <= S3_BUCKETS; i++)
		atomic_init(&m->s3_latency[i], 0);
	atomic_init(&m->s3_latency_us, 0);
	atomic_init(&m->s3_bytes_in, 0);
	atomic_init(&m->s3_bytes_out, 0);
	atomic_init(&m->stored_raw, 0);
	atomic_init(&m->stored_disk, 0);
	atomic_init(&m->sent[0], 0);
	atomic_init(&m->sent[1], 0);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m != NULL)
		grant_metrics_free(m->grants);
	free(m);
}

void metrics_count_grant(struct metrics *m, const struct grant *g, enum grant_event e)
{
	grant_metrics_count(m->grants, g->label, e);
}

/* Index of status in known_status, or the "other" bucket. */
static size_t status_index(unsigned status)
{
	for (size_t i = 0; i < STATUS_COUNT - 1; i++)
		if (known_status[i] == status)
			return i;
	return STATUS_COUNT - 1;
}

void metrics_count_request(struct metrics *m, enum method method, enum endpoint route,
                           unsigned status)
{
	atomic_fetch_add_explicit(&m->requests[method][route][status_index(status)], 1,
	                          memory_order_relaxed);
}

void metrics_count_lookup(struct metrics *m, enum store_kind k, bool hit)
{
	atomic_fetch_add_explicit(hit ? &m->hits[k] : &m->misses[k], 1, memory_order_relaxed);
}

void metrics_add_bytes_in(struct metrics *m, uint64_t n)
{
	atomic_fetch_add_explicit(&m->bytes_in, n, memory_order_relaxed);
}

void metrics_count_stored(struct metrics *m, uint64_t raw, uint64_t on_disk)
{
	atomic_fetch_add(&m->stored_raw, raw);
	atomic_fetch_add(&m->stored_disk, on_disk);
}

void metrics_count_sent(struct metrics *m, enum store_encoding e, uint64_t n)
{
	atomic_fetch_add(&m->sent[e == STORE_ZSTD], n);
}

void metrics_compression(const struct metrics *m, struct metrics_compression *out)
{
	out->stored_raw = atomic_load(&m->stored_raw);
	out->stored_disk = atomic_load(&m->stored_disk);
	out->sent[0] = atomic_load(&m->sent[0]);
	out->sent[1] = atomic_load(&m->sent[1]);
}

void metrics_add_bytes_out(struct metrics *m, uint64_t n)
{
	atomic_fetch_add_explicit(&m->bytes_out, n, memory_order_relaxed);
}

void metrics_count_reject(struct metrics *m, enum metrics_reject why)
{
	atomic_fetch_add_explicit(&m->rejects[why], 1, memory_order_relaxed);
}

void metrics_count_evicted(struct metrics *m, uint64_t objects, uint64_t bytes)
{
	atomic_fetch_add_explicit(&m->evicted_objects, objects, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->evicted_bytes, bytes, memory_order_relaxed);
}

void metrics_count_damaged(struct metrics *m, enum metrics_damage found_by)
{
	atomic_fetch_add_explicit(&m->damaged[found_by], 1, memory_order_relaxed);
}

void metrics_count_s3(struct metrics *m, enum metrics_s3_op op, bool ok, double seconds,
                      uint64_t bytes_in, uint64_t bytes_out)
{
	size_t b = 0;

	while (b < S3_BUCKETS && seconds > s3_buckets[b])
		b++;
	atomic_fetch_add_explicit(&m->s3_requests[op][!ok], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->s3_latency[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->s3_latency_us, (uint64_t)(seconds * 1e6), memory_order_relaxed);
	atomic_fetch_add_explicit(&m->s3_bytes_in, bytes_in, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->s3_bytes_out, bytes_out, memory_order_relaxed);
}

void metrics_count_scrubbed(struct metrics *m, uint64_t objects, uint64_t bytes)
{
	atomic_fetch_add_explicit(&m->scrubbed_objects, objects, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->scrubbed_bytes, bytes, memory_order_relaxed);
}

/* Read a counter. */
static unsigned long long load(const atomic_uint_fast64_t *a)
{
	return (unsigned long long)atomic_load_explicit(a, memory_order_relaxed);
}

/* Write one counter or gauge family with its help and type lines. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A counter family with one label: one sample per value of it. */
static void labelled_counter(FILE *f, const char *name, const char *help, const char *label,
                             const char *const *values, const atomic_uint_fast64_t *counts,
                             size_t n)
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s{%s=\"%s\"} %llu\n", name, label, values[i], load(&counts[i]));
}

char *metrics_render(struct metrics *m, const struct store_usage *u,
                     uint64_t limit, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		return NULL;
	family(f, "cachegate_requests_total", "counter",
	       "HTTP requests answered, by method, kind of path and status.");
	for (size_t i = 0; i < METHOD_COUNT; i++)
		for (size_t j = 0; j < ENDPOINT_COUNT; j++)
			for (size_t k = 0; k < STATUS_COUNT; k++) {
				unsigned long long v = load(&m->requests[i][j][k]);
				char status[16];

				if (v == 0)
					continue;
				if (k < STATUS_COUNT - 1)
					snprintf(status, sizeof(status), "%u", known_status[k]);
				else
					snprintf(status, sizeof(status), "other");
				fprintf(f, "cachegate_requests_total{method=\"%s\",kind=\"%s\",status=\"%s\"} %llu\n",
				        method_names[i], route_names[j], status, v);
			}
	/* Each family's samples stay together, as the text format requires. */
	family(f, "cachegate_hits_total", "counter", "GET and HEAD of objects that were found.");
	for (int k = STORE_AC; k <= STORE_CAS; k++)
		fprintf(f, "cachegate_hits_total{kind=\"%s\"} %llu\n",
		        store_kind_name((enum store_kind)k), load(&m->hits[k]));
	family(f, "cachegate_misses_total", "counter", "GET and HEAD of objects that were absent.");
	for (int k = STORE_AC; k <= STORE_CAS; k++)
		fprintf(f, "cachegate_misses_total{kind=\"%s\"} %llu\n",
		        store_kind_name((enum store_kind)k), load(&m->misses[k]));
	grant_metrics_render(m->grants, f);
	family(f, "cachegate_received_bytes_total", "counter", "Upload body bytes received.");
	fprintf(f, "cachegate_received_bytes_total %llu\n", load(&m->bytes_in));
	family(f, "cachegate_sent_bytes_total", "counter", "Object bytes sent.");
	fprintf(f, "cachegate_sent_bytes_total %llu\n", load(&m->bytes_out));
	labelled_counter(f, "cachegate_sent_object_bytes_total",
	                 "Bytes of GET answers with an object, by Content-Encoding.",
	                 "encoding", encoding_names, m->sent, 2);
	family(f, "cachegate_cas_stored_raw_bytes_total", "counter",
	       "Uncompressed bytes of the CAS objects written into the store.");
	fprintf(f, "cachegate_cas_stored_raw_bytes_total %llu\n", load(&m->stored_raw));
	family(f, "cachegate_cas_stored_disk_bytes_total", "counter",
	       "Bytes on disk of the CAS objects written into the store (compressed where that paid).");
	fprintf(f, "cachegate_cas_stored_disk_bytes_total %llu\n", load(&m->stored_disk));
	labelled_counter(f, "cachegate_uploads_rejected_total",
	                 "Uploads refused or dropped, by reason; nothing of them was stored.",
	                 "reason", reject_names, m->rejects, REJECT_COUNT);
	family(f, "cachegate_evictions_total", "counter",
	       "Objects evicted to keep the store under --max-size.");
	fprintf(f, "cachegate_evictions_total %llu\n", load(&m->evicted_objects));
	family(f, "cachegate_evicted_bytes_total", "counter", "Bytes evicted.");
	fprintf(f, "cachegate_evicted_bytes_total %llu\n", load(&m->evicted_bytes));
	labelled_counter(f, "cachegate_damaged_objects_total",
	                 "CAS objects found not to hash to their ids, by what found them; "
	                 "none was kept.", "found_by", damage_names, m->damaged, DAMAGE_COUNT);
	family(f, "cachegate_scrubbed_objects_total", "counter",
	       "CAS objects the background scrub hashed.");
	fprintf(f, "cachegate_scrubbed_objects_total %llu\n", load(&m->scrubbed_objects));
	family(f, "cachegate_scrubbed_bytes_total", "counter", "Bytes the background scrub hashed.");
	fprintf(f, "cachegate_scrubbed_bytes_total %llu\n", load(&m->scrubbed_bytes));
	family(f, "cachegate_s3_requests_total", "counter",
	       "Requests to the S3 tier, by operation and result (a 404 is answered).");
	for (size_t i = 0; i < S3_METRIC_OPS; i++)
		for (size_t k = 0; k < 2; k++)
			fprintf(f, "cachegate_s3_requests_total{op=\"%s\",result=\"%s\"} %llu\n",
			        s3_op_names[i], k ? "failed" : "answered", load(&m->s3_requests[i][k]));
	family(f, "cachegate_s3_request_seconds", "histogram", "Time of requests to the S3 tier.");
	{
		unsigned long long cumulative = 0;
		for (size_t b = 0; b <= S3_BUCKETS; b++) {
			cumulative += load(&m->s3_latency[b]);
			if (b < S3_BUCKETS)
				fprintf(f, "cachegate_s3_request_seconds_bucket{le=\"%g\"} %llu\n",
				        s3_buckets[b], cumulative);
			else
				fprintf(f, "cachegate_s3_request_seconds_bucket{le=\"+Inf\"} %llu\n",
				        cumulative);
		}
		fprintf(f, "cachegate_s3_request_seconds_sum %.6f\n",
		        (double)load(&m->s3_latency_us) / 1e6);
		fprintf(f, "cachegate_s3_request_seconds_count %llu\n", cumulative);
	}
	family(f, "cachegate_s3_received_bytes_total", "counter", "Object bytes fetched from S3.");
	fprintf(f, "cachegate_s3_received_bytes_total %llu\n", load(&m->s3_bytes_in));
	family(f, "cachegate_s3_sent_bytes_total", "counter", "Object bytes uploaded to S3.");
	fprintf(f, "cachegate_s3_sent_bytes_total %llu\n", load(&m->s3_bytes_out));
	family(f, "cachegate_store_bytes", "gauge", "Bytes of objects in the store.");
	fprintf(f, "cachegate_store_bytes %llu\n", (unsigned long long)u->bytes);
	family(f, "cachegate_store_objects", "gauge", "Objects in the store, by kind.");
	fprintf(f, "cachegate_store_objects{kind=\"ac\"} %llu\n", (unsigned long long)u->ac_objects);
	fprintf(f, "cachegate_store_objects{kind=\"cas\"} %llu\n", (unsigned long long)u->cas_objects);
	family(f, "cachegate_store_limit_bytes", "gauge", "The --max-size cap; 0 when there is none.");
	fprintf(f, "cachegate_store_limit_bytes %llu\n", (unsigned long long)limit);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
