/*
 * options.c: parse cachegate's command line.
 */
#include "config.h"
#include "common/cause.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/options.h"
#include "store/store.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8080
#define DEFAULT_SCRUB_RATE (16 * 1024 * 1024)

static const char usage_text[] =
"Usage: cachegate [OPTION]...\n"
"Serve a build cache over HTTP: GET, HEAD and PUT of /ac/<id> and /cas/<id>,\n"
"the Bazel HTTP cache layout that Bazel, ccache and cachegate-prog speak.\n"
"\n"
"  --listen HOST:PORT       address to listen on (default 127.0.0.1:8080);\n"
"                           port 0 picks a free port, printed on stderr\n"
"  --port-file FILE         write the port in use to FILE once listening\n"
"  --dir DIR                store directory (default\n"
"                           $XDG_CACHE_HOME/cachegate-server, else\n"
"                           ~/.cache/cachegate-server)\n"
"  --max-size SIZE          keep the store under SIZE (e.g. 20G): least\n"
"                           recently used objects are evicted in the background\n"
"  --max-object-size SIZE   refuse bodies larger than SIZE with 413\n"
"  --auth-file FILE         require tokens, one \"<token> read|write\" per line\n"
"  --anonymous-read         with --auth-file: anyone may read, writes need a token\n"
"  --tls-cert FILE          serve HTTPS with this PEM certificate\n"
"  --tls-key FILE           and this PEM private key\n"
"  --tls-client-ca FILE     with --tls-cert: require a client certificate\n"
"                           signed by a CA in this PEM file (403 otherwise)\n"
"  --threads N              worker threads (default: number of CPUs)\n"
"  --max-connections N      concurrent connections; beyond them requests get\n"
"                           503 (default 1000)\n"
"  --max-connections-per-ip N\n"
"                           concurrent connections from one address; beyond\n"
"                           them connections are closed at once (default three\n"
"                           quarters of --max-connections; 0: no limit)\n"
"  --idle-timeout SECS      close a connection silent this long (default 60)\n"
"  --header-timeout SECS    close a connection whose next request head has not\n"
"                           arrived whole this long, however it trickles\n"
"                           (default 30)\n"
"  --request-timeout SECS   abort a request that takes longer (default 3600)\n"
"  --min-body-rate SIZE     close an upload whose body brings less than SIZE\n"
"                           bytes per second over 10 s (default 1K; 0: no minimum)\n"
"  --shutdown-timeout SECS  on SIGTERM or SIGINT, wait this long for requests\n"
"                           in flight (default 10)\n"
"  --fsync                  fsync each object before publishing it\n"
"  --compression zstd|none  keep CAS objects zstd-compressed where that pays\n"
"                           and send them so to clients that accept zstd\n"
"                           (default none)\n"
"  --compression-level N    the zstd level, 1 to 19 (default 3)\n"
"  --scrub-rate SIZE        re-hash the CAS objects in the background, reading at\n"
"                           most SIZE bytes per second, and remove damaged ones\n"
"                           (default 16M; 0 turns the scrub off)\n"
"  --scrub-interval SECS    start a scrub pass this long after the last one\n"
"                           started (default 86400)\n"
"  --s3 s3://BUCKET[/PREFIX]\n"
"                           keep every object in this S3 bucket too, the shared\n"
"                           tier of any number of gateways; the store in --dir\n"
"                           is then a cache in front of it\n"
"  --s3-endpoint URL        an S3-compatible service (path-style addressing);\n"
"                           default AWS\n"
"  --s3-region REGION       default $AWS_REGION, else us-east-1\n"
"  --s3-credentials-file FILE\n"
"                           an AWS credentials file (profile $AWS_PROFILE, else\n"
"                           default); without it AWS_ACCESS_KEY_ID,\n"
"                           AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are used\n"
"  --verify                 hash every CAS object in --dir, remove damaged ones,\n"
"                           print what was found and exit (1 if any was damaged)\n"
"  --log                    one access-log line per request on stderr\n"
"  --help                   print this help and exit\n"
"  --version                print the version and exit\n"
"\n"
"SIZE is a number of bytes with an optional K, M, G or T suffix (powers of 1024).\n";

enum {
	OPT_LISTEN = 256, OPT_PORT_FILE, OPT_DIR, OPT_MAX_SIZE, OPT_MAX_OBJECT_SIZE,
	OPT_AUTH_FILE, OPT_ANONYMOUS_READ, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_CLIENT_CA,
	OPT_THREADS, OPT_MAX_CONNECTIONS, OPT_MAX_CONNECTIONS_PER_IP, OPT_IDLE_TIMEOUT,
	OPT_HEADER_TIMEOUT, OPT_REQUEST_TIMEOUT, OPT_MIN_BODY_RATE, OPT_SHUTDOWN_TIMEOUT,
	OPT_FSYNC, OPT_LOG, OPT_SCRUB_RATE, OPT_SCRUB_INTERVAL, OPT_S3, OPT_S3_ENDPOINT,
	OPT_S3_REGION, OPT_S3_CREDENTIALS_FILE, OPT_VERIFY, OPT_COMPRESSION,
	OPT_COMPRESSION_LEVEL, OPT_HELP,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"port-file", required_argument, NULL, OPT_PORT_FILE},
	{"dir", required_argument, NULL, OPT_DIR},
	{"max-size", required_argument, NULL, OPT_MAX_SIZE},
	{"max-object-size", required_argument, NULL, OPT_MAX_OBJECT_SIZE},
	{"auth-file", required_argument, NULL, OPT_AUTH_FILE},
	{"anonymous-read", no_argument, NULL, OPT_ANONYMOUS_READ},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-client-ca", required_argument, NULL, OPT_TLS_CLIENT_CA},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
	{"max-connections-per-ip", required_argument, NULL, OPT_MAX_CONNECTIONS_PER_IP},
	{"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	{"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
	{"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT},
	{"min-body-rate", required_argument, NULL, OPT_MIN_BODY_RATE},
	{"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
	{"fsync", no_argument, NULL, OPT_FSYNC},
	{"log", no_argument, NULL, OPT_LOG},
	{"scrub-rate", required_argument, NULL, OPT_SCRUB_RATE},
	{"scrub-interval", required_argument, NULL, OPT_SCRUB_INTERVAL},
	{"s3", required_argument, NULL, OPT_S3},
	{"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},
	{"s3-region", required_argument, NULL, OPT_S3_REGION},
	{"s3-credentials-file", required_argument, NULL, OPT_S3_CREDENTIALS_FILE},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{"compression", required_argument, NULL, OPT_COMPRESSION},
	{"compression-level", required_argument, NULL, OPT_COMPRESSION_LEVEL},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* Set *cause to a formatted sentence; returns OPTIONS_ERROR. */
__attribute__((format(printf, 2, 3)))
static enum options_result fail(char **cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cause_vset(cause, fmt, ap);
	va_end(ap);
	return OPTIONS_ERROR;
}

/* Parse a whole decimal number in [min, max]. */
static bool parse_unsigned(const char *text, unsigned long min, unsigned long max,
                           unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*text < '0' || *text > '9')
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Split HOST:PORT (or [V6]:PORT) into a fresh host string and a port. */
static bool parse_listen(const char *text, char **host, uint16_t *port)
{
	const char *colon, *h = text;
	size_t hlen;
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
	if (hlen == 0 || !parse_unsigned(colon + 1, 0, 65535, &p))
		return false;
	*host = strndup(h, hlen);
	*port = (uint16_t)p;
	return *host != NULL;
}

/* The default store directory: $XDG_CACHE_HOME/cachegate-server, else ~/.cache/... */
static char *default_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *dir;

	if (xdg != NULL && xdg[0] == '/')
		return asprintf(&dir, "%s/cachegate-server", xdg) < 0 ? NULL : dir;
	if (home == NULL || home[0] == '\0') {
		struct passwd *pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL)
		return NULL;
	return asprintf(&dir, "%s/.cache/cachegate-server", home) < 0 ? NULL : dir;
}

/* Replace *slot with a copy of value. */
static bool set_string(char **slot, const char *value)
{
	free(*slot);
	*slot = strdup(value);
	return *slot != NULL;
}

enum options_result options_parse(struct options *o, int argc, char **argv, char **cause)
{
	unsigned long n;
	bool per_ip_given = false;
	long cpus;
	int opt;

	memset(o, 0, sizeof(*o));
	*cause = NULL;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	o->threads = cpus > 0 ? (unsigned)cpus : 1;
	o->listen_port = DEFAULT_PORT;
	o->idle_timeout = 60;
	o->header_timeout = 30;
	o->request_timeout = 3600;
	o->shutdown_timeout = 10;
	o->max_connections = 1000;
	o->scrub_rate = DEFAULT_SCRUB_RATE;
	o->min_body_rate = 1024;
	o->scrub_interval = 86400;
	o->compression = false;
	o->compression_level = 3;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case OPT_LISTEN:
			free(o->listen_host);
			o->listen_host = NULL;
			if (!parse_listen(optarg, &o->listen_host, &o->listen_port))
				return fail(cause, "--listen wants HOST:PORT (e.g. 127.0.0.1:8080), not '%s'",
				            optarg);
			break;
		case OPT_PORT_FILE:
			ok = set_string(&o->port_file, optarg);
			break;
		case OPT_DIR:
			ok = set_string(&o->dir, optarg);
			break;
		case OPT_MAX_SIZE:
			if (!store_parse_size(optarg, &o->max_size) || o->max_size == 0)
				return fail(cause, "--max-size wants a size such as 20G, not '%s'", optarg);
			break;
		case OPT_MAX_OBJECT_SIZE:
			if (!store_parse_size(optarg, &o->max_object_size) || o->max_object_size == 0)
				return fail(cause, "--max-object-size wants a size such as 2G, not '%s'",
				            optarg);
			break;
		case OPT_AUTH_FILE:
			ok = set_string(&o->auth_file, optarg);
			break;
		case OPT_ANONYMOUS_READ:
			o->anonymous_read = true;
			break;
		case OPT_TLS_CERT:
			ok = set_string(&o->tls_cert, optarg);
			break;
		case OPT_TLS_KEY:
			ok = set_string(&o->tls_key, optarg);
			break;
		case OPT_TLS_CLIENT_CA:
			ok = set_string(&o->tls_client_ca, optarg);
			break;
		case OPT_THREADS:
			if (!parse_unsigned(optarg, 1, 1024, &n))
				return fail(cause, "--threads wants a number from 1 to 1024, not '%s'", optarg);
			o->threads = (unsigned)n;
			break;
		case OPT_MAX_CONNECTIONS:
			if (!parse_unsigned(optarg, 1, 1000000, &n))
				return fail(cause, "--max-connections wants a number from 1 to 1000000, not '%s'",
				            optarg);
			o->max_connections = (unsigned)n;
			break;
		case OPT_MAX_CONNECTIONS_PER_IP:
			if (!parse_unsigned(optarg, 0, 1000000, &n))
				return fail(cause, "--max-connections-per-ip wants a number from 0 to 1000000, "
				            "not '%s'", optarg);
			o->max_connections_per_ip = (unsigned)n;
			per_ip_given = true;
			break;
		case OPT_IDLE_TIMEOUT:
		case OPT_HEADER_TIMEOUT:
		case OPT_REQUEST_TIMEOUT:
		case OPT_SHUTDOWN_TIMEOUT:
			if (!parse_unsigned(optarg, 1, 86400 * 7, &n))
				return fail(cause, "--%s wants a number of seconds from 1 to 604800, not '%s'",
				            long_options[opt - OPT_LISTEN].name, optarg);
			if (opt == OPT_IDLE_TIMEOUT)
				o->idle_timeout = (unsigned)n;
			else if (opt == OPT_HEADER_TIMEOUT)
				o->header_timeout = (unsigned)n;
			else if (opt == OPT_REQUEST_TIMEOUT)
				o->request_timeout = (unsigned)n;
			else
				o->shutdown_timeout = (unsigned)n;
			break;
		case OPT_FSYNC:
			o->fsync = true;
			break;
		case OPT_LOG:
			o->log = true;
			break;
		case OPT_MIN_BODY_RATE:
			if (!store_parse_size(optarg, &o->min_body_rate))
				return fail(cause, "--min-body-rate wants bytes per second such as 1K (0: none), "
				            "not '%s'", optarg);
			break;
		case OPT_SCRUB_RATE:
			if (!store_parse_size(optarg, &o->scrub_rate))
				return fail(cause, "--scrub-rate wants bytes per second such as 16M (0: off), "
				            "not '%s'", optarg);
			break;
		case OPT_SCRUB_INTERVAL:
			if (!parse_unsigned(optarg, 1, 86400 * 365, &n))
				return fail(cause, "--scrub-interval wants a number of seconds from 1 to "
				            "31536000, not '%s'", optarg);
			o->scrub_interval = (unsigned)n;
			break;
		case OPT_S3:
			ok = set_string(&o->s3, optarg);
			break;
		case OPT_S3_ENDPOINT:
			ok = set_string(&o->s3_endpoint, optarg);
			break;
		case OPT_S3_REGION:
			ok = set_string(&o->s3_region, optarg);
			break;
		case OPT_S3_CREDENTIALS_FILE:
			ok = set_string(&o->s3_credentials_file, optarg);
			break;
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_COMPRESSION:
			if (strcmp(optarg, "zstd") != 0 && strcmp(optarg, "none") != 0)
				return fail(cause, "--compression wants zstd or none, not '%s'", optarg);
			o->compression = strcmp(optarg, "zstd") == 0;
			break;
		case OPT_COMPRESSION_LEVEL:
			if (!parse_unsigned(optarg, 1, 19, &n))
				return fail(cause, "--compression-level wants a zstd level from 1 to 19, "
				            "not '%s'", optarg);
			o->compression_level = (int)n;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return OPTIONS_EXIT;
		case OPT_VERSION:
			printf("cachegate %s\n", PACKAGE_VERSION);
			return OPTIONS_EXIT;
		default:
			if (optopt >= OPT_LISTEN && optopt <= OPT_VERSION)
				return fail(cause, "--%s needs a value (see cachegate --help)",
				            long_options[optopt - OPT_LISTEN].name);
			return fail(cause, "unknown option '%s' (see cachegate --help)",
			            argv[optind - 1]);
		}
		if (!ok)
			return fail(cause, "out of memory");
	}
	if (optind < argc)
		return fail(cause, "unexpected argument '%s' (see cachegate --help)", argv[optind]);
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		return fail(cause, "--tls-cert and --tls-key go together");
	if (o->tls_client_ca != NULL && o->tls_cert == NULL)
		return fail(cause, "--tls-client-ca needs --tls-cert and --tls-key: "
		            "client certificates come with HTTPS");
	if (o->s3 == NULL && (o->s3_endpoint != NULL || o->s3_region != NULL ||
	                      o->s3_credentials_file != NULL))
		return fail(cause, "--s3-endpoint, --s3-region and --s3-credentials-file go with --s3");
	if (o->anonymous_read && o->auth_file == NULL)
		return fail(cause, "--anonymous-read only makes sense with --auth-file");
	/* One address (a NAT in front of a CI fleet, say) may hold most connections, never all. */
	if (!per_ip_given)
		o->max_connections_per_ip = o->max_connections - o->max_connections / 4;
	if (o->listen_host == NULL && !set_string(&o->listen_host, DEFAULT_HOST))
		return fail(cause, "out of memory");
	if (o->dir == NULL && (o->dir = default_dir()) == NULL)
		return fail(cause, "no --dir given and no home directory to default to");
	return OPTIONS_OK;
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
