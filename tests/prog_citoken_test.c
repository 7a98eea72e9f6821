/*
 * prog_citoken_test.c: the helper's own CI token. A stand-in for the GitHub
 * runner's token endpoint (in the test's process) checks the request token
 * and the audience and hands out JWTs with chosen lifetimes; GitLab's comes
 * from a variable. Renewal is driven by the tokens' iat and exp, never by
 * sleeping: a token issued long ago is due at once.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/b64url.h"
#include "proghelper/citoken.h"
#include "tests/oidc_fixture.h"
#include "tests/prog_remote_fixture.h"

/* The stand-in runner: what it hands out and what it saw. */
static struct {
	pthread_mutex_t lock;
	struct MHD_Daemon *daemon;
	char url[128];
	unsigned status;       /* what it answers */
	long iat, exp;         /* of the next token */
	int served;            /* tokens handed out */
	char auth[256];        /* the last Authorization header */
	char audience[128];    /* the last audience asked for */
} runner = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The n-th token the runner hands out, with iat and exp (the helper checks no signature). */
static char *token_number(int n, long iat, long exp)
{
	char claims[256];

	snprintf(claims, sizeof(claims), "{\"iss\":\"https://runner\",\"n\":%d,\"iat\":%ld,"
	         "\"exp\":%ld}", n, iat, exp);
	return test_token_raw("{\"alg\":\"RS256\",\"kid\":\"k\"}", claims, "c2ln");
}

/* Answer the token request as the GitHub runner does: {"value": "<jwt>"}. */
static enum MHD_Result runner_answer(void *cls, struct MHD_Connection *c, const char *u,
                                     const char *method, const char *version,
                                     const char *upload, size_t *upload_size, void **state)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *aud = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "audience");
	struct MHD_Response *r;
	char *body, *token;
	unsigned status;
	enum MHD_Result ret;

	(void)cls, (void)u, (void)method, (void)version, (void)upload, (void)upload_size;
	(void)state;
	pthread_mutex_lock(&runner.lock);
	snprintf(runner.auth, sizeof(runner.auth), "%s", auth != NULL ? auth : "");
	snprintf(runner.audience, sizeof(runner.audience), "%s", aud != NULL ? aud : "");
	status = runner.status;
	token = token_number(++runner.served, runner.iat, runner.exp);
	pthread_mutex_unlock(&runner.lock);
	cr_assert(asprintf(&body, "{\"count\":1,\"value\":\"%s\"}", token) > 0);
	free(token);
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Start the runner; point ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN at it. */
static void runner_start(long iat, long exp)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	runner.status = 200;
	runner.iat = iat;
	runner.exp = exp;
	runner.served = 0;
	runner.daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	                                 runner_answer, NULL, MHD_OPTION_SOCK_ADDR, &sa,
	                                 MHD_OPTION_END);
	cr_assert_not_null(runner.daemon);
	snprintf(runner.url, sizeof(runner.url), "http://127.0.0.1:%u/token?api-version=2.0",
	         MHD_get_daemon_info(runner.daemon, MHD_DAEMON_INFO_BIND_PORT)->port);
	setenv("ACTIONS_ID_TOKEN_REQUEST_URL", runner.url, 1);
	setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-secret", 1);
}

static void setup(void)
{
	remote_fixture_setup();
	unsetenv("ACTIONS_ID_TOKEN_REQUEST_URL");
	unsetenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
	unsetenv("CI_CACHE_TOKEN");
}

static void teardown(void)
{
	if (runner.daemon != NULL)
		MHD_stop_daemon(runner.daemon);
	runner.daemon = NULL;
	remote_fixture_teardown();
}

TestSuite(prog_citoken, .init = setup, .fini = teardown, .timeout = 60);

/* The "n" claim of token: which of the runner's tokens it is (0: none). */
static int number_of(const char *token)
{
	const char *dot1 = strchr(token, '.'), *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
	size_t len;
	unsigned char *raw;
	json_t *claims;
	int n;

	if (dot2 == NULL)
		return 0;
	raw = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &len);
	claims = raw != NULL ? json_loadb((const char *)raw, len, 0, NULL) : NULL;
	n = (int)json_integer_value(json_object_get(claims, "n"));
	json_decref(claims);
	free(raw);
	return n;
}

Test(prog_citoken, github_asks_the_runner_with_its_request_token_for_the_audience)
{
	time_t now = time(NULL);
	struct citoken *c;
	char *cause = NULL;

	runner_start((long)now, (long)now + 600);
	c = citoken_start("cachegate", NULL, now, &cause);
	cr_assert_not_null(c, "%s", cause ? cause : "");
	cr_expect_str_eq(runner.auth, "bearer request-secret");
	cr_expect_str_eq(runner.audience, "cachegate");
	cr_expect_eq(number_of(citoken_value(c)), 1);
	cr_expect_eq(citoken_expiry(c), now + 600);
	citoken_free(c);
}

Test(prog_citoken, a_github_token_is_renewed_a_third_of_its_life_before_expiry)
{
	time_t now = time(NULL);
	struct citoken *c;
	char *cause = NULL;

	runner_start((long)now, (long)now + 600);
	c = citoken_start("cachegate", NULL, now, &cause);
	cr_assert_not_null(c);
	cr_expect(!citoken_due(c, now + 399));
	cr_expect(citoken_due(c, now + 400));
	/* The runner fails: the old token stays; the next try waits CITOKEN_RETRY_SECONDS. */
	runner.status = 500;
	cr_expect(!citoken_renew(c, now + 400, &cause));
	cr_expect(strstr(cause, "500") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	cr_expect_eq(citoken_failures(c), 1);
	cr_expect_eq(number_of(citoken_value(c)), 1);
	cr_expect(!citoken_due(c, now + 400 + CITOKEN_RETRY_SECONDS - 1));
	cr_expect(citoken_due(c, now + 400 + CITOKEN_RETRY_SECONDS));
	runner.status = 200;
	runner.iat = (long)now + 410;
	runner.exp = (long)now + 1010;
	cr_assert(citoken_renew(c, now + 410, &cause));
	cr_expect_eq(number_of(citoken_value(c)), 3);
	cr_expect_eq(citoken_expiry(c), now + 1010);
	cr_expect_eq(citoken_failures(c), 0);
	cr_expect(!citoken_due(c, now + 500));
	citoken_free(c);
}

Test(prog_citoken, gitlab_reads_the_id_tokens_variable_and_never_renews)
{
	time_t now = time(NULL);
	char *t = token_number(1, (long)now, (long)now + 3600), *old;
	struct citoken *c;
	char *cause = NULL;

	setenv("CI_CACHE_TOKEN", t, 1);
	c = citoken_start(NULL, "CI_CACHE_TOKEN", now, &cause);
	cr_assert_not_null(c, "%s", cause ? cause : "");
	cr_expect_str_eq(citoken_value(c), t);
	cr_expect(!citoken_due(c, now + 3599));
	citoken_free(c);
	/* With --oidc-audience too, off GitHub the variable is used. */
	c = citoken_start("cachegate", "CI_CACHE_TOKEN", now, &cause);
	cr_assert_not_null(c, "%s", cause ? cause : "");
	cr_expect_str_eq(citoken_value(c), t);
	citoken_free(c);
	old = token_number(1, (long)now - 7200, (long)now - 3600);
	setenv("CI_CACHE_TOKEN", old, 1);
	cr_expect_null(citoken_start(NULL, "CI_CACHE_TOKEN", now, &cause));
	cr_expect(strstr(cause, "has expired") != NULL, "%s", cause);
	free(cause);
	free(old);
	free(t);
}

Test(prog_citoken, without_a_token_on_offer_the_reason_is_one_line)
{
	char *cause = NULL;

	cr_expect_null(citoken_start("cachegate", NULL, time(NULL), &cause));
	cr_expect(strstr(cause, "id-token: write") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	cr_expect_null(citoken_start(NULL, "CI_CACHE_TOKEN", time(NULL), &cause));
	cr_expect(strstr(cause, "$CI_CACHE_TOKEN is not set") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	setenv("CI_CACHE_TOKEN", "not-a-jwt", 1);
	cr_expect_null(citoken_start(NULL, "CI_CACHE_TOKEN", time(NULL), &cause));
	cr_expect(strstr(cause, "not a JWT") != NULL, "%s", cause);
	cr_expect(strchr(cause, '\n') == NULL);
	free(cause);
}

/* The fake gateway: the Authorization of the last request, and a miss for every get. */
static char seen_auth[2048];
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static enum MHD_Result gateway_answer(void *cls, struct MHD_Connection *c, const char *u,
                                      const char *method, const char *version,
                                      const char *upload, size_t *upload_size, void **state)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	(void)cls, (void)u, (void)method, (void)version, (void)upload, (void)upload_size;
	(void)state;
	pthread_mutex_lock(&seen_lock);
	snprintf(seen_auth, sizeof(seen_auth), "%s", auth != NULL ? auth : "");
	pthread_mutex_unlock(&seen_lock);
	return go_queue(c, NULL);
}

Test(prog_citoken, the_remote_sends_the_renewed_token)
{
	time_t now = time(NULL);
	struct MHD_Daemon *gw;
	struct store *s = store_named("s");
	struct citoken *c;
	struct remote *r;
	char *cause = NULL;
	unsigned char action[32] = {7};
	json_t *j;

	/* Issued long ago, expiring soon: due for renewal at once. */
	runner_start((long)now - 3000, (long)now + 300);
	c = citoken_start("cachegate", NULL, now, &cause);
	cr_assert_not_null(c);
	runner.iat = (long)now;
	runner.exp = (long)now + 3600;
	gw = fake_server_start(gateway_answer);
	struct remote_options ro = {.url = url, .citoken = c, .read_only = true};
	r = remote_start(&ro, s, writer, &counters, &cause);
	cr_assert_not_null(r, "%s", cause ? cause : "");
	j = ask(r, 1, action);
	cr_expect(json_is_true(json_object_get(j, "Miss")));
	json_decref(j);
	remote_stop(r, 1000);
	cr_expect_eq(runner.served, 2, "renewed once");
	cr_assert(strncmp(seen_auth, "Bearer ", 7) == 0, "%s", seen_auth);
	cr_expect_eq(number_of(seen_auth + 7), 2, "the get carried the renewed token");
	MHD_stop_daemon(gw);
	citoken_free(c);
	store_close(s);
}

Test(prog_citoken, the_helper_without_a_ci_token_says_so_once_and_builds_locally)
{
	const char *bin = getenv("CACHEGATE_PROG_BIN");
	char cmd[2048], errfile[512], line[1024];
	int lines = 0, status;
	FILE *f;

	cr_assert_not_null(bin, "CACHEGATE_PROG_BIN must name the built cachegate-prog");
	snprintf(errfile, sizeof(errfile), "%s/stderr", dir);
	/* A put of the empty output and a get of its action, then close: all local. */
	snprintf(cmd, sizeof(cmd),
	         "printf '%%s\\n\\n' '{\"ID\":1,\"Command\":\"put\",\"ActionID\":"
	         "\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\",\"OutputID\":"
	         "\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\",\"BodySize\":0}' "
	         "'{\"ID\":2,\"Command\":\"get\",\"ActionID\":"
	         "\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"}' '{\"ID\":3,\"Command\":\"close\"}' | "
	         "env -u ACTIONS_ID_TOKEN_REQUEST_URL CACHEGATE_REMOTE=http://127.0.0.1:9 "
	         "CACHEGATE_OIDC_AUDIENCE=cachegate '%s' --dir '%s/store' > '%s/out' 2> '%s'",
	         bin, dir, dir, errfile);
	status = system(cmd);
	cr_expect_eq(status, 0, "the helper exits 0");
	f = fopen(errfile, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		lines++;
		cr_expect(strstr(line, "no CI token") != NULL && strstr(line, "local cache only"),
		          "%s", line);
	}
	fclose(f);
	cr_expect_eq(lines, 1, "one line on stderr");
	snprintf(cmd, sizeof(cmd), "grep -q '\"ID\":2,.*DiskPath' '%s/out'", dir);
	cr_expect_eq(system(cmd), 0, "the get after the put is a local hit");
}
