/*
 * citoken.h: the helper's own CI token (OIDC), where the CI offers one, to
 * send to the gateway instead of a stored secret: on GitHub Actions asked
 * of the runner (ACTIONS_ID_TOKEN_REQUEST_URL with
 * ACTIONS_ID_TOKEN_REQUEST_TOKEN) for an audience, and asked again before it
 * expires; on GitLab CI read from the variable an `id_tokens` entry names
 * (GitLab's tokens live as long as the job and cannot be renewed).
 */
#ifndef CACHEGATE_PROG_CITOKEN_H
#define CACHEGATE_PROG_CITOKEN_H

#include <stdbool.h>
#include <time.h>

/* How long one request to the runner may take, in seconds. */
#define CITOKEN_TIMEOUT 5
/* The least time between two tries to renew after a failure. */
#define CITOKEN_RETRY_SECONDS 10

struct citoken;

/*
 * Get the first token: from the GitHub runner for audience when audience is
 * set (and, if var is set too, the runner offers tokens), else from the
 * environment variable var. NULL with *cause (one sentence, the caller
 * frees) when the CI offers none or it is unusable.
 */
struct citoken *citoken_start(const char *audience, const char *var, time_t now,
                              char **cause);

/* The token now held; valid until the next citoken_renew. */
const char *citoken_value(const struct citoken *c);

/* When the token held expires (its exp claim). */
time_t citoken_expiry(const struct citoken *c);

/*
 * Is it time to ask for a new token: a third of its life or a minute before
 * its expiry, whichever comes first, and not within CITOKEN_RETRY_SECONDS of
 * a failed try? Never for a token that cannot be renewed (GitLab's).
 */
bool citoken_due(const struct citoken *c, time_t now);

/*
 * Ask for a new token (blocking, CITOKEN_TIMEOUT at most). False with
 * *cause when that failed; the old token is kept.
 */
bool citoken_renew(struct citoken *c, time_t now, char **cause);

/* Failed renewals in a row (0 after a success). */
unsigned citoken_failures(const struct citoken *c);

/* Free c, wiping the token. NULL is allowed. */
void citoken_free(struct citoken *c);

#endif
