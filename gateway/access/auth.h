/*
 * auth.h: who may read and write what, from an auth file of lines
 *   <token> read|write [ns=NAME] [reads=A,B,...]
 * Each token's grant (grant.h) says the namespace its writes land in (ns=,
 * "default" when absent; a read token has none) and the namespaces its
 * reads look through in order (reads=, else its ns, else "default"), so a
 * line without them means what it always did. Tokens arrive as
 * "Authorization: Bearer <token>" or as the password of HTTP Basic. They
 * are compared in constant time and never logged. A Bearer token that is
 * no static token may be handed to a verifier (the OIDC module's, for
 * JWTs); without one it is invalid.
 */
#ifndef CACHEGATE_GATEWAY_AUTH_H
#define CACHEGATE_GATEWAY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gateway/access/grant.h"

enum auth_result {
	AUTH_OK = 0,
	AUTH_MISSING,    /* no credentials, and they are needed */
	AUTH_INVALID,    /* credentials that match no token */
	AUTH_FORBIDDEN,  /* a read token tried to write */
};

struct auth;

/*
 * Load the tokens of path. A NULL path gives an open server: every check
 * passes. With anonymous_read, reads need no credentials. On failure
 * returns NULL and sets *cause to a sentence the caller frees.
 */
struct auth *auth_load(const char *path, bool anonymous_read, char **cause);

/*
 * Read the tokens of an auth file already open as f (name is only for
 * messages), as auth_load does; f stays open.
 */
struct auth *auth_read(FILE *f, const char *name, bool anonymous_read, char **cause);

/* Free what auth_load returned. NULL is allowed. */
void auth_free(struct auth *a);

/* True when the server checks credentials at all. */
bool auth_enabled(const struct auth *a);

/*
 * Checks a Bearer token that matched no static token (a JWT): AUTH_OK with
 * *g set to the grant its claims earn, else AUTH_INVALID. Called on any
 * request thread at once.
 */
typedef enum auth_result (*auth_bearer_verify)(void *ctx, const char *token, size_t len,
                                               struct grant *g, char **reason);

/*
 * Hand Bearer tokens that are no static token to verify(ctx, ...); its
 * *reason, when it refuses one, is a short line the caller frees. A server
 * with a verifier checks credentials, auth file or not.
 */
void auth_set_bearer_verifier(struct auth *a, auth_bearer_verify verify, void *ctx);

/*
 * May a request carrying this Authorization header (NULL when absent) read,
 * or write when write is true? On AUTH_OK *grant (NULL: not wanted) is the
 * credential's: the token's line, the default grant for anonymous reads,
 * and on an open server (no auth file) the default grant, writing.
 */
enum auth_result auth_check(const struct auth *a, const char *authorization, bool write,
                            struct grant *grant);

/*
 * auth_check, and on AUTH_INVALID from the verifier *reason (NULL
 * otherwise) is why, one short line the caller frees: "token expired"...
 */
enum auth_result auth_check_why(const struct auth *a, const char *authorization, bool write,
                                struct grant *grant, char **reason);

/* One short sentence for a result, e.g. "missing credentials". */
const char *auth_result_str(enum auth_result r);

#endif
