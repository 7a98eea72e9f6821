/*
 * options.c: cachegate's command line, as one table (common/optable.h) from
 * which the parser, the --help text and the defaults come; then the rules
 * that tie options together.
 */
#include "gateway/options.h"

#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cause.h"
#include "common/optable.h"

/* Where a row's value goes in struct options. */
#define AT(field) offsetof(struct options, field)
/* The longest timeout, in seconds: a week. */
#define WEEK 604800

/* Split HOST:PORT (or [V6]:PORT) into o's listen_host and listen_port. */
static bool set_listen(void *opaque, const char *text)
{
	struct options *o = opaque;
	const char *colon, *h = text;
	size_t hlen;
	char *end;
	unsigned long p;

	if (*text == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':')
			return false;
		h = text + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL)
			return false;
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0 || colon[1] < '0' || colon[1] > '9')
		return false;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p > 65535)
		return false;
	free(o->listen_host);
	o->listen_host = strndup(h, hlen);
	o->listen_port = (uint16_t)p;
	return o->listen_host != NULL;
}

/* The default store directory: $XDG_CACHE_HOME/cachegate-server, else ~/.cache/... */
static bool fill_dir(void *opaque, char **cause)
{
	struct options *o = opaque;
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/') {
		if (asprintf(&o->dir, "%s/cachegate-server", xdg) < 0)
			o->dir = NULL;
	} else {
		if (home == NULL || home[0] == '\0') {
			struct passwd *pw = getpwuid(getuid());
			home = pw != NULL ? pw->pw_dir : NULL;
		}
		if (home != NULL && asprintf(&o->dir, "%s/.cache/cachegate-server", home) < 0)
			o->dir = NULL;
	}
	if (o->dir == NULL)
		cause_set(cause, "no --dir given and no home directory to default to");
	return o->dir != NULL;
}

/* --compression: zstd or none. */
static bool set_compression(void *opaque, const char *text)
{
	struct options *o = opaque;

	o->compression = strcmp(text, "zstd") == 0;
	return o->compression || strcmp(text, "none") == 0;
}

/* One worker thread per CPU. */
static bool fill_threads(void *opaque, char **cause)
{
	struct options *o = opaque;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	(void)cause;
	o->threads = cpus > 0 ? (unsigned)cpus : 1;
	return true;
}

/* One address (a NAT in front of a CI fleet, say) may hold most connections, never all. */
static bool fill_per_ip(void *opaque, char **cause)
{
	struct options *o = opaque;

	(void)cause;
	o->max_connections_per_ip = o->max_connections - o->max_connections / 4;
	return true;
}

static const struct optable_row rows[] = {
	{.flag = "--listen", .arg = "HOST:PORT", .kind = OPTABLE_CUSTOM, .set = set_listen,
	 .def = "127.0.0.1:8080",
	 .help = "address to listen on; port 0 picks a free port, printed on stderr"},
	{.flag = "--port-file", .arg = "FILE", .kind = OPTABLE_TEXT, .at = AT(port_file),
	 .help = "write the port in use to FILE once listening"},
	{.flag = "--dir", .arg = "DIR", .kind = OPTABLE_TEXT, .at = AT(dir), .fill = fill_dir,
	 .shown = "$XDG_CACHE_HOME/cachegate-server, else ~/.cache/cachegate-server",
	 .help = "store directory"},
	{.flag = "--max-size", .arg = "SIZE", .kind = OPTABLE_SIZE, .at = AT(max_size), .min = 1,
	 .help = "keep the store under SIZE (e.g. 20G): least recently used objects are evicted "
	         "in the background"},
	{.flag = "--max-object-size", .arg = "SIZE", .kind = OPTABLE_SIZE, .min = 1,
	 .at = AT(max_object_size), .help = "refuse bodies larger than SIZE with 413"},
	{.flag = "--auth-file", .arg = "FILE", .kind = OPTABLE_TEXT, .at = AT(auth_file),
	 .help = "require tokens, one \"<token> read|write [ns=NAME] [reads=A,B]\" per line"},
	{.flag = "--anonymous-read", .kind = OPTABLE_FLAG, .at = AT(anonymous_read),
	 .help = "with --auth-file: anyone may read, writes need a token"},
	{.flag = "--tls-cert", .arg = "FILE", .kind = OPTABLE_TEXT, .at = AT(tls_cert),
	 .help = "serve HTTPS with this PEM certificate"},
	{.flag = "--tls-key", .arg = "FILE", .kind = OPTABLE_TEXT, .at = AT(tls_key),
	 .help = "and this PEM private key"},
	{.flag = "--tls-client-ca", .arg = "FILE", .kind = OPTABLE_TEXT, .at = AT(tls_client_ca),
	 .help = "with --tls-cert: require a client certificate signed by a CA in this PEM file "
	         "(403 otherwise)"},
	{.flag = "--threads", .arg = "N", .kind = OPTABLE_COUNT, .at = AT(threads), .min = 1,
	 .max = 1024, .fill = fill_threads, .shown = "the number of CPUs",
	 .help = "worker threads"},
	{.flag = "--max-connections", .arg = "N", .kind = OPTABLE_COUNT, .at = AT(max_connections),
	 .min = 1, .max = 1000000, .def = "1000",
	 .help = "concurrent connections; beyond them requests get 503"},
	{.flag = "--max-connections-per-ip", .arg = "N", .kind = OPTABLE_COUNT,
	 .at = AT(max_connections_per_ip), .max = 1000000, .fill = fill_per_ip,
	 .shown = "three quarters of --max-connections",
	 .help = "concurrent connections from one address; beyond them connections are closed "
	         "at once; 0: no limit"},
	{.flag = "--idle-timeout", .arg = "SECS", .kind = OPTABLE_SECONDS, .at = AT(idle_timeout),
	 .min = 1, .max = WEEK, .def = "60", .help = "close a connection silent this long"},
	{.flag = "--header-timeout", .arg = "SECS", .kind = OPTABLE_SECONDS,
	 .at = AT(header_timeout), .min = 1, .max = WEEK, .def = "30",
	 .help = "close a connection whose next request head has not arrived whole this long, "
	         "however it trickles"},
	{.flag = "--request-timeout", .arg = "SECS", .kind = OPTABLE_SECONDS,
	 .at = AT(request_timeout), .min = 1, .max = WEEK, .def = "3600",
	 .help = "abort a request that takes longer"},
	{.flag = "--min-body-rate", .arg = "SIZE", .kind = OPTABLE_RATE, .at = AT(min_body_rate),
	 .def = "1K", .help = "close an upload whose body brings less than SIZE bytes per second "
	                      "over 10 s; 0: no minimum"},
	{.flag = "--shutdown-timeout", .arg = "SECS", .kind = OPTABLE_SECONDS,
	 .at = AT(shutdown_timeout), .min = 1, .max = WEEK, .def = "10",
	 .help = "on SIGTERM or SIGINT, wait this long for requests in flight"},
	{.flag = "--fsync", .kind = OPTABLE_FLAG, .at = AT(fsync),
	 .help = "fsync each object before publishing it"},
	{.flag = "--compression", .arg = "zstd|none", .kind = OPTABLE_CUSTOM,
	 .set = set_compression, .def = "zstd",
	 .help = "take zstd uploads and keep their frames where that pays, and send compressed "
	         "objects so to clients that accept zstd"},
	{.flag = "--compress-raw-uploads", .kind = OPTABLE_FLAG, .at = AT(compress_raw_uploads),
	 .help = "compress raw uploads at rest too: less disk, but raw readers of them get bytes "
	         "decoded per request instead of the file by sendfile"},
	{.flag = "--compression-level", .arg = "N", .kind = OPTABLE_COUNT,
	 .at = AT(compression_level), .min = 1, .max = 19, .def = "3",
	 .help = "the zstd level of --compress-raw-uploads"},
	{.flag = "--scrub-rate", .arg = "SIZE", .kind = OPTABLE_RATE, .at = AT(scrub_rate),
	 .def = "16M", .help = "re-hash the CAS objects in the background, reading at most SIZE "
	                       "bytes per second, and remove damaged ones; 0 turns the scrub off"},
	{.flag = "--scrub-interval", .arg = "SECS", .kind = OPTABLE_SECONDS,
	 .at = AT(scrub_interval), .min = 1, .max = 365 * 86400, .def = "86400",
	 .help = "start a scrub pass this long after the last one started"},
	{.flag = "--s3", .arg = "s3://BUCKET[/PREFIX]", .kind = OPTABLE_TEXT, .at = AT(s3),
	 .help = "keep every object in this S3 bucket too, the shared tier of any number of "
	         "gateways; the store in --dir is then a cache in front of it"},
	{.flag = "--s3-endpoint", .arg = "URL", .kind = OPTABLE_TEXT, .at = AT(s3_endpoint),
	 .shown = "AWS", .help = "an S3-compatible service (path-style addressing)"},
	{.flag = "--s3-region", .arg = "REGION", .kind = OPTABLE_TEXT, .at = AT(s3_region),
	 .shown = "$AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1",
	 .help = "the region requests are signed for"},
	{.flag = "--s3-credentials-file", .arg = "FILE", .kind = OPTABLE_TEXT,
	 .at = AT(s3_credentials_file),
	 .help = "an AWS credentials file (profile $AWS_PROFILE, else default); without it "
	         "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are used"},
	{.flag = "--verify", .kind = OPTABLE_FLAG, .at = AT(verify),
	 .help = "hash every CAS object in --dir, remove damaged ones, print what was found and "
	         "exit (1 if any was damaged)"},
	{.flag = "--log", .kind = OPTABLE_FLAG, .at = AT(log),
	 .help = "one access-log line per request on stderr"},
	{.flag = "--help", .kind = OPTABLE_HELP, .help = "print this help and exit"},
	{.flag = "--version", .kind = OPTABLE_VERSION, .help = "print the version and exit"},
};

static const struct optable table = {
	.program = "cachegate",
	.intro = "Usage: cachegate [OPTION]...\n"
	         "Serve a build cache over HTTP: GET, HEAD and PUT of /ac/<id> and /cas/<id>,\n"
	         "the Bazel HTTP cache layout that Bazel, ccache and cachegate-prog speak.\n"
	         "\n",
	.outro = "\n"
	         "SIZE: a number of bytes with an optional K, M, G or T suffix (powers of 1024).\n",
	.column = 27,
	.rows = rows,
	.nrows = sizeof(rows) / sizeof(rows[0]),
};

/* The rules between options; OPTIONS_ERROR with *cause if one is broken. */
static enum options_result check(const struct options *o, char **cause)
{
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		cause_set(cause, "--tls-cert and --tls-key go together");
		return OPTIONS_ERROR;
	}
	if (o->tls_client_ca != NULL && o->tls_cert == NULL) {
		cause_set(cause, "--tls-client-ca needs --tls-cert and --tls-key: "
		          "client certificates come with HTTPS");
		return OPTIONS_ERROR;
	}
	if (o->s3 == NULL && (o->s3_endpoint != NULL || o->s3_region != NULL ||
	                      o->s3_credentials_file != NULL)) {
		cause_set(cause, "--s3-endpoint, --s3-region and --s3-credentials-file go with --s3");
		return OPTIONS_ERROR;
	}
	if (o->anonymous_read && o->auth_file == NULL) {
		cause_set(cause, "--anonymous-read only makes sense with --auth-file");
		return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}

enum options_result options_parse(struct options *o, int argc, char **argv, char **cause)
{
	memset(o, 0, sizeof(*o));
	switch (optable_parse(&table, o, argc, argv, NULL, cause)) {
	case OPTABLE_OK:
		return check(o, cause);
	case OPTABLE_EXIT:
		return OPTIONS_EXIT;
	default:
		return OPTIONS_ERROR;
	}
}

void options_free(struct options *o)
{
	free(o->listen_host);
	free(o->port_file);
	free(o->dir);
	free(o->auth_file);
	free(o->tls_cert);
	free(o->tls_key);
	free(o->tls_client_ca);
	free(o->s3);
	free(o->s3_endpoint);
	free(o->s3_region);
	free(o->s3_credentials_file);
	memset(o, 0, sizeof(*o));
}
