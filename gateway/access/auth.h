/*
 * auth.h: who may read and write, from an auth file of "<token> read|write"
 * lines. Tokens arrive as "Authorization: Bearer <token>" or as the password
 * of HTTP Basic. They are compared in constant time and never logged.
 */
#ifndef CACHEGATE_GATEWAY_AUTH_H
#define CACHEGATE_GATEWAY_AUTH_H

#include <stdbool.h>
#include <stdio.h>

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
 * May a request carrying this Authorization header (NULL when absent) read,
 * or write when write is true?
 */
enum auth_result auth_check(const struct auth *a, const char *authorization, bool write);

/* One short sentence for a result, e.g. "missing credentials". */
const char *auth_result_str(enum auth_result r);

#endif
