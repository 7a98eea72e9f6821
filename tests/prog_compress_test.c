/*
 * prog_compress_test.c: the helper's zstd on the wire (issue 17): against a
 * compressing cachegate its uploads arrive compressed and decode right, and
 * what it gets is byte for byte the output; against --compression none and
 * against a server that never says Accept-Encoding: zstd (in this process)
 * its uploads are raw; a zstd answer is decoded and checked; a refused
 * compressed upload goes again raw, and so do the later ones; and how an
 * answer's Accept-Encoding is read.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <zstd.h>

#include "proghelper/local.h"
#include "tests/prog_remote_fixture.h"
#include "wire/encoding.h"
#include "wire/wire.h"

TestSuite(prog_compress, .init = remote_fixture_setup, .fini = remote_fixture_teardown, .timeout = 60);

#define OUTPUT_BYTES 1000000

/* A compressible output of OUTPUT_BYTES (and a NUL): numbered lines of text, as build outputs compress. */
static char *output_make(void)
{
	char *b = malloc(OUTPUT_BYTES + 1);
	size_t n = 0;

	cr_assert_not_null(b);
	for (int i = 0; n < OUTPUT_BYTES; i++) {
		char line[64];
		int k = snprintf(line, sizeof line, "symbol %d of package runtime/internal\n", i % 5000);
		size_t take = (size_t)k < OUTPUT_BYTES - n ? (size_t)k : OUTPUT_BYTES - n;
		memcpy(b + n, line, take);
		n += take;
	}
	b[OUTPUT_BYTES] = '\0';
	return b;
}

/* Keep what curl brings in a bounded buffer. */
struct text {
	char buf[65536];
	size_t len;
};

static size_t text_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct text *t = arg;
	size_t n = size * nmemb;

	if (n > sizeof t->buf - 1 - t->len)
		return 0;
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	t->buf[t->len] = '\0';
	return n;
}

/* The value of counter name in the gateway's /metrics. */
static unsigned long long metric(const char *name)
{
	static struct text t;
	char u[128], *at;
	size_t len = strlen(name);
	CURL *e = curl_easy_init();

	t.len = 0;
	snprintf(u, sizeof u, "%s/metrics", url);
	curl_easy_setopt(e, CURLOPT_URL, u);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, text_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
	cr_assert_eq(curl_easy_perform(e), CURLE_OK);
	curl_easy_cleanup(e);
	for (at = t.buf; (at = strstr(at, name)) != NULL; at += len)
		if ((at == t.buf || at[-1] == '\n') && at[len] == ' ')
			return strtoull(at + len + 1, NULL, 10);
	cr_assert_fail("no %s in /metrics", name);
	return 0;
}

/* The file at the DiskPath of a hit on e's action through r holds exactly body. */
static void ask_and_compare(struct remote *r, const struct go_entry *e, const char *body)
{
	json_t *j = ask(r, 1, e->action);
	const char *path = json_string_value(json_object_get(j, "DiskPath"));
	char *got = malloc(OUTPUT_BYTES + 1);
	ssize_t n;
	int fd;

	cr_assert_not_null(path, "not a hit");
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	n = read(fd, got, OUTPUT_BYTES + 1);
	close(fd);
	cr_assert_eq(n, (ssize_t)e->size);
	cr_assert_eq(memcmp(got, body, (size_t)n), 0, "the output is not byte for byte right");
	free(got);
	json_decref(j);
}

/* Upload body from a new store "a" through a client of url; returns its entry in *e. */
static void upload_one(const char *body, unsigned char seed, struct go_entry *e)
{
	struct store *a = store_named("a");
	struct remote *r = client(a, NULL, false);

	local_put(a, body, OUTPUT_BYTES, seed, e);
	cr_assert_eq(remote_upload(r, e), REMOTE_QUEUED);
	remote_stop(r, 20000);
	store_close(a);
	cr_assert_eq(atomic_load(&counters.uploads), 1, "the upload did not finish");
	cr_assert_eq(atomic_load(&counters.bytes_up_raw), OUTPUT_BYTES + GO_ENTRY_LEN, "%lu raw bytes up",
	             (unsigned long)atomic_load(&counters.bytes_up_raw));
}

/* Get e's action into a new store "b" through a client of url: a hit, byte for byte. */
static void get_one(const struct go_entry *e, const char *body)
{
	struct store *b = store_named("b");
	struct remote *r = client(b, NULL, false);

	memset(&counters, 0, sizeof counters);
	ask_and_compare(r, e, body);
	remote_stop(r, 10000);
	store_close(b);
	cr_assert_eq(atomic_load(&counters.bytes_down_raw), OUTPUT_BYTES);
}

Test(prog_compress, uploads_to_a_compressing_gateway_arrive_compressed_and_gets_are_right)
{
	static const char *const args[] = { "--compression", "zstd", NULL };
	char *body = output_make();
	struct go_entry e;

	gateway_start(args);
	upload_one(body, 0x91, &e);
	/* Compressed on the wire, both as the helper counts it and as the gateway does. */
	cr_assert_lt(atomic_load(&counters.bytes_up), OUTPUT_BYTES / 4, "%lu bytes sent",
	             (unsigned long)atomic_load(&counters.bytes_up));
	cr_assert_lt(metric("cachegate_received_bytes_total"), OUTPUT_BYTES / 4);
	cr_assert_eq(metric("cachegate_cas_stored_raw_bytes_total"), OUTPUT_BYTES);
	get_one(&e, body);
	free(body);
}

/* The bytes a client at level sends to upload body (a new output each seed) to the gateway. */
static unsigned long long bytes_up_at_level(const char *body, int level, unsigned char seed)
{
	struct remote_options o = { .url = url, .compression_level = level };
	struct store *a = store_named(seed == 0x93 ? "a" : "b");
	char *cause = NULL;
	struct remote *r;
	struct go_entry e;
	unsigned long long sent;

	memset(&counters, 0, sizeof counters);
	r = remote_start(&o, a, writer, &counters, &cause);
	cr_assert_not_null(r, "%s", cause);
	local_put(a, body, OUTPUT_BYTES, seed, &e);
	cr_assert_eq(remote_upload(r, &e), REMOTE_QUEUED);
	remote_stop(r, 20000);
	store_close(a);
	cr_assert_eq(atomic_load(&counters.uploads), 1, "the upload did not finish");
	cr_assert_eq(atomic_load(&counters.bytes_up_raw), OUTPUT_BYTES + GO_ENTRY_LEN);
	sent = atomic_load(&counters.bytes_up);
	get_one(&e, body);  /* and it comes back byte for byte */
	return sent;
}

Test(prog_compress, the_upload_level_sets_the_bytes_sent_and_kept)
{
	static const char *const args[] = { "--compression", "zstd", NULL };
	char *body = output_make();
	unsigned long long fast, small, kept_fast;

	gateway_start(args);
	fast = bytes_up_at_level(body, 1, 0x93);
	kept_fast = metric("cachegate_cas_stored_disk_bytes_total");
	body[0] = 'X';  /* another output */
	small = bytes_up_at_level(body, 19, 0x94);
	cr_assert_lt(small, fast, "level 19 sent %llu bytes, level 1 %llu", small, fast);
	/* The gateway keeps the client's frames: the object at rest is as small as what came. */
	cr_assert_lt(metric("cachegate_cas_stored_disk_bytes_total") - kept_fast, kept_fast);
	free(body);
}

Test(prog_compress, against_a_gateway_without_compression_uploads_are_raw_and_gets_work)
{
	static const char *const args[] = { "--compression", "none", NULL };
	char *body = output_make();
	struct go_entry e;

	gateway_start(args);
	upload_one(body, 0x92, &e);
	cr_assert_eq(atomic_load(&counters.bytes_up), OUTPUT_BYTES + GO_ENTRY_LEN);
	cr_assert_eq(metric("cachegate_received_bytes_total"), OUTPUT_BYTES + GO_ENTRY_LEN);
	get_one(&e, body);
	free(body);
}

/*
 * A server in this process: HEAD is a miss, PUT /cas is kept (its encoding
 * noted) or, with Content-Encoding: zstd while refuse_zstd, refused with
 * 415; PUT /ac is taken; GET /go/<served_entry's action> answers
 * served_zstd (its frames, when asked for zstd) or else served_body. Every
 * answer says Accept-Encoding: zstd when advertise is set.
 */
static bool advertise, refuse_zstd;
static atomic_int raw_puts, zstd_puts, refused_puts, asked_zstd;
static atomic_ullong put_bytes;
static void *served_zstd;
static size_t served_zstd_len;

/* Answer c with status and no body (a PUT's or a HEAD's answer). */
static enum MHD_Result plain_queue(struct MHD_Connection *c, unsigned status)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (advertise)
		MHD_add_response_header(resp, "Accept-Encoding", "gzip, zstd;q=0.9");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The answer to GET path: a /go hit, compressed when the client asked for zstd. */
static enum MHD_Result plain_get(struct MHD_Connection *c, const char *path)
{
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
	bool zstd = ae != NULL && strstr(ae, WIRE_ZSTD) != NULL;
	struct MHD_Response *resp = served_output(path);

	if (resp != NULL && zstd) {
		char line[GO_ENTRY_LEN + 1];

		atomic_fetch_add(&asked_zstd, 1);
		MHD_destroy_response(resp);
		resp = MHD_create_response_from_buffer(served_zstd_len, served_zstd, MHD_RESPMEM_PERSISTENT);
		go_entry_format(served_entry, line);
		line[GO_ENTRY_LEN - 1] = '\0';
		MHD_add_response_header(resp, WIRE_ENTRY_HEADER, line);
		MHD_add_response_header(resp, "Content-Encoding", WIRE_ZSTD);
	}
	return go_queue(c, resp);
}

static enum MHD_Result plain_answer(void *cls, struct MHD_Connection *c, const char *path, const char *method,
                                    const char *version, const char *data, size_t *data_size, void **state)
{
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
	bool zstd = enc != NULL && strcasecmp(enc, WIRE_ZSTD) == 0;

	(void)cls, (void)version, (void)data;
	if (strcmp(method, "GET") == 0)
		return plain_get(c, path);
	if (strcmp(method, "PUT") != 0)
		return plain_queue(c, 404);
	if (*state == NULL) {
		*state = c;
		if (zstd && refuse_zstd && strncmp(path, "/cas/", 5) == 0) {
			atomic_fetch_add(&refused_puts, 1);
			return plain_queue(c, 415);
		}
		return MHD_YES;
	}
	if (*data_size > 0) {
		if (strncmp(path, "/cas/", 5) == 0)
			atomic_fetch_add(&put_bytes, *data_size);
		*data_size = 0;
		return MHD_YES;
	}
	if (strncmp(path, "/cas/", 5) == 0)
		atomic_fetch_add(zstd ? &zstd_puts : &raw_puts, 1);
	return plain_queue(c, 200);
}

/* Upload n outputs (seeds from 0xa0) through a client of the server in this process. */
static void upload_to_plain(const char *body, int n)
{
	struct store *a = store_named("a");
	struct remote *r = client(a, NULL, false);
	struct go_entry e;
	char *copy = malloc(OUTPUT_BYTES);

	/* One after the other: the first answer decides how the next goes. */
	for (int i = 0; i < n; i++) {
		memcpy(copy, body, OUTPUT_BYTES);
		copy[0] = (char)('A' + i);  /* another output each time */
		local_put(a, copy, OUTPUT_BYTES, (unsigned char)(0xa0 + i), &e);
		cr_assert_eq(remote_upload(r, &e), REMOTE_QUEUED);
		for (int k = 0; k < 2000 && atomic_load(&counters.uploads) < (uint64_t)i + 1; k++)
			usleep(10000);
	}
	remote_stop(r, 20000);
	store_close(a);
	free(copy);
	cr_assert_eq(atomic_load(&counters.uploads), (uint64_t)n, "not every upload finished");
}

Test(prog_compress, a_server_that_never_says_it_takes_zstd_gets_raw_uploads)
{
	char *body = output_make();
	struct MHD_Daemon *d = fake_server_start(plain_answer);

	upload_to_plain(body, 2);
	MHD_stop_daemon(d);
	cr_assert_eq(atomic_load(&raw_puts), 2);
	cr_assert_eq(atomic_load(&zstd_puts), 0);
	cr_assert_eq(atomic_load(&put_bytes), 2ull * OUTPUT_BYTES);
	free(body);
}

Test(prog_compress, a_refused_compressed_upload_goes_again_raw_and_so_do_the_later_ones)
{
	char *body = output_make();
	struct MHD_Daemon *d;

	advertise = refuse_zstd = true;
	d = fake_server_start(plain_answer);
	upload_to_plain(body, 2);
	MHD_stop_daemon(d);
	cr_assert_eq(atomic_load(&refused_puts), 1, "compressed once, then raw for the run");
	cr_assert_eq(atomic_load(&raw_puts), 2);
	free(body);
}

Test(prog_compress, a_zstd_answer_is_decoded_and_checked)
{
	char *body = output_make();
	struct go_entry e;
	struct MHD_Daemon *d;
	struct store *b;
	struct remote *r;

	entry_make(0xb1, body, OUTPUT_BYTES, &e);
	served_entry = &e;
	served_body = body;
	served_zstd = malloc(ZSTD_compressBound(OUTPUT_BYTES));
	served_zstd_len = ZSTD_compress(served_zstd, ZSTD_compressBound(OUTPUT_BYTES), body, OUTPUT_BYTES, 3);
	cr_assert(!ZSTD_isError(served_zstd_len));
	d = fake_server_start(plain_answer);
	b = store_named("b");
	r = client(b, NULL, false);
	ask_and_compare(r, &e, body);
	/* Another output, whose frames decode to bytes one bit off it: a miss. */
	body[1000] ^= 1;
	entry_make(0xb2, body, OUTPUT_BYTES, &e);
	body[2000] ^= 1;
	served_zstd_len = ZSTD_compress(served_zstd, ZSTD_compressBound(OUTPUT_BYTES), body, OUTPUT_BYTES, 3);
	{
		json_t *j = ask(r, 2, e.action);
		cr_assert(json_is_true(json_object_get(j, "Miss")), "a wrong output was taken");
		json_decref(j);
	}
	remote_stop(r, 10000);
	MHD_stop_daemon(d);
	store_close(b);
	cr_assert_eq(atomic_load(&asked_zstd), 2, "the helper did not ask for zstd");
	cr_assert_lt(atomic_load(&counters.bytes_down), OUTPUT_BYTES / 4);
	cr_assert_eq(atomic_load(&counters.bytes_down_raw), 2 * OUTPUT_BYTES);
	free(served_zstd);
	free(body);
}

Test(prog_compress, an_accept_encoding_names_zstd_only_with_a_weight_above_zero)
{
	static const struct {
		const char *value;
		bool zstd;
	} cases[] = {
		{ " zstd\r\n", true },          { "gzip, zstd;q=0.9", true }, { "br,ZSTD ; Q=0.5", true },
		{ "zstd;q=0", false },           { "gzip;q=1, zstd; q=0.000", false },
		{ "zstdx, gzip", false },        { "gzip", false },            { "", false },
		{ "x-zstd, zstd", true },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_assert_eq(wire_accepts_zstd(cases[i].value, strlen(cases[i].value)), cases[i].zstd, "\"%s\"",
		             cases[i].value);
	/* The value is read within its length, not up to a NUL. */
	cr_assert_not(wire_accepts_zstd("gzip, zstd", 6));
}
