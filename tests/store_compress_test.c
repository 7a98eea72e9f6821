/*
 * store_compress_test.c: CAS objects kept zstd-compressed where that pays,
 * read back raw, side by side with raw ones; damaged .zst files are misses
 * and found by the scrub.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "tests/store_fixture.h"

/* The fixture's directory opened again with compression on, as the gateway opens it. */
static struct store *zs;

static void open_both(void)
{
	char *cause = NULL;

	fixture_open();
	zs = store_open(fixture_dir, &(struct store_options){ .compression_level = 3 }, &cause);
	cr_assert_not_null(zs, "store_open: %s", cause ? cause : "?");
}

static void close_both(void)
{
	store_close(zs);
	fixture_close();
}

TestSuite(store_compress, .init = open_both, .fini = close_both);

/* n compressible bytes (text-like, repeating with variations) from seed. */
static char *text_bytes(size_t n, unsigned seed)
{
	char *b = malloc(n);

	for (size_t i = 0; i < n; i++)
		b[i] = "go build cache output "[(i + seed) % 22] + (char)((i / 97) % 3);
	return b;
}

/* n bytes no compressor can shrink, from seed. */
static char *noise_bytes(size_t n, unsigned seed)
{
	char *b = malloc(n);

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		b[i] = (char)(seed >> 24);
	}
	return b;
}

/* Put buf into s as a CAS object; its id into id. */
static void put(struct store *s, const char *buf, size_t n, char id[STORE_ID_LEN + 1])
{
	fixture_sha256(buf, n, id);
	cr_assert_eq(store_put_bytes(s, STORE_CAS, id, buf, n), STORE_OK);
}

/* The path of id's file, raw or (zst) compressed. */
static void file_of(const char *id, bool zst, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%s/cas/%.2s/%s%s", fixture_dir, id, id, zst ? ".zst" : "");
}

/* True when id's file of that form exists. */
static bool has_file(const char *id, bool zst)
{
	char path[PATH_MAX];

	file_of(id, zst, path);
	return access(path, F_OK) == 0;
}

/* Read object id through a store_reader; fails unless it is exactly want (n bytes). */
static void assert_reads(struct store *s, const char *id, const char *want, size_t n)
{
	struct store_object obj;
	struct store_reader *rd;
	char *got = malloc(n + 1);
	size_t at = 0, step = 1;

	cr_assert_eq(store_get(s, STORE_CAS, id, (int64_t)n, &obj), STORE_OK);
	rd = store_reader_new(&obj);
	cr_assert_not_null(rd);
	while (step > 0) {
		cr_assert_eq(store_reader_read(rd, got + at, n + 1 - at, &step), STORE_OK);
		at += step;
	}
	cr_assert_eq(at, n);
	cr_assert(memcmp(got, want, n) == 0);
	cr_assert_eq(store_verify_object(&obj, id), STORE_OK);
	store_reader_free(rd);
	close(obj.fd);
	free(got);
}

Test(store_compress, compressible_object_is_kept_as_a_valid_zstd_stream)
{
	size_t n = 200000;
	char *body = text_bytes(n, 1), *file, *raw;
	char id[STORE_ID_LEN + 1], path[PATH_MAX];
	struct store_object obj;
	uint64_t size = 0;
	struct stat st;
	int fd;

	put(zs, body, n, id);
	cr_assert(has_file(id, true) && !has_file(id, false));
	cr_assert_eq(store_get(zs, STORE_CAS, id, -1, &obj), STORE_OK);
	cr_assert_eq(obj.encoding, STORE_ZSTD);
	cr_assert_eq(obj.size, n);
	cr_assert_lt(obj.stored_size, n / 4);
	close(obj.fd);
	cr_assert_eq(store_stat(zs, STORE_CAS, id, &size), STORE_OK);
	cr_assert_eq(size, n);
	assert_reads(zs, id, body, n);
	/* Any zstd decoder reads the whole file, the size frame skipped, as the object. */
	file_of(id, true, path);
	cr_assert_eq(stat(path, &st), 0);
	file = malloc((size_t)st.st_size);
	raw = malloc(n);
	fd = open(path, O_RDONLY);
	cr_assert_eq(read(fd, file, (size_t)st.st_size), st.st_size);
	close(fd);
	cr_assert_eq(ZSTD_decompress(raw, n, file, (size_t)st.st_size), n);
	cr_assert(memcmp(raw, body, n) == 0);
	free(file);
	free(raw);
	free(body);
}

Test(store_compress, tiny_and_incompressible_objects_stay_raw)
{
	char *tiny = text_bytes(STORE_COMPRESS_MIN - 1, 2), *noise = noise_bytes(100000, 3);
	char tiny_id[STORE_ID_LEN + 1], noise_id[STORE_ID_LEN + 1];

	put(zs, tiny, STORE_COMPRESS_MIN - 1, tiny_id);
	put(zs, noise, 100000, noise_id);
	cr_assert(has_file(tiny_id, false) && !has_file(tiny_id, true));
	cr_assert(has_file(noise_id, false) && !has_file(noise_id, true));
	assert_reads(zs, noise_id, noise, 100000);
	free(tiny);
	free(noise);
}

Test(store_compress, raw_and_compressed_objects_live_side_by_side)
{
	char *a = text_bytes(5000, 4), *b = text_bytes(6000, 5);
	char a_id[STORE_ID_LEN + 1], b_id[STORE_ID_LEN + 1];
	char small[8000];
	size_t len = 0;

	put(fixture_store, a, 5000, a_id);   /* written before compression was on */
	put(zs, a, 5000, a_id);              /* kept as it is: no second copy */
	put(zs, b, 6000, b_id);
	cr_assert(has_file(a_id, false) && !has_file(a_id, true));
	cr_assert(has_file(b_id, true));
	assert_reads(zs, a_id, a, 5000);
	assert_reads(fixture_store, b_id, b, 6000);  /* a store without compression reads it too */
	cr_assert_eq(store_read_small(fixture_store, STORE_CAS, b_id, small, sizeof small, &len),
	             STORE_OK);
	cr_assert_eq(len, 6000);
	cr_assert(memcmp(small, b, len) == 0);
	cr_assert_eq(store_touch(fixture_store, STORE_CAS, b_id, 6000), STORE_OK);
	cr_assert_eq(store_touch(fixture_store, STORE_CAS, b_id, 5999), STORE_NOT_FOUND);
	cr_assert(!has_file(b_id, true), "an object of the wrong size is removed");
	free(a);
	free(b);
}

/* Flip one byte of id's .zst file at offset at. */
static void flip(const char *id, off_t at)
{
	char path[PATH_MAX], c;
	int fd;

	file_of(id, true, path);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, at), 1);
	c ^= 0x5a;
	cr_assert_eq(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

Test(store_compress, damaged_frames_are_found_by_the_scrub_and_removed)
{
	char *a = text_bytes(50000, 6), *b = text_bytes(40000, 7);
	char a_id[STORE_ID_LEN + 1], b_id[STORE_ID_LEN + 1];
	struct store_verify_result res;
	struct store_object obj;
	struct stat st;
	char path[PATH_MAX];

	put(zs, a, 50000, a_id);
	put(zs, b, 40000, b_id);
	file_of(a_id, true, path);
	cr_assert_eq(stat(path, &st), 0);
	flip(a_id, st.st_size / 2);
	cr_assert_eq(store_get(zs, STORE_CAS, a_id, -1, &obj), STORE_OK);
	cr_assert_eq(store_verify_object(&obj, a_id), STORE_HASH_MISMATCH);
	close(obj.fd);
	cr_assert_eq(store_verify(zs, NULL, &res), STORE_OK);
	cr_assert_eq(res.objects, 2);
	cr_assert_eq(res.damaged, 1);
	cr_assert(!has_file(a_id, true));
	cr_assert(has_file(b_id, true));
	free(a);
	free(b);
}

Test(store_compress, a_broken_header_is_a_miss_and_a_put_heals_it)
{
	char *a = text_bytes(30000, 8);
	char id[STORE_ID_LEN + 1];

	put(zs, a, 30000, id);
	flip(id, 0);  /* the skippable frame's magic */
	cr_assert_eq(store_get(zs, STORE_CAS, id, -1, &(struct store_object){0}), STORE_NOT_FOUND);
	cr_assert(!has_file(id, true));
	put(zs, a, 30000, id);
	flip(id, 100);  /* now a damaged frame: a raw put replaces it */
	put(fixture_store, a, 30000, id);
	cr_assert(has_file(id, false) && !has_file(id, true));
	assert_reads(zs, id, a, 30000);
	free(a);
}

Test(store_compress, usage_and_trim_count_bytes_on_disk)
{
	char *a = text_bytes(100000, 9);
	char id[STORE_ID_LEN + 1], path[PATH_MAX];
	struct store_trim_result res;
	struct store_usage u;
	struct stat st;

	put(zs, a, 100000, id);
	file_of(id, true, path);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(store_usage(zs, &u), STORE_OK);
	cr_assert_eq(u.cas_objects, 1);
	cr_assert_eq(u.bytes, (uint64_t)st.st_size);
	cr_assert_eq(store_trim(zs, &(struct store_trim_options){ .now = time(NULL) + 10,
	                                                        .max_bytes = 1 }, &res), STORE_OK);
	cr_assert_eq(res.removed_objects, 1);
	cr_assert_eq(res.removed_bytes, (uint64_t)st.st_size);
	cr_assert(!has_file(id, true));
	free(a);
}

/* store_sink: count the bytes into the uint64_t ctx. */
static enum store_result count_sink(void *ctx, const void *buf, size_t n)
{
	(void)buf;
	*(uint64_t *)ctx += n;
	return STORE_OK;
}

Test(store_compress, the_decoder_takes_frames_in_any_pieces_and_refuses_garbage)
{
	char *a = text_bytes(70000, 10);
	size_t cap = ZSTD_compressBound(70000), len;
	char *z = malloc(cap);
	struct store_unzstd *u = store_unzstd_new(0);
	uint64_t got = 0;

	len = ZSTD_compress(z, cap, a, 70000, 1);
	cr_assert(!ZSTD_isError(len));
	for (size_t at = 0; at < len; at += 7)
		cr_assert_eq(store_unzstd_feed(u, z + at, len - at < 7 ? len - at : 7, count_sink,
		                               &got), STORE_OK);
	cr_assert(store_unzstd_complete(u));
	cr_assert_eq(got, 70000);
	store_unzstd_free(u);
	u = store_unzstd_new(0);
	cr_assert_eq(store_unzstd_feed(u, a, 1000, count_sink, &got), STORE_BAD_ENCODING);
	store_unzstd_free(u);
	u = store_unzstd_new(0);
	cr_assert_eq(store_unzstd_feed(u, z, len / 2, count_sink, &got), STORE_OK);
	cr_assert(!store_unzstd_complete(u), "half a frame is not a whole body");
	store_unzstd_free(u);
	free(z);
	free(a);
}
