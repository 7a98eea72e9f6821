/*
 * body.c: decode a put's base64 body line straight into a store write.
 */
#include "proghelper/body.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/cause.h"

/* Base64 text handed to the decoder at a time (a multiple of 4). */
#define BODY_CHUNK (48 * 1024)

/* What one body line has produced so far. */
struct body_state {
	struct store_put *put;
	EVP_ENCODE_CTX *ctx;
	int64_t size;           /* declared length */
	int64_t decoded;        /* bytes decoded so far */
	char text[BODY_CHUNK];  /* base64 waiting to be decoded */
	size_t ntext;
	unsigned char raw[BODY_CHUNK / 4 * 3 + 80];
	bool escape;            /* the previous character was a backslash */
	const char *bad;        /* first problem seen, or NULL */
	enum store_result store_err;
};

/* True for the characters of standard base64 and its padding. */
static bool body_is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* Decode the pending text and write the bytes to the store. */
static void body_flush(struct body_state *st)
{
	int outl = 0;
	enum store_result r;

	if (st->ntext == 0)
		return;
	if (st->bad == NULL && st->store_err == STORE_OK) {
		if (EVP_DecodeUpdate(st->ctx, st->raw, &outl, (unsigned char *)st->text,
		                     (int)st->ntext) < 0) {
			st->bad = "body is not valid base64";
		} else if (outl > 0) {
			st->decoded += outl;
			if (st->decoded > st->size) {
				st->bad = "body is longer than BodySize";
			} else {
				r = store_put_write(st->put, st->raw, (size_t)outl);
				if (r != STORE_OK)
					st->store_err = r;
			}
		}
	}
	st->ntext = 0;
}

/* Take body characters from buf[0..n); returns how many were used up to the closing quote. */
static size_t body_scan(struct body_state *st, const unsigned char *buf, size_t n, bool *closed, bool *newline)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = buf[i];

		if (c == '\n') {
			*newline = true;
			return i;
		}
		if (st->escape) {
			/* JSON may escape '/' as "\/"; no other escape belongs in base64. */
			st->escape = false;
			if (c != '/')
				st->bad = "body is not valid base64";
		} else if (c == '\\') {
			st->escape = true;
			continue;
		} else if (c == '"') {
			*closed = true;
			return i + 1;
		} else if (!body_is_b64(c)) {
			st->bad = "body is not valid base64";
			continue;
		}
		if (st->put == NULL)
			continue;
		st->text[st->ntext++] = (char)c;
		if (st->ntext == sizeof st->text)
			body_flush(st);
	}
	return n;
}

enum body_result body_read(struct input *in, struct store_put *p, int64_t size, char **cause)
{
	struct body_state *st;
	enum body_result result = BODY_OK;
	bool closed = false, newline = false;
	int outl = 0;

	*cause = NULL;
	/* Skip the empty line that ends the request, then expect the opening quote. */
	for (;;) {
		if (input_fill(in) != INPUT_OK) {
			cause_set(cause, "input ended before a put's body");
			return BODY_BROKEN;
		}
		if (in->buf[in->start] != '\n')
			break;
		in->start++;
	}
	if (in->buf[in->start] != '"') {
		cause_set(cause, "a put's body is not a JSON string");
		return BODY_BROKEN;
	}
	in->start++;

	st = calloc(1, sizeof *st);
	if (st == NULL) {
		cause_set(cause, "out of memory");
		return BODY_BROKEN;
	}
	st->put = p;
	st->size = size;
	st->ctx = p != NULL ? EVP_ENCODE_CTX_new() : NULL;
	if (p != NULL && st->ctx == NULL) {
		free(st);
		cause_set(cause, "out of memory");
		return BODY_BROKEN;
	}
	if (st->ctx != NULL)
		EVP_DecodeInit(st->ctx);

	while (!closed) {
		if (input_fill(in) != INPUT_OK) {
			result = BODY_BROKEN;
			cause_set(cause, "input ended inside a put's body");
			goto out;
		}
		in->start += body_scan(st, (unsigned char *)in->buf + in->start,
		                       in->end - in->start, &closed, &newline);
		if (newline) {
			result = BODY_BROKEN;
			cause_set(cause, "a put's body line has no closing quote");
			goto out;
		}
	}
	/* The closing quote ends the line. */
	if (input_fill(in) == INPUT_OK) {
		if (in->buf[in->start] != '\n') {
			result = BODY_BROKEN;
			cause_set(cause, "a put's body line goes on after its closing quote");
			goto out;
		}
		in->start++;
	}
	if (p == NULL)
		goto out;

	body_flush(st);
	if (st->bad == NULL && st->store_err == STORE_OK) {
		if (EVP_DecodeFinal(st->ctx, st->raw, &outl) < 0 || st->escape)
			st->bad = "body is not valid base64";
		else if (outl > 0)
			st->store_err = store_put_write(p, st->raw, (size_t)outl);
		st->decoded += outl;
	}
	if (st->bad == NULL && st->store_err == STORE_OK && st->decoded != size)
		st->bad = st->decoded < size ? "body is shorter than BodySize" : "body is longer than BodySize";
	if (st->bad != NULL) {
		result = BODY_BAD;
		cause_set(cause, "%s", st->bad);
	} else if (st->store_err != STORE_OK) {
		result = BODY_STORE_ERROR;
		cause_set(cause, "cannot write to the local store: %s",
		          store_result_str(st->store_err));
	}
out:
	EVP_ENCODE_CTX_free(st->ctx);
	free(st);
	return result;
}
