/*
 * oidc.h: CI identity without static secrets. A job's OIDC token (a JWT
 * from a configured issuer, e.g. GitHub Actions or GitLab CI) is verified
 * against the issuer's keys and its audience, and its claims are mapped to
 * a grant by the rules file (rules.h). The entry point for the gateway's
 * access checks; safe to call from many threads at once.
 *
 * Use: main.c calls oidc_load once (from struct options' oidc_* fields) and
 * stops the start on NULL; the access check sends a Bearer credential for
 * which oidc_is_jwt holds to oidc_authorize(o, token, time(NULL), &g,
 * &reason) instead of the token table, and answers 401 with reason when it
 * is refused; the request then goes on with g as a static token's grant.
 */
#ifndef CACHEGATE_GATEWAY_OIDC_H
#define CACHEGATE_GATEWAY_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "gateway/access/auth.h"
#include "gateway/access/grant.h"

/* What --oidc-issuer, --oidc-audience, --oidc-jwks and --oidc-rules gave. */
struct oidc_config {
	char *const *issuers;   /* exact "iss" values (https URLs) */
	size_t nissuers;
	const char *audience;   /* the "aud" tokens must carry */
	const char *jwks_file;  /* keys from this file instead of discovery; one issuer only */
	const char *rules_file; /* claims to grants */
};

struct oidc;

/*
 * Check c and read the rules file. The issuers' keys are loaded on the first
 * token, not here: the gateway starts while an issuer is out of reach. NULL
 * with *cause (one sentence, the caller frees) when c is incomplete or the
 * rules are bad.
 */
struct oidc *oidc_load(const struct oidc_config *c, char **cause);

/*
 * May the bearer of jwt (the token alone, without "Bearer ") act, and how?
 * AUTH_OK with *g set from the first rule the claims match; else
 * AUTH_INVALID with *reason, one short line the caller frees ("token
 * expired", "wrong token audience"...). now is the time the token is
 * judged at.
 */
enum auth_result oidc_authorize(struct oidc *o, const char *jwt, time_t now, struct grant *g,
                                char **reason);

/*
 * An auth_bearer_verify (auth.h) for auth_set_bearer_verifier: ctx is the
 * struct oidc, the token token[0..len), judged at the time of the call.
 */
enum auth_result oidc_bearer_verify(void *ctx, const char *token, size_t len, struct grant *g,
                                    char **reason);

/* How many tokens were checked in full so far (a token's later uses are not). */
unsigned oidc_verifications(struct oidc *o);

/* Does token look like a JWT (three base64url parts), not a static token? */
bool oidc_is_jwt(const char *token);

/* Free what oidc_load returned. NULL is allowed. */
void oidc_free(struct oidc *o);

#endif
