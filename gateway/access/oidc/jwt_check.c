/*
 * jwt_check.c: a CI's JWT read and checked. Why libjwt: Debian ships it
 * (libjwt-dev 1.10), it is built on the OpenSSL and jansson we already
 * link, and it does the part that is easy to get subtly wrong: the RS256
 * and ES256 signature checks (including ES256's raw r||s form). What it
 * does not do is choose the algorithm safely: it verifies with whatever
 * algorithm the token's header names, so an HS256 token "signed" with the
 * PEM public key as HMAC secret would pass. We therefore read the header
 * ourselves first, accept only RS256 and ES256, require the key's kind to
 * match, and check libjwt's algorithm again after its verify. The claims
 * (iss, aud, exp, nbf) are checked here, on the JSON jansson parsed.
 */
#include <jwt.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64url.h"
#include "gateway/access/oidc/jwt_check.h"

/* Decode the base64url JSON object of text[0..len), or NULL. */
static json_t *part_json(const char *text, size_t len)
{
	size_t n;
	unsigned char *raw = b64url_decode(text, len, &n);
	json_t *j;

	if (raw == NULL)
		return NULL;
	j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Set t->kind from the header's alg; false with *reason if refused. */
static bool read_alg(struct jwt_token *t, const char **reason)
{
	const char *alg = json_string_value(json_object_get(t->header, "alg"));

	if (alg == NULL) {
		*reason = "token header has no alg";
		return false;
	}
	if (strcmp(alg, "RS256") == 0) {
		t->kind = JWK_RS256;
		return true;
	}
	if (strcmp(alg, "ES256") == 0) {
		t->kind = JWK_ES256;
		return true;
	}
	if (strcmp(alg, "none") == 0)
		*reason = "unsigned token (alg none) refused";
	else if (alg[0] == 'H' && alg[1] == 'S')
		*reason = "HMAC token refused: only RS256 and ES256 are accepted";
	else
		*reason = "token algorithm not accepted: only RS256 and ES256";
	return false;
}

bool jwt_read(const char *text, struct jwt_token *t, const char **reason)
{
	size_t len = strnlen(text, JWT_MAX_BYTES + 1);
	const char *dot1, *dot2;

	memset(t, 0, sizeof(*t));
	t->text = text;
	*reason = "not a JWT";
	if (len > JWT_MAX_BYTES) {
		*reason = "token too long";
		return false;
	}
	dot1 = memchr(text, '.', len);
	dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - text)) : NULL;
	if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - text)) != NULL)
		return false;
	t->header = part_json(text, (size_t)(dot1 - text));
	t->claims = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (t->header == NULL || t->claims == NULL)
		goto fail;
	if (!read_alg(t, reason))
		goto fail;
	if (dot2[1] == '\0') {
		*reason = "token has no signature";
		goto fail;
	}
	t->kid = json_string_value(json_object_get(t->header, "kid"));
	t->iss = json_string_value(json_object_get(t->claims, "iss"));
	if (t->kid == NULL || t->iss == NULL) {
		*reason = t->kid == NULL ? "token header has no kid" : "token has no issuer";
		goto fail;
	}
	return true;
fail:
	jwt_token_release(t);
	return false;
}

/* Does the aud claim name audience (a string, or an array of strings)? */
static bool aud_holds(json_t *aud, const char *audience)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), audience) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), audience) == 0)
			return true;
	return false;
}

/* The signature check, by libjwt with key's PEM and t's algorithm. */
static bool signature_holds(const struct jwt_token *t, const struct jwk *key)
{
	jwt_t *jwt = NULL;
	jwt_alg_t want = key->kind == JWK_RS256 ? JWT_ALG_RS256 : JWT_ALG_ES256;
	bool ok;

	if (key->kind != t->kind)
		return false;
	ok = jwt_decode(&jwt, t->text, (const unsigned char *)key->pem,
	                (int)strlen(key->pem)) == 0 &&
	     jwt != NULL && jwt_get_alg(jwt) == want;
	jwt_free(jwt);
	return ok;
}

bool jwt_verify(const struct jwt_token *t, const struct jwk *key, const char *issuer,
                const char *audience, time_t now, const char **reason)
{
	json_t *exp = json_object_get(t->claims, "exp");
	json_t *nbf = json_object_get(t->claims, "nbf");

	if (!signature_holds(t, key)) {
		*reason = "bad token signature";
		return false;
	}
	if (strcmp(t->iss, issuer) != 0) {
		*reason = "wrong token issuer";
		return false;
	}
	if (!aud_holds(json_object_get(t->claims, "aud"), audience)) {
		*reason = "wrong token audience";
		return false;
	}
	if (!json_is_number(exp)) {
		*reason = "token has no expiry";
		return false;
	}
	if ((double)now >= json_number_value(exp) + JWT_SKEW_SECONDS) {
		*reason = "token expired";
		return false;
	}
	if (nbf != NULL && (!json_is_number(nbf) ||
	                    (double)now + JWT_SKEW_SECONDS < json_number_value(nbf))) {
		*reason = "token not yet valid";
		return false;
	}
	return true;
}

void jwt_token_release(struct jwt_token *t)
{
	json_decref(t->header);
	json_decref(t->claims);
	memset(t, 0, sizeof(*t));
}
