/*
 * gateway_oidc_rules_test.c: the claim rules file: GitHub Actions and GitLab
 * CI claims to grants, templates whose result is not a namespace, and the
 * lines a rules file refuses, each named by file and line.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/oidc/rules.h"

static const char github[] =
	"# GitHub Actions: main writes main; a pull request its own namespace\n"
	"gh-main    iss=https://token.actions.githubusercontent.com repository=acme/app "
	"event_name=push ref=refs/heads/main  -> write=main reads=main\n"
	"gh-pr      repository=acme/app event_name=pull_request "
	"-> write=pr/{ref#refs/pull/} reads=pr/{ref#refs/pull/},{base_ref},main\n"
	"gh-branch  repository=acme/app event_name=push ref~refs/heads/* "
	"-> write=branch/{ref#refs/heads/} reads=branch/{ref#refs/heads/},main\n"
	"gh-read    repository_owner=acme -> reads=main   # anything else of acme reads main\n";

static const char gitlab[] =
	"# GitLab CI: protected branches write their own, merge requests theirs\n"
	"gl-protected  iss=https://gitlab.com project_path=acme/app ref_type=branch "
	"ref_protected=true pipeline_source~* -> write={project_path}/{ref} "
	"reads={project_path}/{ref},{project_path}/main\n"
	"gl-mr         iss=https://gitlab.com project_path=acme/app "
	"pipeline_source=merge_request_event -> write={project_path}/mr/{ref} "
	"reads={project_path}/mr/{ref},{project_path}/main\n"
	"gl-tag        project_path=acme/app ref_type=tag ref_protected=true -> "
	"reads={project_path}/main\n";

/* The rules of text (named "rules"); the test fails if they do not parse. */
static struct rules *parse(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	char *cause = NULL;
	struct rules *r;

	cr_assert_not_null(f);
	r = rules_read(f, "rules", &cause);
	fclose(f);
	cr_assert_not_null(r, "rules parse: %s", cause ? cause : "?");
	return r;
}

/* The reason text is refused for; the caller frees it. */
static char *refusal(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	char *cause = NULL;
	struct rules *r;

	cr_assert_not_null(f);
	r = rules_read(f, "rules", &cause);
	fclose(f);
	cr_assert_null(r, "\"%s\" is refused", text);
	cr_assert_not_null(cause);
	return cause;
}

/* Match claims (JSON text) against rules; the rule's name or NULL. */
static const char *grant_of(const struct rules *r, const char *claims, struct grant *g)
{
	json_t *j = json_loads(claims, JSON_ALLOW_NUL, NULL);
	const char *name;

	cr_assert_not_null(j, "claims parse: %s", claims);
	memset(g, 0, sizeof(*g));
	name = rules_grant(r, j, g);
	json_decref(j);
	return name;
}

/* Expect g to write ns ("" for none) and read the n names of reads. */
static void expect_grant(const struct grant *g, const char *ns, size_t n, const char **reads)
{
	cr_expect_eq(g->write, ns[0] != '\0');
	cr_expect_str_eq(g->ns, ns);
	cr_expect_eq(g->nreads, n, "%zu reads, not %zu", n, g->nreads);
	for (size_t i = 0; i < n && i < g->nreads; i++)
		cr_expect_str_eq(g->reads[i], reads[i]);
}

Test(gateway_oidc_rules, a_github_push_to_main_writes_main)
{
	struct rules *r = parse(github);
	struct grant g;

	cr_assert_str_eq(grant_of(r, "{\"iss\":\"https://token.actions.githubusercontent.com\","
	                              "\"repository\":\"acme/app\",\"event_name\":\"push\","
	                              "\"ref\":\"refs/heads/main\"}", &g), "gh-main");
	expect_grant(&g, "main", 1, (const char *[]){ "main" });
	cr_expect_str_eq(g.label, "gh-main");
	rules_free(r);
}

Test(gateway_oidc_rules, a_github_pull_request_writes_its_own_and_reads_its_own_base_main)
{
	struct rules *r = parse(github);
	struct grant g;

	cr_assert_str_eq(grant_of(r, "{\"repository\":\"acme/app\",\"event_name\":"
	                              "\"pull_request\",\"ref\":\"refs/pull/42/merge\","
	                              "\"base_ref\":\"release/1.x\",\"head_ref\":\"main\"}", &g),
	                 "gh-pr");
	expect_grant(&g, "pr/42/merge", 3, (const char *[]){ "pr/42/merge", "release/1.x", "main" });
	/* Against main, main is read once. */
	grant_of(r, "{\"repository\":\"acme/app\",\"event_name\":\"pull_request\","
	            "\"ref\":\"refs/pull/7/merge\",\"base_ref\":\"main\"}", &g);
	expect_grant(&g, "pr/7/merge", 2, (const char *[]){ "pr/7/merge", "main" });
	rules_free(r);
}

Test(gateway_oidc_rules, other_events_on_main_do_not_get_mains_write)
{
	struct rules *r = parse(github);
	struct grant g;

	/* pull_request_target runs with the base branch's ref. */
	cr_expect_str_eq(grant_of(r, "{\"repository\":\"acme/app\",\"repository_owner\":\"acme\","
	                              "\"event_name\":\"pull_request_target\","
	                              "\"ref\":\"refs/heads/main\"}", &g), "gh-read");
	expect_grant(&g, "", 1, (const char *[]){ "main" });
	/* Another repository of another owner: no rule. */
	cr_expect_null(grant_of(r, "{\"repository\":\"evil/app\",\"repository_owner\":\"evil\","
	                           "\"event_name\":\"push\",\"ref\":\"refs/heads/main\"}", &g));
	/* A branch push writes its branch's namespace. */
	cr_expect_str_eq(grant_of(r, "{\"repository\":\"acme/app\",\"event_name\":\"push\","
	                              "\"ref\":\"refs/heads/feature/x\"}", &g), "gh-branch");
	expect_grant(&g, "branch/feature/x", 2, (const char *[]){ "branch/feature/x", "main" });
	rules_free(r);
}

Test(gateway_oidc_rules, gitlab_protected_branches_and_merge_requests)
{
	struct rules *r = parse(gitlab);
	struct grant g;

	cr_assert_str_eq(grant_of(r, "{\"iss\":\"https://gitlab.com\",\"project_path\":\"acme/app\","
	                              "\"ref\":\"main\",\"ref_type\":\"branch\","
	                              "\"ref_protected\":\"true\",\"pipeline_source\":\"push\"}", &g),
	                 "gl-protected");
	expect_grant(&g, "acme/app/main", 1, (const char *[]){ "acme/app/main" });
	cr_assert_str_eq(grant_of(r, "{\"iss\":\"https://gitlab.com\",\"project_path\":\"acme/app\","
	                              "\"ref\":\"feature-1\",\"ref_type\":\"branch\","
	                              "\"ref_protected\":\"false\","
	                              "\"pipeline_source\":\"merge_request_event\"}", &g), "gl-mr");
	expect_grant(&g, "acme/app/mr/feature-1", 2,
	             (const char *[]){ "acme/app/mr/feature-1", "acme/app/main" });
	/* A branch named main in a merge request stays under mr/. */
	grant_of(r, "{\"iss\":\"https://gitlab.com\",\"project_path\":\"acme/app\","
	            "\"ref\":\"main\",\"ref_type\":\"branch\",\"ref_protected\":false,"
	            "\"pipeline_source\":\"merge_request_event\"}", &g);
	cr_expect_str_eq(g.ns, "acme/app/mr/main");
	/* A boolean claim matches "true" as a string would. */
	cr_expect_str_eq(grant_of(r, "{\"project_path\":\"acme/app\",\"ref\":\"v1\","
	                              "\"ref_type\":\"tag\",\"ref_protected\":true}", &g), "gl-tag");
	expect_grant(&g, "", 1, (const char *[]){ "acme/app/main" });
	/* An unprotected push matches nothing. */
	cr_expect_null(grant_of(r, "{\"iss\":\"https://gitlab.com\",\"project_path\":\"acme/app\","
	                           "\"ref\":\"wip\",\"ref_type\":\"branch\","
	                           "\"ref_protected\":\"false\",\"pipeline_source\":\"push\"}", &g));
	rules_free(r);
}

Test(gateway_oidc_rules, a_template_that_yields_no_namespace_gives_no_write)
{
	struct rules *r = parse(github);
	const char *bad_refs[] = { "refs/heads/x/../../main", "refs/heads/a b", "refs/heads/",
	                           "refs/heads/a//b", "refs/heads/%2e%2e",
	                           "refs/heads/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                           "aaaaaaaaaaaaaaaaa" };
	struct grant g;

	for (size_t i = 0; i < sizeof(bad_refs) / sizeof(bad_refs[0]); i++) {
		char claims[512];

		snprintf(claims, sizeof(claims), "{\"repository\":\"acme/app\",\"event_name\":"
		         "\"push\",\"ref\":\"%s\"}", bad_refs[i]);
		cr_expect_str_eq(grant_of(r, claims, &g), "gh-branch");
		expect_grant(&g, "", 1, (const char *[]){ "main" });
	}
	/* A missing claim: no write, and that read is dropped. */
	cr_expect_str_eq(grant_of(r, "{\"repository\":\"acme/app\",\"event_name\":"
	                              "\"pull_request\"}", &g), "gh-pr");
	expect_grant(&g, "", 1, (const char *[]){ "main" });
	/* A claim with a NUL inside is no value at all. */
	grant_of(r, "{\"repository\":\"acme/app\",\"event_name\":\"pull_request\","
	            "\"ref\":\"refs/pull/1/merge\",\"base_ref\":\"main\\u0000x\"}", &g);
	expect_grant(&g, "pr/1/merge", 2, (const char *[]){ "pr/1/merge", "main" });
	/* An array or object claim matches no condition. */
	cr_expect_null(grant_of(r, "{\"repository\":[\"acme/app\"],\"event_name\":\"push\","
	                           "\"ref\":\"refs/heads/main\"}", &g));
	rules_free(r);
}

Test(gateway_oidc_rules, a_rule_without_reads_reads_what_it_writes_and_integers_match)
{
	struct rules *r = parse("deploy project_id=42 -> write=deploy/{pipeline_id}\n");
	struct grant g;

	cr_assert_str_eq(grant_of(r, "{\"project_id\":42,\"pipeline_id\":1234}", &g), "deploy");
	expect_grant(&g, "deploy/1234", 1, (const char *[]){ "deploy/1234" });
	cr_expect_null(grant_of(r, "{\"project_id\":\"43\",\"pipeline_id\":1}", &g));
	rules_free(r);
}

Test(gateway_oidc_rules, bad_lines_are_refused_with_the_file_and_line)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{ "", "holds no rule" },
		{ "# only a comment\n\n", "holds no rule" },
		{ "a -> reads=main\nb event_name=push write=main\n", "rules:2: a rule needs" },
		{ "a -> \n", "rules:1: a rule needs" },
		{ "a event_name -> reads=main\n", "CLAIM=VALUE" },
		{ "a =push -> reads=main\n", "CLAIM=VALUE" },
		{ "a -> write=../main\n", "write= holds a bad" },
		{ "a -> write={ref\n", "write= holds a bad" },
		{ "a -> write={}\n", "write= holds a bad" },
		{ "a -> write={a{b}}\n", "write= holds a bad" },
		{ "a -> write=x y=z\n", "after -> come" },
		{ "a -> write=main write=x\n", "write= given twice" },
		{ "a -> reads=main,,x\n", "reads= holds a bad" },
		{ "a -> reads=a,b,c,d,e,f,g,h,i\n", "too many namespaces" },
		{ "a -> reads=main\na -> reads=x\n", "rules:2: two rules of the same name" },
		{ "bad name -> reads=main\n", "rules:1: a condition" },
		{ "../x -> reads=main\n", "starts with its name" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *cause = refusal(bad[i].text);

		cr_expect(strstr(cause, bad[i].says) != NULL, "\"%s\": \"%s\" says \"%s\"",
		          bad[i].text, cause, bad[i].says);
		cr_expect(strchr(cause, '\n') == NULL);
		free(cause);
	}
}

Test(gateway_oidc_rules, comments_and_a_hash_inside_a_template)
{
	struct rules *r = parse("  # a comment line\n"
	                        "pr event_name=pull_request -> write=pr/{ref#refs/pull/} # note\n");
	struct grant g;

	cr_assert_str_eq(grant_of(r, "{\"event_name\":\"pull_request\",\"ref\":\"refs/pull/3/m\"}",
	                          &g), "pr");
	cr_expect_str_eq(g.ns, "pr/3/m");
	rules_free(r);
}
