/*
 * gateway_go_test.c: the Go endpoints (http_go.h): an action with its output
 * in one answer, many in one stream, and everything that is a miss there.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_go, .fini = teardown, .timeout = 120);

#define LINE_LEN 175  /* a Go entry line, newline included */

/* An action put through /cas and /ac like the helper does. */
struct action {
	char id[65], output[65], line[LINE_LEN + 1];
	char *bytes;
	size_t size;
};

/*
 * Make action number n with an output of size bytes (a pattern that
 * compresses, or noise that does not), and store it unless store is false.
 */
static void make_action_of(struct action *a, int n, size_t size, bool store, bool noise)
{
	char seed[32], path[128];

	snprintf(seed, sizeof(seed), "action %d", n);
	gw_sha256_hex(seed, strlen(seed), a->id);
	a->size = size;
	a->bytes = malloc(size + 1);
	if (noise)
		gw_fill(a->bytes, size, (unsigned)n);
	for (size_t i = 0; i < size && !noise; i++)
		a->bytes[i] = (char)(i * 7 + (size_t)n);
	gw_sha256_hex(a->bytes, size, a->output);
	snprintf(a->line, sizeof(a->line), "v1 %s %s %20zu %20d\n", a->id, a->output, size, 1000 + n);
	if (!store)
		return;
	snprintf(path, sizeof(path), "/cas/%s", a->output);
	cr_assert_eq(gw_http(&g, "PUT", path, a->bytes, size, NULL, NULL), 201);
	snprintf(path, sizeof(path), "/ac/%s", a->id);
	cr_assert_eq(gw_http(&g, "PUT", path, a->line, LINE_LEN, NULL, NULL), 201);
}

/* make_action_of with an output that compresses. */
static void make_action(struct action *a, int n, size_t size, bool store)
{
	make_action_of(a, n, size, store, false);
}

Test(gateway_go, a_hit_is_the_output_with_its_entry_in_one_answer)
{
	struct action small, big;
	struct gw_reply r;
	char path[128], v[LINE_LEN + 1];

	gw_start(&g, NULL, NULL);
	make_action(&small, 1, 100, true);
	make_action(&big, 2, 300 * 1024, true);
	for (int k = 0; k < 2; k++) {
		struct action *a = k == 0 ? &small : &big;
		snprintf(path, sizeof(path), "/go/%s", a->id);
		cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
		cr_assert_eq(r.len, a->size);
		cr_assert(memcmp(r.body, a->bytes, a->size) == 0);
		cr_assert(gw_header_value(&r, "Cachegate-Entry", v, sizeof(v)), "no entry header: %s",
		          r.headers);
		cr_assert_eq(strlen(v), LINE_LEN - 1);
		cr_assert(memcmp(v, a->line, LINE_LEN - 1) == 0);
		cr_assert(gw_header_value(&r, "Cachegate-Go", v, sizeof(v)));
		gw_reply_free(&r);
		cr_assert_eq(gw_http(&g, "HEAD", path, NULL, 0, NULL, &r), 200);
		cr_assert(gw_header_value(&r, "Cachegate-Entry", v, sizeof(v)));
		gw_reply_free(&r);
	}
	/* An instance prefix is ignored, as for /ac and /cas. */
	snprintf(path, sizeof(path), "/main/go/%s", small.id);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 200);
	free(small.bytes);
	free(big.bytes);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_go, misses_say_they_come_from_the_go_endpoint)
{
	struct action absent, orphan, foreign, lying;
	struct gw_reply r;
	char path[128], v[LINE_LEN + 1];

	gw_start(&g, NULL, NULL);
	make_action(&absent, 1, 10, false);
	/* An entry whose output the server does not have. */
	make_action(&orphan, 2, 10, false);
	snprintf(path, sizeof(path), "/ac/%s", orphan.id);
	cr_assert_eq(gw_http(&g, "PUT", path, orphan.line, LINE_LEN, NULL, NULL), 201);
	/* An /ac body that is no Go entry (Bazel's, ccache's). */
	make_action(&foreign, 3, 10, false);
	snprintf(path, sizeof(path), "/ac/%s", foreign.id);
	cr_assert_eq(gw_http(&g, "PUT", path, "not a go entry", 14, NULL, NULL), 201);
	/* A Go entry stored under another action's id. */
	make_action(&lying, 4, 10, true);
	snprintf(path, sizeof(path), "/ac/%s", absent.id);
	cr_assert_eq(gw_http(&g, "PUT", path, lying.line, LINE_LEN, NULL, NULL), 201);

	const struct action *misses[] = {&absent, &orphan, &foreign};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/go/%s", misses[i]->id);
		cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 404, "miss %zu", i);
		cr_assert(gw_header_value(&r, "Cachegate-Go", v, sizeof(v)), "miss %zu", i);
		cr_assert_not(gw_header_value(&r, "Cachegate-Entry", v, sizeof(v)), "miss %zu", i);
		gw_reply_free(&r);
	}
	cr_assert_eq(gw_http(&g, "GET", "/go/nothex", NULL, 0, NULL, NULL), 400);
	snprintf(path, sizeof(path), "/go/%s", lying.id);
	cr_assert_eq(gw_http(&g, "PUT", path, "x", 1, NULL, NULL), 405);
	free(absent.bytes);
	free(orphan.bytes);
	free(foreign.bytes);
	free(lying.bytes);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_go, a_batch_streams_the_hits_in_the_order_asked)
{
	struct action a[4];
	char body[4 * 65 + 1] = "", *p;
	struct gw_reply r;
	size_t want = 0;

	gw_start(&g, NULL, NULL);
	make_action(&a[0], 1, 70000, true);
	make_action(&a[1], 2, 5, false);    /* a miss: skipped in the stream */
	make_action(&a[2], 3, 0, true);     /* an empty output: just its line */
	make_action(&a[3], 4, 1234, true);
	for (int i = 3; i >= 0; i--) {      /* asked in reverse */
		strcat(body, a[i].id);
		strcat(body, "\n");
		if (i != 1)
			want += LINE_LEN + a[i].size;
	}
	cr_assert_eq(gw_http(&g, "POST", "/go/batch", body, strlen(body), NULL, &r), 200);
	cr_assert_eq(r.len, want);
	p = r.body;
	for (int i = 3; i >= 0; i--) {
		if (i == 1)
			continue;
		cr_assert(memcmp(p, a[i].line, LINE_LEN) == 0, "record %d: %.*s", i, LINE_LEN, p);
		p += LINE_LEN;
		cr_assert(memcmp(p, a[i].bytes, a[i].size) == 0, "record %d's bytes", i);
		p += a[i].size;
	}
	gw_reply_free(&r);
	for (int i = 0; i < 4; i++)
		free(a[i].bytes);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_go, a_bad_batch_is_refused)
{
	size_t n = 1025 * 65;
	char *many = malloc(n);

	gw_start(&g, NULL, NULL);
	cr_assert_eq(gw_http(&g, "POST", "/go/batch", "nothex\n", 7, NULL, NULL), 400);
	cr_assert_eq(gw_http(&g, "POST", "/go/batch", NULL, 0, NULL, NULL), 400);
	for (size_t i = 0; i < n; i += 65) {
		memset(many + i, 'a', 64);
		many[i + 64] = '\n';
	}
	cr_assert_eq(gw_http(&g, "POST", "/go/batch", many, n, NULL, NULL), 413);
	cr_assert_eq(gw_http(&g, "GET", "/go/batch", NULL, 0, NULL, NULL), 405);
	cr_assert_eq(gw_http(&g, "POST", "/cas/batch", "x", 1, NULL, NULL), 405);
	free(many);
	cr_assert_eq(gw_stop(&g), 0);
}

/* Flip a byte in the middle of a's output file in the store, its .zst file if compressed. */
static void damage_output(const struct action *a, bool compressed)
{
	char file[1024], c;
	struct stat st;
	int fd;

	snprintf(file, sizeof(file), "%s/cas/%.2s/%s%s", g.store, a->output, a->output,
	         compressed ? ".zst" : "");
	fd = open(file, O_RDWR);
	cr_assert_geq(fd, 0, "cannot open %s", file);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(pread(fd, &c, 1, st.st_size / 2), 1);
	c ^= 1;
	cr_assert_eq(pwrite(fd, &c, 1, st.st_size / 2), 1);
	close(fd);
}

/* Ask for the actions whose ids are in body; with zstd, as a client that accepts it. */
static long post_batch(const char *body, bool zstd, struct gw_reply *r)
{
	static const char *const accept[] = { "Accept-Encoding: zstd", NULL };

	return gw_http(&g, "POST", "/go/batch", body, strlen(body), zstd ? accept : NULL, r);
}

/*
 * Damaged outputs, raw files or (compressed) .zst ones, are never answered
 * whole, to a plain client or (accept) in a zstd stream. noise: outputs
 * that do not compress, so a compressing store keeps them raw.
 */
static void check_damaged_outputs(bool compressed, bool accept, bool noise)
{
	static const char *const raw[] = { "--compression", "none", NULL };
	static const char *const zst[] = { "--compression", "zstd", "--compress-raw-uploads", NULL };
	struct action small, large, fine;
	char path[128], body[3 * 65 + 1];
	struct gw_reply r;
	long status;
	bool zst_files = compressed && !noise;

	gw_start(&g, compressed ? zst : raw, NULL);
	make_action_of(&small, 1, 3000, true, noise);
	make_action_of(&large, 2, 300000, true, noise);
	make_action(&fine, 3, 100, true);
	damage_output(&small, zst_files);
	damage_output(&large, zst_files);
	snprintf(path, sizeof(path), "/go/%s", small.id);
	status = gw_http(&g, "GET", path, NULL, 0, NULL, &r);
	/* A raw small output is checked before the answer, a compressed one on its way. */
	cr_assert(zst_files ? status != 200 || r.len < small.size : status == 404);
	gw_reply_free(&r);
	snprintf(body, sizeof(body), "%s\n%s\n", fine.id, large.id);
	cr_assert_neq(post_batch(body, accept, &r), 200, "a batch with a damaged output ended as if whole");
	gw_reply_free(&r);
	/* Both damaged outputs are gone: the same batch is now whole, without it. */
	cr_assert_eq(post_batch(body, false, &r), 200);
	cr_assert_eq(r.len, LINE_LEN + fine.size);
	gw_reply_free(&r);
	cr_assert_eq(gw_metric(&g, "cachegate_damaged_objects_total{found_by=\"read\"}"), 2);
	free(small.bytes);
	free(large.bytes);
	free(fine.bytes);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_go, a_damaged_output_is_never_answered_whole)
{
	check_damaged_outputs(false, false, false);
}

Test(gateway_go, a_damaged_compressed_output_is_never_answered_whole)
{
	check_damaged_outputs(true, false, false);
}

Test(gateway_go, a_damaged_output_is_never_answered_whole_in_a_zstd_stream)
{
	check_damaged_outputs(true, true, false);
	check_damaged_outputs(true, true, true);
}

/* Decode a whole zstd body into a fresh buffer of *n bytes; fails the test unless it decodes. */
static char *decode(const struct gw_reply *r, size_t cap, size_t *n)
{
	char *raw = malloc(cap + 1);

	*n = ZSTD_decompress(raw, cap + 1, r->body, r->len);
	cr_assert(!ZSTD_isError(*n), "the body is not zstd: %s", ZSTD_getErrorName(*n));
	return raw;
}

Test(gateway_go, a_client_that_accepts_zstd_gets_a_hit_as_stored)
{
	static const char *const zst[] = { "--compression", "zstd", "--compress-raw-uploads", NULL };
	static const char *const accept[] = { "Accept-Encoding: zstd", NULL };
	struct action a;
	struct gw_reply r;
	char path[128], v[LINE_LEN + 1];
	size_t n;
	char *raw;

	gw_start(&g, zst, NULL);
	make_action(&a, 1, 300 * 1024, true);
	snprintf(path, sizeof(path), "/go/%s", a.id);
	for (int pass = 0; pass < 2; pass++) {  /* hashed on the way, then known good */
		cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, accept, &r), 200);
		cr_assert(gw_header_value(&r, "Content-Encoding", v, sizeof(v)));
		cr_assert_str_eq(v, "zstd");
		cr_assert_lt(r.len, a.size / 4, "%zu bytes on the wire", r.len);
		cr_assert(gw_header_value(&r, "Cachegate-Entry", v, sizeof(v)));
		cr_assert(memcmp(v, a.line, LINE_LEN - 1) == 0);
		raw = decode(&r, a.size, &n);
		cr_assert_eq(n, a.size);
		cr_assert(memcmp(raw, a.bytes, n) == 0);
		free(raw);
		gw_reply_free(&r);
	}
	/* A plain client gets the bytes. */
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200);
	cr_assert_not(gw_header_value(&r, "Content-Encoding", v, sizeof(v)));
	cr_assert_eq(r.len, a.size);
	cr_assert(memcmp(r.body, a.bytes, a.size) == 0);
	gw_reply_free(&r);
	free(a.bytes);
	cr_assert_eq(gw_stop(&g), 0);
}

/*
 * A batch of stored (compressed), raw (small, or noise) and empty outputs
 * and a miss: the zstd stream decodes to exactly the plain stream, and is
 * smaller. mode: the gateway's --compression.
 */
static void check_zstd_batch(const char *mode)
{
	bool compresses = strcmp(mode, "zstd") == 0;
	const char *const args[] = { "--compression", mode,
	                             compresses ? "--compress-raw-uploads" : NULL, NULL };
	struct action a[5];
	char body[5 * 65 + 1] = "", v[32];
	struct gw_reply plain, zst;
	size_t n;
	char *raw;

	gw_start(&g, args, NULL);
	make_action(&a[0], 1, 200000, true);           /* kept compressed */
	make_action(&a[1], 2, 100, true);              /* too small to compress */
	make_action(&a[2], 3, 0, true);                /* empty */
	make_action(&a[3], 4, 5, false);               /* a miss */
	make_action_of(&a[4], 5, 90000, true, true);   /* noise: kept raw */
	for (int i = 0; i < 5; i++) {
		strcat(body, a[i].id);
		strcat(body, "\n");
	}
	for (int pass = 0; pass < 2; pass++) {  /* hashed on the way, then known good */
		cr_assert_eq(post_batch(body, false, &plain), 200);
		cr_assert_eq(post_batch(body, true, &zst), 200);
		cr_assert_eq(gw_header_value(&zst, "Content-Encoding", v, sizeof(v)), compresses);
		if (compresses) {
			cr_assert_lt(zst.len, plain.len / 2, "%zu bytes, %zu plain", zst.len, plain.len);
			raw = decode(&zst, plain.len, &n);
			cr_assert_eq(n, plain.len);
			cr_assert(memcmp(raw, plain.body, n) == 0, "the decoded stream is not the plain one");
			free(raw);
		} else {
			cr_assert_eq(zst.len, plain.len);
		}
		gw_reply_free(&plain);
		gw_reply_free(&zst);
	}
	cr_assert_eq(gw_metric(&g, "cachegate_sent_object_bytes_total{encoding=\"zstd\"}") > 0,
	             compresses);
	for (int i = 0; i < 5; i++)
		free(a[i].bytes);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_go, a_batch_is_one_zstd_stream_to_a_client_that_accepts_it)
{
	check_zstd_batch("zstd");
}

Test(gateway_go, a_gateway_that_does_not_compress_sends_the_plain_batch)
{
	check_zstd_batch("none");
}
