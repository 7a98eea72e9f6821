/*
 * auth.c: tokens from the auth file, each with its grant, checked in
 * constant time.
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
	struct grant grant;        /* what it may do */
	size_t line;               /* where the auth file gives it */
};

struct auth {
	bool enabled;
	bool anonymous_read;
	struct auth_token *tokens;
	size_t count;
	auth_bearer_verify verify;  /* Bearer tokens no line gives, or NULL */
	void *verify_ctx;
};

/* The sentence of a line that is not "<token> read|write [ns=NAME] [reads=A,B]". */
static const char line_syntax[] = "expected \"<token> read|write [ns=NAME] [reads=A,B]\"";

/* SHA-256 of n bytes into out. */
static bool digest(const void *buf, size_t n, unsigned char out[32])
{
	return EVP_Digest(buf, n, out, NULL, EVP_sha256(), NULL) == 1;
}

/*
 * Read the ns= and reads= words after a token's right into g (set to the
 * default grant of that right). NULL, or why the line is refused.
 */
static const char *parse_grant(char **save, struct grant *g)
{
	bool have_ns = false, have_reads = false;
	char *word;

	while ((word = strtok_r(NULL, " \t\r\n", save)) != NULL) {
		if (strncmp(word, "ns=", 3) == 0 && !have_ns) {
			if (!g->write)
				return "a read token writes nowhere: drop its ns=";
			if (!grant_ns_valid(word + 3))
				return "ns= is not a namespace name (letters, digits, '-', '_', '.', "
				       "'/' inside; at most 64)";
			strcpy(g->ns, word + 3);
			have_ns = true;
		} else if (strncmp(word, "reads=", 6) == 0 && !have_reads) {
			if (!grant_parse_reads(g, word + 6))
				return "reads= is not a list of up to 8 namespace names, comma-separated "
				       "(letters, digits, '-', '_', '.', '/' inside; at most 64 each)";
			have_reads = true;
		} else {
			return line_syntax;
		}
	}
	if (have_ns && !have_reads) {
		g->nreads = 1;
		strcpy(g->reads[0], g->ns);
	}
	strcpy(g->label, g->write ? g->ns : g->reads[0]);
	return NULL;
}

/*
 * Parse one line of the auth file into t. NULL, or why it is refused;
 * *blank when it holds no token.
 */
static const char *parse_line(char *line, struct auth_token *t, bool *blank)
{
	char *save = NULL, *token, *role;

	*blank = false;
	line[strcspn(line, "#")] = '\0';
	token = strtok_r(line, " \t\r\n", &save);
	if (token == NULL) {
		*blank = true;
		return NULL;
	}
	role = strtok_r(NULL, " \t\r\n", &save);
	if (role == NULL || (strcmp(role, "read") != 0 && strcmp(role, "write") != 0))
		return line_syntax;
	grant_default(&t->grant, strcmp(role, "write") == 0);
	if (!digest(token, strlen(token), t->digest))
		return "cannot hash the token";
	return parse_grant(&save, &t->grant);
}

/* The line of an earlier token with t's digest, or 0. */
static size_t repeated(const struct auth *a, const struct auth_token *t)
{
	for (size_t i = 0; i < a->count; i++)
		if (memcmp(a->tokens[i].digest, t->digest, sizeof(t->digest)) == 0)
			return a->tokens[i].line;
	return 0;
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
		const char *why;
		bool blank;
		size_t first;

		lineno++;
		if ((why = parse_line(line, &t, &blank)) != NULL) {
			cause_set(cause, "auth file %s line %zu: %s", name, lineno, why);
			goto fail;
		}
		if (blank)
			continue;
		t.line = lineno;
		if ((first = repeated(a, &t)) != 0) {
			cause_set(cause, "auth file %s line %zu: the same token as line %zu: "
			          "give each token one line", name, lineno, first);
			goto fail;
		}
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

void auth_set_bearer_verifier(struct auth *a, auth_bearer_verify verify, void *ctx)
{
	a->enabled = true;
	a->verify = verify;
	a->verify_ctx = ctx;
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
 * when unknown, else AUTH_OK with *g its grant.
 */
static enum auth_result lookup(const struct auth *a, const void *token, size_t n,
                               struct grant *g)
{
	unsigned char d[32];
	size_t found = 0, at = 0;

	if (!digest(token, n, d))
		return AUTH_INVALID;
	for (size_t i = 0; i < a->count; i++) {
		size_t eq = (size_t)0 - (size_t)(CRYPTO_memcmp(d, a->tokens[i].digest, sizeof(d)) == 0);
		found |= eq;
		at = (at & ~eq) | (i & eq);
	}
	OPENSSL_cleanse(d, sizeof(d));
	if (!found)
		return AUTH_INVALID;
	*g = a->tokens[at].grant;
	return AUTH_OK;
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

/* A Bearer token: a static one, else what the verifier makes of it. */
static enum auth_result bearer_access(const struct auth *a, const char *value, size_t n,
                                      struct grant *g, char **reason)
{
	enum auth_result r = lookup(a, value, n, g);

	if (r == AUTH_INVALID && a->verify != NULL)
		r = a->verify(a->verify_ctx, value, n, g, reason);
	return r;
}

/* The token of an Authorization header, looked up (AUTH_INVALID when malformed). */
static enum auth_result token_access(const struct auth *a, const char *header, struct grant *g,
                                     char **reason)
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
		return n > 0 ? bearer_access(a, value, n, g, reason) : AUTH_INVALID;
	}
	if ((value = after_scheme(header, "Basic")) == NULL)
		return AUTH_INVALID;
	if (base64_decode(value, strlen(value), decoded, &len)) {
		unsigned char *colon = memchr(decoded, ':', len);
		if (colon != NULL && colon + 1 < decoded + len)
			r = lookup(a, colon + 1, (size_t)(decoded + len - colon - 1), g);
	}
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return r;
}

enum auth_result auth_check(const struct auth *a, const char *authorization, bool write,
                            struct grant *grant)
{
	char *reason = NULL;
	enum auth_result r = auth_check_why(a, authorization, write, grant, &reason);

	free(reason);
	return r;
}

enum auth_result auth_check_why(const struct auth *a, const char *authorization, bool write,
                                struct grant *grant, char **reason)
{
	struct grant g;
	enum auth_result r;

	*reason = NULL;
	if (!a->enabled) {
		grant_default(&g, true);
		r = AUTH_OK;
	} else if (authorization == NULL || *authorization == '\0') {
		grant_default(&g, false);
		r = !write && a->anonymous_read ? AUTH_OK : AUTH_MISSING;
	} else {
		r = token_access(a, authorization, &g, reason);
		if (r == AUTH_OK && write && !g.write)
			r = AUTH_FORBIDDEN;
	}
	if (r == AUTH_OK && grant != NULL)
		*grant = g;
	return r;
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
