/*
 * fetch.h: one small HTTP(S) GET of an issuer's document (its discovery
 * document, its JWKS), bounded in size and time.
 */
#ifndef CACHEGATE_GATEWAY_OIDC_FETCH_H
#define CACHEGATE_GATEWAY_OIDC_FETCH_H

#include <stddef.h>

/* How long one fetch may take, in seconds. */
#define OIDC_FETCH_TIMEOUT 10

/*
 * GET url (http or https only; a redirect is not followed: it is a status
 * other than 200) and return its body, '\0'-terminated, of *len bytes (at most max), which
 * the caller frees. NULL with *cause on a transport error, a status other
 * than 200 or a body over max.
 */
char *oidc_fetch(const char *url, size_t max, size_t *len, char **cause);

#endif
