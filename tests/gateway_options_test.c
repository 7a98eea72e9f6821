/*
 * gateway_options_test.c: cachegate's option table, parsed in process: the
 * defaults, values from flags, the defaults computed from other options,
 * and the sentence for each kind of bad value.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/options.h"
#include "tests/tmpdir.h"

static char *home;

/* Start every test with HOME in a private directory and no XDG_CACHE_HOME. */
static void setup(void)
{
	home = tmpdir_make("cg-gw-options");
	setenv("HOME", home, 1);
	unsetenv("XDG_CACHE_HOME");
}

static void teardown(void)
{
	tmpdir_remove(home);
}

TestSuite(gateway_options, .init = setup, .fini = teardown);

/* Parse a NULL-terminated argument list. */
static enum options_result parse(struct options *o, char **cause, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"cachegate";
	while (*args != NULL && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return options_parse(o, argc, argv, cause);
}

Test(gateway_options, defaults)
{
	static const char *const none[] = {NULL};
	struct options o;
	char *cause = NULL, dir[600];

	cr_assert_eq(parse(&o, &cause, none), OPTIONS_OK, "%s", cause);
	cr_assert_str_eq(o.listen_host, "127.0.0.1");
	cr_assert_eq(o.listen_port, 8080);
	snprintf(dir, sizeof(dir), "%s/.cache/cachegate-server", home);
	cr_assert_str_eq(o.dir, dir);
	cr_assert_geq(o.threads, 1);
	cr_assert_eq(o.max_connections, 1000);
	cr_assert_eq(o.max_connections_per_ip, 750, "three quarters of --max-connections");
	cr_assert_eq(o.idle_timeout, 60);
	cr_assert_eq(o.header_timeout, 30);
	cr_assert_eq(o.request_timeout, 3600);
	cr_assert_eq(o.shutdown_timeout, 10);
	cr_assert_eq(o.min_body_rate, 1024);
	cr_assert_eq(o.scrub_rate, 16 << 20);
	cr_assert_eq(o.scrub_interval, 86400);
	cr_assert_eq(o.max_size, 0);
	cr_assert_eq(o.max_object_size, 0);
	cr_assert_not(o.fsync || o.log || o.verify || o.anonymous_read);
	cr_assert_null(o.port_file);
	cr_assert_null(o.s3_endpoint, "AWS is the S3 tier's own default");
	options_free(&o);
}

Test(gateway_options, flags_set_their_fields)
{
	static const char *const args[] = {
		"--listen", "[::1]:0", "--dir=/srv/cache", "--threads", "3", "--max-connections", "100",
		"--idle-timeout", "5", "--min-body-rate", "0", "--scrub-rate", "1M",
		"--max-size", "2G", "--fsync", "--log", "--s3", "s3://bucket/p", "--s3-region", "eu",
		NULL,
	};
	struct options o;
	char *cause = NULL;

	cr_assert_eq(parse(&o, &cause, args), OPTIONS_OK, "%s", cause);
	cr_assert_str_eq(o.listen_host, "::1");
	cr_assert_eq(o.listen_port, 0);
	cr_assert_str_eq(o.dir, "/srv/cache");
	cr_assert_eq(o.threads, 3);
	cr_assert_eq(o.max_connections, 100);
	cr_assert_eq(o.max_connections_per_ip, 75, "the default follows --max-connections");
	cr_assert_eq(o.idle_timeout, 5);
	cr_assert_eq(o.min_body_rate, 0);
	cr_assert_eq(o.scrub_rate, 1 << 20);
	cr_assert_eq(o.max_size, 2ULL << 30);
	cr_assert(o.fsync && o.log);
	cr_assert_str_eq(o.s3, "s3://bucket/p");
	cr_assert_str_eq(o.s3_region, "eu");
	options_free(&o);
}

Test(gateway_options, the_last_flag_wins_and_a_given_zero_stays)
{
	static const char *const args[] = {
		"--listen", "0.0.0.0:1", "--listen", "cache.example:9090",
		"--max-connections-per-ip", "0", NULL,
	};
	struct options o;
	char *cause = NULL;

	cr_assert_eq(parse(&o, &cause, args), OPTIONS_OK, "%s", cause);
	cr_assert_str_eq(o.listen_host, "cache.example");
	cr_assert_eq(o.listen_port, 9090);
	cr_assert_eq(o.max_connections_per_ip, 0, "0: no limit, not the default");
	options_free(&o);
}

Test(gateway_options, xdg_cache_home_moves_the_default_dir)
{
	static const char *const none[] = {NULL};
	struct options o;
	char *cause = NULL;

	setenv("XDG_CACHE_HOME", "/var/cache/x", 1);
	cr_assert_eq(parse(&o, &cause, none), OPTIONS_OK, "%s", cause);
	cr_assert_str_eq(o.dir, "/var/cache/x/cachegate-server");
	options_free(&o);
}

Test(gateway_options, a_bad_value_is_one_sentence_naming_flag_and_value)
{
	static const char *const cases[][4] = {
		{"--listen", "no-port", "--listen wants HOST:PORT such as 127.0.0.1:8080, not 'no-port'"},
		{"--listen", "[::1]8080", "not '[::1]8080'"},
		{"--max-size", "0", "--max-size wants a size such as 20G, not '0'"},
		{"--threads", "1025", "--threads wants a number from 1 to 1024, not '1025'"},
		{"--max-connections-per-ip", "x", "a number from 0 to 1000000"},
		{"--header-timeout", "0", "--header-timeout wants a number of seconds from 1 to 604800"},
		{"--scrub-interval", "31536001", "from 1 to 31536000, not '31536001'"},
		{"--scrub-rate", "fast", "--scrub-rate wants bytes per second such as 16M"},
		{"--fsync=yes", NULL, "--fsync takes no value"},
		{"--dir", NULL, "--dir needs a value (see cachegate --help)"},
		{"--nope", NULL, "unknown option '--nope' (see cachegate --help)"},
		{"-n", NULL, "unknown option '-n'"},
		{"--s3-endpoint", "http://s3", "--s3-endpoint, --s3-region and --s3-credentials-file go "
		                                 "with --s3"},
	};
	struct options o;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[] = {cases[i][0], cases[i][1], NULL};
		char *cause = NULL;

		cr_assert_eq(parse(&o, &cause, args), OPTIONS_ERROR, "case %zu", i);
		cr_assert_not_null(cause);
		cr_assert_not_null(strstr(cause, cases[i][2]), "case %zu: %s", i, cause);
		cr_assert_null(strchr(cause, '\n'), "one line: %s", cause);
		free(cause);
		options_free(&o);
	}
}

Test(gateway_options, oidc_issuers_add_up_and_need_an_audience_and_rules)
{
	const char *good[] = {"--oidc-issuer", "https://token.actions.githubusercontent.com",
	                      "--oidc-issuer", "https://gitlab.com", "--oidc-audience", "cachegate",
	                      "--oidc-rules", "/etc/cachegate/rules", NULL};
	static const char *const bad[][11] = {
		{"--oidc-issuer", "https://gitlab.com", NULL},
		{"--oidc-issuer", "https://gitlab.com", "--oidc-audience", "x", NULL},
		{"--oidc-audience", "x", "--oidc-rules", "r", NULL},
		{"--oidc-issuer", "https://a", "--oidc-issuer", "https://b", "--oidc-audience", "x",
		 "--oidc-jwks", "k", "--oidc-rules", "r"},
		{"--oidc-issuer", "gitlab.com", NULL},
	};
	static const char *const says[] = {
		"--oidc-issuer needs --oidc-audience and --oidc-rules",
		"--oidc-issuer needs --oidc-audience and --oidc-rules",
		"go with --oidc-issuer",
		"--oidc-jwks holds the keys of one issuer",
		"--oidc-issuer wants",
	};
	struct options o;
	char *cause = NULL;

	cr_assert_eq(parse(&o, &cause, good), OPTIONS_OK, "%s", cause ? cause : "");
	cr_assert_eq(o.noidc_issuers, 2);
	cr_expect_str_eq(o.oidc_issuers[0], "https://token.actions.githubusercontent.com");
	cr_expect_str_eq(o.oidc_issuers[1], "https://gitlab.com");
	cr_expect_str_eq(o.oidc_audience, "cachegate");
	cr_expect_str_eq(o.oidc_rules, "/etc/cachegate/rules");
	cr_expect_null(o.oidc_jwks);
	options_free(&o);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[12] = {0};

		for (size_t k = 0; k < 11 && bad[i][k] != NULL; k++)
			args[k] = bad[i][k];
		cr_assert_eq(parse(&o, &cause, args), OPTIONS_ERROR, "case %zu", i);
		cr_expect(strstr(cause, says[i]) != NULL, "case %zu: %s", i, cause);
		free(cause);
		cause = NULL;
		options_free(&o);
	}
}
