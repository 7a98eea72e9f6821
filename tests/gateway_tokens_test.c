/*
 * gateway_tokens_test.c: who may read and write (gateway/access/auth.c),
 * called directly: the auth file's lines, Bearer and Basic credentials,
 * read and write tokens, anonymous reads, an open server, and the grant
 * each credential gets (ns=, reads=).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/auth.h"

static struct auth *a;

static void teardown(void)
{
	auth_free(a);
	a = NULL;
}

TestSuite(gateway_tokens, .fini = teardown);

/* Tokens from text, as an auth file holds them; NULL and *cause set when refused. */
static struct auth *from_text(const char *text, bool anonymous_read, char **cause)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct auth *got;

	cr_assert_not_null(f);
	got = auth_read(f, "tokens", anonymous_read, cause);
	fclose(f);
	return got;
}

/* Tokens from text that must load. */
static struct auth *load(const char *text, bool anonymous_read)
{
	char *cause = NULL;
	struct auth *got = from_text(text, anonymous_read, &cause);

	cr_assert_not_null(got, "refused: %s", cause);
	return got;
}

static const char tokens[] =
	"# the team's tokens\n"
	"\n"
	"wr1te-t0ken write\n"
	"r3ad-t0ken read   # CI\n";

Test(gateway_tokens, bearer_tokens_read_and_write_as_their_file_says)
{
	a = load(tokens, false);
	cr_assert(auth_enabled(a));
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ken", false, NULL), AUTH_OK);
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ken", true, NULL), AUTH_OK);
	cr_assert_eq(auth_check(a, "Bearer r3ad-t0ken", false, NULL), AUTH_OK);
	cr_assert_eq(auth_check(a, "Bearer r3ad-t0ken", true, NULL), AUTH_FORBIDDEN);
	cr_assert_eq(auth_check(a, "bearer  wr1te-t0ken", true, NULL), AUTH_OK,
	             "the scheme has any case");
}

Test(gateway_tokens, wrong_or_missing_credentials)
{
	a = load(tokens, false);
	cr_assert_eq(auth_check(a, NULL, false, NULL), AUTH_MISSING);
	cr_assert_eq(auth_check(a, NULL, true, NULL), AUTH_MISSING);
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ke", true, NULL), AUTH_INVALID,
	             "a prefix is no token");
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ken2", true, NULL), AUTH_INVALID);
	cr_assert_eq(auth_check(a, "Bearer write", true, NULL), AUTH_INVALID,
	             "a permission is no token");
	cr_assert_eq(auth_check(a, "Bearer ", false, NULL), AUTH_INVALID);
	cr_assert_eq(auth_check(a, "Token wr1te-t0ken", false, NULL), AUTH_INVALID);
	cr_assert_eq(auth_check(a, "wr1te-t0ken", false, NULL), AUTH_INVALID);
}

Test(gateway_tokens, basic_credentials_carry_the_token_as_password)
{
	a = load(tokens, false);
	/* "user:wr1te-t0ken", "ci:r3ad-t0ken", "user:nope" */
	cr_assert_eq(auth_check(a, "Basic dXNlcjp3cjF0ZS10MGtlbg==", true, NULL), AUTH_OK);
	cr_assert_eq(auth_check(a, "Basic Y2k6cjNhZC10MGtlbg==", false, NULL), AUTH_OK);
	cr_assert_eq(auth_check(a, "Basic Y2k6cjNhZC10MGtlbg==", true, NULL), AUTH_FORBIDDEN);
	cr_assert_eq(auth_check(a, "Basic dXNlcjpub3Bl", false, NULL), AUTH_INVALID);
	cr_assert_eq(auth_check(a, "Basic not base64!", false, NULL), AUTH_INVALID);
}

Test(gateway_tokens, anonymous_reads_need_no_token_but_writes_do)
{
	a = load(tokens, true);
	cr_assert_eq(auth_check(a, NULL, false, NULL), AUTH_OK);
	cr_assert_eq(auth_check(a, NULL, true, NULL), AUTH_MISSING);
	cr_assert_eq(auth_check(a, "Bearer r3ad-t0ken", true, NULL), AUTH_FORBIDDEN);
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ken", true, NULL), AUTH_OK);
}

Test(gateway_tokens, an_open_server_lets_everyone_in)
{
	char *cause = NULL;

	a = auth_load(NULL, false, &cause);
	cr_assert_not_null(a, "%s", cause);
	cr_assert_not(auth_enabled(a));
	cr_assert_eq(auth_check(a, NULL, true, NULL), AUTH_OK);
	cr_assert_eq(auth_check(a, "Bearer anything", true, NULL), AUTH_OK);
}

Test(gateway_tokens, bad_files_are_refused_with_a_sentence)
{
	static const char *const bad[] = {
		"t0ken\n",                /* no permission */
		"t0ken admin\n",          /* no such permission */
		"t0ken read extra\n",     /* more than two words */
		"# nothing but this\n",   /* no token at all */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *cause = NULL;
		cr_assert_null(from_text(bad[i], false, &cause), "took %s", bad[i]);
		cr_assert_not_null(cause);
		cr_assert_not_null(strstr(cause, "tokens"), "the file is not named: %s", cause);
		free(cause);
	}
}

static const char grants[] =
	"# token      right  namespace  namespaces read, in order\n"
	"m41n-t0ken   write  ns=main    reads=main\n"
	"pr42-t0ken   write  ns=pr-42   reads=pr-42,main\n"
	"rd-t0ken     read              reads=main\n"
	"old-t0ken    write\n"
	"ref-t0ken    write  ns=refs/heads/x\n";

/* The grant auth_check gives header for a read; it must pass. */
static struct grant grant_of(const char *header, bool write)
{
	struct grant g;

	memset(&g, 0x55, sizeof(g));
	cr_assert_eq(auth_check(a, header, write, &g), AUTH_OK, "%s", header);
	return g;
}

Test(gateway_tokens, each_token_gets_its_lines_grant)
{
	struct grant g;

	a = load(grants, false);
	g = grant_of("Bearer m41n-t0ken", true);
	cr_assert(g.write);
	cr_assert_str_eq(g.ns, "main");
	cr_assert_eq(g.nreads, 1);
	cr_assert_str_eq(g.reads[0], "main");
	cr_assert_str_eq(g.label, "main");
	g = grant_of("Basic cHI6cHI0Mi10MGtlbg==", true);  /* pr:pr42-t0ken */
	cr_assert_str_eq(g.ns, "pr-42");
	cr_assert_eq(g.nreads, 2);
	cr_assert_str_eq(g.reads[0], "pr-42");
	cr_assert_str_eq(g.reads[1], "main");
	g = grant_of("Bearer rd-t0ken", false);
	cr_assert_not(g.write);
	cr_assert_str_eq(g.ns, "");
	cr_assert_str_eq(g.reads[0], "main");
	cr_assert_str_eq(g.label, "main");
	cr_assert_eq(auth_check(a, "Bearer rd-t0ken", true, &g), AUTH_FORBIDDEN);
	g = grant_of("Bearer ref-t0ken", true);
	cr_assert_str_eq(g.ns, "refs/heads/x");
	cr_assert_eq(g.nreads, 1, "reads= defaults to the namespace written");
	cr_assert_str_eq(g.reads[0], "refs/heads/x");
}

Test(gateway_tokens, old_lines_anonymous_reads_and_open_servers_use_default)
{
	struct grant g;

	a = load(grants, true);
	g = grant_of("Bearer old-t0ken", true);
	cr_assert(g.write);
	cr_assert_str_eq(g.ns, GRANT_NS_DEFAULT);
	cr_assert_eq(g.nreads, 1);
	cr_assert_str_eq(g.reads[0], GRANT_NS_DEFAULT);
	g = grant_of(NULL, false);
	cr_assert_not(g.write);
	cr_assert_str_eq(g.reads[0], GRANT_NS_DEFAULT);
	auth_free(a);
	a = load(tokens, false);
	g = grant_of("Bearer r3ad-t0ken", false);
	cr_assert_str_eq(g.reads[0], GRANT_NS_DEFAULT);
	auth_free(a);
	char *cause = NULL;
	a = auth_load(NULL, false, &cause);
	g = grant_of(NULL, true);
	cr_assert(g.write);
	cr_assert_str_eq(g.ns, GRANT_NS_DEFAULT);
}

Test(gateway_tokens, bad_grants_stop_the_start_naming_file_and_line)
{
	static const char *const bad[] = {
		"ok write\nt0ken write ns=../etc\n",
		"ok write\nt0ken write ns=a+b\n",
		"ok write\nt0ken write reads=main,,x\n",
		"ok write\nt0ken write reads=a,b,c,d,e,f,g,h,i\n",
		"ok write\nt0ken read ns=main\n",           /* a read token writes nowhere */
		"ok write\nt0ken write ns=a ns=b\n",        /* twice */
		"ok write\nt0ken write namespace=a\n",      /* no such word */
		"ok write\nok read\n",                      /* one token, two lines */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *cause = NULL;
		cr_assert_null(from_text(bad[i], false, &cause), "took %s", bad[i]);
		cr_assert_not_null(strstr(cause, "auth file tokens line 2: "), "%s", cause);
		cr_assert_null(strchr(cause, '\n'), "one line: %s", cause);
		free(cause);
	}
}

/* A stand-in for the OIDC module: "jwt-read" reads main, anything else is invalid. */
static enum auth_result verify_stub(void *ctx, const char *token, size_t len, struct grant *g,
                                    char **reason)
{
	(*(int *)ctx)++;
	if (len != 8 || memcmp(token, "jwt-read", 8) != 0) {
		*reason = strdup("token expired");
		return AUTH_INVALID;
	}
	grant_default(g, false);
	grant_parse_reads(g, "main");
	return AUTH_OK;
}

Test(gateway_tokens, bearer_tokens_no_line_gives_go_to_the_verifier_if_any)
{
	struct grant g;
	int calls = 0;

	a = load(grants, false);
	cr_assert_eq(auth_check(a, "Bearer jwt-read", false, &g), AUTH_INVALID,
	             "without a verifier an unknown token is invalid");
	auth_set_bearer_verifier(a, verify_stub, &calls);
	g = grant_of("Bearer jwt-read", false);
	cr_assert_str_eq(g.reads[0], "main");
	cr_assert_eq(auth_check(a, "Bearer jwt-read", true, &g), AUTH_FORBIDDEN);
	cr_assert_eq(auth_check(a, "Bearer jwt-other", false, &g), AUTH_INVALID);
	g = grant_of("Bearer m41n-t0ken", true);
	cr_assert_str_eq(g.ns, "main");
	cr_assert_eq(calls, 3, "static tokens never reach the verifier");
	{
		char *reason = NULL;

		cr_assert_eq(auth_check_why(a, "Bearer jwt-other", false, &g, &reason), AUTH_INVALID);
		cr_assert_str_eq(reason, "token expired", "the verifier's reason comes back");
		free(reason);
		cr_assert_eq(auth_check_why(a, "Bearer m41n-t0ken", false, &g, &reason), AUTH_OK);
		cr_assert_null(reason);
	}
	cr_assert_eq(auth_check(a, "Basic dTpqd3QtcmVhZA==", false, &g), AUTH_INVALID,
	             "a JWT comes as Bearer only");  /* u:jwt-read */
}
