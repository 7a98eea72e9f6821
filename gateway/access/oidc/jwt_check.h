/*
 * jwt_check.h: one JWT from a CI, read and then checked: the signature with
 * the issuer's key (RS256 or ES256 only: "none" and HMAC are refused before
 * any key is looked at), then iss, aud, exp and nbf with a small skew.
 */
#ifndef CACHEGATE_GATEWAY_OIDC_JWT_CHECK_H
#define CACHEGATE_GATEWAY_OIDC_JWT_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "gateway/access/oidc/jwks.h"

/* The longest token read, and the clock skew allowed on exp and nbf. */
#define JWT_MAX_BYTES (16 * 1024)
#define JWT_SKEW_SECONDS 60

/* A token as read, not yet trusted. */
struct jwt_token {
	const char *text;   /* the compact form, borrowed from the caller */
	enum jwk_kind kind; /* the algorithm its header names */
	const char *kid;    /* its header's kid (in header) */
	const char *iss;    /* its claims' iss (in claims) */
	json_t *header;     /* owned */
	json_t *claims;     /* owned: trust them only after jwt_verify */
};

/*
 * Read text as a compact JWS of three base64url parts whose header names
 * RS256 or ES256 and a kid, and whose claims are an object with a string
 * iss. False with *reason (one short phrase, static) otherwise.
 */
bool jwt_read(const char *text, struct jwt_token *t, const char **reason);

/*
 * Check t's signature with key (whose kind must be t's algorithm), then
 * that iss is issuer, aud is audience or an array holding it, exp is after
 * now and nbf (if any) not after it, both give or take JWT_SKEW_SECONDS.
 * False with *reason (static) on the first failure.
 */
bool jwt_verify(const struct jwt_token *t, const struct jwk *key, const char *issuer,
                const char *audience, time_t now, const char **reason);

/* Release what jwt_read kept. */
void jwt_token_release(struct jwt_token *t);

#endif
