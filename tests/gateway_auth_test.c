/*
 * gateway_auth_test.c: the auth matrix (no auth file, auth file, auth file
 * with --anonymous-read) x (no, wrong, read, write credentials as Bearer and
 * Basic) x (GET, PUT), and what never reaches the log.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_auth, .fini = teardown, .timeout = 120);

#define READ_TOKEN "r3ad-t0ken-abcdef"
#define WRITE_TOKEN "wr1te-t0ken-123456"

static const char auth_text[] =
	"# cachegate tokens\n"
	"\n"
	READ_TOKEN " read\n"
	"  " WRITE_TOKEN "\twrite   # the CI token\n";

enum cred { CRED_NONE, CRED_WRONG, CRED_READ_BEARER, CRED_WRITE_BEARER, CRED_READ_BASIC,
            CRED_WRITE_BASIC, CRED_COUNT };

static const char *const cred_names[CRED_COUNT] = {
	"none", "wrong", "read bearer", "write bearer", "read basic", "write basic",
};

/* The Authorization header line for a credential, in buf; NULL for none. */
static const char *auth_header(enum cred c, char *buf, size_t n)
{
	char plain[128];
	unsigned char b64[172];
	const char *token;

	switch (c) {
	case CRED_NONE:
		return NULL;
	case CRED_WRONG:
		snprintf(buf, n, "Authorization: Bearer not-a-token");
		return buf;
	case CRED_READ_BEARER:
	case CRED_WRITE_BEARER:
		snprintf(buf, n, "Authorization: Bearer %s",
		         c == CRED_READ_BEARER ? READ_TOKEN : WRITE_TOKEN);
		return buf;
	default:
		token = c == CRED_READ_BASIC ? READ_TOKEN : WRITE_TOKEN;
		snprintf(plain, sizeof(plain), "bazel:%s", token);
		EVP_EncodeBlock(b64, (const unsigned char *)plain, (int)strlen(plain));
		snprintf(buf, n, "Authorization: Basic %s", (const char *)b64);
		return buf;
	}
}

/* GET and PUT of one object with credential c; statuses into get and put. */
static void try_access(enum cred c, long *get, long *put)
{
	char line[256], id[65], path[128];
	const char *headers[2] = {auth_header(c, line, sizeof(line)), NULL};
	struct gw_reply r;

	gw_sha256_hex(cred_names[c], strlen(cred_names[c]), id);
	snprintf(path, sizeof(path), "/cas/%s", id);
	*put = gw_http(&g, "PUT", path, cred_names[c], strlen(cred_names[c]), headers, &r);
	if (*put == 401)
		cr_assert_not_null(strstr(r.headers, "WWW-Authenticate: Bearer"),
		                   "401 without a challenge");
	gw_reply_free(&r);
	*get = gw_http(&g, "GET", "/cas/" GW_ZERO_ID,
	               NULL, 0, headers, &r);
	if (*get == 401)
		cr_assert_not_null(strstr(r.headers, "WWW-Authenticate: Basic"),
		                   "401 without a challenge");
	gw_reply_free(&r);
}

/* Run the matrix against the started server: expected GET and PUT per credential. */
static void check_matrix(const long want_get[CRED_COUNT], const long want_put[CRED_COUNT])
{
	for (int c = 0; c < CRED_COUNT; c++) {
		long get, put;

		try_access((enum cred)c, &get, &put);
		cr_assert_eq(get, want_get[c], "GET with %s credentials: %ld, want %ld",
		             cred_names[c], get, want_get[c]);
		cr_assert_eq(put, want_put[c], "PUT with %s credentials: %ld, want %ld",
		             cred_names[c], put, want_put[c]);
	}
}

/* True when the server's log mentions s. */
static bool log_mentions(const char *s)
{
	char line[2048];
	bool found = false;
	FILE *f = fopen(g.log, "r");

	cr_assert_not_null(f);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

Test(gateway_auth, open_server_lets_everyone_in)
{
	/* GET of an absent object is 404: past the auth check. */
	static const long get[CRED_COUNT] = {404, 404, 404, 404, 404, 404};
	static const long put[CRED_COUNT] = {201, 201, 201, 201, 201, 201};

	gw_start(&g, NULL, NULL);
	check_matrix(get, put);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_auth, auth_file_needs_tokens)
{
	static const long get[CRED_COUNT] = {401, 401, 404, 404, 404, 404};
	static const long put[CRED_COUNT] = {401, 401, 403, 201, 403, 201};
	char *file = gw_write_file(&g, "tokens", auth_text);
	const char *flags[] = {"--auth-file", file, NULL};
	char line[256];
	const char *read_hdr[] = {auth_header(CRED_READ_BEARER, line, sizeof(line)), NULL};

	gw_start(&g, flags, NULL);
	check_matrix(get, put);
	/* /metrics and /status are reads; /healthz is open to all. */
	cr_assert_eq(gw_http(&g, "GET", "/metrics", NULL, 0, NULL, NULL), 401);
	cr_assert_eq(gw_http(&g, "GET", "/status", NULL, 0, NULL, NULL), 401);
	cr_assert_eq(gw_http(&g, "GET", "/metrics", NULL, 0, read_hdr, NULL), 200);
	cr_assert_eq(gw_http(&g, "GET", "/status", NULL, 0, read_hdr, NULL), 200);
	cr_assert_eq(gw_http(&g, "GET", "/healthz", NULL, 0, NULL, NULL), 200);
	/* Tokens never reach the log, which does record the requests. */
	cr_assert(log_mentions("PUT /cas/"));
	cr_assert_not(log_mentions(READ_TOKEN));
	cr_assert_not(log_mentions(WRITE_TOKEN));
	free(file);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_auth, anonymous_read)
{
	static const long get[CRED_COUNT] = {404, 401, 404, 404, 404, 404};
	static const long put[CRED_COUNT] = {401, 401, 403, 201, 403, 201};
	char *file = gw_write_file(&g, "tokens", auth_text);
	const char *flags[] = {"--auth-file", file, "--anonymous-read", NULL};

	gw_start(&g, flags, NULL);
	check_matrix(get, put);
	cr_assert_eq(gw_http(&g, "GET", "/status", NULL, 0, NULL, NULL), 200);
	free(file);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_auth, malformed_credentials_are_401)
{
	static const char *const bad[] = {
		"Authorization: Bearer",
		"Authorization: Basic !!!notbase64!!!",
		"Authorization: Basic " "d3IxdGUtdDBrZW4tMTIzNDU2",  /* the token without "user:" */
		"Authorization: Digest " WRITE_TOKEN,
		"Authorization: " WRITE_TOKEN,
		"Authorization: Bearer " WRITE_TOKEN "x",
		"Authorization: Bearer " "wr1te-t0ken-12345",
	};
	char *file = gw_write_file(&g, "tokens", auth_text);
	const char *flags[] = {"--auth-file", file, NULL};
	char path[128];

	gw_start(&g, flags, NULL);
	snprintf(path, sizeof(path), "/ac/%064d", 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *headers[] = {bad[i], NULL};
		cr_assert_eq(gw_http(&g, "PUT", path, "x", 1, headers, NULL), 401, "%s", bad[i]);
	}
	free(file);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_auth, bad_auth_file_stops_the_start)
{
	char *file = gw_write_file(&g, "tokens", "good-token write\nbad-token admin\n");
	char *dir = gw_write_file(&g, "unused", "");
	const char *args[] = {"--listen", "127.0.0.1:0", "--dir", dir, "--auth-file", file, NULL};
	const char *missing[] = {"--listen", "127.0.0.1:0", "--dir", dir,
	                         "--auth-file", "/nonexistent/tokens", NULL};
	char err[2048];

	/* --dir names a file here, but the auth file is read first and fails first. */
	cr_assert_neq(gw_run(args, NULL, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "line 2"), "stderr: %s", err);
	cr_assert_null(strstr(err, "good-token"), "a token was printed: %s", err);
	cr_assert_neq(gw_run(missing, NULL, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "/nonexistent/tokens"), "stderr: %s", err);
	free(file);
	free(dir);
}

Test(gateway_auth, refused_put_with_a_body_still_gets_its_answer)
{
	char *file = gw_write_file(&g, "tokens", auth_text);
	const char *flags[] = {"--auth-file", file, NULL};
	const char *wrong[] = {"Authorization: Bearer not-a-token", NULL};
	const char *reader[] = {"Authorization: Bearer " READ_TOKEN, NULL};
	size_t n = 768 * 1024;
	char *body = calloc(1, n), path[128];
	struct gw_reply r;

	gw_start(&g, flags, NULL);
	snprintf(path, sizeof(path), "/ac/%064d", 0);
	/* The client sends its whole body without waiting: it must read the refusal, never a reset. */
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(gw_http(&g, "PUT", path, body, n, NULL, &r), 401, "attempt %d", i);
		cr_assert_not_null(strstr(r.headers, "WWW-Authenticate: Bearer"));
		gw_reply_free(&r);
		cr_assert_eq(gw_http(&g, "PUT", path, body, n, wrong, NULL), 401, "attempt %d", i);
		cr_assert_eq(gw_http(&g, "PUT", path, body, n, reader, NULL), 403, "attempt %d", i);
		cr_assert_eq(gw_http(&g, "PUT", "/ac/nothex", body, n, reader, NULL), 400, "attempt %d", i);
	}
	free(body);
	free(file);
	cr_assert_eq(gw_stop(&g), 0);
}
