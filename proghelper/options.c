/*
 * options.c: flags and environment variables of cachegate-prog, as one
 * table (common/optable.h) from which the parser, the --help text and the
 * defaults come; then the token, the TLS files and the rules between them.
 */
#include "proghelper/options.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "common/optable.h"

/* Where a row's value goes in struct options. */
#define AT(field) offsetof(struct options, field)

/* The default store directory: $XDG_CACHE_HOME/cachegate, else ~/.cache/cachegate. */
static bool fill_dir(void *opaque, char **cause)
{
	struct options *c = opaque;
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/') {
		if (asprintf(&c->dir, "%s/cachegate", xdg) < 0)
			c->dir = NULL;
	} else if (home != NULL && home[0] != '\0') {
		if (asprintf(&c->dir, "%s/.cache/cachegate", home) < 0)
			c->dir = NULL;
	} else {
		cause_set(cause, "no store directory: set --dir, CACHEGATE_DIR, XDG_CACHE_HOME or HOME");
		return false;
	}
	return true;
}

/* --compression: zstd or none. */
static bool set_compression(void *opaque, const char *text)
{
	struct options *c = opaque;

	c->compression = strcmp(text, "zstd") == 0;
	return c->compression || strcmp(text, "none") == 0;
}

static const struct optable_row rows[] = {
	{ .flag = "--remote", .arg = "URL", .env = "CACHEGATE_REMOTE", .kind = OPTABLE_TEXT,
	  .at = AT(remote), .help = "cachegate server to share with; none: local only" },
	{ .flag = "--dir", .arg = "DIR", .env = "CACHEGATE_DIR", .kind = OPTABLE_TEXT,
	  .at = AT(dir), .fill = fill_dir,
	  .shown = "$XDG_CACHE_HOME/cachegate, else ~/.cache/cachegate", .help = "local store" },
	{ .flag = "--token-file", .arg = "FILE", .env = "CACHEGATE_TOKEN_FILE",
	  .kind = OPTABLE_TEXT, .at = AT(token_file),
	  .help = "send the token in FILE as \"Authorization: Bearer\"; or the token itself in "
	          "CACHEGATE_TOKEN" },
	{ .flag = "--oidc-audience", .arg = "AUD", .env = "CACHEGATE_OIDC_AUDIENCE",
	  .kind = OPTABLE_TEXT, .at = AT(oidc_audience),
	  .help = "on GitHub Actions, send a CI token for audience AUD asked of the runner, "
	          "renewed before it expires" },
	{ .flag = "--oidc-token-var", .arg = "NAME", .env = "CACHEGATE_OIDC_TOKEN_VAR",
	  .kind = OPTABLE_TEXT, .at = AT(oidc_token_var),
	  .help = "send the CI token in variable NAME (GitLab CI: an id_tokens entry)" },
	{ .flag = "--read-only", .env = "CACHEGATE_READ_ONLY", .kind = OPTABLE_FLAG,
	  .at = AT(read_only), .help = "never write to the remote" },
	{ .flag = "--cacert", .arg = "FILE", .env = "CACHEGATE_CACERT", .kind = OPTABLE_TEXT,
	  .at = AT(cacert), .shown = "the system's CAs",
	  .help = "trust the https:// remote's certificate if a CA in this PEM file signed it" },
	{ .flag = "--cert", .arg = "FILE", .env = "CACHEGATE_CERT", .kind = OPTABLE_TEXT,
	  .at = AT(cert), .help = "present this PEM client certificate" },
	{ .flag = "--key", .arg = "FILE", .env = "CACHEGATE_KEY", .kind = OPTABLE_TEXT,
	  .at = AT(key), .shown = "the key in the --cert file", .help = "with this PEM private key" },
	{ .flag = "--max-size", .arg = "SIZE", .env = "CACHEGATE_MAX_SIZE", .kind = OPTABLE_SIZE,
	  .at = AT(max_size),
	  .help = "keep the local store under SIZE (e.g. 20G) when it is trimmed, at most once a day" },
	{ .flag = "--close-timeout", .arg = "SECS", .env = "CACHEGATE_CLOSE_TIMEOUT",
	  .kind = OPTABLE_DURATION, .at = AT(close_timeout_ms), .def = "10",
	  .help = "how long the end of a build waits for uploads" },
	{ .flag = "--scope", .arg = "NAME", .env = "CACHEGATE_SCOPE", .kind = OPTABLE_TEXT,
	  .at = AT(scope),
	  .shown = "the go command's module, directory, arguments, platform and Go version",
	  .help = "preload under this name, e.g. a CI job's" },
	{ .flag = "--preload-max", .arg = "SIZE", .env = "CACHEGATE_PRELOAD_MAX",
	  .kind = OPTABLE_SIZE, .at = AT(preload_max), .def = "1G",
	  .help = "fetch at most SIZE ahead at the start of a build" },
	{ .flag = "--no-preload", .env = "CACHEGATE_PRELOAD", .kind = OPTABLE_NOFLAG,
	  .at = AT(preload), .help = "neither fetch ahead nor record what the build used" },
	{ .flag = "--compression", .arg = "zstd|none", .env = "CACHEGATE_COMPRESSION",
	  .kind = OPTABLE_CUSTOM, .set = set_compression, .def = "zstd",
	  .help = "ask the remote for zstd answers, and upload zstd once it says it takes that" },
	{ .flag = "--compression-level", .arg = "N", .env = "CACHEGATE_COMPRESSION_LEVEL",
	  .kind = OPTABLE_COUNT, .at = AT(compression_level), .min = 1, .max = 19, .def = "6",
	  .help = "the zstd level of uploads: the gateway keeps their frames, so it sets the bytes "
	          "every later download moves" },
	{ .flag = "--verbose", .env = "CACHEGATE_STATS", .kind = OPTABLE_FLAG, .at = AT(verbose),
	  .help = "one line of statistics at the end" },
	{ .flag = "--report", .arg = "FILE", .env = "CACHEGATE_REPORT", .kind = OPTABLE_TEXT,
	  .at = AT(report),
	  .help = "add this run's numbers to a Markdown report of the job in FILE (and to "
	          "$GITHUB_STEP_SUMMARY when set)" },
	{ .flag = "--canonicalize-mtimes", .arg = "DIR", .kind = OPTABLE_TEXT, .at = AT(canonicalize),
	  .help = "set the mtime of every file under DIR from its content (CI checkouts), then exit" },
	{ .flag = "--help", .kind = OPTABLE_HELP, .help = "show this text" },
	{ .flag = "--version", .kind = OPTABLE_VERSION, .help = "show the version" },
};

#define NROWS (sizeof rows / sizeof rows[0])

static const struct optable table = {
	.program = "cachegate-prog",
	.intro = "Usage: cachegate-prog [options]\n"
	         "A GOCACHEPROG helper: the go command's build cache in a local store,\n"
	         "shared through a cachegate server.\n"
	         "  GOCACHEPROG=\"cachegate-prog --remote http://cache:8080\" go build ./...\n"
	         "\n"
	         "Options (each also read from the environment variable shown):\n",
	.column = 24,
	.empty_is_unset = true,
	.rows = rows,
	.nrows = NROWS,
};

/* Read the token: the first line of c->token_file, surrounding blanks removed. */
static enum options_result read_token(struct options *c, const char *how, char **cause)
{
	FILE *f = fopen(c->token_file, "r");
	char buf[4096];
	size_t n;
	char *p;

	if (f == NULL) {
		cause_set(cause, "cannot read the token file %s: %s", c->token_file, strerror(errno));
		return OPTIONS_ERROR;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = buf + strspn(buf, " \t\r\n");
	p[strcspn(p, "\r\n")] = '\0';
	n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		p[--n] = '\0';
	if (n == 0) {
		cause_set(cause, "the token file %s is empty", c->token_file);
		return OPTIONS_ERROR;
	}
	c->token = strdup(p);
	if (asprintf(&c->token_source, "the token from %s %s", how, c->token_file) < 0)
		c->token_source = NULL;
	explicit_bzero(buf, sizeof buf);
	return OPTIONS_OK;
}

/* The token from --token-file, else from CACHEGATE_TOKEN; never with a line break. */
static enum options_result take_token(struct options *c, const char *how, char **cause)
{
	const char *env = getenv("CACHEGATE_TOKEN");

	if (c->token_file != NULL) {
		if (read_token(c, how, cause) != OPTIONS_OK)
			return OPTIONS_ERROR;
	} else if (env != NULL && env[0] != '\0') {
		c->token = strdup(env);
		c->token_source = strdup("the token from CACHEGATE_TOKEN");
	}
	if (c->token != NULL && strpbrk(c->token, "\r\n") != NULL) {
		cause_set(cause, "%s contains a line break", c->token_source);
		return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}

/*
 * Accept path (NULL: none) only if it names a readable, non-empty file;
 * else say which file and which flag or variable (how) named it.
 */
static enum options_result check_readable(const char *path, const char *what, const char *how,
                                          char **cause)
{
	FILE *f;
	int ch, err;

	if (path == NULL)
		return OPTIONS_OK;
	f = fopen(path, "r");
	if (f == NULL) {
		cause_set(cause, "cannot read %s %s (%s): %s", what, path, how, strerror(errno));
		return OPTIONS_ERROR;
	}
	ch = fgetc(f);
	err = ferror(f) ? errno : 0;
	fclose(f);
	if (err != 0) {
		cause_set(cause, "cannot read %s %s (%s): %s", what, path, how, strerror(err));
		return OPTIONS_ERROR;
	}
	if (ch == EOF) {
		cause_set(cause, "%s %s (%s) is empty", what, path, how);
		return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}

/* The remote must be an http:// or https:// URL; trailing slashes go. */
static enum options_result check_remote(struct options *c, char **cause)
{
	size_t n;

	if (c->remote == NULL)
		return OPTIONS_OK;
	if (strncmp(c->remote, "http://", 7) != 0 && strncmp(c->remote, "https://", 8) != 0) {
		cause_set(cause, "the remote \"%s\" is not an http:// or https:// URL", c->remote);
		return OPTIONS_ERROR;
	}
	n = strlen(c->remote);
	while (n > 0 && c->remote[n - 1] == '/')
		c->remote[--n] = '\0';
	return OPTIONS_OK;
}

enum options_result options_parse(int argc, char **argv, struct options *c, char **cause)
{
	const char *how[NROWS];
	const char *key_how;

	memset(c, 0, sizeof *c);
	switch (optable_parse(&table, c, argc, argv, how, cause)) {
	case OPTABLE_EXIT:
		return OPTIONS_EXIT;
	case OPTABLE_ERROR:
		return OPTIONS_ERROR;
	case OPTABLE_OK:
		break;
	}
	key_how = optable_how(&table, how, "--key");
	if (check_remote(c, cause) != OPTIONS_OK ||
	    take_token(c, optable_how(&table, how, "--token-file"), cause) != OPTIONS_OK ||
	    check_readable(c->cacert, "the CA file", optable_how(&table, how, "--cacert"),
	                   cause) != OPTIONS_OK ||
	    check_readable(c->cert, "the client certificate", optable_how(&table, how, "--cert"),
	                   cause) != OPTIONS_OK ||
	    check_readable(c->key, "the client key", key_how, cause) != OPTIONS_OK)
		return OPTIONS_ERROR;
	if (c->token != NULL && (c->oidc_audience != NULL || c->oidc_token_var != NULL)) {
		cause_set(cause, "a token (--token-file or CACHEGATE_TOKEN) and a CI token "
		          "(--oidc-audience or --oidc-token-var) exclude each other");
		return OPTIONS_ERROR;
	}
	if (c->key != NULL && c->cert == NULL) {
		cause_set(cause, "%s needs a client certificate (--cert or CACHEGATE_CERT)", key_how);
		return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}

void options_free(struct options *c)
{
	if (c->token != NULL)
		explicit_bzero(c->token, strlen(c->token));
	free(c->remote);
	free(c->dir);
	free(c->token_file);
	free(c->token);
	free(c->token_source);
	free(c->oidc_audience);
	free(c->oidc_token_var);
	free(c->scope);
	free(c->cacert);
	free(c->cert);
	free(c->key);
	free(c->report);
	free(c->canonicalize);
	memset(c, 0, sizeof *c);
}
