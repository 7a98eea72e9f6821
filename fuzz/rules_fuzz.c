/*
 * rules_fuzz.c: libFuzzer target for the claim rules file (rules_read), then
 * the parsed rules matched against a few GitHub and GitLab claim sets, some
 * with hostile values: rules or one "FILE:LINE" sentence, never both; every
 * grant's namespaces are valid names, its reads within bounds, and its label
 * the matched rule's name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/oidc/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const claim_sets[] = {
	"{\"iss\":\"https://token.actions.githubusercontent.com\",\"event_name\":\"push\","
	"\"ref\":\"refs/heads/main\",\"repository\":\"acme/app\"}",
	"{\"event_name\":\"pull_request\",\"ref\":\"refs/pull/42/merge\",\"base_ref\":\"main\","
	"\"head_ref\":\"../../main\",\"run_id\":123456789}",
	"{\"iss\":\"https://gitlab.com\",\"project_path\":\"acme/app\",\"ref\":\"main\","
	"\"ref_type\":\"branch\",\"ref_protected\":\"true\",\"pipeline_source\":\"push\"}",
	"{\"ref\":\"a b/{ref}\",\"base_ref\":\"\",\"project_path\":[\"x\"],\"ref_protected\":true,"
	"\"event_name\":{\"x\":1},\"n\":-1,\"f\":1.5}",
};

/* Is the grant that rule name gave well formed? */
static bool grant_sane(const struct grant *g, const char *name)
{
	if (strcmp(g->label, name) != 0 || g->nreads > GRANT_READS_MAX)
		return false;
	if (g->write != (g->ns[0] != '\0') || (g->write && !grant_ns_valid(g->ns)))
		return false;
	for (size_t i = 0; i < g->nreads; i++)
		if (!grant_ns_valid(g->reads[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *claims[sizeof(claim_sets) / sizeof(claim_sets[0])];
	FILE *f = fmemopen((void *)data, size, "r");
	char *cause = NULL;
	struct rules *r;

	if (claims[0] == NULL)
		for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++)
			if ((claims[i] = json_loads(claim_sets[i], 0, NULL)) == NULL)
				abort();
	if (f == NULL)
		return 0;
	r = rules_read(f, "fuzz", &cause);
	fclose(f);
	if ((r == NULL) == (cause == NULL))
		abort();
	if (cause != NULL && (strncmp(cause, "fuzz:", 5) != 0 || strchr(cause, '\n') != NULL))
		abort();
	for (size_t i = 0; r != NULL && i < sizeof(claims) / sizeof(claims[0]); i++) {
		struct grant g;
		const char *name = rules_grant(r, claims[i], &g);

		if (name != NULL && !grant_sane(&g, name))
			abort();
	}
	rules_free(r);
	free(cause);
	return 0;
}
