/*
 * prog_framing_test.c: the helper's input framing and streamed bodies: request
 * lines, base64 body lines and empty lines in sequence, as the go command
 * writes them, and what a broken or oversized stream does.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proghelper/body.h"
#include "proghelper/input.h"
#include "proghelper/protocol.h"
#include "tests/store_fixture.h"

TestSuite(prog_framing, .init = fixture_open, .fini = fixture_close);

/* An input reading text (through a temporary file) with a buf-byte buffer. */
static struct input *input_of(const char *text, size_t len, size_t buf)
{
	FILE *f = tmpfile();
	struct input *in;

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fflush(f), 0);
	rewind(f);
	in = input_open(dup(fileno(f)), buf);
	fclose(f);
	cr_assert_not_null(in);
	return in;
}

/* Close the reader's descriptor and free it. */
static void input_done(struct input *in)
{
	close(in->fd);
	input_free(in);
}

/* The base64 of body in a JSON string line, as the go command writes it. */
static char *body_line(const unsigned char *body, size_t n)
{
	char *line = malloc(4 * ((n + 2) / 3) + 4);

	cr_assert_not_null(line);
	line[0] = '"';
	int k = EVP_EncodeBlock((unsigned char *)line + 1, body, (int)n);
	line[1 + k] = '"';
	line[2 + k] = '\n';
	line[3 + k] = '\0';
	return line;
}

/* Read the next non-empty line and decode it. */
static enum protocol_result next_request(struct input *in, struct protocol_request *req)
{
	char *line, *cause = NULL;
	size_t len;
	enum protocol_result r;

	do
		cr_assert_eq(input_line(in, PROTOCOL_LINE_MAX, &line, &len), INPUT_OK);
	while (len == 0);
	r = protocol_decode_request(line, len, req, &cause);
	free(cause);
	return r;
}

/* Stream a body of size bytes into a CAS put of hex id; return the commit's result. */
static enum store_result put_body(struct input *in, const char *hex, int64_t size, enum body_result want)
{
	struct store_put *p;
	char *cause = NULL;
	enum body_result br;

	cr_assert_eq(store_put_begin(fixture_store, STORE_CAS, hex, (uint64_t)size, &p), STORE_OK);
	br = body_read(in, p, size, &cause);
	cr_assert_eq(br, want, "body_read: %d (%s)", br, cause != NULL ? cause : "");
	free(cause);
	if (br != BODY_OK) {
		store_put_abort(p);
		return STORE_IO_ERROR;
	}
	return store_put_commit(p, size);
}

/* A zero-size put, as the helper does it: no body line, an empty commit. */
static void put_zero(const char *hex)
{
	struct store_put *p;

	cr_assert_eq(store_put_begin(fixture_store, STORE_CAS, hex, 0, &p), STORE_OK);
	cr_assert_eq(store_put_commit(p, 0), STORE_OK);
}

Test(prog_framing, requests_bodies_and_empty_lines_in_sequence)
{
	enum { N = 100000 };
	unsigned char *body = malloc(N), a[32];
	char hex[STORE_ID_LEN + 1], ab[45], ob[45], empty_b64[45];
	unsigned char o[32], empty[32];
	char *line, *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	struct protocol_request req;
	struct store_object obj;
	struct input *in;

	for (size_t i = 0; i < N; i++)
		body[i] = (unsigned char)(i * 7 + i / 251);
	EVP_Digest(body, N, o, NULL, EVP_sha256(), NULL);
	EVP_Digest("", 0, empty, NULL, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)ob, o, 32);
	EVP_EncodeBlock((unsigned char *)empty_b64, empty, 32);
	memset(a, 1, sizeof a);
	EVP_EncodeBlock((unsigned char *)ab, a, 32);
	line = body_line(body, N);
	fprintf(f, "{\"ID\":1,\"Command\":\"put\",\"ActionID\":\"%s\",\"OutputID\":\"%s\",\"BodySize\":%d}\n\n%s",
	        ab, ob, N, line);
	fprintf(f, "{\"ID\":2,\"Command\":\"put\",\"ActionID\":\"%s\",\"OutputID\":\"%s\"}\n\n", ab, empty_b64);
	fprintf(f, "{\"ID\":3,\"Command\":\"close\"}\n\n");
	fclose(f);
	free(line);

	/* A buffer far smaller than the body forces many refills mid-line. */
	in = input_of(text, tlen, 1024);
	cr_assert_eq(next_request(in, &req), PROTOCOL_OK);
	cr_assert_eq(req.id, 1);
	store_hex(o, hex);
	cr_assert_eq(put_body(in, hex, req.body_size, BODY_OK), STORE_OK);
	cr_assert_eq(store_get(fixture_store, STORE_CAS, hex, N, &obj), STORE_OK);
	close(obj.fd);

	cr_assert_eq(next_request(in, &req), PROTOCOL_OK);
	cr_assert_eq(req.id, 2);
	cr_assert_eq(req.body_size, 0, "a zero-size put has no body line");
	store_hex(empty, hex);
	put_zero(hex);
	cr_assert_eq(store_stat(fixture_store, STORE_CAS, hex, NULL), STORE_OK);

	cr_assert_eq(next_request(in, &req), PROTOCOL_OK);
	cr_assert_eq(req.cmd, COMMAND_CLOSE);
	cr_assert_eq(input_line(in, PROTOCOL_LINE_MAX, &line, &tlen), INPUT_OK);
	cr_assert_eq(tlen, 0);
	cr_assert_eq(input_line(in, PROTOCOL_LINE_MAX, &line, &tlen), INPUT_EOF);
	input_done(in);
	free(text);
	free(body);
}

Test(prog_framing, escaped_slashes_are_base64_slashes)
{
	unsigned char body[3] = { 0xff, 0xff, 0xff }, o[32];
	char hex[STORE_ID_LEN + 1];
	const char *text = "\n\"\\/\\/\\/\\/\"\n{\"ID\":2,\"Command\":\"close\"}\n";
	struct protocol_request req;
	struct input *in = input_of(text, strlen(text), 64);

	EVP_Digest(body, 3, o, NULL, EVP_sha256(), NULL);
	store_hex(o, hex);
	cr_assert_eq(put_body(in, hex, 3, BODY_OK), STORE_OK);
	cr_assert_eq(next_request(in, &req), PROTOCOL_OK);
	cr_assert_eq(req.id, 2);
	input_done(in);
}

Test(prog_framing, bad_bodies_are_consumed_and_the_stream_goes_on)
{
	static const char *const bodies[] = {
		"\"AAA*\"\n",          /* not base64 */
		"\"AA AA\"\n",         /* whitespace */
		"\"AAAA-AAA\"\n",      /* '-' would end OpenSSL's decoding early */
		"\"AAAAA\"\n",         /* not a multiple of 4 */
		"\"AA==AAAA\"\n",      /* data after padding */
		"\"AAAAAAAA\"\n",      /* 6 bytes, not 3 */
		"\"AA==\"\n",          /* 1 byte, not 3 */
		"\"\\n\"\n",           /* an escape other than \/ */
	};
	unsigned char o[32];
	char hex[STORE_ID_LEN + 1];

	memset(o, 0x11, sizeof o);
	store_hex(o, hex);
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		char text[128];
		struct protocol_request req;
		struct input *in;

		snprintf(text, sizeof text, "\n%s{\"ID\":9,\"Command\":\"close\"}\n", bodies[i]);
		in = input_of(text, strlen(text), 64);
		put_body(in, hex, 3, BODY_BAD);
		cr_assert_eq(next_request(in, &req), PROTOCOL_OK, "after body %s", bodies[i]);
		cr_assert_eq(req.id, 9);
		input_done(in);
		cr_assert_eq(store_stat(fixture_store, STORE_CAS, hex, NULL), STORE_NOT_FOUND);
	}
	cr_assert_eq(fixture_temp_count(), 0, "nothing partial is left behind");
}

Test(prog_framing, a_body_that_does_not_match_its_id_is_not_stored)
{
	const char *text = "\n\"AAAA\"\n";
	unsigned char o[32];
	char hex[STORE_ID_LEN + 1];
	struct input *in = input_of(text, strlen(text), 64);

	memset(o, 0x22, sizeof o);
	store_hex(o, hex);
	cr_assert_eq(put_body(in, hex, 3, BODY_OK), STORE_HASH_MISMATCH);
	cr_assert_eq(store_stat(fixture_store, STORE_CAS, hex, NULL), STORE_NOT_FOUND);
	input_done(in);
}

Test(prog_framing, lost_framing_is_broken)
{
	static const char *const texts[] = {
		"\n{\"ID\":2}\n",        /* no body line where one must be */
		"\n\"AAAA\n",            /* no closing quote */
		"\n\"AAAA\"x\n",         /* more after the closing quote */
		"\n\"AAAA",              /* input ends inside the body */
		"",                      /* input ends before the body */
	};
	unsigned char o[32];
	char hex[STORE_ID_LEN + 1];

	memset(o, 0x33, sizeof o);
	store_hex(o, hex);
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct input *in = input_of(texts[i], strlen(texts[i]), 64);
		char *cause = NULL;

		cr_assert_eq(body_read(in, NULL, 3, &cause), BODY_BROKEN, "text %zu", i);
		cr_assert_not_null(cause);
		free(cause);
		input_done(in);
	}
}

Test(prog_framing, request_lines_are_bounded)
{
	size_t n = PROTOCOL_LINE_MAX + 100;
	char *text = malloc(n + 1), *line;
	size_t len;
	struct input *in;

	memset(text, ' ', n);
	text[n] = '\n';
	in = input_of(text, n + 1, 2 * PROTOCOL_LINE_MAX);
	cr_assert_eq(input_line(in, PROTOCOL_LINE_MAX, &line, &len), INPUT_TOO_LONG);
	input_done(in);
	in = input_of("{\"ID\":1", 7, 64);
	cr_assert_eq(input_line(in, 32, &line, &len), INPUT_TRUNCATED);
	input_done(in);
	free(text);
}
