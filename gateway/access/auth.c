/*
 * auth.c: tokens from the auth file, checked in constant time.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/cause.h"
#include "gateway/access/auth.h"

/* Longest Authorization header looked at; anything longer is invalid. */
#define AUTH_HEADER_MAX 4096

struct auth_token {
	unsigned char digest[32];  /* SHA-256 of the token: equal lengths compare in constant time */
	bool write;
};

struct auth {
	bool enabled;
	bool anonymous_read;
	struct auth_token *tokens;
	size_t count;
};

/* SHA-256 of n bytes into out. */
static bool digest(const void *buf, size_t n, unsigned char out[32])
{
	return EVP_Digest(buf, n, out, NULL, EVP_sha256(), NULL) == 1;
}

/* Parse one line of the auth file into t; false when it is malformed. */
static bool parse_line(char *line, struct auth_token *t, bool *blank)
{
	char *save = NULL, *token, *role, *extra;

	*blank = false;
	line[strcspn(line, "#")] = '\0';
	token = strtok_r(line, " \t\r\n", &save);
	if (token == NULL) {
		*blank = true;
		return true;
	}
	role = strtok_r(NULL, " \t\r\n", &save);
	extra = strtok_r(NULL, " \t\r\n", &save);
	if (role == NULL || extra != NULL)
		return false;
	if (strcmp(role, "read") == 0)
		t->write = false;
	else if (strcmp(role, "write") == 0)
		t->write = true;
	else
		return false;
	return digest(token, strlen(token), t->digest);
}

struct auth *auth_load(const char *path, bool anonymous_read, char **cause)
{
	struct auth *a;
	FILE *f;

	*cause = NULL;
	if (path == NULL) {
		a = calloc(1, sizeof(*a));
		if (a == NULL)
			cause_set(cause, "out of memory");
		else
			a->anonymous_read = anonymous_read;
		return a;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		cause_set(cause, "cannot read auth file %s: %s", path, strerror(errno));
		return NULL;
	}
	a = auth_read(f, path, anonymous_read, cause);
	fclose(f);
	return a;
}

struct auth *auth_read(FILE *f, const char *name, bool anonymous_read, char **cause)
{
	struct auth *a = calloc(1, sizeof(*a));
	size_t cap = 0, lineno = 0, linecap = 0;
	char *line = NULL;

	*cause = NULL;
	if (a == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	a->anonymous_read = anonymous_read;
	a->enabled = true;
	while (getline(&line, &linecap, f) != -1) {
		struct auth_token t;
		bool blank;

		lineno++;
		if (!parse_line(line, &t, &blank)) {
			cause_set(cause, "auth file %s line %zu: expected \"<token> read|write\"",
			          name, lineno);
			goto fail;
		}
		if (blank)
			continue;
		if (a->count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct auth_token *n = reallocarray(a->tokens, ncap, sizeof(*n));
			if (n == NULL) {
				cause_set(cause, "out of memory");
				goto fail;
			}
			a->tokens = n;
			cap = ncap;
		}
		a->tokens[a->count++] = t;
	}
	if (ferror(f)) {
		cause_set(cause, "cannot read auth file %s: %s", name, strerror(errno));
		goto fail;
	}
	if (a->count == 0 && !anonymous_read) {
		cause_set(cause, "auth file %s has no tokens, so nobody could use the server", name);
		goto fail;
	}
	OPENSSL_cleanse(line, linecap);
	free(line);
	return a;
fail:
	if (line != NULL)
		OPENSSL_cleanse(line, linecap);
	free(line);
	auth_free(a);
	return NULL;
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	if (a->tokens != NULL)
		OPENSSL_cleanse(a->tokens, a->count * sizeof(*a->tokens));
	free(a->tokens);
	free(a);
}

bool auth_enabled(const struct auth *a)
{
	return a->enabled;
}

/*
 * Decode standard base64 text of length n into out (room for 3 * n / 4 + 3
 * bytes), setting *len. False when the text is not base64.
 */
static bool base64_decode(const char *text, size_t n, unsigned char *out, size_t *len)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int got = 0, last = 0;
	bool ok;

	if (ctx == NULL || n > INT32_MAX)
		return false;
	EVP_DecodeInit(ctx);
	ok = EVP_DecodeUpdate(ctx, out, &got, (const unsigned char *)text, (int)n) >= 0 &&
	     EVP_DecodeFinal(ctx, out + got, &last) == 1;
	EVP_ENCODE_CTX_free(ctx);
	*len = (size_t)got + (size_t)last;
	return ok;
}

/*
 * Look the token up among all tokens without an early exit: AUTH_INVALID
 * when unknown, AUTH_FORBIDDEN when write is wanted of a read token.
 */
static enum auth_result lookup(const struct auth *a, const void *token, size_t n, bool write)
{
	unsigned char d[32];
	unsigned found = 0, may_write = 0;

	if (!digest(token, n, d))
		return AUTH_INVALID;
	for (size_t i = 0; i < a->count; i++) {
		unsigned eq = CRYPTO_memcmp(d, a->tokens[i].digest, sizeof(d)) == 0;
		found |= eq;
		may_write |= eq & (unsigned)a->tokens[i].write;
	}
	OPENSSL_cleanse(d, sizeof(d));
	if (!found)
		return AUTH_INVALID;
	return write && !may_write ? AUTH_FORBIDDEN : AUTH_OK;
}

/* Skip the scheme word s (case-insensitive) and the spaces after it, or NULL. */
static const char *after_scheme(const char *header, const char *s)
{
	size_t n = strlen(s);

	if (strncasecmp(header, s, n) != 0 || (header[n] != ' ' && header[n] != '\t'))
		return NULL;
	header += n;
	while (*header == ' ' || *header == '\t')
		header++;
	return header;
}

/* The token of an Authorization header, looked up (AUTH_INVALID when malformed). */
static enum auth_result token_access(const struct auth *a, const char *header, bool write)
{
	unsigned char decoded[AUTH_HEADER_MAX];
	size_t hlen = strnlen(header, AUTH_HEADER_MAX + 1), len;
	const char *value;
	enum auth_result r = AUTH_INVALID;

	if (hlen > AUTH_HEADER_MAX)
		return AUTH_INVALID;
	if ((value = after_scheme(header, "Bearer")) != NULL) {
		size_t n = strlen(value);
		while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
			n--;
		return n > 0 ? lookup(a, value, n, write) : AUTH_INVALID;
	}
	if ((value = after_scheme(header, "Basic")) == NULL)
		return AUTH_INVALID;
	if (base64_decode(value, strlen(value), decoded, &len)) {
		unsigned char *colon = memchr(decoded, ':', len);
		if (colon != NULL && colon + 1 < decoded + len)
			r = lookup(a, colon + 1, (size_t)(decoded + len - colon - 1), write);
	}
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return r;
}

enum auth_result auth_check(const struct auth *a, const char *authorization, bool write)
{
	if (!a->enabled)
		return AUTH_OK;
	if (authorization == NULL || *authorization == '\0')
		return !write && a->anonymous_read ? AUTH_OK : AUTH_MISSING;
	return token_access(a, authorization, write);
}

const char *auth_result_str(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return "ok";
	case AUTH_MISSING:
		return "credentials required: send a token as Bearer or as the Basic password";
	case AUTH_INVALID:
		return "invalid credentials";
	case AUTH_FORBIDDEN:
		return "this token may only read";
	}
	return "unknown auth result";
}
