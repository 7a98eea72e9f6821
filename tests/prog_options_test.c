/*
 * prog_options_test.c: the helper's flags and environment variables.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proghelper/options.h"
#include "tests/tmpdir.h"

static char *dir;

/* Start every test from an environment without the helper's variables. */
static void setup(void)
{
	static const char *const vars[] = {
		"CACHEGATE_REMOTE", "CACHEGATE_DIR", "CACHEGATE_TOKEN", "CACHEGATE_TOKEN_FILE",
		"CACHEGATE_READ_ONLY", "CACHEGATE_MAX_SIZE", "CACHEGATE_CLOSE_TIMEOUT",
		"CACHEGATE_STATS", "CACHEGATE_CACERT", "CACHEGATE_CERT", "CACHEGATE_KEY",
		"CACHEGATE_SCOPE", "CACHEGATE_PRELOAD", "CACHEGATE_PRELOAD_MAX",
		"CACHEGATE_OIDC_AUDIENCE", "CACHEGATE_OIDC_TOKEN_VAR",
	};

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	dir = tmpdir_make("cg-prog-options");
	setenv("HOME", dir, 1);
	unsetenv("XDG_CACHE_HOME");
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(prog_options, .init = setup, .fini = teardown);

/* Parse a NULL-terminated argument list. */
static enum options_result parse(struct options *o, char **cause, const char **args)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = (char *)"cachegate-prog";
	while (*args != NULL)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return options_parse(argc, argv, o, cause);
}

Test(prog_options, defaults)
{
	struct options o;
	char *cause = NULL, want[512];
	const char *args[] = { NULL };

	cr_assert_eq(parse(&o, &cause, args), OPTIONS_OK);
	snprintf(want, sizeof want, "%s/.cache/cachegate", dir);
	cr_assert_str_eq(o.dir, want);
	cr_assert_null(o.remote, "no remote: a purely local cache");
	cr_assert_null(o.token);
	cr_assert_not(o.read_only);
	cr_assert_eq(o.close_timeout_ms, 10000);
	cr_assert_eq(o.max_size, 0);
	cr_assert_not(o.verbose);
	options_free(&o);

	setenv("XDG_CACHE_HOME", "/somewhere/cache", 1);
	cr_assert_eq(parse(&o, &cause, args), OPTIONS_OK);
	cr_assert_str_eq(o.dir, "/somewhere/cache/cachegate");
	options_free(&o);
}

Test(prog_options, environment_and_flags_flags_win)
{
	struct options o;
	char *cause = NULL;
	const char *none[] = { NULL };
	const char *flags[] = { "--remote", "http://flag:1/", "--dir", "/flag/dir",
	                        "--close-timeout", "500ms", "--max-size", "1K", NULL };

	setenv("CACHEGATE_REMOTE", "https://env:8443//", 1);
	setenv("CACHEGATE_DIR", "/env/dir", 1);
	setenv("CACHEGATE_READ_ONLY", "1", 1);
	setenv("CACHEGATE_MAX_SIZE", "20G", 1);
	setenv("CACHEGATE_CLOSE_TIMEOUT", "3", 1);
	setenv("CACHEGATE_STATS", "1", 1);
	setenv("CACHEGATE_TOKEN", "s3cret", 1);
	cr_assert_eq(parse(&o, &cause, none), OPTIONS_OK, "%s", cause);
	cr_assert_str_eq(o.remote, "https://env:8443", "trailing slashes are dropped");
	cr_assert_str_eq(o.dir, "/env/dir");
	cr_assert(o.read_only);
	cr_assert_eq(o.max_size, 20ULL << 30);
	cr_assert_eq(o.close_timeout_ms, 3000);
	cr_assert(o.verbose);
	cr_assert_str_eq(o.token, "s3cret");
	cr_assert(strstr(o.token_source, "CACHEGATE_TOKEN") != NULL);
	options_free(&o);

	cr_assert_eq(parse(&o, &cause, flags), OPTIONS_OK, "%s", cause);
	cr_assert_str_eq(o.remote, "http://flag:1");
	cr_assert_str_eq(o.dir, "/flag/dir");
	cr_assert_eq(o.close_timeout_ms, 500);
	cr_assert_eq(o.max_size, 1024);
	options_free(&o);
}

Test(prog_options, token_file)
{
	struct options o;
	char *cause = NULL, path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/token", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("  abc.def \n", f);
	fclose(f);
	setenv("CACHEGATE_TOKEN", "from-env", 1);
	const char *args[] = { "--token-file", path, NULL };
	cr_assert_eq(parse(&o, &cause, args), OPTIONS_OK, "%s", cause);
	cr_assert_str_eq(o.token, "abc.def", "the file wins over CACHEGATE_TOKEN, trimmed");
	cr_assert(strstr(o.token_source, "--token-file") != NULL);
	cr_assert(strstr(o.token_source, path) != NULL, "messages name the file");
	options_free(&o);

	f = fopen(path, "w");
	fclose(f);
	cr_assert_eq(parse(&o, &cause, args), OPTIONS_ERROR);
	cr_assert(strstr(cause, "empty") != NULL, "%s", cause);
	free(cause);
	options_free(&o);
}

/* Write text to <dir>/name, whose path goes to path. */
static void write_file(char *path, size_t n, const char *name, const char *text)
{
	FILE *f;

	snprintf(path, n, "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(prog_options, tls_files_from_flags_and_environment)
{
	struct options o;
	char *cause = NULL, ca[512], cert[512], key[512], other[512];
	const char *none[] = { NULL };

	write_file(ca, sizeof ca, "ca.pem", "-----BEGIN CERTIFICATE-----\n");
	write_file(cert, sizeof cert, "client.pem", "-----BEGIN CERTIFICATE-----\n");
	write_file(key, sizeof key, "client.key", "-----BEGIN PRIVATE KEY-----\n");
	write_file(other, sizeof other, "other.pem", "-----BEGIN CERTIFICATE-----\n");

	cr_assert_eq(parse(&o, &cause, none), OPTIONS_OK, "%s", cause);
	cr_assert_null(o.cacert, "no --cacert: the system's CAs");
	cr_assert_null(o.cert);
	cr_assert_null(o.key);
	options_free(&o);

	setenv("CACHEGATE_CACERT", ca, 1);
	setenv("CACHEGATE_CERT", cert, 1);
	setenv("CACHEGATE_KEY", key, 1);
	cr_assert_eq(parse(&o, &cause, none), OPTIONS_OK, "%s", cause);
	cr_assert_str_eq(o.cacert, ca);
	cr_assert_str_eq(o.cert, cert);
	cr_assert_str_eq(o.key, key);
	options_free(&o);

	const char *flags[] = { "--cacert", other, "--cert", other, "--key", other, NULL };
	cr_assert_eq(parse(&o, &cause, flags), OPTIONS_OK, "%s", cause);
	cr_assert_str_eq(o.cacert, other, "the flag wins over CACHEGATE_CACERT");
	cr_assert_str_eq(o.cert, other);
	cr_assert_str_eq(o.key, other);
	options_free(&o);

	/* A certificate file may hold its key too; an empty variable means none. */
	unsetenv("CACHEGATE_KEY");
	setenv("CACHEGATE_CACERT", "", 1);
	cr_assert_eq(parse(&o, &cause, none), OPTIONS_OK, "%s", cause);
	cr_assert_null(o.cacert);
	cr_assert_str_eq(o.cert, cert);
	cr_assert_null(o.key);
	options_free(&o);
}

Test(prog_options, unusable_tls_files_are_one_clear_error)
{
	struct options o;
	char cert[512], empty[512];
	const char *missing = "/nonexistent/ca.pem";

	write_file(cert, sizeof cert, "client.pem", "-----BEGIN CERTIFICATE-----\n");
	write_file(empty, sizeof empty, "empty.pem", "");
	const char *cases[][5] = {
		{ "--cacert", missing, NULL, NULL, "--cacert" },
		{ "--cert", missing, NULL, NULL, "--cert" },
		{ "--cert", cert, "--key", missing, "--key" },
		{ "--cacert", empty, NULL, NULL, "empty" },
		{ "--cacert", dir, NULL, NULL, "--cacert" },
		{ "--key", cert, NULL, NULL, "--cert" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *cause = NULL;
		const char *args[5] = { cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL };

		cr_assert_eq(parse(&o, &cause, args), OPTIONS_ERROR, "case %zu", i);
		cr_assert_not_null(cause);
		cr_assert_null(strchr(cause, '\n'), "one line: %s", cause);
		cr_assert_not_null(strstr(cause, cases[i][4]), "case %zu: %s", i, cause);
		if (i < 5)
			cr_assert_not_null(strstr(cause, cases[i][i == 2 ? 3 : 1]),
			                   "names the file: %s", cause);
		free(cause);
		options_free(&o);
	}

	/* A variable's bad file is named with the variable. */
	setenv("CACHEGATE_CERT", missing, 1);
	char *cause = NULL;
	const char *none[] = { NULL };
	cr_assert_eq(parse(&o, &cause, none), OPTIONS_ERROR);
	cr_assert_not_null(strstr(cause, "CACHEGATE_CERT"), "%s", cause);
	cr_assert_not_null(strstr(cause, missing), "%s", cause);
	free(cause);
	options_free(&o);
}

Test(prog_options, bad_values_are_one_clear_error)
{
	static const char *const cases[][3] = {
		{ "--remote", "ftp://x", NULL },
		{ "--max-size", "lots", NULL },
		{ "--close-timeout", "soon", NULL },
		{ "--close-timeout", "-1", NULL },
		{ "--token-file", "/nonexistent/token", NULL },
		{ "--frobnicate", NULL, NULL },
		{ "stray", NULL, NULL },
		{ "--remote", NULL, NULL },
	};
	struct options o;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *cause = NULL;
		const char *args[3] = { cases[i][0], cases[i][1], NULL };

		cr_assert_eq(parse(&o, &cause, args), OPTIONS_ERROR, "case %zu", i);
		cr_assert_not_null(cause);
		cr_assert_null(strchr(cause, '\n'), "one line: %s", cause);
		free(cause);
		options_free(&o);
	}
	setenv("CACHEGATE_READ_ONLY", "perhaps", 1);
	char *cause = NULL;
	const char *none[] = { NULL };
	cr_assert_eq(parse(&o, &cause, none), OPTIONS_ERROR);
	cr_assert(strstr(cause, "CACHEGATE_READ_ONLY") != NULL);
	free(cause);
	options_free(&o);
}

Test(prog_options, preload_from_flags_and_environment)
{
	struct options o;
	char *cause = NULL;
	const char *none[] = { NULL };
	const char *flags[] = { "--no-preload", "--preload-max", "0", "--scope", "ci", NULL };

	cr_assert_eq(parse(&o, &cause, none), OPTIONS_OK, "%s", cause);
	cr_assert(o.preload, "the preload is on by default");
	cr_assert_eq(o.preload_max, 1ULL << 30);
	cr_assert_null(o.scope);
	options_free(&o);

	setenv("CACHEGATE_PRELOAD", "0", 1);
	setenv("CACHEGATE_PRELOAD_MAX", "2G", 1);
	setenv("CACHEGATE_SCOPE", "nightly", 1);
	cr_assert_eq(parse(&o, &cause, none), OPTIONS_OK, "%s", cause);
	cr_assert_not(o.preload);
	cr_assert_eq(o.preload_max, 2ULL << 30);
	cr_assert_str_eq(o.scope, "nightly");
	options_free(&o);

	setenv("CACHEGATE_PRELOAD", "yes", 1);
	cr_assert_eq(parse(&o, &cause, flags), OPTIONS_OK, "%s", cause);
	cr_assert_not(o.preload, "--no-preload wins over CACHEGATE_PRELOAD");
	cr_assert_eq(o.preload_max, 0);
	cr_assert_str_eq(o.scope, "ci");
	options_free(&o);
}

Test(prog_options, an_empty_value_counts_as_not_given)
{
	struct options o;
	char *cause = NULL, want[512];
	const char *flags[] = { "--remote", "", "--dir", "", NULL };

	setenv("CACHEGATE_REMOTE", "http://env:1", 1);
	setenv("CACHEGATE_DIR", "/env/dir", 1);
	setenv("CACHEGATE_CLOSE_TIMEOUT", "", 1);
	setenv("CACHEGATE_PRELOAD_MAX", "", 1);
	setenv("CACHEGATE_SCOPE", "", 1);
	setenv("CACHEGATE_PRELOAD", "", 1);
	cr_assert_eq(parse(&o, &cause, flags), OPTIONS_OK, "%s", cause);
	cr_assert_null(o.remote, "an empty --remote leaves the cache local");
	snprintf(want, sizeof want, "%s/.cache/cachegate", dir);
	cr_assert_str_eq(o.dir, want, "an empty --dir is the default, not the variable's");
	cr_assert_eq(o.close_timeout_ms, 10000);
	cr_assert_eq(o.preload_max, 1ULL << 30);
	cr_assert_null(o.scope);
	cr_assert_not(o.preload, "a switch's variable reads empty as off");
	options_free(&o);
}

Test(prog_options, a_bad_value_names_the_flag_or_variable_that_gave_it)
{
	struct options o;
	char *cause = NULL;
	const char *none[] = { NULL };
	const char *flag[] = { "--max-size", "1G", NULL };
	const char *bad[] = { "--close-timeout", "soon", NULL };

	setenv("CACHEGATE_MAX_SIZE", "lots", 1);
	cr_assert_eq(parse(&o, &cause, none), OPTIONS_ERROR);
	cr_assert_not_null(strstr(cause, "CACHEGATE_MAX_SIZE wants a size such as 20G, not 'lots'"),
	                   "%s", cause);
	free(cause);
	options_free(&o);

	cause = NULL;
	cr_assert_eq(parse(&o, &cause, flag), OPTIONS_OK, "the flag wins before the variable is read");
	cr_assert_eq(o.max_size, 1ULL << 30);
	options_free(&o);

	unsetenv("CACHEGATE_MAX_SIZE");
	cr_assert_eq(parse(&o, &cause, bad), OPTIONS_ERROR);
	cr_assert_not_null(strstr(cause, "--close-timeout"), "%s", cause);
	cr_assert_not_null(strstr(cause, "'soon'"), "%s", cause);
	free(cause);
	options_free(&o);
}

Test(prog_options, a_token_and_a_ci_token_exclude_each_other)
{
	char *argv[] = { "cachegate-prog", "--oidc-audience", "cachegate", NULL };
	struct options c;
	char *cause = NULL;

	setenv("CACHEGATE_TOKEN", "static-token", 1);
	cr_assert_eq(options_parse(3, argv, &c, &cause), OPTIONS_ERROR);
	cr_expect(strstr(cause, "exclude each other") != NULL, "%s", cause);
	free(cause);
	options_free(&c);
	unsetenv("CACHEGATE_TOKEN");
	setenv("CACHEGATE_OIDC_TOKEN_VAR", "CI_TOKEN", 1);
	cr_assert_eq(options_parse(3, argv, &c, &cause), OPTIONS_OK);
	cr_expect_str_eq(c.oidc_audience, "cachegate");
	cr_expect_str_eq(c.oidc_token_var, "CI_TOKEN");
	cr_expect_null(c.token);
	options_free(&c);
	unsetenv("CACHEGATE_OIDC_TOKEN_VAR");
}
