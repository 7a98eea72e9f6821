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
static void
setup(void)
{
	static const char *const vars[] = {
		"CACHEGATE_REMOTE", "CACHEGATE_DIR", "CACHEGATE_TOKEN", "CACHEGATE_TOKEN_FILE",
		"CACHEGATE_READ_ONLY", "CACHEGATE_MAX_SIZE", "CACHEGATE_CLOSE_TIMEOUT",
		"CACHEGATE_STATS",
	};

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	dir = tmpdir_make("cg-prog-options");
	setenv("HOME", dir, 1);
	unsetenv("XDG_CACHE_HOME");
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(prog_options, .init = setup, .fini = teardown);

/* Parse a NULL-terminated argument list. */
static enum options_result
parse(struct options *o, char **cause, const char **args)
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
