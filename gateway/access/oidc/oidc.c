/*
 * oidc.c: a CI token to a grant: read the token (jwt_check.c), find its
 * issuer among the configured ones, get the key its kid names (issuer.c,
 * which loads keys again for an unknown kid, rate limited), verify, then
 * map the claims through the rules (rules.c). A token once accepted is
 * found in verdicts.c on its later uses, until its exp or until its
 * issuer's keys are loaded again. Every refusal is one line.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "gateway/access/oidc/issuer.h"
#include "gateway/access/oidc/jwt_check.h"
#include "gateway/access/oidc/oidc.h"
#include "gateway/access/oidc/rules.h"
#include "gateway/access/oidc/verdicts.h"

/* The most issuers configured at once. */
#define OIDC_ISSUERS_MAX 16

struct oidc {
	size_t nissuers;
	struct issuer *issuers[OIDC_ISSUERS_MAX];
	char *audience;
	struct rules *rules;
	struct verdicts *verdicts;    /* tokens accepted, until their exp */
	atomic_uint verifications;    /* full checks done (a token's first use) */
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
	if (o == NULL || (o->audience = strdup(c->audience)) == NULL ||
	    (o->verdicts = verdicts_new()) == NULL) {
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

/* A verdict's tag: which issuer, and the generation of the keys that checked it. */
static uint64_t tag_of(const struct oidc *o, struct issuer *is, unsigned generation)
{
	size_t i = 0;

	while (i < o->nissuers && o->issuers[i] != is)
		i++;
	return (uint64_t)i << 32 | generation;
}

/* Was jwt accepted before, with keys its issuer still holds? Then *g is its grant. */
static bool found_before(struct oidc *o, const char *jwt, time_t now, struct grant *g)
{
	uint64_t tag;
	size_t i;

	if (!verdicts_get(o->verdicts, jwt, now, g, &tag))
		return false;
	i = (size_t)(tag >> 32);
	if (i >= o->nissuers)
		return false;
	return tag_of(o, o->issuers[i], issuer_generation(o->issuers[i])) == tag;
}

/* Remember t, accepted with grant g, for its later uses: within its nbf and exp, with the skew. */
static void remember(struct oidc *o, uint64_t tag, const struct jwt_token *t,
                     const struct grant *g)
{
	json_t *nbf = json_object_get(t->claims, "nbf");
	time_t exp = (time_t)json_number_value(json_object_get(t->claims, "exp"));
	time_t from = nbf != NULL ? (time_t)json_number_value(nbf) - JWT_SKEW_SECONDS : 0;

	verdicts_put(o->verdicts, t->text, from, exp + JWT_SKEW_SECONDS, tag, g);
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
	unsigned generation = 0;

	*reason = NULL;
	if (found_before(o, jwt, now, g))
		return AUTH_OK;
	atomic_fetch_add(&o->verifications, 1);
	if (!jwt_read(jwt, &t, &why)) {
		cause_set(reason, "%s", why);
		return AUTH_INVALID;
	}
	why = NULL;
	is = find_issuer(o, t.iss);
	if (is == NULL) {
		why = "token from an issuer not trusted here";
	} else if ((kr = issuer_key(is, t.kid, now, &key, &generation)) != ISSUER_KEY_FOUND) {
		why = key_refusal(kr);
	} else if (jwt_verify(&t, &key, issuer_url(is), o->audience, now, &why)) {
		if (rules_grant(o->rules, t.claims, g) == NULL)
			why = "no rule grants anything to this token's claims";
		else if (!g->write && g->nreads == 0)
			why = "the matching rule's namespaces are invalid for this token";
		else
			remember(o, tag_of(o, is, generation), &t, g);
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

unsigned oidc_verifications(struct oidc *o)
{
	return atomic_load(&o->verifications);
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
	verdicts_free(o->verdicts);
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
