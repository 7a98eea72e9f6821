/*
 * jwks.h: a JSON Web Key Set (RFC 7517) as the public keys it holds, by
 * kid, each as PEM text for libjwt. Only signature keys of the two
 * algorithms accepted are kept: RSA (RS256, 2048 bits or more) and EC on
 * P-256 (ES256); other keys in the set are skipped.
 */
#ifndef CACHEGATE_GATEWAY_OIDC_JWKS_H
#define CACHEGATE_GATEWAY_OIDC_JWKS_H

#include <stddef.h>

/* Upper bounds on what one set may bring. */
#define JWKS_MAX_KEYS 32
#define JWKS_MAX_BYTES (256 * 1024)

enum jwk_kind {
	JWK_RS256,  /* RSA: verifies RS256 only */
	JWK_ES256,  /* EC P-256: verifies ES256 only */
};

struct jwk {
	char *kid;           /* the key's id, never NULL */
	enum jwk_kind kind;
	char *pem;           /* the public key as PEM (SubjectPublicKeyInfo) */
};

/* A parsed set: owned by whoever jwks_parse returned it to. */
struct jwks {
	size_t n;
	struct jwk keys[JWKS_MAX_KEYS];
};

/*
 * Parse the len bytes of a JWKS document. Returns the set (possibly
 * empty), or NULL with *cause set to one sentence when the text is not a
 * JWKS or a key of an accepted kind is broken.
 */
struct jwks *jwks_parse(const char *text, size_t len, char **cause);

/* The key named kid, or NULL. */
const struct jwk *jwks_find(const struct jwks *set, const char *kid);

/* Free what jwks_parse returned. NULL is allowed. */
void jwks_free(struct jwks *set);

#endif
