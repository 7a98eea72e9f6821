/*
 * options.h: the command line of cachegate, parsed into one struct.
 */
#ifndef CACHEGATE_GATEWAY_OPTIONS_H
#define CACHEGATE_GATEWAY_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

struct options {
	char *listen_host;          /* numeric address or host name to bind */
	uint16_t listen_port;       /* 0: the kernel picks a free port */
	char *port_file;            /* where to write the chosen port, or NULL */
	char *dir;                  /* the store directory */
	unsigned threads;           /* MHD worker threads */
	uint64_t max_size;          /* 0: no cap on the store */
	uint64_t max_object_size;   /* 0: no cap on one object */
	char *auth_file;            /* NULL: the server is open */
	bool anonymous_read;        /* reads need no token (with auth_file) */
	char *tls_cert;             /* PEM files; both or neither */
	char *tls_key;
	char *tls_client_ca;        /* PEM CA file: client certificates required, or NULL */
	bool log;                   /* one access-log line per request on stderr */
	bool fsync;                 /* fsync objects before publishing them */
	bool compression;           /* --compression zstd (the default); false: none */
	unsigned compression_level; /* --compression-level, the zstd level */
	bool compress_raw_uploads;  /* --compress-raw-uploads: raw PUTs kept compressed too */
	unsigned idle_timeout;      /* seconds a connection may stay silent */
	unsigned header_timeout;    /* seconds the next request's head may take to arrive */
	unsigned request_timeout;   /* seconds one request may take in total */
	uint64_t min_body_rate;     /* bytes per second a body must bring; 0: no minimum */
	unsigned shutdown_timeout;  /* seconds to let requests finish on SIGTERM */
	unsigned max_connections;   /* concurrent connections accepted */
	unsigned max_connections_per_ip; /* from one address; 0: no limit */
	uint64_t scrub_rate;        /* bytes per second the scrub reads; 0: no scrub */
	unsigned scrub_interval;    /* seconds from one scrub pass's start to the next */
	bool verify;                /* check the store once and exit */
	char *s3;                   /* "s3://BUCKET[/PREFIX]": the shared tier, or NULL */
	char *s3_endpoint;          /* NULL: AWS */
	char *s3_region;            /* NULL: from the environment */
	char *s3_credentials_file;  /* NULL: from the environment */
};

enum options_result {
	OPTIONS_OK = 0,
	OPTIONS_EXIT,   /* --help or --version was printed: exit 0 */
	OPTIONS_ERROR,  /* *cause says what is wrong */
};

/*
 * Fill o from argv, with defaults for what is not given. On OPTIONS_ERROR
 * *cause is one sentence the caller frees. o must be released with
 * options_free whatever the result.
 */
enum options_result options_parse(struct options *o, int argc, char **argv, char **cause);

/* Release what options_parse allocated. */
void options_free(struct options *o);

#endif
