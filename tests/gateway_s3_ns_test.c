/*
 * gateway_s3_ns_test.c: namespaces in the S3 tier, against the stand-in
 * bucket: an action entry of a namespace is keyed <prefix>/ac/<namespace>/<id>
 * (default keeps <prefix>/ac/<id>), and a second gateway with an empty
 * store on the same bucket keeps the namespaces apart: main's reader gets
 * main's entry, the pull request its own, then main's.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/gateway_fixture.h"
#include "tests/s3_bucket.h"

static struct gw first, second;

static void teardown(void)
{
	gw_stop(&first);
	gw_stop(&second);
	bucket_reset();
}

TestSuite(gateway_s3_ns, .fini = teardown, .timeout = 120);

static const char auth_file[] =
	"m41n-t0ken  write  ns=main   reads=main\n"
	"pr42-t0ken  write  ns=pr-42  reads=pr-42,main\n"
	"rd-t0ken    read             reads=main\n"
	"old-t0ken   write\n";

static const char *const as_main[] = { "Authorization: Bearer m41n-t0ken", NULL };
static const char *const as_pr[] = { "Authorization: Bearer pr42-t0ken", NULL };
static const char *const as_reader[] = { "Authorization: Bearer rd-t0ken", NULL };
static const char *const as_old[] = { "Authorization: Bearer old-t0ken", NULL };

static const char both[] = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
static const char only_main[] = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
static const char only_pr[] = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";

/* Start g with the auth file above in front of the stand-in bucket on port. */
static void start(struct gw *g, uint16_t port)
{
	char endpoint[64], *file = gw_write_file(g, "tokens", auth_file);
	const char *flags[] = { "--s3", "s3://stand-in/team", "--s3-endpoint", endpoint,
	                        "--s3-region", "us-east-1", "--auth-file", file, NULL };
	const char *env[] = { "AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret",
	                      "AWS_SESSION_TOKEN", "AWS_PROFILE", NULL };

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u", port);
	gw_start(g, flags, env);
	free(file);
}

/* PUT /ac/<id> with body as who, through g. */
static void put(struct gw *g, const char *id, const char *body, const char *const *who)
{
	char path[128];

	snprintf(path, sizeof(path), "/ac/%s", id);
	cr_assert_eq(gw_http(g, "PUT", path, body, strlen(body), who, NULL), 201);
}

/* Assert what GET (or HEAD) /ac/<id> as who answers through g: want, or a 404 when NULL. */
static void expect(struct gw *g, const char *method, const char *id, const char *const *who,
                   const char *want)
{
	struct gw_reply r;
	char path[128];

	snprintf(path, sizeof(path), "/ac/%s", id);
	cr_assert_eq(gw_http(g, method, path, NULL, 0, who, &r), want != NULL ? 200 : 404,
	             "%s %s", method, path);
	if (want != NULL && strcmp(method, "GET") == 0)
		cr_expect_str_eq(r.body, want);
	gw_reply_free(&r);
}

Test(gateway_s3_ns, entries_are_keyed_by_namespace_and_gateways_keep_them_apart)
{
	uint16_t port = bucket_start(0);
	char key[160];

	start(&first, port);
	put(&first, both, "main's entry", as_main);
	put(&first, both, "the PR's entry", as_pr);
	put(&first, only_main, "only main's", as_main);
	put(&first, only_pr, "only the PR's", as_pr);
	put(&first, only_main, "default's", as_old);
	snprintf(key, sizeof(key), "/team/ac/main/%s", both);
	cr_expect(bucket_has(key, "main's entry"));
	snprintf(key, sizeof(key), "/team/ac/pr-42/%s", both);
	cr_expect(bucket_has(key, "the PR's entry"));
	snprintf(key, sizeof(key), "/stand-in/team/ac/%s", only_main);
	cr_expect(bucket_has(key, "default's"), "default keeps the keys of before namespaces");
	snprintf(key, sizeof(key), "/stand-in/team/ac/%s", both);
	cr_expect_not(bucket_has(key, "the PR's entry"));

	/* Another gateway, its store empty, on the same bucket. */
	start(&second, port);
	expect(&second, "HEAD", both, as_reader, "main's entry");
	expect(&second, "GET", both, as_reader, "main's entry");
	expect(&second, "GET", both, as_pr, "the PR's entry");
	expect(&second, "GET", only_main, as_pr, "only main's");
	expect(&second, "GET", only_pr, as_reader, NULL);
	expect(&second, "HEAD", only_pr, as_reader, NULL);
	expect(&second, "GET", only_pr, as_pr, "only the PR's");
	expect(&second, "GET", only_main, as_old, "default's");
	expect(&second, "GET", both, as_old, NULL);
}
