/*
 * gateway_ns_test.c: namespaces of the action cache through the real
 * gateway (README, "Who may write what"). The attack: a pull request's
 * token stores another output for an action main has, and main's readers,
 * /go and /go/batch still get main's; the pull request reads main's
 * entries; a read token cannot write; an instance prefix picks no
 * namespace; old tokens and files keep today's layout; the access log and
 * /metrics name the namespace.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire/goentry.h"
#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_ns, .fini = teardown, .timeout = 120);

static const char auth_file[] =
	"m41n-t0ken  write  ns=main   reads=main\n"
	"pr42-t0ken  write  ns=pr-42  reads=pr-42,main\n"
	"rd-t0ken    read             reads=main\n"
	"old-t0ken   write\n";

static const char *const as_main[] = { "Authorization: Bearer m41n-t0ken", NULL };
static const char *const as_pr[] = { "Authorization: Bearer pr42-t0ken", NULL };
static const char *const as_reader[] = { "Authorization: Bearer rd-t0ken", NULL };
static const char *const as_old[] = { "Authorization: Bearer old-t0ken", NULL };

/* Start the gateway with the auth file above (and --anonymous-read when anonymous). */
static void start_with(bool anonymous)
{
	char *file = gw_write_file(&g, "tokens", auth_file);
	const char *flags[] = { "--auth-file", file, anonymous ? "--anonymous-read" : NULL, NULL };

	gw_start(&g, flags, NULL);
	free(file);
}

static void start(void)
{
	start_with(false);
}

/* An action's entry line pointing at output (its bytes stored in /cas by who). */
struct entry {
	char line[GO_ENTRY_LEN + 1];
	char output[STORE_ID_LEN + 1];
};

/* Store output text for action as who, through /cas and /ac like the helper. */
static void store_action(const char *action, const char *text, const char *const *who,
                         struct entry *e)
{
	struct go_entry ge = { .size = (int64_t)strlen(text), .time_ns = 1700000000000000000LL };
	char path[128];

	gw_sha256_hex(text, strlen(text), e->output);
	cr_assert(store_unhex(action, ge.action));
	cr_assert(store_unhex(e->output, ge.output));
	go_entry_format(&ge, e->line);
	e->line[GO_ENTRY_LEN] = '\0';
	snprintf(path, sizeof(path), "/cas/%s", e->output);
	cr_assert_eq(gw_http(&g, "PUT", path, text, strlen(text), who, NULL), 201);
	snprintf(path, sizeof(path), "/ac/%s", action);
	cr_assert_eq(gw_http(&g, "PUT", path, e->line, GO_ENTRY_LEN, who, NULL), 201);
}

/* The body of GET path as who, which must be 200. */
static char *get_body(const char *path, const char *const *who)
{
	struct gw_reply r;

	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, who, &r), 200, "GET %s", path);
	free(r.headers);
	return r.body;
}

/* Assert GET path as who answers want. */
static void expect_body(const char *path, const char *const *who, const char *want)
{
	char *body = get_body(path, who);

	cr_expect_str_eq(body, want, "GET %s", path);
	free(body);
}

/* The outputs a POST /go/batch of actions (joined lines) streams to who, entry lines stripped. */
static char *batch(const char *body, const char *const *who)
{
	struct gw_reply r;
	char *out;
	size_t at = 0, n = 0;

	cr_assert_eq(gw_http(&g, "POST", "/go/batch", body, strlen(body), who, &r), 200);
	out = calloc(1, r.len + 1);
	/* Each record: its entry line, then its output's bytes. */
	while (at + GO_ENTRY_LEN <= r.len) {
		struct go_entry e;
		cr_assert(go_entry_parse(r.body + at, GO_ENTRY_LEN, &e));
		at += GO_ENTRY_LEN;
		cr_assert_leq(at + (size_t)e.size, r.len);
		memcpy(out + n, r.body + at, (size_t)e.size);
		n += (size_t)e.size;
		at += (size_t)e.size;
	}
	gw_reply_free(&r);
	return out;
}

static const char action[] = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
static const char only_main[] = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";

Test(gateway_ns, a_pull_request_cannot_poison_what_main_reads)
{
	struct entry main_e, pr_e, other;
	char path[128], body[2 * (STORE_ID_LEN + 1) + 1], *got;

	start();
	store_action(action, "main's output", as_main, &main_e);
	store_action(only_main, "only main has it", as_main, &other);
	/* The attack: the same action, another output, stored with the PR's token. */
	store_action(action, "poisoned output", as_pr, &pr_e);

	snprintf(path, sizeof(path), "/ac/%s", action);
	expect_body(path, as_main, main_e.line);
	expect_body(path, as_reader, main_e.line);
	expect_body(path, as_pr, pr_e.line);
	snprintf(path, sizeof(path), "/go/%s", action);
	expect_body(path, as_main, "main's output");
	expect_body(path, as_reader, "main's output");
	expect_body(path, as_pr, "poisoned output");
	snprintf(body, sizeof(body), "%s\n%s\n", action, only_main);
	got = batch(body, as_main);
	cr_expect_str_eq(got, "main's outputonly main has it");
	free(got);
	got = batch(body, as_reader);
	cr_expect_str_eq(got, "main's outputonly main has it");
	free(got);
	/* The pull request reads its own first, then main's. */
	got = batch(body, as_pr);
	cr_expect_str_eq(got, "poisoned outputonly main has it");
	free(got);
	snprintf(path, sizeof(path), "/go/%s", only_main);
	expect_body(path, as_pr, "only main has it");
}

Test(gateway_ns, a_read_token_cannot_write_and_an_old_token_keeps_default)
{
	struct entry main_e, old_e;
	struct gw_reply r;
	char path[128], file[sizeof(g.store) + 160];

	start();
	store_action(action, "main's output", as_main, &main_e);
	snprintf(path, sizeof(path), "/ac/%s", action);
	cr_assert_eq(gw_http(&g, "PUT", path, "x", 1, as_reader, &r), 403);
	gw_assert_one_line(&r);
	gw_reply_free(&r);
	expect_body(path, as_reader, main_e.line);
	/* An old line writes default, where the store kept entries before namespaces. */
	store_action(action, "default's output", as_old, &old_e);
	expect_body(path, as_old, old_e.line);
	expect_body(path, as_main, main_e.line);
	snprintf(file, sizeof(file), "%s/ac/a1/%s", g.store, action);
	cr_assert_eq(access(file, F_OK), 0, "default is today's ac/");
	snprintf(file, sizeof(file), "%s/ns/main/ac/a1/%s", g.store, action);
	cr_assert_eq(access(file, F_OK), 0, "main has its own directory");
}

Test(gateway_ns, an_instance_prefix_picks_no_namespace)
{
	struct entry main_e;
	char path[128], line[GO_ENTRY_LEN + 1];

	start();
	store_action(action, "main's output", as_main, &main_e);
	memcpy(line, main_e.line, sizeof(line));
	line[GO_ENTRY_LEN - 2] ^= 1;  /* another entry for the same action */
	snprintf(path, sizeof(path), "/main/ac/%s", action);
	cr_assert_eq(gw_http(&g, "PUT", path, line, GO_ENTRY_LEN, as_pr, NULL), 201);
	snprintf(path, sizeof(path), "/ac/%s", action);
	expect_body(path, as_main, main_e.line);
	expect_body(path, as_pr, line);
	snprintf(path, sizeof(path), "/pr-42/ac/%s", action);
	expect_body(path, as_reader, main_e.line);
	snprintf(path, sizeof(path), "/ns/pr-42/ac/%s", action);
	expect_body(path, as_main, main_e.line);
}

/*
 * True when the server's log has a line holding both a and b; a request's
 * line is written as it completes, so it is waited for (a few seconds at most).
 */
static bool logged(const char *a, const char *b)
{
	char line[1024];
	bool found = false;

	for (int tries = 0; !found && tries < 50; tries++) {
		FILE *f = fopen(g.log, "r");
		cr_assert_not_null(f);
		while (!found && fgets(line, sizeof(line), f) != NULL)
			found = strstr(line, a) != NULL && strstr(line, b) != NULL;
		fclose(f);
		if (!found)
			usleep(100 * 1000);
	}
	return found;
}

Test(gateway_ns, the_log_and_metrics_name_the_namespace)
{
	struct entry main_e, pr_e;
	char path[128];

	start_with(true);  /* /metrics without a token; anonymous reads read default */
	store_action(action, "main's output", as_main, &main_e);
	store_action(action, "poisoned output", as_pr, &pr_e);
	snprintf(path, sizeof(path), "/go/%s", action);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404, "default has no entry");
	snprintf(path, sizeof(path), "/go/%s", only_main);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, as_reader, NULL), 404);
	snprintf(path, sizeof(path), "/go/%s", action);
	expect_body(path, as_reader, "main's output");
	cr_expect_eq(gw_metric(&g, "cachegate_ac_writes_total{grant=\"main\"}"), 1);
	cr_expect_eq(gw_metric(&g, "cachegate_ac_writes_total{grant=\"pr-42\"}"), 1);
	cr_expect_eq(gw_metric(&g, "cachegate_ac_lookups_total{grant=\"main\",result=\"hit\"}"), 1);
	cr_expect_eq(gw_metric(&g, "cachegate_ac_lookups_total{grant=\"main\",result=\"miss\"}"), 1);
	cr_expect_eq(gw_metric(&g, "cachegate_ac_lookups_total{grant=\"default\",result=\"miss\"}"), 1);
	cr_expect_eq(gw_metric(&g, "cachegate_ac_lookups_total{grant=\"other\",result=\"hit\"}"), 0);
	snprintf(path, sizeof(path), "PUT /ac/%s 201", action);
	cr_expect(logged(path, " ns=pr-42 reads=pr-42,main"), "the PR's write is logged with it");
	snprintf(path, sizeof(path), "GET /go/%s 200", action);
	cr_expect(logged(path, " ns=- reads=main"), "a reader's hit is logged with its reads");
}
