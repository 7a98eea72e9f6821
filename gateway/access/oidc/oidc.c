/*
 * oidc.c: a CI token to a grant: read the token (jwt_check.c), find its
 * issuer among the configured ones, get the key its kid names (issuer.c,
 * which loads keys again for an unknown kid, rate limited), verify, then
 * map the claims through the rules (rules.c). Every refusal is one line.
 */
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "gateway/access/oidc/issuer.h"
#include "gateway/access/oidc/jwt_check.h"
#include "gateway/access/oidc/oidc.h"
#include "gateway/access/oidc/rules.h"

/* The most issuers configured at once. */
#define OIDC_ISSUERS_MAX 16

struct oidc {
	size_t nissuers;
	struct issuer *issuers[OIDC_ISSUERS_MAX];
	char *audience;
	struct rules *rules;
};

struct oidc *oidc_load(const struct oidc_config *c, char **cause)
{
	struct oidc *o;

	if (c->nissuers == 0 || c->audience == NULL || c->audience[0] == '\0' ||
	    c->rules_file == NULL) {
		cause_set(cause, "--oidc-issuer needs --oidc-audience and --oidc-rules");
		return NULL;
	}
	if (c->nissuers > OIDC_ISSUERS_MAX) {
		cause_set(cause, "more than %d --oidc-issuer", OIDC_ISSUERS_MAX);
		return NULL;
	}
	if (c->jwks_file != NULL && c->nissuers != 1) {
		cause_set(cause, "--oidc-jwks holds the keys of one issuer: give one --oidc-issuer");
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL || (o->audience = strdup(c->audience)) == NULL) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < c->nissuers; i++) {
		const char *url = c->issuers[i];

		if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
			cause_set(cause, "--oidc-issuer %s: not an http(s) URL", url);
			goto fail;
		}
		o->issuers[i] = issuer_new(url, c->jwks_file);
		if (o->issuers[i] == NULL) {
			cause_set(cause, "out of memory");
			goto fail;
		}
		o->nissuers++;
	}
	o->rules = rules_load(c->rules_file, cause);
	if (o->rules == NULL)
		goto fail;
	return o;
fail:
	oidc_free(o);
	return NULL;
}

/* The configured issuer whose url is iss, or NULL. */
static struct issuer *find_issuer(const struct oidc *o, const char *iss)
{
	for (size_t i = 0; i < o->nissuers; i++)
		if (strcmp(issuer_url(o->issuers[i]), iss) == 0)
			return o->issuers[i];
	return NULL;
}

/* The refusal of a key lookup's result. */
static const char *key_refusal(enum issuer_key_result r)
{
	return r == ISSUER_KEY_UNKNOWN ? "token signed with an unknown kid"
	                               : "the issuer's keys cannot be loaded";
}

enum auth_result oidc_authorize(struct oidc *o, const char *jwt, time_t now, struct grant *g,
                                char **reason)
{
	const char *why = NULL;
	struct jwt_token t;
	struct issuer *is;
	struct jwk key = {0};
	enum issuer_key_result kr;

	*reason = NULL;
	if (!jwt_read(jwt, &t, &why)) {
		cause_set(reason, "%s", why);
		return AUTH_INVALID;
	}
	why = NULL;
	is = find_issuer(o, t.iss);
	if (is == NULL) {
		why = "token from an issuer not trusted here";
	} else if ((kr = issuer_key(is, t.kid, now, &key)) != ISSUER_KEY_FOUND) {
		why = key_refusal(kr);
	} else if (jwt_verify(&t, &key, issuer_url(is), o->audience, now, &why)) {
		if (rules_grant(o->rules, t.claims, g) == NULL)
			why = "no rule grants anything to this token's claims";
		else if (!g->write && g->nreads == 0)
			why = "the matching rule's namespaces are invalid for this token";
	}
	free(key.kid);
	free(key.pem);
	jwt_token_release(&t);
	if (why != NULL) {
		cause_set(reason, "%s", why);
		return AUTH_INVALID;
	}
	return AUTH_OK;
}

bool oidc_is_jwt(const char *token)
{
	size_t parts = 1, len = 0;

	for (const char *p = token; *p != '\0'; p++, len++) {
		if (*p == '.')
			parts++;
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		           (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	}
	return parts == 3 && len > 0;
}

void oidc_free(struct oidc *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->nissuers; i++)
		issuer_free(o->issuers[i]);
	rules_free(o->rules);
	free(o->audience);
	free(o);
}

enum auth_result oidc_bearer_verify(void *ctx, const char *token, size_t len, struct grant *g,
                                    char **reason)
{
	char *jwt = strndup(token, len);
	enum auth_result r;

	if (jwt == NULL) {
		cause_set(reason, "out of memory");
		return AUTH_INVALID;
	}
	r = oidc_authorize(ctx, jwt, time(NULL), g, reason);
	free(jwt);
	return r;
}
