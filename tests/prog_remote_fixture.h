/*
 * prog_remote_fixture.h: what the tests of the helper's remote client share:
 * a directory per test, a real cachegate or a server in the test's own
 * process on loopback, local stores, a client, and its replies as the go
 * command reads them.
 */
#ifndef CACHEGATE_TESTS_PROG_REMOTE_FIXTURE_H
#define CACHEGATE_TESTS_PROG_REMOTE_FIXTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "proghelper/remote.h"
#include "proghelper/reply.h"
#include "proghelper/stats.h"

extern char *dir;              /* everything of one test */
extern char url[64];           /* the server the test talks to */
extern struct reply *writer;   /* the client's replies (next_reply reads them) */
extern struct stats counters;  /* the client's statistics */

/* Criterion init and fini: a new directory, the reply pipe; then all of it gone. */
void remote_fixture_setup(void);
void remote_fixture_teardown(void);

/* Start cachegate on a free loopback port over <dir>/gw, with extra arguments; sets url. */
void gateway_start(const char *const *extra);

/* Open (creating) the local store <dir>/<name>. */
struct store *store_named(const char *name);

/* A client of the server at url for store s. */
struct remote *client(struct store *s, const char *token, bool read_only);

/* The next reply line, parsed (the caller decrefs). */
json_t *next_reply(void);

/* Fill e: the entry of an action made from seed, whose output is body (n bytes). */
void entry_make(unsigned char seed, const void *body, size_t n, struct go_entry *e);

/* Put body into s as the output of an action made from seed, and its entry; fill e. */
void local_put(struct store *s, const void *body, size_t n, unsigned char seed,
               struct go_entry *e);

/* Start a server in this process on a free loopback port, answering with handler; sets url. */
struct MHD_Daemon *fake_server_start(MHD_AccessHandlerCallback handler);

/*
 * A /go server's answer to GET path, for fake servers: when path is
 * /go/<served_entry's action>, served_entry in its header and served_body
 * as the output (NULL: bytes without end), counted in served_gets; else NULL.
 */
extern const struct go_entry *served_entry;
extern const char *served_body;
extern atomic_int served_gets;
struct MHD_Response *served_output(const char *path);

/* Queue resp with status 200, or a miss when NULL, as a /go server answers; then release it. */
enum MHD_Result go_queue(struct MHD_Connection *c, struct MHD_Response *resp);

/* Ask r for action and return the reply. */
json_t *ask(struct remote *r, int64_t id, const unsigned char action[32]);

/* Ask r for e's action; the reply must be a hit with a DiskPath and e's size. */
void ask_hit(struct remote *r, int64_t id, const struct go_entry *e);

#endif
