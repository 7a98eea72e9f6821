/*
 * gateway_oidc_test.c: CI tokens through oidc_authorize, in the test's own
 * process: keys made here with OpenSSL, tokens signed here with libjwt (or
 * forged by hand), keys from a JWKS file or from a stand-in issuer's
 * discovery document. Good RS256 and ES256 tokens get their rule's grant;
 * every bad one is refused with a one-line reason.
 */
#include <criterion/criterion.h>
#include <jwt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/oidc/oidc.h"
#include "tests/oidc_fixture.h"
#include "tests/tmpdir.h"

#define ISSUER "https://token.actions.example"
#define AUDIENCE "cachegate"
#define NOW ((time_t)1800000000)

static const char rules_text[] =
	"# GitHub Actions\n"
	"gh-main  event_name=push ref=refs/heads/main  -> write=main reads=main\n"
	"gh-pr    event_name=pull_request  -> write=pr/{ref#refs/pull/} "
	"reads=pr/{ref#refs/pull/},{base_ref},main\n";

static char *dir, jwks_path[512], rules_path[512];
static struct test_key rsa, ec;

/* Keys, their JWKS file and the rules file, in a fresh directory. */
static void setup(void)
{
	const struct test_key *both[] = { &rsa, &ec };
	char *jwks;

	dir = tmpdir_make("oidc");
	test_key_make(&rsa, false, "r1");
	test_key_make(&ec, true, "e1");
	snprintf(jwks_path, sizeof(jwks_path), "%s/jwks.json", dir);
	snprintf(rules_path, sizeof(rules_path), "%s/rules", dir);
	jwks = test_jwks(both, 2);
	test_write_file(jwks_path, jwks);
	test_write_file(rules_path, rules_text);
	free(jwks);
}

static void teardown(void)
{
	test_key_free(&rsa);
	test_key_free(&ec);
	tmpdir_remove(dir);
}

TestSuite(gateway_oidc, .init = setup, .fini = teardown);

/* oidc_load with one issuer and the given keys file (NULL: discovery). */
static struct oidc *load(const char *issuer, const char *jwks_file)
{
	char *issuers[] = { (char *)issuer };
	struct oidc_config c = {.issuers = issuers, .nissuers = 1, .audience = AUDIENCE,
	                        .jwks_file = jwks_file, .rules_file = rules_path};
	char *cause = NULL;
	struct oidc *o = oidc_load(&c, &cause);

	cr_assert_not_null(o, "oidc_load: %s", cause ? cause : "?");
	return o;
}

/* The claims of a push to main from iss, for aud, valid around NOW. */
static char *push_claims(const char *iss, const char *aud)
{
	char *c;

	cr_assert(asprintf(&c, "{\"iss\":\"%s\",\"aud\":%s,\"exp\":%ld,\"nbf\":%ld,\"iat\":%ld,"
	                   "\"event_name\":\"push\",\"ref\":\"refs/heads/main\"}",
	                   iss, aud, (long)NOW + 300, (long)NOW - 10, (long)NOW - 10) > 0);
	return c;
}

/* Authorize token at now; expect a refusal whose reason contains want. */
static void expect_refused(struct oidc *o, const char *token, time_t now, const char *want)
{
	struct grant g;
	char *reason = NULL;

	cr_expect_eq(oidc_authorize(o, token, now, &g, &reason), AUTH_INVALID,
	             "refused (%s)", want);
	cr_assert_not_null(reason);
	cr_expect(strstr(reason, want) != NULL, "reason \"%s\" says \"%s\"", reason, want);
	cr_expect(strchr(reason, '\n') == NULL, "one line");
	free(reason);
}

/* Authorize token at now; expect AUTH_OK, g filled. */
static void expect_ok(struct oidc *o, const char *token, time_t now, struct grant *g)
{
	char *reason = NULL;

	cr_assert_eq(oidc_authorize(o, token, now, g, &reason), AUTH_OK, "%s accepted, not \"%s\"", token,
	             reason ? reason : "");
	cr_expect_null(reason);
}

Test(gateway_oidc, an_rs256_push_to_main_writes_main)
{
	struct oidc *o = load(ISSUER, jwks_path);
	char *claims = push_claims(ISSUER, "\"" AUDIENCE "\""), *t = test_token(&rsa, claims);
	struct grant g;

	expect_ok(o, t, NOW, &g);
	cr_expect(g.write);
	cr_expect_str_eq(g.ns, "main");
	cr_expect_eq(g.nreads, 1);
	cr_expect_str_eq(g.reads[0], "main");
	cr_expect_str_eq(g.label, "gh-main");
	free(t);
	free(claims);
	oidc_free(o);
}

Test(gateway_oidc, an_es256_pull_request_writes_its_ref_and_reads_it_then_base_then_main)
{
	struct oidc *o = load(ISSUER, jwks_path);
	char claims[512], *t;
	struct grant g;

	snprintf(claims, sizeof(claims),
	         "{\"iss\":\"%s\",\"aud\":[\"other\",\"%s\"],\"exp\":%ld,\"event_name\":"
	         "\"pull_request\",\"ref\":\"refs/pull/42/merge\",\"base_ref\":\"release\"}",
	         ISSUER, AUDIENCE, (long)NOW + 300);
	t = test_token(&ec, claims);
	expect_ok(o, t, NOW, &g);
	cr_expect(g.write);
	cr_expect_str_eq(g.ns, "pr/42/merge");
	cr_assert_eq(g.nreads, 3);
	cr_expect_str_eq(g.reads[0], "pr/42/merge");
	cr_expect_str_eq(g.reads[1], "release");
	cr_expect_str_eq(g.reads[2], "main");
	cr_expect_str_eq(g.label, "gh-pr");
	free(t);
	oidc_free(o);
}

Test(gateway_oidc, tokens_signed_without_libjwt_as_the_jws_spec_says_pass)
{
	struct oidc *o = load(ISSUER, jwks_path);
	char *claims = push_claims(ISSUER, "\"" AUDIENCE "\"");
	char *t_rs = test_token_evp(&rsa, claims), *t_es = test_token_evp(&ec, claims);
	struct grant g;

	expect_ok(o, t_rs, NOW, &g);
	cr_expect_str_eq(g.ns, "main");
	expect_ok(o, t_es, NOW, &g);
	cr_expect_str_eq(g.ns, "main");
	free(t_rs), free(t_es), free(claims);
	oidc_free(o);
}

Test(gateway_oidc, a_token_is_checked_in_full_once_and_then_found_until_it_expires)
{
	struct oidc *o = load(ISSUER, jwks_path);
	char *claims = push_claims(ISSUER, "\"" AUDIENCE "\""), *t = test_token(&rsa, claims);
	char *t2 = test_token(&ec, claims);
	struct grant g;

	expect_ok(o, t, NOW, &g);
	cr_expect_eq(oidc_verifications(o), 1);
	memset(&g, 0, sizeof(g));
	expect_ok(o, t, NOW + 1, &g);
	cr_expect_eq(oidc_verifications(o), 1, "the second use is found, not checked");
	cr_expect_str_eq(g.ns, "main", "with the grant of the first");
	cr_expect_str_eq(g.label, "gh-main");
	expect_ok(o, t2, NOW + 1, &g);
	cr_expect_eq(oidc_verifications(o), 2, "another token is checked");
	/* exp is NOW + 300: past it and the skew, the token is checked again and refused. */
	expect_refused(o, t, NOW + 360, "token expired");
	cr_expect_eq(oidc_verifications(o), 3);
	/* A refused token is never remembered. */
	expect_refused(o, t, NOW + 360, "token expired");
	cr_expect_eq(oidc_verifications(o), 4);
	free(t), free(t2), free(claims);
	oidc_free(o);
}

Test(gateway_oidc, a_forged_signature_or_changed_claims_are_refused)
{
	struct oidc *o = load(ISSUER, jwks_path);
	struct test_key other;
	char *claims = push_claims(ISSUER, "\"" AUDIENCE "\""), *forged, *good, *tampered;
	static const char other_claims[] = "{\"iss\":\"" ISSUER "\",\"aud\":\"" AUDIENCE
	                                   "\",\"exp\":1900000000,\"event_name\":\"push\","
	                                   "\"ref\":\"refs/heads/main\",\"x\":1}";
	char *pr_claims = test_b64url(other_claims, strlen(other_claims));
	char *dot1, *dot2;

	test_key_make(&other, false, "r1"); /* same kid, another key */
	forged = test_token(&other, claims);
	expect_refused(o, forged, NOW, "bad token signature");
	/* A good signature over other claims. */
	good = test_token(&rsa, claims);
	dot1 = strchr(good, '.');
	dot2 = strchr(dot1 + 1, '.');
	cr_assert(asprintf(&tampered, "%.*s.%s%s", (int)(dot1 - good), good, pr_claims, dot2) > 0);
	expect_refused(o, tampered, NOW, "bad token signature");
	expect_ok(o, good, NOW, &(struct grant){0});
	free(tampered);
	free(good);
	free(forged);
	free(pr_claims);
	free(claims);
	test_key_free(&other);
	oidc_free(o);
}

Test(gateway_oidc, a_wrong_issuer_or_audience_is_refused)
{
	struct oidc *o = load(ISSUER, jwks_path);
	char *c1 = push_claims("https://evil.example", "\"" AUDIENCE "\"");
	char *c2 = push_claims(ISSUER, "\"someone-else\"");
	char *c3 = push_claims(ISSUER, "[\"a\",\"b\"]");
	char *c4 = push_claims(ISSUER, "null");
	char *t1 = test_token(&rsa, c1), *t2 = test_token(&rsa, c2), *t3 = test_token(&ec, c3);
	char *t4 = test_token(&rsa, c4);

	expect_refused(o, t1, NOW, "issuer not trusted");
	expect_refused(o, t2, NOW, "wrong token audience");
	expect_refused(o, t3, NOW, "wrong token audience");
	expect_refused(o, t4, NOW, "wrong token audience");
	free(t1), free(t2), free(t3), free(t4);
	free(c1), free(c2), free(c3), free(c4);
	oidc_free(o);
}

Test(gateway_oidc, expired_and_not_yet_valid_tokens_are_refused_within_a_small_skew)
{
	struct oidc *o = load(ISSUER, jwks_path);
	char *claims = push_claims(ISSUER, "\"" AUDIENCE "\""), *t = test_token(&rsa, claims);
	char noexp[256], *t2;
	struct grant g;

	/* exp is NOW + 300, nbf NOW - 10; the skew is 60 s. */
	expect_ok(o, t, NOW + 300 + 59, &g);
	expect_refused(o, t, NOW + 300 + 60, "token expired");
	expect_refused(o, t, NOW + 86400, "token expired");
	expect_ok(o, t, NOW - 10 - 60, &g);
	expect_refused(o, t, NOW - 10 - 61, "token not yet valid");
	snprintf(noexp, sizeof(noexp), "{\"iss\":\"%s\",\"aud\":\"%s\",\"event_name\":\"push\","
	         "\"ref\":\"refs/heads/main\"}", ISSUER, AUDIENCE);
	t2 = test_token(&rsa, noexp);
	expect_refused(o, t2, NOW, "no expiry");
	free(t2);
	free(t);
	free(claims);
	oidc_free(o);
}

Test(gateway_oidc, alg_none_and_hmac_with_the_public_key_as_secret_are_refused)
{
	struct oidc *o = load(ISSUER, jwks_path);
	char *claims = push_claims(ISSUER, "\"" AUDIENCE "\"");
	char *none1 = test_token_raw("{\"alg\":\"none\",\"kid\":\"r1\"}", claims, "");
	char *none2 = test_token_raw("{\"alg\":\"none\",\"kid\":\"r1\"}", claims, "c2ln");
	char *none3 = test_token_raw("{\"alg\":\"None\",\"kid\":\"r1\"}", claims, "c2ln");
	char *hs;
	jwt_t *jwt = NULL;

	expect_refused(o, none1, NOW, "alg none");
	expect_refused(o, none2, NOW, "alg none");
	expect_refused(o, none3, NOW, "not accepted");
	/* HS256 keyed with the RSA public key's PEM: the classic confusion. */
	cr_assert_eq(jwt_new(&jwt), 0);
	cr_assert_eq(jwt_add_grants_json(jwt, claims), 0);
	cr_assert_eq(jwt_add_header(jwt, "kid", "r1"), 0);
	cr_assert_eq(jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)rsa.pub_pem,
	                         (int)strlen(rsa.pub_pem)), 0);
	hs = jwt_encode_str(jwt);
	jwt_free(jwt);
	cr_assert_not_null(hs);
	expect_refused(o, hs, NOW, "HMAC token refused");
	free(hs);
	free(none1), free(none2), free(none3);
	free(claims);
	oidc_free(o);
}

Test(gateway_oidc, an_unknown_kid_and_a_key_of_the_wrong_kind_are_refused)
{
	struct oidc *o = load(ISSUER, jwks_path);
	char *claims = push_claims(ISSUER, "\"" AUDIENCE "\"");
	struct test_key stranger, ec_as_r1;
	char *t1, *t2;

	test_key_make(&stranger, true, "nobody");
	test_key_make(&ec_as_r1, true, "r1"); /* ES256 naming the RSA key's kid */
	t1 = test_token(&stranger, claims);
	t2 = test_token(&ec_as_r1, claims);
	expect_refused(o, t1, NOW, "unknown kid");
	expect_refused(o, t2, NOW, "bad token signature");
	free(t1), free(t2);
	test_key_free(&stranger);
	test_key_free(&ec_as_r1);
	free(claims);
	oidc_free(o);
}

Test(gateway_oidc, garbage_is_not_a_token)
{
	struct oidc *o = load(ISSUER, jwks_path);
	const char *bad[] = { "", "abc", "a.b", "a.b.c.d", "eyJ.eyJ.x", "!!.??.__",
	                      "e30.e30.c2ln" /* {} and {} */ };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(o, bad[i], NOW, "");
	oidc_free(o);
}

Test(gateway_oidc, a_rotated_jwks_file_is_read_again_for_a_new_kid_at_most_once_a_minute)
{
	struct oidc *o = load(ISSUER, jwks_path);
	char *claims = push_claims(ISSUER, "\"" AUDIENCE "\"");
	struct test_key next;
	const struct test_key *rotated[] = { &next };
	char *t_old = test_token(&rsa, claims), *t_new, *jwks;
	struct grant g;

	expect_ok(o, t_old, NOW, &g);
	test_key_make(&next, false, "r2");
	t_new = test_token(&next, claims);
	jwks = test_jwks(rotated, 1);
	test_write_file(jwks_path, jwks);
	/* Within the minute of the first load the file is not read again. */
	expect_refused(o, t_new, NOW + 30, "unknown kid");
	expect_ok(o, t_new, NOW + 61, &g);
	cr_expect_str_eq(g.ns, "main");
	/* The old key left the set with the rotation. */
	expect_refused(o, t_old, NOW + 200, "unknown kid");
	free(jwks);
	free(t_old), free(t_new);
	test_key_free(&next);
	free(claims);
	oidc_free(o);
}

Test(gateway_oidc, keys_come_through_discovery_cached_and_fetched_again_for_a_new_kid)
{
	const struct test_key *first[] = { &rsa }, *second[] = { &rsa, &ec };
	char *jwks1 = test_jwks(first, 1), *jwks2 = test_jwks(second, 2), url[64];
	char *claims, *t_rsa, *t_ec;
	struct oidc *o;
	struct grant g;

	stand_in_issuer_start(jwks1, url);
	o = load(url, NULL);
	claims = push_claims(url, "\"" AUDIENCE "\"");
	t_rsa = test_token(&rsa, claims);
	t_ec = test_token(&ec, claims);
	cr_expect_eq(stand_in_issuer_hits("/jwks"), 0, "nothing fetched before the first token");
	expect_ok(o, t_rsa, NOW, &g);
	expect_ok(o, t_rsa, NOW + 1, &g);
	cr_expect_eq(stand_in_issuer_hits("/.well-known/openid-configuration"), 1);
	cr_expect_eq(stand_in_issuer_hits("/jwks"), 1, "the keys are cached");
	/* A flood of made-up kids within the minute: one fetch at most. */
	for (int i = 0; i < 20; i++) {
		struct test_key fake = {.ec = false};
		char *t;

		snprintf(fake.kid, sizeof(fake.kid), "fake-%d", i);
		fake.pkey = rsa.pkey;
		fake.priv_pem = rsa.priv_pem;
		t = test_token(&fake, claims);
		expect_refused(o, t, NOW + 2 + i, "unknown kid");
		free(t);
	}
	cr_expect_eq(stand_in_issuer_hits("/jwks"), 1, "no fetch within a minute of the last");
	/* The issuer adds the EC key; a token naming it gets it fetched. */
	stand_in_issuer_set_jwks(jwks2);
	expect_ok(o, t_ec, NOW + 61, &g);
	cr_expect_eq(stand_in_issuer_hits("/jwks"), 2);
	cr_expect_str_eq(g.label, "gh-main");
	oidc_free(o);
	stand_in_issuer_stop();
	free(t_rsa), free(t_ec), free(claims), free(jwks1), free(jwks2);
}

Test(gateway_oidc, an_issuer_out_of_reach_refuses_its_tokens_and_is_tried_again_later)
{
	const struct test_key *keys[] = { &rsa };
	char *jwks = test_jwks(keys, 1), url[64], *claims, *t;
	struct oidc *o;
	struct grant g;

	stand_in_issuer_start(jwks, url);
	stand_in_issuer_stop();
	o = load(url, NULL);
	claims = push_claims(url, "\"" AUDIENCE "\"");
	t = test_token(&rsa, claims);
	expect_refused(o, t, NOW, "keys cannot be loaded");
	expect_refused(o, t, NOW + 5, "keys cannot be loaded");
	oidc_free(o);
	free(t), free(claims), free(jwks);
	(void)g;
}

Test(gateway_oidc, a_bad_configuration_stops_the_load_with_one_sentence)
{
	char *one[] = { ISSUER }, *two[] = { ISSUER, "https://gitlab.example" };
	char *bad_scheme[] = { "ftp://x" };
	char bad_rules[512];
	struct oidc_config c = {.issuers = one, .nissuers = 1, .audience = AUDIENCE,
	                        .rules_file = rules_path};
	char *cause = NULL;

	c.audience = NULL;
	cr_expect_null(oidc_load(&c, &cause));
	cr_expect(strstr(cause, "--oidc-audience") != NULL, "%s", cause);
	free(cause), cause = NULL;
	c.audience = AUDIENCE;
	c.issuers = two;
	c.nissuers = 2;
	c.jwks_file = jwks_path;
	cr_expect_null(oidc_load(&c, &cause));
	cr_expect(strstr(cause, "--oidc-jwks") != NULL, "%s", cause);
	free(cause), cause = NULL;
	c.issuers = bad_scheme;
	c.nissuers = 1;
	cr_expect_null(oidc_load(&c, &cause));
	cr_expect(strstr(cause, "ftp://x") != NULL, "%s", cause);
	free(cause), cause = NULL;
	c.issuers = one;
	snprintf(bad_rules, sizeof(bad_rules), "%s/bad-rules", dir);
	test_write_file(bad_rules, "ok -> reads=main\nbroken event_name=push write=main\n");
	c.rules_file = bad_rules;
	cr_expect_null(oidc_load(&c, &cause));
	cr_expect(strstr(cause, "bad-rules:2:") != NULL, "names the file and line: %s", cause);
	free(cause);
}

Test(gateway_oidc, a_jwt_is_told_from_a_static_token)
{
	cr_expect(oidc_is_jwt("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"));
	cr_expect(!oidc_is_jwt("3f9c0d7e1a2b"));
	cr_expect(!oidc_is_jwt("a.b"));
	cr_expect(!oidc_is_jwt("a.b.c.d"));
	cr_expect(!oidc_is_jwt("a b.c.d"));
}

/* One of the threads of a burst: authorize the token, keep the result. */
struct burst {
	struct oidc *o;
	const char *token;
	enum auth_result result;
};

static void *burst_one(void *arg)
{
	struct burst *b = arg;
	struct grant g;
	char *reason = NULL;

	b->result = oidc_authorize(b->o, b->token, NOW, &g, &reason);
	free(reason);
	return NULL;
}

Test(gateway_oidc, a_burst_of_first_tokens_waits_for_one_fetch_and_all_pass)
{
	const struct test_key *keys[] = { &rsa };
	char *jwks = test_jwks(keys, 1), url[64], *claims, *t;
	struct burst b[8];
	pthread_t th[8];
	struct oidc *o;

	stand_in_issuer_start(jwks, url);
	o = load(url, NULL);
	claims = push_claims(url, "\"" AUDIENCE "\"");
	t = test_token(&rsa, claims);
	for (int i = 0; i < 8; i++) {
		b[i] = (struct burst){.o = o, .token = t, .result = AUTH_MISSING};
		cr_assert_eq(pthread_create(&th[i], NULL, burst_one, &b[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(b[i].result, AUTH_OK, "token %d of the burst passes", i);
	}
	cr_expect_eq(stand_in_issuer_hits("/jwks"), 1, "one fetch for the whole burst");
	oidc_free(o);
	stand_in_issuer_stop();
	free(t), free(claims), free(jwks);
}
