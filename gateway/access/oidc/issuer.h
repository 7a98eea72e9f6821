/*
 * issuer.h: one trusted token issuer and its signing keys: from a JWKS file,
 * or from the jwks_uri its discovery document names. Keys are cached; a
 * token naming a kid the cache lacks makes it load them again, at most once
 * per ISSUER_REFETCH_SECONDS, so a flood of made-up kids cannot hammer the
 * issuer. Safe to use from many threads.
 */
#ifndef CACHEGATE_GATEWAY_OIDC_ISSUER_H
#define CACHEGATE_GATEWAY_OIDC_ISSUER_H

#include <stdbool.h>
#include <time.h>

#include "gateway/access/oidc/jwks.h"

/* The least time between two loads of an issuer's keys. */
#define ISSUER_REFETCH_SECONDS 60
/* Keys older than this are loaded again on the next token. */
#define ISSUER_KEYS_MAX_AGE 3600

struct issuer;

/*
 * An issuer named url (the exact "iss" its tokens carry), with keys from
 * jwks_file, or, when it is NULL, from url's discovery document. Nothing is
 * loaded yet. NULL on out of memory.
 */
struct issuer *issuer_new(const char *url, const char *jwks_file);

/* The exact "iss" of the issuer's tokens. */
const char *issuer_url(const struct issuer *is);

enum issuer_key_result {
	ISSUER_KEY_FOUND = 0,
	ISSUER_KEY_UNKNOWN,      /* the keys were loaded and hold no such kid */
	ISSUER_KEY_UNAVAILABLE,  /* no keys could be loaded */
};

/*
 * Copy into *out the key named kid (out->kid and out->pem are the caller's
 * to free) and into *generation the generation of the set it is from,
 * loading the keys first when none are cached, when they are older than
 * ISSUER_KEYS_MAX_AGE or when kid is unknown, unless a load started less
 * than ISSUER_REFETCH_SECONDS before now.
 */
enum issuer_key_result issuer_key(struct issuer *is, const char *kid, time_t now,
                                  struct jwk *out, unsigned *generation);

/* How many times keys were loaded well: it changes whenever the cached keys do. */
unsigned issuer_generation(struct issuer *is);

/* How many loads were tried so far (for tests and metrics). */
unsigned issuer_loads(struct issuer *is);

/* The last load's failure, a copy the caller frees, or NULL. */
char *issuer_last_error(struct issuer *is);

/* Free is. NULL is allowed. */
void issuer_free(struct issuer *is);

#endif
