/*
 * gateway_oidc_http_test.c: CI tokens through the real cachegate. A push
 * to main and a pull request, each with its job's OIDC token (signed here,
 * keys in a JWKS file), store entries for the same action: main's readers
 * keep main's entry, the pull request reads its own first and main's where
 * it has none. Expired, forged, wrongly addressed and unsigned tokens get a
 * 401 whose one line says why, and write nothing. Writes are counted by the
 * rule's name.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/gateway_fixture.h"
#include "tests/oidc_fixture.h"

#define ISSUER "https://token.actions.githubusercontent.com"
#define AUDIENCE "cachegate"

static struct gw g;
static struct test_key key, other;

static void teardown(void)
{
	gw_stop(&g);
	test_key_free(&key);
	test_key_free(&other);
}

TestSuite(gateway_oidc_http, .fini = teardown, .timeout = 120);

static const char rules[] =
	"gh-main  repository=acme/app event_name=push ref=refs/heads/main -> write=main reads=main\n"
	"gh-pr    repository=acme/app event_name=pull_request "
	"-> write=pr/{ref#refs/pull/} reads=pr/{ref#refs/pull/},main\n";

/* The gateway: tokens of ISSUER for AUDIENCE, keys from a JWKS file, anonymous reads. */
static void start(void)
{
	const struct test_key *keys[] = { &key };
	char *jwks = test_jwks(keys, 1);
	char *jwks_path = gw_write_file(&g, "jwks.json", jwks);
	char *rules_path = gw_write_file(&g, "rules", rules);
	const char *args[] = { "--oidc-issuer", ISSUER, "--oidc-audience", AUDIENCE,
	                       "--oidc-jwks", jwks_path, "--oidc-rules", rules_path,
	                       "--anonymous-read", NULL };

	gw_start(&g, args, NULL);
	free(jwks);
	free(jwks_path);
	free(rules_path);
}

/* A token signed by k for a job of event on ref, valid from nbf to exp (offsets from now). */
static char *job_token(const struct test_key *k, const char *aud, const char *event,
                       const char *ref, long nbf, long exp)
{
	long now = (long)time(NULL);
	char *claims, *token;

	cr_assert(asprintf(&claims, "{\"iss\":\"" ISSUER "\",\"aud\":\"%s\",\"exp\":%ld,"
	                   "\"nbf\":%ld,\"iat\":%ld,\"repository\":\"acme/app\","
	                   "\"event_name\":\"%s\",\"ref\":\"%s\"}",
	                   aud, now + exp, now + nbf, now + nbf, event, ref) > 0);
	token = test_token(k, claims);
	free(claims);
	return token;
}

/* "Authorization: Bearer <token>" in buf, as a header list of one. */
static const char *const *bearer(char *buf, size_t n, const char *token, const char *list[2])
{
	snprintf(buf, n, "Authorization: Bearer %s", token);
	list[0] = buf;
	list[1] = NULL;
	return list;
}

/* GET path with headers: expect 200 and exactly body. */
static void expect_body(const char *path, const char *const *headers, const char *body)
{
	struct gw_reply r;

	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, headers, &r), 200, "GET %s", path);
	cr_expect_eq(r.len, strlen(body));
	cr_expect(r.len == strlen(body) && memcmp(r.body, body, r.len) == 0,
	          "GET %s: \"%s\", not \"%s\"", path, r.body, body);
	gw_reply_free(&r);
}

/* PUT body to path with token: expect a 401 whose one line contains why. */
static void expect_refused(const char *path, const char *token, const char *why)
{
	char buf[8192];
	const char *list[2];
	struct gw_reply r;

	cr_assert_eq(gw_http(&g, "PUT", path, "poison", 6, bearer(buf, sizeof(buf), token, list), &r),
	             401, "refused: %s", why);
	gw_assert_one_line(&r);
	cr_expect(strstr(r.body, why) != NULL, "the 401 says \"%s\": %s", why, r.body);
	gw_reply_free(&r);
}

Test(gateway_oidc_http, a_pull_request_token_cannot_replace_mains_entries)
{
	char action[65], only_main[65], path[128], pathm[128];
	char hmain[8192], hpr[8192];
	const char *lmain[2], *lpr[2];
	char *main_token, *pr_token;
	const char *const *as_main, *const *as_pr;

	test_key_make(&key, false, "r1");
	start();
	main_token = job_token(&key, AUDIENCE, "push", "refs/heads/main", -10, 600);
	pr_token = job_token(&key, AUDIENCE, "pull_request", "refs/pull/42/merge", -10, 600);
	as_main = bearer(hmain, sizeof(hmain), main_token, lmain);
	as_pr = bearer(hpr, sizeof(hpr), pr_token, lpr);
	gw_sha256_hex("an action", 9, action);
	gw_sha256_hex("only main's", 11, only_main);
	snprintf(path, sizeof(path), "/ac/%s", action);
	snprintf(pathm, sizeof(pathm), "/ac/%s", only_main);

	cr_assert_eq(gw_http(&g, "PUT", path, "main's entry", 12, as_main, NULL), 201);
	cr_assert_eq(gw_http(&g, "PUT", pathm, "main alone", 10, as_main, NULL), 201);
	cr_assert_eq(gw_http(&g, "PUT", path, "poisoned entry", 14, as_pr, NULL), 201,
	             "the pull request may write: into its own namespace");
	expect_body(path, as_main, "main's entry");
	expect_body(path, as_pr, "poisoned entry");
	expect_body(pathm, as_pr, "main alone");
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404,
	             "anonymous reads read default, which neither wrote");
	cr_expect_eq(gw_metric(&g, "cachegate_ac_writes_total{grant=\"gh-main\"}"), 2);
	cr_expect_eq(gw_metric(&g, "cachegate_ac_writes_total{grant=\"gh-pr\"}"), 1);
	cr_assert_eq(gw_http(&g, "PUT", path, "x", 1, NULL, NULL), 401, "a write needs a token");
	free(main_token);
	free(pr_token);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_oidc_http, bad_tokens_get_a_401_that_says_why_and_write_nothing)
{
	char action[65], path[128], hmain[8192], *main_token, *expired, *early, *forged, *wrong_aud,
		*unsigned_token, *claims;
	const char *lmain[2];
	long now = (long)time(NULL);

	test_key_make(&key, false, "r1");
	test_key_make(&other, false, "r1");  /* the same kid, another key: a forgery */
	start();
	gw_sha256_hex("an action", 9, action);
	snprintf(path, sizeof(path), "/ac/%s", action);
	main_token = job_token(&key, AUDIENCE, "push", "refs/heads/main", -10, 600);
	cr_assert_eq(gw_http(&g, "PUT", path, "main's entry", 12,
	                     bearer(hmain, sizeof(hmain), main_token, lmain), NULL), 201);

	expired = job_token(&key, AUDIENCE, "push", "refs/heads/main", -7200, -3600);
	early = job_token(&key, AUDIENCE, "push", "refs/heads/main", 3600, 7200);
	forged = job_token(&other, AUDIENCE, "push", "refs/heads/main", -10, 600);
	wrong_aud = job_token(&key, "someone-else", "push", "refs/heads/main", -10, 600);
	cr_assert(asprintf(&claims, "{\"iss\":\"" ISSUER "\",\"aud\":\"" AUDIENCE "\",\"exp\":%ld,"
	                   "\"repository\":\"acme/app\",\"event_name\":\"push\","
	                   "\"ref\":\"refs/heads/main\"}", now + 600) > 0);
	unsigned_token = test_token_raw("{\"alg\":\"none\",\"kid\":\"r1\"}", claims, "");
	expect_refused(path, expired, "expired");
	expect_refused(path, early, "not yet valid");
	expect_refused(path, forged, "signature");
	expect_refused(path, wrong_aud, "audience");
	expect_refused(path, unsigned_token, "none");
	expect_body(path, lmain, "main's entry");
	cr_expect_eq(gw_metric(&g, "cachegate_ac_writes_total{grant=\"gh-main\"}"), 1,
	             "no refused token wrote");
	free(main_token);
	free(expired);
	free(early);
	free(forged);
	free(wrong_aud);
	free(claims);
	free(unsigned_token);
	cr_assert_eq(gw_stop(&g), 0);
}
