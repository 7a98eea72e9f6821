/*
 * options.c: flags and environment variables of cachegate-prog.
 */
#include "proghelper/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "common/cause.h"
#include "store/store.h"

const char options_usage[] =
"Usage: cachegate-prog [options]\n"
"A GOCACHEPROG helper: the go command's build cache in a local store,\n"
"shared through a cachegate server.\n"
"  GOCACHEPROG=\"cachegate-prog --remote http://cache:8080\" go build ./...\n"
"\n"
"Options (each also read from the environment variable shown):\n"
"  --remote URL          cachegate server to share with; none: local only\n"
"                        (CACHEGATE_REMOTE)\n"
"  --dir DIR             local store (CACHEGATE_DIR; default\n"
"                        $XDG_CACHE_HOME/cachegate, else ~/.cache/cachegate)\n"
"  --token-file FILE     send the token in FILE as \"Authorization: Bearer\"\n"
"                        (CACHEGATE_TOKEN_FILE; or the token itself in\n"
"                        CACHEGATE_TOKEN)\n"
"  --read-only           never write to the remote (CACHEGATE_READ_ONLY=1)\n"
"  --cacert FILE         trust the https:// remote's certificate if a CA in\n"
"                        this PEM file signed it (CACHEGATE_CACERT; default:\n"
"                        the system's CAs)\n"
"  --cert FILE           present this PEM client certificate (CACHEGATE_CERT)\n"
"  --key FILE            with this PEM private key (CACHEGATE_KEY; default:\n"
"                        the key in the --cert file)\n"
"  --max-size SIZE       keep the local store under SIZE (e.g. 20G) when it is\n"
"                        trimmed, at most once a day (CACHEGATE_MAX_SIZE)\n"
"  --close-timeout SECS  how long the end of a build waits for uploads\n"
"                        (CACHEGATE_CLOSE_TIMEOUT; default 10)\n"
"  --scope NAME          preload under this name, e.g. a CI job's (CACHEGATE_SCOPE;\n"
"                        default: the go command's module, directory, arguments,\n"
"                        platform and Go version)\n"
"  --preload-max SIZE    fetch at most SIZE ahead at the start of a build\n"
"                        (CACHEGATE_PRELOAD_MAX; default 1G)\n"
"  --no-preload          neither fetch ahead nor record what the build used\n"
"                        (CACHEGATE_PRELOAD=0)\n"
"  --verbose             one line of statistics at the end (CACHEGATE_STATS=1)\n"
"  --help                show this text\n"
"  --version             show the version\n";

/* Set *cause to a formatted sentence; returns OPTIONS_ERROR. */
__attribute__((format(printf, 2, 3)))
static enum options_result
options_fail(char **cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cause_vset(cause, fmt, ap);
	va_end(ap);
	return OPTIONS_ERROR;
}

/* Parse a yes/no word; false if it is neither. */
static bool
options_bool(const char *text, bool *v)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "", "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*v = true;
			return true;
		}
	}
	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		if (strcasecmp(text, no[i]) == 0) {
			*v = false;
			return true;
		}
	}
	return false;
}

/* Parse a duration: seconds, or a number with an "ms", "s" or "m" suffix. */
static bool
options_duration(const char *text, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || !(v >= 0) || v > 86400)
		return false;
	if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (strcmp(end, "m") == 0)
		v *= 60;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return false;
	if (v > 86400)
		return false;
	*ms = (long)(v * 1000);
	return true;
}

/* Read the token: the first line of path, surrounding blanks removed. */
static enum options_result
options_token_file(struct options *c, const char *path, const char *how, char **cause)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;
	char *p;

	if (f == NULL)
		return options_fail(cause, "cannot read the token file %s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = buf + strspn(buf, " \t\r\n");
	p[strcspn(p, "\r\n")] = '\0';
	n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		p[--n] = '\0';
	if (n == 0)
		return options_fail(cause, "the token file %s is empty", path);
	c->token = strdup(p);
	if (asprintf(&c->token_source, "the token from %s %s", how, path) < 0)
		c->token_source = NULL;
	explicit_bzero(buf, sizeof buf);
	return OPTIONS_OK;
}

/* Replace *slot with a copy of value. */
static void
options_set(char **slot, const char *value)
{
	free(*slot);
	*slot = value != NULL ? strdup(value) : NULL;
}

/*
 * Keep *slot (a path from a flag or a variable, "" meaning none) only if it
 * names a readable, non-empty file; else say which file and which option
 * (how) named it.
 */
static enum options_result
options_readable(char **slot, const char *what, const char *how, char **cause)
{
	FILE *f;
	int ch, err;

	if (*slot == NULL || (*slot)[0] == '\0') {
		options_set(slot, NULL);
		return OPTIONS_OK;
	}
	f = fopen(*slot, "r");
	if (f == NULL)
		return options_fail(cause, "cannot read %s %s (%s): %s", what, *slot, how,
		                    strerror(errno));
	ch = fgetc(f);
	err = ferror(f) ? errno : 0;
	fclose(f);
	if (err != 0)
		return options_fail(cause, "cannot read %s %s (%s): %s", what, *slot, how,
		                    strerror(err));
	if (ch == EOF)
		return options_fail(cause, "%s %s (%s) is empty", what, *slot, how);
	return OPTIONS_OK;
}

/* Choose the default store directory. */
static enum options_result
options_default_dir(struct options *c, char **cause)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/') {
		if (asprintf(&c->dir, "%s/cachegate", xdg) < 0)
			c->dir = NULL;
	} else if (home != NULL && home[0] != '\0') {
		if (asprintf(&c->dir, "%s/.cache/cachegate", home) < 0)
			c->dir = NULL;
	} else {
		return options_fail(cause, "no store directory: set --dir, CACHEGATE_DIR, "
		                          "XDG_CACHE_HOME or HOME");
	}
	return OPTIONS_OK;
}

enum options_result
options_parse(int argc, char **argv, struct options *c, char **cause)
{
	enum { OPT_REMOTE = 256, OPT_DIR, OPT_TOKEN_FILE, OPT_READ_ONLY, OPT_MAX_SIZE,
	       OPT_CLOSE_TIMEOUT, OPT_SCOPE, OPT_PRELOAD_MAX, OPT_NO_PRELOAD, OPT_VERBOSE, OPT_HELP,
	       OPT_VERSION, OPT_CACERT, OPT_CERT, OPT_KEY };
	static const struct option opts[] = {
		{ "remote", required_argument, NULL, OPT_REMOTE },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "close-timeout", required_argument, NULL, OPT_CLOSE_TIMEOUT },
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "preload-max", required_argument, NULL, OPT_PRELOAD_MAX },
		{ "no-preload", no_argument, NULL, OPT_NO_PRELOAD },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ NULL, 0, NULL, 0 },
	};
	const char *env, *max_size = getenv("CACHEGATE_MAX_SIZE");
	const char *close_timeout = getenv("CACHEGATE_CLOSE_TIMEOUT");
	const char *preload_max = getenv("CACHEGATE_PRELOAD_MAX");
	char *token_file = NULL;
	const char *token_how = "CACHEGATE_TOKEN_FILE";
	const char *cacert_how = "CACHEGATE_CACERT", *cert_how = "CACHEGATE_CERT";
	const char *key_how = "CACHEGATE_KEY";
	enum options_result r = OPTIONS_OK;
	int opt;

	memset(c, 0, sizeof *c);
	*cause = NULL;
	c->close_timeout_ms = 10000;
	c->preload = true;
	c->preload_max = OPTIONS_PRELOAD_MAX;
	if ((env = getenv("CACHEGATE_READ_ONLY")) != NULL && !options_bool(env, &c->read_only))
		return options_fail(cause, "CACHEGATE_READ_ONLY must be 1 or 0, not \"%s\"", env);
	if ((env = getenv("CACHEGATE_STATS")) != NULL && !options_bool(env, &c->verbose))
		return options_fail(cause, "CACHEGATE_STATS must be 1 or 0, not \"%s\"", env);
	if ((env = getenv("CACHEGATE_PRELOAD")) != NULL && !options_bool(env, &c->preload))
		return options_fail(cause, "CACHEGATE_PRELOAD must be 1 or 0, not \"%s\"", env);
	options_set(&c->scope, getenv("CACHEGATE_SCOPE"));
	options_set(&c->remote, getenv("CACHEGATE_REMOTE"));
	options_set(&c->dir, getenv("CACHEGATE_DIR"));
	options_set(&token_file, getenv("CACHEGATE_TOKEN_FILE"));
	options_set(&c->cacert, getenv("CACHEGATE_CACERT"));
	options_set(&c->cert, getenv("CACHEGATE_CERT"));
	options_set(&c->key, getenv("CACHEGATE_KEY"));

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_REMOTE:
			options_set(&c->remote, optarg);
			break;
		case OPT_DIR:
			options_set(&c->dir, optarg);
			break;
		case OPT_TOKEN_FILE:
			options_set(&token_file, optarg);
			token_how = "--token-file";
			break;
		case OPT_READ_ONLY:
			c->read_only = true;
			break;
		case OPT_CACERT:
			options_set(&c->cacert, optarg);
			cacert_how = "--cacert";
			break;
		case OPT_CERT:
			options_set(&c->cert, optarg);
			cert_how = "--cert";
			break;
		case OPT_KEY:
			options_set(&c->key, optarg);
			key_how = "--key";
			break;
		case OPT_MAX_SIZE:
			max_size = optarg;
			break;
		case OPT_CLOSE_TIMEOUT:
			close_timeout = optarg;
			break;
		case OPT_SCOPE:
			options_set(&c->scope, optarg);
			break;
		case OPT_PRELOAD_MAX:
			preload_max = optarg;
			break;
		case OPT_NO_PRELOAD:
			c->preload = false;
			break;
		case OPT_VERBOSE:
			c->verbose = true;
			break;
		case OPT_HELP:
			fputs(options_usage, stdout);
			r = OPTIONS_EXIT;
			goto out;
		case OPT_VERSION:
			printf("cachegate-prog %s\n", PACKAGE_VERSION);
			r = OPTIONS_EXIT;
			goto out;
		default:
			if (optopt > 0 && optopt < 256)
				r = options_fail(cause, "unknown or incomplete option -%c (see --help)", optopt);
			else
				r = options_fail(cause, "unknown or incomplete option %s (see --help)",
				                argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		r = options_fail(cause, "unexpected argument \"%s\" (see --help)", argv[optind]);
		goto out;
	}
	if (c->remote != NULL && c->remote[0] == '\0')
		options_set(&c->remote, NULL);
	if (c->remote != NULL) {
		size_t n = strlen(c->remote);
		if (strncmp(c->remote, "http://", 7) != 0 && strncmp(c->remote, "https://", 8) != 0) {
			r = options_fail(cause, "the remote \"%s\" is not an http:// or https:// URL",
			                c->remote);
			goto out;
		}
		while (n > 0 && c->remote[n - 1] == '/')
			c->remote[--n] = '\0';
	}
	if (max_size != NULL && max_size[0] != '\0' && !store_parse_size(max_size, &c->max_size)) {
		r = options_fail(cause, "--max-size \"%s\" is not a size such as 20G", max_size);
		goto out;
	}
	if (preload_max != NULL && preload_max[0] != '\0' &&
	    !store_parse_size(preload_max, &c->preload_max)) {
		r = options_fail(cause, "--preload-max \"%s\" is not a size such as 1G", preload_max);
		goto out;
	}
	if (c->scope != NULL && c->scope[0] == '\0')
		options_set(&c->scope, NULL);
	if (close_timeout != NULL && !options_duration(close_timeout, &c->close_timeout_ms)) {
		r = options_fail(cause, "--close-timeout \"%s\" is not a number of seconds", close_timeout);
		goto out;
	}
	if (token_file != NULL && token_file[0] != '\0') {
		r = options_token_file(c, token_file, token_how, cause);
		if (r != OPTIONS_OK)
			goto out;
	} else if ((env = getenv("CACHEGATE_TOKEN")) != NULL && env[0] != '\0') {
		options_set(&c->token, env);
		options_set(&c->token_source, "the token from CACHEGATE_TOKEN");
	}
	if (c->token != NULL && strpbrk(c->token, "\r\n") != NULL) {
		r = options_fail(cause, "%s contains a line break", c->token_source);
		goto out;
	}
	if ((r = options_readable(&c->cacert, "the CA file", cacert_how, cause)) != OPTIONS_OK ||
	    (r = options_readable(&c->cert, "the client certificate", cert_how, cause)) != OPTIONS_OK ||
	    (r = options_readable(&c->key, "the client key", key_how, cause)) != OPTIONS_OK)
		goto out;
	if (c->key != NULL && c->cert == NULL) {
		r = options_fail(cause, "%s needs a client certificate (--cert or CACHEGATE_CERT)",
		                 key_how);
		goto out;
	}
	if (c->dir == NULL || c->dir[0] == '\0')
		r = options_default_dir(c, cause);
out:
	free(token_file);
	return r;
}

void
options_free(struct options *c)
{
	if (c->token != NULL)
		explicit_bzero(c->token, strlen(c->token));
	free(c->remote);
	free(c->dir);
	free(c->token);
	free(c->token_source);
	free(c->scope);
	free(c->cacert);
	free(c->cert);
	free(c->key);
	memset(c, 0, sizeof *c);
}
