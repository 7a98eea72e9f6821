/*
 * gateway_fixture.h: start the real cachegate binary ($CACHEGATE) on
 * 127.0.0.1 with port 0 in a private temp directory, talk to it with
 * libcurl or a raw socket, and stop it.
 */
#ifndef CACHEGATE_TESTS_GATEWAY_FIXTURE_H
#define CACHEGATE_TESTS_GATEWAY_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gw {
	pid_t pid;          /* 0 once stopped */
	char *dir;          /* private temp directory, removed by gw_stop */
	char store[512];    /* <dir>/store: the server's --dir */
	char log[512];      /* <dir>/server.log: the server's stderr */
	unsigned port;
	char base[64];      /* "http://127.0.0.1:<port>" */
	bool default_dir;   /* set before gw_start: pass no --dir */
};

/*
 * Start cachegate with its usual test flags plus extra (a NULL-terminated
 * list, may be NULL). env (NULL-terminated, may be NULL) changes the
 * server's environment: "NAME=value" sets, "NAME" alone unsets. Fails the
 * test when the server does not come up.
 */
void gw_start(struct gw *g, const char *const *extra, const char *const *env);

/*
 * Write text to <dir>/<name> (making the directory if gw_start has not yet)
 * and return the path; the caller frees it.
 */
char *gw_write_file(struct gw *g, const char *name, const char *text);

/*
 * Stop the server with SIGTERM, wait for it (bounded) and remove its
 * directory. Returns its exit status (0 when it shut down cleanly and
 * ASan found no leak), or -1 when it had to be killed. Safe to call twice.
 */
int gw_stop(struct gw *g);

/*
 * Run cachegate with args (NULL-terminated) to completion, for commands
 * that exit by themselves; env (NULL-terminated "NAME=value" list, may be
 * NULL) is added to its environment. Its stdout and stderr go to out
 * (NUL-terminated). Returns the exit status, -1 when killed.
 */
int gw_run(const char *const *args, const char *const *env, char *out, size_t n);

struct gw_reply {
	long status;
	char *body;        /* NUL-terminated */
	size_t len;
	char *headers;     /* raw response headers, NUL-terminated */
};

/*
 * One request with libcurl: method to base+path, with body (len bytes, or
 * none when body is NULL) and extra header lines (NULL-terminated, may be
 * NULL). Returns the status (0 when the transfer failed).
 */
long gw_http(const struct gw *g, const char *method, const char *path, const void *body,
             size_t len, const char *const *headers, struct gw_reply *out);

void gw_reply_free(struct gw_reply *r);

/*
 * The value of response header name (any case) in r, copied into out (n
 * bytes, NUL-terminated); false when r has no such header.
 */
bool gw_header_value(const struct gw_reply *r, const char *name, char *out, size_t n);
/* Fail the test unless r's body is exactly one non-empty line, as an error's is. */
void gw_assert_one_line(const struct gw_reply *r);
/* The value of the /metrics sample (its name with its labels, if any), or -1. */
long long gw_metric(const struct gw *g, const char *sample);
/* Fill buf with n deterministic bytes from seed. */
void gw_fill(char *buf, size_t n, unsigned seed);
/* An id of the right form; no test stores an object under /cas with it. */
#define GW_ZERO_ID "0000000000000000000000000000000000000000000000000000000000000000"
/* Hex SHA-256 of buf. */
void gw_sha256_hex(const void *buf, size_t n, char hex[65]);

/* A connected socket to the server (fails the test otherwise). */
int gw_connect(const struct gw *g);

/* Send all of buf on fd; false when the peer has gone. */
bool gw_send_all(int fd, const void *buf, size_t n);

/*
 * Read from fd for at most timeout_ms until the peer closes or a whole
 * response (headers and Content-Length body) is in; NUL-terminates buf.
 * Returns the bytes read.
 */
size_t gw_read_response(int fd, char *buf, size_t cap, int timeout_ms);

/* The value of "Name:" in /proc/<pid>/status in KiB, or -1. */
long gw_proc_kib(pid_t pid, const char *name);

/* Files under <store>/<sub> (recursively), e.g. "tmp" or "cas". */
size_t gw_count_files(const struct gw *g, const char *sub);

#endif
