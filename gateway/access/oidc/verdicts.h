/*
 * verdicts.h: tokens already checked, so a CI job's every request (a build
 * sends thousands, all with one token) is not a signature check each: a
 * direct-mapped table of VERDICTS_SLOTS accepted tokens, by the SHA-256 of
 * the token's text, each with its grant, the times it is good between (its
 * nbf and exp, give or take the skew) and a tag its owner chooses: oidc.c
 * tags a verdict with its issuer's key generation, so keys loaded again
 * (a rotation, a key withdrawn) end the verdicts made with the old ones.
 * Only accepted tokens are kept. Safe from many threads.
 */
#ifndef CACHEGATE_GATEWAY_OIDC_VERDICTS_H
#define CACHEGATE_GATEWAY_OIDC_VERDICTS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "gateway/access/grant.h"

#define VERDICTS_SLOTS 1024

struct verdicts;

/* An empty table; NULL on out of memory. */
struct verdicts *verdicts_new(void);

/*
 * If token was accepted and is good at now (from <= now < until), copy its
 * grant to *g and its tag to *tag.
 */
bool verdicts_get(struct verdicts *v, const char *token, time_t now, struct grant *g,
                  uint64_t *tag);

/* Remember that token was accepted with grant g, good from from until before until. */
void verdicts_put(struct verdicts *v, const char *token, time_t from, time_t until,
                  uint64_t tag, const struct grant *g);

/* Free v. NULL is allowed. */
void verdicts_free(struct verdicts *v);

#endif
