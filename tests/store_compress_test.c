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
	zs = store_open(fixture_dir,
	                &(struct store_options){ .compression_level = 3, .compress_raw_puts = true },
	                &cause);
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

Test(store_compress, a_frame_that_fills_the_decoder_block_exactly_is_whole)
{
	/* Multiples of zstd's 128 KiB block: the last output fills the decoder's block exactly. */
	for (size_t n = 128 * 1024; n <= 1024 * 1024; n *= 2) {
		char *a = text_bytes(n, 11);
		size_t cap = ZSTD_compressBound(n), len;
		char *z = malloc(cap);
		struct store_unzstd *u = store_unzstd_new(0);
		uint64_t got = 0;

		len = ZSTD_compress(z, cap, a, n, 3);
		cr_assert(!ZSTD_isError(len));
		cr_assert_eq(store_unzstd_feed(u, z, len, count_sink, &got), STORE_OK);
		cr_assert(store_unzstd_complete(u), "a whole frame of %zu bytes taken as cut short", n);
		cr_assert_eq(got, n);
		store_unzstd_free(u);
		free(z);
		free(a);
	}
}

/* buf compressed by a client at level, as one frame; *len its length. The caller frees it. */
static char *client_frames(const char *buf, size_t n, int level, size_t *len)
{
	size_t cap = ZSTD_compressBound(n);
	char *z = malloc(cap);

	*len = ZSTD_compress(z, cap, buf, n, level);
	cr_assert(!ZSTD_isError(*len));
	return z;
}

/* Put a zstd stream (len bytes of z) as object id into s, in pieces of step bytes. */
static enum store_result put_stream(struct store *s, const char *id, const char *z, size_t len,
                                    size_t step, int64_t raw_size)
{
	struct store_put *p;
	enum store_result r = store_put_begin(s, STORE_CAS, id, 0, &p);

	cr_assert_eq(r, STORE_OK);
	cr_assert_eq(store_put_take_zstd(p), STORE_OK);
	for (size_t at = 0; at < len && r == STORE_OK; at += step)
		r = store_put_write(p, z + at, len - at < step ? len - at : step);
	if (r != STORE_OK) {
		store_put_abort(p);
		return r;
	}
	return store_put_commit(p, raw_size);
}

/* The whole file of id's object of that form; *len its length. The caller frees it. */
static char *file_bytes(const char *id, bool zst, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	char *b;
	int fd;

	file_of(id, zst, path);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "no %s", path);
	cr_assert_eq(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	cr_assert_eq(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

Test(store_compress, a_zstd_stream_is_kept_as_it_came)
{
	size_t n = 100000, len, flen, both;
	char *body = text_bytes(n, 20), *z = client_frames(body, n, 1, &len), *f, *two;
	char id[STORE_ID_LEN + 1], id2[STORE_ID_LEN + 1];
	unsigned char h[STORE_ZST_HEADER] = { 0x50, 0x2A, 0x4D, 0x18, 8 };
	uint64_t size;

	fixture_sha256(body, n, id);
	cr_assert_eq(put_stream(zs, id, z, len, 999, (int64_t)n), STORE_OK);
	cr_assert(has_file(id, true) && !has_file(id, false));
	f = file_bytes(id, true, &flen);
	cr_assert_eq(flen, STORE_ZST_HEADER + len, "the size header, then the client's frames");
	memcpy(&size, f + 8, sizeof size);
	cr_assert(memcmp(f, h, 8) == 0 && size == n);
	cr_assert(memcmp(f + STORE_ZST_HEADER, z, len) == 0, "the frames as they came");
	assert_reads(zs, id, body, n);
	/* Two frames, then an empty one and a skippable one: kept whole, read as the object. */
	two = malloc(2 * len + 64);
	both = ZSTD_compress(two, 2 * len + 64, body, n / 2, 3);
	both += ZSTD_compress(two + both, 2 * len, body + n / 2, n - n / 2, 3);
	both += ZSTD_compress(two + both, 64, "", 0, 3);
	memcpy(two + both, h, sizeof h);
	both += sizeof h;
	fixture_sha256(body, n, id2);
	store_remove(zs, STORE_CAS, id2);
	cr_assert_eq(put_stream(zs, id2, two, both, 4096, -1), STORE_OK);
	assert_reads(zs, id2, body, n);
	free(f);
	/* A stream that opens with a size header of its own (a .zst file as it is) gets no second. */
	f = file_bytes(id2, true, &flen);
	store_remove(zs, STORE_CAS, id2);
	cr_assert_eq(put_stream(zs, id2, f, flen, 5, (int64_t)n), STORE_OK);
	free(two);
	two = file_bytes(id2, true, &both);
	cr_assert_eq(both, flen);
	cr_assert(memcmp(two, f, flen) == 0);
	free(two);
	free(f);
	free(z);
	free(body);
}

Test(store_compress, a_wrong_id_or_a_broken_stream_stores_nothing)
{
	size_t n = 50000, len;
	char *body = text_bytes(n, 21), *z = client_frames(body, n, 3, &len);
	char id[STORE_ID_LEN + 1], other[STORE_ID_LEN + 1];

	fixture_sha256(body, n, id);
	fixture_sha256(body, n - 1, other);
	cr_assert_eq(put_stream(zs, other, z, len, 1000, -1), STORE_HASH_MISMATCH);
	cr_assert_eq(put_stream(zs, id, z, len, 1000, (int64_t)n + 1), STORE_SIZE_MISMATCH);
	cr_assert_eq(put_stream(zs, id, z, len - 3, 1000, -1), STORE_BAD_ENCODING,
	             "a stream that stops inside a frame");
	z[len / 2] ^= 0x55;
	cr_assert_eq(put_stream(zs, id, z, len, 1000, -1), STORE_BAD_ENCODING);
	cr_assert_eq(put_stream(zs, id, body, 4000, 1000, -1), STORE_BAD_ENCODING, "not zstd");
	cr_assert(!has_file(id, true) && !has_file(id, false));
	cr_assert(!has_file(other, true) && !has_file(other, false));
	cr_assert_eq(store_put_bytes(zs, STORE_CAS, id, body, n), STORE_OK, "the store still takes it");
	free(z);
	free(body);
}

Test(store_compress, small_or_poorly_compressed_streams_are_kept_raw)
{
	char *tiny = text_bytes(STORE_COMPRESS_MIN - 1, 22), *noise = noise_bytes(20000, 23);
	char *text = text_bytes(30000, 24), *z, *f;
	char tiny_id[STORE_ID_LEN + 1], noise_id[STORE_ID_LEN + 1], text_id[STORE_ID_LEN + 1];
	size_t len, flen;

	fixture_sha256(tiny, STORE_COMPRESS_MIN - 1, tiny_id);
	z = client_frames(tiny, STORE_COMPRESS_MIN - 1, 19, &len);
	cr_assert_eq(put_stream(zs, tiny_id, z, len, 3, -1), STORE_OK);
	cr_assert(has_file(tiny_id, false) && !has_file(tiny_id, true));
	free(z);
	fixture_sha256(noise, 20000, noise_id);
	z = client_frames(noise, 20000, 3, &len);
	cr_assert_eq(put_stream(zs, noise_id, z, len, 7000, 20000), STORE_OK);
	cr_assert(has_file(noise_id, false) && !has_file(noise_id, true));
	f = file_bytes(noise_id, false, &flen);
	cr_assert(flen == 20000 && memcmp(f, noise, flen) == 0, "the decoded bytes");
	free(f);
	free(z);
	/* A store without compression keeps even a compressible stream raw. */
	fixture_sha256(text, 30000, text_id);
	z = client_frames(text, 30000, 3, &len);
	cr_assert_eq(put_stream(fixture_store, text_id, z, len, 2000, 30000), STORE_OK);
	cr_assert(has_file(text_id, false) && !has_file(text_id, true));
	assert_reads(fixture_store, text_id, text, 30000);
	free(z);
	free(text);
	free(noise);
	free(tiny);
}

Test(store_compress, the_limit_caps_the_decoded_bytes_and_the_stream)
{
	size_t n = 64000, len;
	char *body = text_bytes(n, 25), *z = client_frames(body, n, 3, &len), *pad;
	unsigned char skip[8] = { 0x51, 0x2A, 0x4D, 0x18 };
	uint32_t skip_len = 200000;
	char id[STORE_ID_LEN + 1];
	struct store_put *p;

	fixture_sha256(body, n, id);
	cr_assert_eq(store_put_begin(zs, STORE_CAS, id, 1000, &p), STORE_OK);
	cr_assert_eq(store_put_take_zstd(p), STORE_OK);
	cr_assert_eq(store_put_write(p, z, len), STORE_TOO_LARGE);
	store_put_abort(p);
	/* Small frames padded with a long skippable frame: refused before the padding is kept. */
	pad = calloc(1, sizeof skip + skip_len);
	memcpy(skip + 4, &skip_len, sizeof skip_len);
	memcpy(pad, skip, sizeof skip);
	cr_assert_eq(store_put_begin(zs, STORE_CAS, id, n, &p), STORE_OK);
	cr_assert_eq(store_put_take_zstd(p), STORE_OK);
	cr_assert_eq(store_put_write(p, z, len), STORE_OK);
	cr_assert_eq(store_put_write(p, pad, sizeof skip + skip_len), STORE_TOO_LARGE);
	store_put_abort(p);
	cr_assert(!has_file(id, true) && !has_file(id, false));
	free(pad);
	free(z);
	free(body);
}
