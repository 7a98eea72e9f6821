/*
 * options.h: the helper's settings, from flags and environment variables
 * (an empty value counts as not given; a switch's variable reads it as off).
 */
#ifndef CACHEGATE_PROG_OPTIONS_H
#define CACHEGATE_PROG_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

struct options {
	char *remote;        /* gateway base URL without trailing '/', or NULL */
	char *dir;           /* local store directory */
	char *token_file;    /* where the token was read from, or NULL */
	char *token;         /* bearer token, or NULL */
	char *token_source;  /* where the token came from, for messages */
	char *oidc_audience; /* GitHub Actions: ask the runner for a CI token for this audience */
	char *oidc_token_var;/* GitLab CI: the CI token is in this variable (id_tokens) */
	bool read_only;      /* never write to the remote */
	uint64_t max_size;   /* local store cap applied when trimming; 0: none */
	long close_timeout_ms;
	bool preload;        /* fetch ahead what the last build of the scope used */
	char *scope;         /* the preload scope's name, or NULL for the default */
	uint64_t preload_max;  /* bytes the preload may fetch */
	bool compression;    /* --compression zstd: compressed answers and uploads where taken */
	unsigned compression_level;  /* the zstd level of uploads */
	bool verbose;        /* stats line at close */
	char *cacert;        /* PEM CAs that sign the remote's certificate, or NULL: the system's */
	char *cert;          /* PEM client certificate, or NULL */
	char *key;           /* its PEM private key, or NULL: in the cert file */
	char *report;        /* the job's Markdown report to add this run to, or NULL */
	char *canonicalize;  /* set mtimes under this directory and exit, or NULL */
};

enum options_result {
	OPTIONS_OK = 0,
	OPTIONS_EXIT,   /* --help or --version was printed: exit 0 */
	OPTIONS_ERROR,  /* *cause says what is wrong */
};

/*
 * Fill c from argv and the environment (flags win). On OPTIONS_ERROR *cause
 * is a sentence the caller frees. c is freed with options_free in every case.
 */
enum options_result options_parse(int argc, char **argv, struct options *c, char **cause);

/* Free what options_parse allocated. */
void options_free(struct options *c);

#endif
