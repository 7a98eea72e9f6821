/*
 * citoken.c: the CI's OIDC token for the helper (see citoken.h). The token
 * is only read far enough to know when it expires (its exp claim); the
 * gateway checks everything else. Nothing here logs a token.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64url.h"
#include "common/cause.h"
#include "proghelper/citoken.h"

/* The longest answer or token taken. */
#define CITOKEN_MAX_BYTES (64 * 1024)

struct citoken {
	char *audience;      /* GitHub: the audience asked for; NULL: from a variable */
	char *token;         /* the token held */
	time_t issued;       /* when it was taken (its iat, else when it came) */
	time_t expires;      /* its exp */
	time_t failed_at;    /* the last failed renewal; 0: none */
	unsigned failures;   /* failed renewals since the last success */
};

/* The exp (and iat) claims of a JWT; false if it is no JWT with an exp. */
static bool token_times(const char *token, time_t *exp, time_t *iat)
{
	const char *dot1 = strchr(token, '.'), *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
	unsigned char *raw;
	size_t len;
	json_t *claims, *e, *i;
	bool ok;

	if (dot2 == NULL || strpbrk(token, " \t\r\n") != NULL)
		return false;
	raw = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &len);
	claims = raw != NULL ? json_loadb((const char *)raw, len, 0, NULL) : NULL;
	free(raw);
	e = json_object_get(claims, "exp");
	i = json_object_get(claims, "iat");
	ok = json_is_number(e);
	if (ok) {
		*exp = (time_t)json_number_value(e);
		if (json_is_number(i))
			*iat = (time_t)json_number_value(i);
	}
	json_decref(claims);
	return ok;
}

/* The body as it arrives, capped. */
struct body {
	char *data;
	size_t len;
};

/* libcurl's write callback: append, or stop past CITOKEN_MAX_BYTES. */
static size_t take(char *chunk, size_t size, size_t n, void *opaque)
{
	struct body *b = opaque;
	size_t add = size * n;
	char *grown;

	if (add > CITOKEN_MAX_BYTES - b->len || (grown = realloc(b->data, b->len + add + 1)) == NULL)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, chunk, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* Ask the GitHub runner for a token for audience; NULL with *cause. */
static char *ask_github(const char *audience, char **cause)
{
	const char *url = getenv("ACTIONS_ID_TOKEN_REQUEST_URL");
	const char *secret = getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
	CURL *curl;
	char *aud = NULL, *full = NULL, *auth = NULL, *token = NULL;
	struct curl_slist *headers = NULL;
	struct body b = {0};
	long status = 0;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	json_t *j;

	if (url == NULL || url[0] == '\0' || secret == NULL || secret[0] == '\0') {
		cause_set(cause, "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are "
		          "not set: the workflow needs \"permissions: id-token: write\"");
		return NULL;
	}
	curl = curl_easy_init();
	if (curl != NULL)
		aud = curl_easy_escape(curl, audience, 0);
	if (aud != NULL &&
	    asprintf(&full, "%s%caudience=%s", url, strchr(url, '?') != NULL ? '&' : '?', aud) >= 0 &&
	    asprintf(&auth, "Authorization: bearer %s", secret) >= 0 &&
	    (headers = curl_slist_append(NULL, auth)) != NULL) {
		curl_easy_setopt(curl, CURLOPT_URL, full);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)CITOKEN_TIMEOUT);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, take);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
		rc = curl_easy_perform(curl);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	}
	j = rc == CURLE_OK && status == 200 && b.data != NULL ? json_loadb(b.data, b.len, 0, NULL)
	                                                       : NULL;
	if (json_string_value(json_object_get(j, "value")) != NULL)
		token = strdup(json_string_value(json_object_get(j, "value")));
	if (token == NULL && rc != CURLE_OK)
		cause_set(cause, "the GitHub token request failed: %s", curl_easy_strerror(rc));
	else if (token == NULL && status != 200)
		cause_set(cause, "the GitHub token request was answered %ld", status);
	else if (token == NULL)
		cause_set(cause, "the GitHub token request's answer holds no token");
	json_decref(j);
	if (auth != NULL)
		explicit_bzero(auth, strlen(auth));
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	curl_slist_free_all(headers);
	curl_free(aud);
	free(auth);
	free(full);
	free(b.data);
	curl_easy_cleanup(curl);
	return token;
}

/* Take token (owned) as c's, if it is a JWT with an exp after now. */
static bool hold(struct citoken *c, char *token, time_t now, const char *from, char **cause)
{
	time_t exp = 0, iat = now;

	if (!token_times(token, &exp, &iat) || exp <= now) {
		cause_set(cause, exp != 0 ? "the token from %s has expired" :
		                            "the token from %s is not a JWT with an expiry", from);
		explicit_bzero(token, strlen(token));
		free(token);
		return false;
	}
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = token;
	c->expires = exp;
	c->issued = iat < exp ? iat : now;
	return true;
}

struct citoken *citoken_start(const char *audience, const char *var, time_t now,
                              char **cause)
{
	struct citoken *c = calloc(1, sizeof(*c));
	char *token, *from = NULL;
	const char *value;

	if (c == NULL) {
		cause_set(cause, "out of memory");
		citoken_free(c);
		return NULL;
	}
	/* On GitHub Actions the runner asks; elsewhere the variable, if one is named. */
	if (audience != NULL && (var == NULL || getenv("ACTIONS_ID_TOKEN_REQUEST_URL") != NULL)) {
		token = ask_github(audience, cause);
		from = strdup("the GitHub runner");
		if (token != NULL && (c->audience = strdup(audience)) == NULL) {
			free(token);
			token = NULL;
			cause_set(cause, "out of memory");
		}
	} else {
		value = var != NULL ? getenv(var) : NULL;
		token = value != NULL && value[0] != '\0' ? strdup(value) : NULL;
		if (token == NULL)
			cause_set(cause, "$%s is not set (GitLab: name it under id_tokens)", var);
		if (asprintf(&from, "$%s", var) < 0)
			from = NULL;
	}
	if (token == NULL || from == NULL || !hold(c, token, now, from, cause)) {
		if (token != NULL && from == NULL) {
			cause_set(cause, "out of memory");
			free(token);
		}
		free(from);
		citoken_free(c);
		return NULL;
	}
	free(from);
	return c;
}

const char *citoken_value(const struct citoken *c)
{
	return c->token;
}

time_t citoken_expiry(const struct citoken *c)
{
	return c->expires;
}

bool citoken_due(const struct citoken *c, time_t now)
{
	time_t life = c->expires - c->issued, margin = life / 3;

	if (margin < 60)
		margin = life / 2 < 60 ? life / 2 : 60;

	if (c->audience == NULL)
		return false;
	if (c->failed_at != 0 && now - c->failed_at < CITOKEN_RETRY_SECONDS && now >= c->failed_at)
		return false;
	return now >= c->expires - margin;
}

bool citoken_renew(struct citoken *c, time_t now, char **cause)
{
	char *token;

	if (c->audience == NULL) {
		cause_set(cause, "a token from a variable cannot be renewed");
		return false;
	}
	token = ask_github(c->audience, cause);
	if (token == NULL || !hold(c, token, now, "the GitHub runner", cause)) {
		c->failed_at = now;
		c->failures++;
		return false;
	}
	c->failed_at = 0;
	c->failures = 0;
	return true;
}

unsigned citoken_failures(const struct citoken *c)
{
	return c->failures;
}

void citoken_free(struct citoken *c)
{
	if (c == NULL)
		return;
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->audience);
	free(c);
}
