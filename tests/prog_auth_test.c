/*
 * prog_auth_test.c: the helper's tokens against a cachegate that checks
 * them: a read token reads, a write token writes, a wrong one drops the
 * remote, and an upload refused for want of a token leaves reads on.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "tests/prog_remote_fixture.h"

TestSuite(prog_auth, .init = remote_fixture_setup, .fini = remote_fixture_teardown,
          .timeout = 60);

/* Start the gateway with an auth file of these token lines, and one more flag (or NULL). */
static void gateway_with_tokens(const char *tokens, const char *flag)
{
	char auth[512];
	FILE *f;

	snprintf(auth, sizeof auth, "%s/auth", dir);
	f = fopen(auth, "w");
	cr_assert_not_null(f);
	fputs(tokens, f);
	fclose(f);
	const char *const extra[] = { "--auth-file", auth, flag, NULL };
	gateway_start(extra);
}

Test(prog_auth, tokens_are_sent_and_checked)
{
	struct store *a, *b;
	struct remote *r;
	struct go_entry e;
	json_t *j;

	gateway_with_tokens("writer-token write\nreader-token read\n", NULL);
	a = store_named("a");
	b = store_named("b");
	local_put(a, "payload", 7, 4, &e);

	/* A read token cannot upload: uploads stop, nothing breaks. */
	r = client(a, "reader-token", false);
	remote_upload(r, &e);
	remote_stop(r, 5000);
	cr_assert_eq(atomic_load(&counters.uploads), 0);

	r = client(a, "writer-token", false);
	remote_upload(r, &e);
	remote_stop(r, 5000);
	cr_assert_eq(atomic_load(&counters.uploads), 1);

	/* A wrong token is a miss, and the remote is dropped at once. */
	r = client(b, "wrong-token", false);
	j = ask(r, 1, e.action);
	cr_assert(json_is_true(json_object_get(j, "Miss")));
	json_decref(j);
	cr_assert_eq(remote_get(r, 2, e.action), REMOTE_OFF);
	remote_stop(r, 1000);

	r = client(b, "reader-token", false);
	j = ask(r, 3, e.action);
	cr_assert_eq(json_integer_value(json_object_get(j, "Size")), 7);
	json_decref(j);
	remote_stop(r, 1000);
	store_close(a);
	store_close(b);
}

Test(prog_auth, an_upload_refused_for_want_of_a_token_still_leaves_reads_on)
{
	struct store *a, *b;
	struct remote *r;
	struct go_entry shared, mine;
	json_t *j;

	gateway_with_tokens("writer-token write\n", "--anonymous-read");
	a = store_named("a");
	b = store_named("b");
	local_put(a, "shared", 6, 5, &shared);
	r = client(a, "writer-token", false);
	remote_upload(r, &shared);
	remote_stop(r, 5000);
	cr_assert_eq(atomic_load(&counters.uploads), 1);

	/* No token: the gateway lets us read but not write. */
	local_put(b, "mine", 4, 6, &mine);
	r = client(b, NULL, false);
	cr_assert_eq(remote_upload(r, &mine), REMOTE_QUEUED);
	for (int i = 0; i < 3000 && atomic_load(&counters.remote_errors) == 0; i++)
		usleep(10000);
	cr_assert_eq(atomic_load(&counters.remote_errors), 1, "the upload was refused");
	cr_assert_eq(remote_upload(r, &mine), REMOTE_OFF, "no more uploads are tried");
	j = ask(r, 1, shared.action);
	cr_assert_eq(json_integer_value(json_object_get(j, "Size")), 6, "reads still work");
	json_decref(j);
	remote_stop(r, 1000);
	store_close(a);
	store_close(b);
}
