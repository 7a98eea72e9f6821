/*
 * gateway_cli_test.c: cachegate's command line: --help, --version, bad
 * flags, a port in use, the port file, and the default store directory.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_cli, .fini = teardown, .timeout = 120);

Test(gateway_cli, help_and_version)
{
	static const char *const help[] = {"--help", NULL};
	static const char *const version[] = {"--version", NULL};
	char out[8192];

	cr_assert_eq(gw_run(help, NULL, out, sizeof(out)), 0);
	cr_assert(strncmp(out, "Usage: cachegate", 16) == 0, "%s", out);
	for (const char *flag = "--listen\0--port-file\0--dir\0--max-size\0--max-object-size\0"
	                        "--auth-file\0--anonymous-read\0--tls-cert\0--tls-key\0--tls-client-ca\0"
	                        "--threads\0"
	                        "--log\0--version\0";
	     *flag != '\0'; flag += strlen(flag) + 1)
		cr_assert_not_null(strstr(out, flag), "--help does not mention %s", flag);
	cr_assert_eq(gw_run(version, NULL, out, sizeof(out)), 0);
	cr_assert(strncmp(out, "cachegate ", 10) == 0 && out[10] >= '0' && out[10] <= '9',
	          "%s", out);
}

Test(gateway_cli, bad_flags_say_why_in_one_line)
{
	static const char *const cases[][3] = {
		{"--bogus", NULL, NULL},
		{"--listen", "no-port", NULL},
		{"--listen", "127.0.0.1:99999", NULL},
		{"--max-size", "12Q", NULL},
		{"--max-object-size", "-1", NULL},
		{"--threads", "0", NULL},
		{"--tls-cert", "/x.pem", NULL},
		{"--tls-client-ca", "/ca.pem", NULL},
		{"--anonymous-read", NULL, NULL},
		{"stray", NULL, NULL},
	};
	char out[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(gw_run(cases[i], NULL, out, sizeof(out)), 2, "%s: %s", cases[i][0], out);
		cr_assert(strncmp(out, "cachegate: ", 11) == 0, "%s", out);
		cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "not one line: %s", out);
	}
}

Test(gateway_cli, port_in_use_is_a_clear_error)
{
	char listen[64], out[4096];
	const char *args[] = {"--listen", listen, "--dir", NULL, NULL};

	gw_start(&g, NULL, NULL);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", g.port);
	args[3] = g.store;
	cr_assert_eq(gw_run(args, NULL, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "cannot listen"), "%s", out);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_cli, unusable_client_ca_is_a_clear_error)
{
	char *cert = gw_write_file(&g, "cert.pem", "-----BEGIN CERTIFICATE-----\n");
	char *junk = gw_write_file(&g, "junk.pem", "not a certificate\n");
	char missing[700], out[4096];
	const char *args[] = {"--listen", "127.0.0.1:0", "--dir", g.dir, "--tls-cert", cert,
	                      "--tls-key", cert, "--tls-client-ca", junk, NULL};

	cr_assert_eq(gw_run(args, NULL, out, sizeof(out)), 1, "%s", out);
	cr_assert(strncmp(out, "cachegate: --tls-client-ca ", 27) == 0, "%s", out);
	cr_assert_not_null(strstr(out, junk), "names the file: %s", out);
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "not one line: %s", out);

	snprintf(missing, sizeof(missing), "%s/missing.pem", g.dir);
	args[9] = missing;
	cr_assert_eq(gw_run(args, NULL, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "--tls-client-ca"), "%s", out);
	cr_assert_not_null(strstr(out, missing), "names the file: %s", out);
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "not one line: %s", out);
	free(cert);
	free(junk);
}

Test(gateway_cli, port_file_holds_the_port_and_nothing_else)
{
	char path[600], text[64], expect[64];
	DIR *d;
	struct dirent *e;
	FILE *f;

	gw_start(&g, NULL, NULL);
	snprintf(path, sizeof(path), "%s/port", g.dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(text, sizeof(text), f));
	fclose(f);
	snprintf(expect, sizeof(expect), "%u\n", g.port);
	cr_assert_str_eq(text, expect);
	/* The temp file the port went through is gone. */
	d = opendir(g.dir);
	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		cr_assert(e->d_name[0] == '.' || strcmp(e->d_name, "port") == 0 ||
		          strcmp(e->d_name, "server.log") == 0 || strcmp(e->d_name, "store") == 0,
		          "unexpected %s", e->d_name);
	closedir(d);
	cr_assert_eq(gw_stop(&g), 0);
}

/* Start without --dir in env and check the store landed in expect. */
static void check_default_dir(const char *const *env, const char *expect)
{
	char readme[1024];
	struct stat st;

	g.default_dir = true;
	gw_start(&g, NULL, env);
	snprintf(readme, sizeof(readme), "%s/README", expect);
	cr_assert_eq(stat(readme, &st), 0, "no store at %s", expect);
	cr_assert_eq(gw_http(&g, "PUT", "/ac/" GW_ZERO_ID,
	                     "x", 1, NULL, NULL), 201);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_cli, default_dir_is_under_home_cache)
{
	char *marker = gw_write_file(&g, "marker", "");
	char home[700], expect[700];
	const char *env[] = {home, "XDG_CACHE_HOME", NULL};
	char dir[600];

	snprintf(dir, sizeof(dir), "%s", g.dir);
	snprintf(home, sizeof(home), "HOME=%s/home", dir);
	snprintf(expect, sizeof(expect), "%s/home/.cache/cachegate-server", dir);
	check_default_dir(env, expect);
	free(marker);
}

Test(gateway_cli, default_dir_follows_xdg_cache_home)
{
	char *marker = gw_write_file(&g, "marker", "");
	char xdg[700], expect[700];
	const char *env[] = {xdg, NULL};
	char dir[600];

	snprintf(dir, sizeof(dir), "%s", g.dir);
	snprintf(xdg, sizeof(xdg), "XDG_CACHE_HOME=%s/xdg", dir);
	snprintf(expect, sizeof(expect), "%s/xdg/cachegate-server", dir);
	check_default_dir(env, expect);
	free(marker);
}
