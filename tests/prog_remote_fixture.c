/*
 * prog_remote_fixture.c: what the tests of the helper's remote client share
 * (prog_remote_fixture.h).
 */
#include "tests/prog_remote_fixture.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "proghelper/local.h"
#include "tests/tmpdir.h"

char *dir;
char url[64];
struct reply *writer;
struct stats counters;
const struct go_entry *served_entry;
const char *served_body;
atomic_int served_gets;
static pid_t gateway = -1;
#define GATEWAY_START_POLLS 3000  /* of 20 ms: 60 s */
static int replies[2] = { -1, -1 };  /* what the client answers, as the go command reads it */

/* Start cachegate on a free loopback port over <dir>/gw, with extra arguments. */
void gateway_start(const char *const *extra)
{
	const char *bin = getenv("CACHEGATE");
	char portfile[512], store[512], log[512], port[16] = "";
	const char *argv[16];
	int n = 0;

	cr_assert_not_null(bin, "CACHEGATE must name the built cachegate");
	snprintf(portfile, sizeof portfile, "%s/port", dir);
	snprintf(store, sizeof store, "%s/gw", dir);
	snprintf(log, sizeof log, "%s/gw.log", dir);
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	argv[n++] = "--dir";
	argv[n++] = store;
	while (extra != NULL && *extra != NULL)
		argv[n++] = *extra++;
	argv[n] = NULL;
	gateway = fork();
	cr_assert_neq(gateway, -1);
	if (gateway == 0) {
		FILE *f = freopen(log, "w", stderr);
		(void)f;
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	/* A generous bound: an ASan build on a loaded machine may take long to start. */
	for (int i = 0; i < GATEWAY_START_POLLS && port[0] == '\0'; i++) {
		FILE *f = fopen(portfile, "r");
		if (f != NULL) {
			if (fgets(port, sizeof port, f) == NULL)
				port[0] = '\0';
			fclose(f);
		}
		cr_assert_eq(waitpid(gateway, NULL, WNOHANG), 0, "the gateway exited (see %s)", log);
		if (port[0] == '\0')
			usleep(20000);
	}
	cr_assert_neq(port[0], '\0', "the gateway did not start within 60 s (see %s)", log);
	port[strcspn(port, "\r\n")] = '\0';
	snprintf(url, sizeof url, "http://127.0.0.1:%s", port);
}

void remote_fixture_setup(void)
{
	dir = tmpdir_make("cg-prog-remote");
	cr_assert_not_null(dir);
	cr_assert_eq(pipe(replies), 0);
	writer = reply_open(replies[1]);
	memset(&counters, 0, sizeof counters);
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void remote_fixture_teardown(void)
{
	if (gateway > 0) {
		kill(gateway, SIGTERM);
		waitpid(gateway, NULL, 0);
		gateway = -1;
	}
	reply_free(writer);
	close(replies[0]);
	close(replies[1]);
	curl_global_cleanup();
	tmpdir_remove(dir);
}

/* Open (creating) the local store <dir>/<name>. */
struct store *store_named(const char *name)
{
	char path[512], *cause = NULL;
	struct store *s;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	s = store_open(path, NULL, &cause);
	cr_assert_not_null(s, "%s", cause);
	return s;
}

/* A client of the gateway for store s. */
struct remote *client(struct store *s, const char *token, bool read_only)
{
	struct remote_options o = { .url = url, .token = token,
	                            .token_source = "the token from the test", .read_only = read_only };
	char *cause = NULL;
	struct remote *r = remote_start(&o, s, writer, &counters, &cause);

	cr_assert_not_null(r, "%s", cause);
	return r;
}

/* The next reply line, parsed (the caller decrefs). */
json_t *next_reply(void)
{
	static char buf[8192];
	static size_t have;
	json_error_t jerr;
	char *nl;
	json_t *j;

	while ((nl = memchr(buf, '\n', have)) == NULL) {
		struct pollfd p = { .fd = replies[0], .events = POLLIN };
		ssize_t n;
		cr_assert_eq(poll(&p, 1, 30000), 1, "no reply within 30 s");
		n = read(replies[0], buf + have, sizeof buf - have);
		cr_assert_gt(n, 0);
		have += (size_t)n;
	}
	j = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	cr_assert_not_null(j, "reply is not JSON: %.*s", (int)(nl - buf), buf);
	have -= (size_t)(nl + 1 - buf);
	memmove(buf, nl + 1, have);
	return j;
}

/* Put body into s as the output of an action made from seed; fill e. */
void entry_make(unsigned char seed, const void *body, size_t n, struct go_entry *e)
{
	memset(e->action, seed, STORE_HASH_LEN);
	EVP_Digest(body, n, e->output, NULL, EVP_sha256(), NULL);
	e->size = (int64_t)n;
	e->time_ns = 1700000000000000000LL + seed;
}

void local_put(struct store *s, const void *body, size_t n, unsigned char seed, struct go_entry *e)
{
	char hex[STORE_ID_LEN + 1];

	entry_make(seed, body, n, e);
	store_hex(e->output, hex);
	cr_assert_eq(store_put_bytes(s, STORE_CAS, hex, body, n), STORE_OK);
	cr_assert_eq(local_record(s, e), LOCAL_OK);
}

/* Start a server in this process on a free loopback port, answering with handler; sets url. */
struct MHD_Daemon *fake_server_start(MHD_AccessHandlerCallback handler)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
	                     MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	cr_assert_not_null(d);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(url, sizeof url, "http://127.0.0.1:%u", info->port);
	return d;
}

/* A body that never ends. */
static ssize_t served_endless(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls, (void)pos;
	memset(buf, 'x', max);
	return (ssize_t)max;
}

struct MHD_Response *served_output(const char *path)
{
	char want[sizeof "/go/" + STORE_ID_LEN], line[GO_ENTRY_LEN + 1];
	struct MHD_Response *resp;

	if (served_entry == NULL)
		return NULL;
	memcpy(want, "/go/", 4);
	store_hex(served_entry->action, want + 4);
	if (strcmp(path, want) != 0)
		return NULL;
	atomic_fetch_add(&served_gets, 1);
	if (served_body != NULL)
		resp = MHD_create_response_from_buffer(strlen(served_body), (void *)served_body,
		                                       MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, served_endless, NULL,
		                                         NULL);
	go_entry_format(served_entry, line);
	line[GO_ENTRY_LEN - 1] = '\0';  /* the header value: the line without its newline */
	MHD_add_response_header(resp, "Cachegate-Entry", line);
	return resp;
}

enum MHD_Result go_queue(struct MHD_Connection *c, struct MHD_Response *resp)
{
	unsigned status = 200;
	enum MHD_Result ret;

	if (resp == NULL) {
		resp = MHD_create_response_from_buffer(10, "not found", MHD_RESPMEM_PERSISTENT);
		status = 404;
	}
	MHD_add_response_header(resp, "Cachegate-Go", "1");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Ask r for action and return the reply. */
json_t *ask(struct remote *r, int64_t id, const unsigned char action[32])
{
	json_t *j;

	cr_assert_eq(remote_get(r, id, action), REMOTE_QUEUED);
	j = next_reply();
	cr_assert_eq(json_integer_value(json_object_get(j, "ID")), id);
	return j;
}

void ask_hit(struct remote *r, int64_t id, const struct go_entry *e)
{
	json_t *j = ask(r, id, e->action);

	cr_assert(json_is_string(json_object_get(j, "DiskPath")), "not a hit");
	cr_assert_eq(json_integer_value(json_object_get(j, "Size")), e->size);
	json_decref(j);
}

