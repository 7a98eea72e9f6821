/*
 * rules.h: the claim rules file, which maps a verified token's claims to a
 * grant. One rule per line, the first rule whose conditions all hold wins:
 *
 *   # NAME    CONDITION...                          -> GRANT...
 *   gh-main   event_name=push ref=refs/heads/main   -> write=main reads=main
 *   gh-pr     event_name=pull_request               -> write=pr/{ref#refs/pull/}
 *                                                       reads=pr/{ref#refs/pull/},{base_ref},main
 *   (one line in the file; cut here to fit)
 *
 * NAME is the rule's name and its metrics label (a namespace-like word).
 * A CONDITION is CLAIM=VALUE (exact) or CLAIM~GLOB (fnmatch, '*' also
 * matches '/'), on a top-level claim that is a string, a boolean ("true",
 * "false") or an integer; a claim that is absent or anything else never
 * matches. A rule without conditions matches every token.
 * A GRANT is write=TEMPLATE (at most one) and reads=TEMPLATE,... (in order;
 * without it, the write namespace alone). A TEMPLATE is a namespace with
 * claims in braces: {CLAIM} is the claim's value, {CLAIM#PREFIX} the same
 * with PREFIX taken off its start. Values contain no blanks.
 * A namespace that comes out of a template invalid (see grant_ns_valid),
 * or from a claim that is missing, is dropped: no write, or one read less.
 */
#ifndef CACHEGATE_GATEWAY_OIDC_RULES_H
#define CACHEGATE_GATEWAY_OIDC_RULES_H

#include <jansson.h>
#include <stdio.h>

#include "gateway/access/grant.h"

/* Bounds on a rules file. */
#define RULES_MAX 256
#define RULES_LINE_MAX 4096
#define RULES_CONDS_MAX 16

struct rules;

/*
 * Read the rules of an open file (name is only for messages). NULL with
 * *cause ("FILE:LINE: why") on the first bad line; no rules at all is bad.
 */
struct rules *rules_read(FILE *f, const char *name, char **cause);

/* rules_read of the file at path. */
struct rules *rules_load(const char *path, char **cause);

/*
 * Fill g from the first rule whose conditions claims meet, with the rule's
 * name as g->label, and return that name; NULL (g untouched) when no rule
 * matches.
 */
const char *rules_grant(const struct rules *r, json_t *claims, struct grant *g);

/* Free what rules_read returned. NULL is allowed. */
void rules_free(struct rules *r);

#endif
