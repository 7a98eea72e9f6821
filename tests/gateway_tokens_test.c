/*
 * gateway_tokens_test.c: who may read and write (gateway/access/auth.c),
 * called directly: the auth file's lines, Bearer and Basic credentials,
 * read and write tokens, anonymous reads, and an open server.
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
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ken", false), AUTH_OK);
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ken", true), AUTH_OK);
	cr_assert_eq(auth_check(a, "Bearer r3ad-t0ken", false), AUTH_OK);
	cr_assert_eq(auth_check(a, "Bearer r3ad-t0ken", true), AUTH_FORBIDDEN);
	cr_assert_eq(auth_check(a, "bearer  wr1te-t0ken", true), AUTH_OK, "the scheme has any case");
}

Test(gateway_tokens, wrong_or_missing_credentials)
{
	a = load(tokens, false);
	cr_assert_eq(auth_check(a, NULL, false), AUTH_MISSING);
	cr_assert_eq(auth_check(a, NULL, true), AUTH_MISSING);
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ke", true), AUTH_INVALID, "a prefix is no token");
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ken2", true), AUTH_INVALID);
	cr_assert_eq(auth_check(a, "Bearer write", true), AUTH_INVALID, "a permission is no token");
	cr_assert_eq(auth_check(a, "Bearer ", false), AUTH_INVALID);
	cr_assert_eq(auth_check(a, "Token wr1te-t0ken", false), AUTH_INVALID);
	cr_assert_eq(auth_check(a, "wr1te-t0ken", false), AUTH_INVALID);
}

Test(gateway_tokens, basic_credentials_carry_the_token_as_password)
{
	a = load(tokens, false);
	/* "user:wr1te-t0ken", "ci:r3ad-t0ken", "user:nope" */
	cr_assert_eq(auth_check(a, "Basic dXNlcjp3cjF0ZS10MGtlbg==", true), AUTH_OK);
	cr_assert_eq(auth_check(a, "Basic Y2k6cjNhZC10MGtlbg==", false), AUTH_OK);
	cr_assert_eq(auth_check(a, "Basic Y2k6cjNhZC10MGtlbg==", true), AUTH_FORBIDDEN);
	cr_assert_eq(auth_check(a, "Basic dXNlcjpub3Bl", false), AUTH_INVALID);
	cr_assert_eq(auth_check(a, "Basic not base64!", false), AUTH_INVALID);
}

Test(gateway_tokens, anonymous_reads_need_no_token_but_writes_do)
{
	a = load(tokens, true);
	cr_assert_eq(auth_check(a, NULL, false), AUTH_OK);
	cr_assert_eq(auth_check(a, NULL, true), AUTH_MISSING);
	cr_assert_eq(auth_check(a, "Bearer r3ad-t0ken", true), AUTH_FORBIDDEN);
	cr_assert_eq(auth_check(a, "Bearer wr1te-t0ken", true), AUTH_OK);
}

Test(gateway_tokens, an_open_server_lets_everyone_in)
{
	char *cause = NULL;

	a = auth_load(NULL, false, &cause);
	cr_assert_not_null(a, "%s", cause);
	cr_assert_not(auth_enabled(a));
	cr_assert_eq(auth_check(a, NULL, true), AUTH_OK);
	cr_assert_eq(auth_check(a, "Bearer anything", true), AUTH_OK);
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
