/*
 * gateway_compress_test.c: zstd at rest and on the wire for /cas. Clients
 * that accept zstd get a compressed object's file; raw clients get the
 * bytes exactly as before; PUTs may send zstd; raw and compressed objects
 * live side by side; a damaged frame is never served whole.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <zstd.h>

#include "store/store.h"
#include "tests/gateway_fixture.h"

static struct gw g;
/* The gateway flags that compress every upload, raw ones too (the default keeps those raw). */
static const char *const zstd[] = { "--compression", "zstd", "--compress-raw-uploads", NULL };

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_compress, .fini = teardown, .timeout = 120);

static const char *const want_zstd[] = { "Accept-Encoding: gzip, zstd", NULL };

/* One object: its bytes, id, path and files. */
struct object {
	char *body;
	size_t size;
	char id[65];
	char path[80];       /* "/cas/<id>" */
	char raw[1024];      /* its raw file in the store */
	char zst[1030];      /* its compressed file */
};

/* Make a compressible object of n bytes from seed (nothing stored). */
static void make_text(struct object *o, size_t n, unsigned seed)
{
	o->size = n;
	o->body = malloc(n);
	for (size_t i = 0; i < n; i++)
		o->body[i] = "package main; func f() {}\n"[(i + seed) % 26] + (char)((i / 101) % 4);
	gw_sha256_hex(o->body, n, o->id);
	snprintf(o->path, sizeof(o->path), "/cas/%s", o->id);
	snprintf(o->raw, sizeof(o->raw), "%s/cas/%.2s/%s", g.store, o->id, o->id);
	snprintf(o->zst, sizeof(o->zst), "%s.zst", o->raw);
}

/* Bytes of a file, or -1 when it is not there. */
static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Decode a whole zstd body; fails the test unless it is exactly o's bytes. */
static void assert_decodes_to(const struct gw_reply *r, const struct object *o)
{
	char *raw = malloc(o->size + 1);
	size_t n = ZSTD_decompress(raw, o->size + 1, r->body, r->len);

	cr_assert(!ZSTD_isError(n), "the body is not zstd: %s", ZSTD_getErrorName(n));
	cr_assert_eq(n, o->size);
	cr_assert(memcmp(raw, o->body, n) == 0);
	free(raw);
}

/* GET o as a raw client: fails unless the answer is its bytes exactly, without encoding. */
static void assert_raw_get(const struct object *o)
{
	struct gw_reply r;
	char enc[32];

	cr_assert_eq(gw_http(&g, "GET", o->path, NULL, 0, NULL, &r), 200);
	cr_assert_eq(r.len, o->size);
	cr_assert(memcmp(r.body, o->body, o->size) == 0);
	cr_assert_not(gw_header_value(&r, "Content-Encoding", enc, sizeof(enc)));
	gw_reply_free(&r);
}

/* PUT o's bytes as one zstd frame, with extra headers; the status. */
static long put_zstd(const struct object *o, const char *path, bool break_it, const char *size)
{
	size_t cap = ZSTD_compressBound(o->size), n;
	char *z = malloc(cap), digest[64];
	const char *headers[] = { "Content-Encoding: zstd", digest, NULL };
	long status;

	n = ZSTD_compress(z, cap, o->body, o->size, 3);
	cr_assert(!ZSTD_isError(n));
	if (break_it)
		n /= 2;  /* the body stops inside the frame */
	snprintf(digest, sizeof(digest), "X-Digest-SizeBytes: %s", size);
	if (size == NULL)
		headers[1] = NULL;
	status = gw_http(&g, "PUT", path, z, n, headers, NULL);
	free(z);
	return status;
}

Test(gateway_compress, zstd_clients_get_the_stored_file_and_raw_clients_the_bytes)
{
	struct object o;
	struct gw_reply r;
	char v[64];

	gw_start(&g, zstd, NULL);
	make_text(&o, 300000, 1);
	cr_assert_eq(gw_http(&g, "PUT", o.path, o.body, o.size, NULL, NULL), 201);
	cr_assert_eq(file_size(o.raw), -1);
	cr_assert_lt(file_size(o.zst), (long long)o.size / 4);
	for (int pass = 0; pass < 2; pass++) {  /* known good after the first: sendfile */
		cr_assert_eq(gw_http(&g, "GET", o.path, NULL, 0, want_zstd, &r), 200);
		cr_assert(gw_header_value(&r, "Content-Encoding", v, sizeof(v)));
		cr_assert_str_eq(v, "zstd");
		cr_assert(gw_header_value(&r, "Vary", v, sizeof(v)));
		cr_assert_str_eq(v, "Accept-Encoding");
		cr_assert_eq((long long)r.len, file_size(o.zst));
		assert_decodes_to(&r, &o);
		gw_reply_free(&r);
	}
	assert_raw_get(&o);
	/* HEAD: the Content-Length a GET with the same headers would send. */
	cr_assert_eq(gw_http(&g, "HEAD", o.path, NULL, 0, want_zstd, &r), 200);
	cr_assert(gw_header_value(&r, "Content-Length", v, sizeof(v)));
	cr_assert_eq(atoll(v), file_size(o.zst));
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "HEAD", o.path, NULL, 0, NULL, &r), 200);
	cr_assert(gw_header_value(&r, "Content-Length", v, sizeof(v)));
	cr_assert_eq(atoll(v), (long long)o.size);
	gw_reply_free(&r);
	cr_assert_gt(gw_metric(&g, "cachegate_sent_object_bytes_total{encoding=\"zstd\"}"), 0);
	cr_assert_geq(gw_metric(&g, "cachegate_sent_object_bytes_total{encoding=\"identity\"}"),
	              (long long)o.size);
	cr_assert_eq(gw_metric(&g, "cachegate_cas_stored_raw_bytes_total"), (long long)o.size);
	cr_assert_eq(gw_metric(&g, "cachegate_cas_stored_disk_bytes_total"), file_size(o.zst));
	free(o.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_compress, by_default_an_object_stays_in_the_form_it_was_uploaded_in)
{
	struct object raw, packed;
	struct gw_reply r;
	char v[64], size[32];

	gw_start(&g, NULL, NULL);
	make_text(&raw, 300000, 11);
	make_text(&packed, 300000, 12);
	cr_assert_eq(gw_http(&g, "PUT", raw.path, raw.body, raw.size, NULL, NULL), 201);
	cr_assert_eq(file_size(raw.raw), (long long)raw.size, "a raw upload stays a raw file");
	cr_assert_eq(file_size(raw.zst), -1);
	snprintf(size, sizeof(size), "%zu", packed.size);
	cr_assert_eq(put_zstd(&packed, packed.path, false, size), 201);
	cr_assert_eq(file_size(packed.raw), -1);
	cr_assert_lt(file_size(packed.zst), (long long)packed.size / 4, "a zstd upload stays zstd");
	/* A raw file goes out raw even to a client that takes zstd. */
	cr_assert_eq(gw_http(&g, "GET", raw.path, NULL, 0, want_zstd, &r), 200);
	cr_assert_not(gw_header_value(&r, "Content-Encoding", v, sizeof(v)));
	cr_assert_eq(r.len, raw.size);
	cr_assert(memcmp(r.body, raw.body, raw.size) == 0);
	gw_reply_free(&r);
	assert_raw_get(&raw);
	assert_raw_get(&packed);
	free(raw.body);
	free(packed.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_compress, a_small_compressed_object_goes_out_whole_from_memory)
{
	struct object o;
	struct gw_reply r;
	char v[64];

	gw_start(&g, zstd, NULL);
	make_text(&o, 8000, 13);
	cr_assert_eq(gw_http(&g, "PUT", o.path, o.body, o.size, NULL, NULL), 201);
	cr_assert_gt(file_size(o.zst), 0);
	/* The first answer hashes it on the way; the second is read whole, known good. */
	for (int pass = 0; pass < 2; pass++) {
		cr_assert_eq(gw_http(&g, "GET", o.path, NULL, 0, want_zstd, &r), 200);
		cr_assert(gw_header_value(&r, "Content-Encoding", v, sizeof(v)));
		cr_assert_str_eq(v, "zstd");
		cr_assert_eq((long long)r.len, file_size(o.zst));
		assert_decodes_to(&r, &o);
		gw_reply_free(&r);
	}
	assert_raw_get(&o);
	free(o.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_compress, tiny_and_incompressible_objects_stay_raw)
{
	struct object tiny, noise;
	unsigned seed = 7;

	gw_start(&g, zstd, NULL);
	make_text(&tiny, 300, 2);
	make_text(&noise, 100000, 3);
	for (size_t i = 0; i < noise.size; i++) {
		seed = seed * 1664525u + 1013904223u;
		noise.body[i] = (char)(seed >> 24);
	}
	gw_sha256_hex(noise.body, noise.size, noise.id);
	snprintf(noise.path, sizeof(noise.path), "/cas/%s", noise.id);
	snprintf(noise.raw, sizeof(noise.raw), "%s/cas/%.2s/%s", g.store, noise.id, noise.id);
	snprintf(noise.zst, sizeof(noise.zst), "%s.zst", noise.raw);
	cr_assert_eq(gw_http(&g, "PUT", tiny.path, tiny.body, tiny.size, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "PUT", noise.path, noise.body, noise.size, NULL, NULL), 201);
	cr_assert_eq(file_size(tiny.raw), (long long)tiny.size);
	cr_assert_eq(file_size(noise.raw), (long long)noise.size);
	cr_assert_eq(file_size(tiny.zst), -1);
	cr_assert_eq(file_size(noise.zst), -1);
	free(tiny.body);
	free(noise.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_compress, a_zstd_put_is_decoded_checked_and_stored)
{
	struct object o, other;
	char size[32];

	gw_start(&g, zstd, NULL);
	make_text(&o, 200000, 4);
	make_text(&other, 1000, 5);
	snprintf(size, sizeof(size), "%zu", o.size);
	cr_assert_eq(put_zstd(&o, other.path, false, NULL), 400, "a wrong id is refused");
	cr_assert_eq(put_zstd(&o, o.path, true, NULL), 400, "a broken frame is refused");
	cr_assert_eq(put_zstd(&o, o.path, false, "12"), 400, "a wrong size is refused");
	cr_assert_eq(gw_count_files(&g, "cas"), 0, "nothing was stored");
	cr_assert_eq(gw_metric(&g, "cachegate_uploads_rejected_total{reason=\"bad_encoding\"}"), 1);
	cr_assert_eq(put_zstd(&o, o.path, false, size), 201);
	cr_assert_gt(file_size(o.zst), 0);
	assert_raw_get(&o);
	free(o.body);
	free(other.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_compress, only_cas_takes_an_encoded_body)
{
	static const char *const gzip[] = { "Content-Encoding: gzip", NULL };
	struct object o;

	gw_start(&g, zstd, NULL);
	make_text(&o, 2000, 7);
	snprintf(o.path, sizeof(o.path), "/ac/%s", o.id);
	cr_assert_eq(put_zstd(&o, o.path, false, NULL), 415, "an /ac body is never decoded");
	cr_assert_eq(gw_http(&g, "PUT", o.path, o.body, o.size, gzip, NULL), 415);
	cr_assert_eq(gw_count_files(&g, "ac"), 0, "nothing was stored");
	free(o.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_compress, a_zero_weight_refuses_zstd_in_any_case)
{
	static const char *const refused[] = { "Accept-Encoding: zstd;Q=0, gzip", NULL };
	struct object o;
	struct gw_reply r;
	char v[32];

	gw_start(&g, zstd, NULL);
	make_text(&o, 300000, 8);
	cr_assert_eq(gw_http(&g, "PUT", o.path, o.body, o.size, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", o.path, NULL, 0, refused, &r), 200);
	cr_assert_not(gw_header_value(&r, "Content-Encoding", v, sizeof(v)));
	cr_assert_eq(r.len, o.size);
	gw_reply_free(&r);
	free(o.body);
	cr_assert_eq(gw_stop(&g), 0);
}

/* Put o into the gateway's store directly, compressed (level > 0) or raw. */
static void put_direct(const struct object *o, int level)
{
	char *cause = NULL;
	struct store *s = store_open(g.store, &(struct store_options){ .compression_level = level,
	                                                          .compress_raw_puts = true },
	                             &cause);

	cr_assert_not_null(s, "%s", cause ? cause : "?");
	cr_assert_eq(store_put_bytes(s, STORE_CAS, o->id, o->body, o->size), STORE_OK);
	store_close(s);
}

Test(gateway_compress, raw_and_compressed_objects_are_read_side_by_side)
{
	static const char *const none[] = { "--compression", "none", NULL };
	struct object old, packed, fresh;
	struct gw_reply r;
	char v[32];

	gw_start(&g, none, NULL);
	make_text(&old, 20000, 6);
	make_text(&packed, 30000, 7);
	make_text(&fresh, 40000, 8);
	put_direct(&old, 0);         /* a store written before compression */
	put_direct(&packed, 3);      /* and one written by a compressing gateway */
	cr_assert_eq(gw_http(&g, "PUT", fresh.path, fresh.body, fresh.size, NULL, NULL), 201);
	cr_assert_eq(file_size(fresh.raw), (long long)fresh.size, "--compression none writes raw");
	cr_assert_gt(file_size(packed.zst), 0);
	assert_raw_get(&old);
	assert_raw_get(&packed);
	/* A raw object goes raw to a client that accepts zstd too. */
	cr_assert_eq(gw_http(&g, "GET", old.path, NULL, 0, want_zstd, &r), 200);
	cr_assert_not(gw_header_value(&r, "Content-Encoding", v, sizeof(v)));
	cr_assert_eq(r.len, old.size);
	gw_reply_free(&r);
	cr_assert_eq(gw_http(&g, "GET", packed.path, NULL, 0, want_zstd, &r), 200);
	assert_decodes_to(&r, &packed);
	gw_reply_free(&r);
	free(old.body);
	free(packed.body);
	free(fresh.body);
	cr_assert_eq(gw_stop(&g), 0);
}

/* Flip a byte in the middle of path. */
static void flip(const char *path)
{
	int fd = open(path, O_RDWR);
	long long size = file_size(path);
	char c;

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, (off_t)size / 2), 1);
	c ^= 0x5a;
	cr_assert_eq(pwrite(fd, &c, 1, (off_t)size / 2), 1);
	close(fd);
}

Test(gateway_compress, a_damaged_frame_is_never_served_whole)
{
	struct object o[2];
	struct gw_reply r;

	gw_start(&g, zstd, NULL);
	for (int i = 0; i < 2; i++) {
		make_text(&o[i], 400000, 9 + (unsigned)i);
		cr_assert_eq(gw_http(&g, "PUT", o[i].path, o[i].body, o[i].size, NULL, NULL), 201);
		long long stored = file_size(o[i].zst);
		flip(o[i].zst);
		/* The first to a raw client, the second to one that takes the file as stored. */
		long status = gw_http(&g, "GET", o[i].path, NULL, 0, i == 0 ? NULL : want_zstd, &r);
		cr_assert(status != 200 || (long long)r.len < (i == 0 ? (long long)o[i].size : stored),
		          "a damaged object was served whole");
		gw_reply_free(&r);
		cr_assert_eq(file_size(o[i].zst), -1, "the damaged file is still there");
		free(o[i].body);
	}
	cr_assert_eq(gw_metric(&g, "cachegate_damaged_objects_total{found_by=\"read\"}"), 2);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_compress, the_store_counts_bytes_on_disk)
{
	struct object o;
	struct gw_reply r;
	json_t *doc;

	gw_start(&g, zstd, NULL);
	make_text(&o, 500000, 11);
	cr_assert_eq(gw_http(&g, "PUT", o.path, o.body, o.size, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "GET", "/status", NULL, 0, NULL, &r), 200);
	doc = json_loads(r.body, 0, NULL);
	cr_assert_not_null(doc);
	cr_assert_eq(json_integer_value(json_object_get(doc, "bytes_used")), file_size(o.zst));
	cr_assert_eq(json_integer_value(json_object_get(doc, "cas_stored_raw_bytes")),
	             (json_int_t)o.size);
	json_decref(doc);
	gw_reply_free(&r);
	free(o.body);
	cr_assert_eq(gw_stop(&g), 0);
}

/* o compressed at level as one frame, as a client sends it; *n its length. The caller frees it. */
static char *frames_of(const struct object *o, int level, size_t *n)
{
	char *z = malloc(ZSTD_compressBound(o->size));

	*n = ZSTD_compress(z, ZSTD_compressBound(o->size), o->body, o->size, level);
	cr_assert(!ZSTD_isError(*n));
	return z;
}

/* The bytes of a file from offset on; *n their length. The caller frees them. */
static char *file_from(const char *path, long off, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *b;

	cr_assert_not_null(f, "no %s", path);
	fseek(f, 0, SEEK_END);
	*n = (size_t)(ftell(f) - off);
	b = malloc(*n + 1);
	fseek(f, off, SEEK_SET);
	cr_assert_eq(fread(b, 1, *n, f), *n);
	fclose(f);
	return b;
}

Test(gateway_compress, a_zstd_put_keeps_the_clients_frames)
{
	static const char *const enc[] = { "Content-Encoding: zstd", NULL };
	struct object o, tiny;
	struct gw_reply r;
	size_t n, kept;
	char *z, *file;

	gw_start(&g, zstd, NULL);
	make_text(&o, 300000, 12);
	make_text(&tiny, 300, 13);
	z = frames_of(&o, 1, &n);
	z[n / 2] ^= 0x5a;
	cr_assert_eq(gw_http(&g, "PUT", o.path, z, n, enc, NULL), 400, "a damaged frame");
	cr_assert_eq(gw_count_files(&g, "cas"), 0, "nothing was stored");
	z[n / 2] ^= 0x5a;
	cr_assert_eq(gw_http(&g, "PUT", o.path, z, n, enc, NULL), 201);
	file = file_from(o.zst, 16, &kept);
	cr_assert(kept == n && memcmp(file, z, n) == 0, "the level-1 frames as they came");
	free(file);
	assert_raw_get(&o);
	cr_assert_eq(gw_http(&g, "GET", o.path, NULL, 0, want_zstd, &r), 200);
	assert_decodes_to(&r, &o);
	gw_reply_free(&r);
	free(z);
	z = frames_of(&tiny, 3, &n);
	cr_assert_eq(gw_http(&g, "PUT", tiny.path, z, n, enc, NULL), 201);
	cr_assert_eq(file_size(tiny.zst), -1, "a small object stays raw");
	cr_assert_eq(file_size(tiny.raw), (long long)tiny.size);
	assert_raw_get(&tiny);
	free(z);
	free(tiny.body);
	free(o.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_compress, a_zstd_put_to_a_gateway_without_compression_is_kept_raw)
{
	static const char *const enc[] = { "Content-Encoding: zstd", NULL };
	static const char *const none[] = { "--compression", "none", NULL };
	struct object o;
	size_t n;
	char *z;

	gw_start(&g, none, NULL);
	make_text(&o, 100000, 14);
	z = frames_of(&o, 3, &n);
	cr_assert_eq(gw_http(&g, "PUT", o.path, z, n, enc, NULL), 201);
	cr_assert_eq(file_size(o.zst), -1);
	cr_assert_eq(file_size(o.raw), (long long)o.size);
	assert_raw_get(&o);
	free(z);
	free(o.body);
	cr_assert_eq(gw_stop(&g), 0);
}
