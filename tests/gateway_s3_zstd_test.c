/*
 * gateway_s3_zstd_test.c: the S3 tier keeps compressed objects as stored
 * (issue 17, item 5), against a stand-in bucket in the test's own process.
 * A gateway that compresses sends a .zst object's file as it is, marked
 * "Content-Encoding: zstd" with its raw size; a second gateway reads it,
 * kept compressed or (with --compression none) raw, byte for byte; a HEAD
 * answers the raw size; an old raw object still reads; frames that do not
 * decode are damage, never served whole.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zstd.h>

#include "tests/gateway_fixture.h"
#include "tests/s3_bucket.h"

#define SIZE 4000  /* raw bytes of an object: the stand-in keeps at most 4096 */

static struct gw a, b;
static char endpoint[64];

static void teardown(void)
{
	gw_stop(&a);
	gw_stop(&b);
	bucket_reset();
}

TestSuite(gateway_s3_zstd, .fini = teardown, .timeout = 180);

/* Start the stand-in bucket; gateways started later use it. */
static void bucket_up(void)
{
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u", bucket_start(0));
}

/*
 * Start g with --s3 in front of the stand-in bucket and --compression as
 * given; a compressing one compresses raw uploads too.
 */
static void start(struct gw *g, const char *compression)
{
	const char *flags[] = {"--s3", "s3://stand-in/team", "--s3-endpoint", endpoint,
	                       "--s3-region", "us-east-1", "--compression", compression,
	                       strcmp(compression, "zstd") == 0 ? "--compress-raw-uploads" : NULL,
	                       NULL};
	const char *env[] = {"AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret",
	                     "AWS_SESSION_TOKEN", "AWS_PROFILE", NULL};

	gw_start(g, flags, env);
}

/* SIZE compressible bytes from seed, their id and path. */
static void make(char body[SIZE], unsigned seed, char id[65], char path[128])
{
	for (size_t i = 0; i < SIZE; i++)
		body[i] = "func main() { println(x) }\n"[(i + seed) % 27] + (char)((i / 89) % 3);
	gw_sha256_hex(body, SIZE, id);
	snprintf(path, 128, "/cas/%s", id);
}

/* The length of g's file of id (".zst" or ""), or -1 when absent. */
static long long stored(const struct gw *g, const char *id, const char *suffix)
{
	char file[1024];
	struct stat st;

	snprintf(file, sizeof(file), "%s/cas/%.2s/%s%s", g->store, id, id, suffix);
	return stat(file, &st) == 0 ? (long long)st.st_size : -1;
}

/* A GET of path from g by a raw client, and a HEAD: fails unless they are body and its size. */
static void assert_reads(const struct gw *g, const char *path, const char *body)
{
	struct gw_reply r;
	char length[32];

	cr_assert_eq(gw_http(g, "HEAD", path, NULL, 0, NULL, &r), 200);
	cr_assert(gw_header_value(&r, "Content-Length", length, sizeof(length)));
	cr_assert_eq(atol(length), SIZE, "a HEAD answers the raw size");
	gw_reply_free(&r);
	cr_assert_eq(gw_http(g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_eq(r.len, SIZE);
	cr_assert(memcmp(r.body, body, SIZE) == 0, "not the object's bytes");
	gw_reply_free(&r);
}

Test(gateway_s3_zstd, compressed_objects_go_as_stored_and_any_gateway_reads_them)
{
	char body[SIZE], id[65], path[128], got[BUCKET_OBJECT_MAX], encoding[32], raw[SIZE];
	long len;

	bucket_up();
	start(&a, "zstd");
	make(body, 1, id, path);
	cr_assert_eq(gw_http(&a, "PUT", path, body, SIZE, NULL, NULL), 201);
	len = bucket_object(id, got, sizeof(got), encoding);
	cr_assert_gt(stored(&a, id, ".zst"), 0);
	cr_assert_eq(len, stored(&a, id, ".zst"), "the bucket holds the .zst file as it is");
	cr_assert_str_eq(encoding, "zstd");
	cr_assert_eq(ZSTD_decompress(raw, SIZE, got, (size_t)len), SIZE);
	cr_assert(memcmp(raw, body, SIZE) == 0, "any zstd decoder reads the object");
	/* A second gateway that compresses keeps it compressed; HEAD first, from the bucket. */
	start(&b, "zstd");
	assert_reads(&b, path, body);
	cr_assert_eq(stored(&b, id, ".zst"), len, "kept as it came");
	cr_assert_eq(stored(&b, id, ""), -1);
	assert_reads(&b, path, body);
	cr_assert_eq(gw_stop(&b), 0);
	/* One without compression keeps it raw. */
	start(&b, "none");
	assert_reads(&b, path, body);
	cr_assert_eq(stored(&b, id, ""), SIZE);
	cr_assert_eq(stored(&b, id, ".zst"), -1);
	cr_assert_eq(gw_metric(&b, "cachegate_damaged_objects_total{found_by=\"s3\"}"), 0);
}

Test(gateway_s3_zstd, an_old_raw_object_in_the_bucket_still_reads)
{
	char body[SIZE], id[65], path[128], key[160];

	bucket_up();
	make(body, 2, id, path);
	snprintf(key, sizeof(key), "/stand-in/team%s", path);
	bucket_put(key, body, SIZE);
	start(&a, "zstd");
	assert_reads(&a, path, body);
	cr_assert_gt(stored(&a, id, ".zst"), 0, "compressed here by the store's own rule");
}

Test(gateway_s3_zstd, frames_that_do_not_decode_are_damage)
{
	char body[SIZE], id[65], path[128], key[160], z[BUCKET_OBJECT_MAX], size[16];
	struct gw_reply r;
	long status;
	size_t n;

	bucket_up();
	make(body, 3, id, path);
	n = ZSTD_compress(z, sizeof(z), body, SIZE, 3);
	cr_assert(!ZSTD_isError(n));
	z[n / 2] ^= 0x33;
	snprintf(key, sizeof(key), "/stand-in/team%s", path);
	snprintf(size, sizeof(size), "%d", SIZE);
	bucket_put_encoded(key, z, n, "zstd", size);
	start(&a, "zstd");
	status = gw_http(&a, "GET", path, NULL, 0, NULL, &r);
	cr_assert(status != 200 || r.len < SIZE, "a damaged object was served whole");
	gw_reply_free(&r);
	cr_assert_eq(stored(&a, id, ".zst"), -1);
	cr_assert_eq(stored(&a, id, ""), -1);
	cr_assert_eq(gw_metric(&a, "cachegate_damaged_objects_total{found_by=\"s3\"}"), 1);
}
