/*
 * prog_fetch_test.c: what a get does with the answers of a server in the
 * test's own process: a plain /ac + /cas one (an older cachegate, a Bazel
 * cache) is read with two requests a hit; wrong bytes are refused; an
 * output the store has already is not written again; an answer at odds
 * with its own entry is refused.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "proghelper/local.h"
#include "tests/prog_remote_fixture.h"

TestSuite(prog_fetch, .init = remote_fixture_setup, .fini = remote_fixture_teardown,
          .timeout = 60);

/*
 * A plain /ac + /cas server, as an older cachegate or any Bazel HTTP cache
 * is: GET of the objects in plain_store, 404 for anything else, no /go.
 */
static struct store *plain_store;
static atomic_int plain_requests;

static enum MHD_Result plain_answer(void *cls, struct MHD_Connection *c, const char *path, const char *method,
                                    const char *version, const char *data, size_t *data_size, void **state)
{
	struct store_object obj;
	struct MHD_Response *resp;
	enum store_kind kind = strncmp(path, "/ac/", 4) == 0 ? STORE_AC : STORE_CAS;
	const char *id = strrchr(path, '/') + 1;
	enum MHD_Result ret;

	(void)cls, (void)version, (void)data, (void)data_size, (void)state;
	atomic_fetch_add(&plain_requests, 1);
	if (strcmp(method, "GET") == 0 &&
	    (strncmp(path, "/ac/", 4) == 0 || strncmp(path, "/cas/", 5) == 0) &&
	    store_get(plain_store, kind, id, -1, &obj) == STORE_OK) {
		resp = MHD_create_response_from_fd64(obj.size, obj.fd);
		ret = MHD_queue_response(c, 200, resp);
	} else {
		resp = MHD_create_response_from_buffer(10, "not found", MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(c, 404, resp);
	}
	MHD_destroy_response(resp);
	return ret;
}

Test(prog_fetch, a_server_without_go_paths_is_read_through_ac_and_cas)
{
	struct MHD_Daemon *d;
	struct store *b;
	struct remote *r;
	struct go_entry e[3];
	json_t *j;

	plain_store = store_named("plain");
	local_put(plain_store, "first output", 12, 1, &e[0]);
	local_put(plain_store, "", 0, 2, &e[1]);
	local_put(plain_store, "third output", 12, 3, &e[2]);
	atomic_store(&plain_requests, 0);
	d = fake_server_start(plain_answer);

	b = store_named("b");
	r = client(b, NULL, false);
	/* The first get learns the server has no /go: GET /go (404), then /ac and /cas. */
	ask_hit(r, 1, &e[0]);
	cr_assert_eq(atomic_load(&plain_requests), 3);
	/* From then on two requests per hit, one for an empty output. */
	j = ask(r, 2, e[1].action);
	cr_assert_eq(json_integer_value(json_object_get(j, "Size")), 0);
	json_decref(j);
	j = ask(r, 3, e[2].action);
	cr_assert_eq(json_integer_value(json_object_get(j, "Size")), 12);
	json_decref(j);
	remote_stop(r, 10000);
	cr_assert_eq(atomic_load(&plain_requests), 3 + 1 + 2);
	cr_assert_eq(atomic_load(&counters.remote_hits), 3);
	cr_assert_eq(atomic_load(&counters.remote_errors), 0);
	MHD_stop_daemon(d);
	store_close(plain_store);
	store_close(b);
}

Test(prog_fetch, an_output_with_the_wrong_bytes_is_refused)
{
	struct MHD_Daemon *d;
	struct store *s;
	struct remote *r;
	struct go_entry e;
	char path[512], hex[STORE_ID_LEN + 1], ahex[STORE_ID_LEN + 1], line[GO_ENTRY_LEN + 1];
	FILE *f;
	json_t *j;

	entry_make(0x12, "right", 5, &e);
	go_entry_format(&e, line);
	store_hex(e.output, hex);
	store_hex(e.action, ahex);
	/*
	 * cachegate itself never serves a damaged object, so the bad copy is
	 * planted in a plain server's store, which serves whatever it holds.
	 */
	plain_store = store_named("plain");
	cr_assert_eq(store_put_bytes(plain_store, STORE_AC, ahex, line, GO_ENTRY_LEN), STORE_OK);
	store_object_path(plain_store, STORE_CAS, hex, path, sizeof path);
	*strrchr(path, '/') = '\0';
	mkdir(path, 0755);
	store_object_path(plain_store, STORE_CAS, hex, path, sizeof path);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("wrong", f);
	fclose(f);
	d = fake_server_start(plain_answer);

	s = store_named("s");
	r = client(s, NULL, false);
	j = ask(r, 1, e.action);
	cr_assert(json_is_true(json_object_get(j, "Miss")));
	json_decref(j);
	remote_stop(r, 1000);
	cr_assert_geq(atomic_load(&counters.remote_errors), 1);
	cr_assert_eq(store_stat(s, STORE_CAS, hex, NULL), STORE_NOT_FOUND, "nothing bad is kept");
	MHD_stop_daemon(d);
	store_close(plain_store);
	store_close(s);
}

/* Fill e for action seed with output body, and put that output (not the entry) into s. */
static void output_only(struct store *s, unsigned char seed, const char *body, struct go_entry *e)
{
	char hex[STORE_ID_LEN + 1];

	entry_make(seed, body, strlen(body), e);
	store_hex(e->output, hex);
	cr_assert_eq(store_put_bytes(s, STORE_CAS, hex, body, strlen(body)), STORE_OK);
}

/* A /go server with one answer (served_output), and misses. */
static enum MHD_Result go_answer(void *cls, struct MHD_Connection *c, const char *path, const char *method,
                                 const char *version, const char *data, size_t *data_size, void **state)
{
	(void)cls, (void)method, (void)version, (void)data, (void)data_size, (void)state;
	return go_queue(c, served_output(path));
}

Test(prog_fetch, an_output_already_here_is_not_written_again)
{
	struct MHD_Daemon *d;
	struct store *s;
	struct remote *r;
	struct go_entry e, recorded;
	char hex[STORE_ID_LEN + 1], path[4096], got[8] = "";
	FILE *f;
	json_t *j;

	/* The store has the output (from another action); the server sends other bytes for it. */
	s = store_named("s");
	output_only(s, 0x31, "right", &e);
	store_hex(e.output, hex);
	served_entry = &e;
	served_body = "wrong";
	d = fake_server_start(go_answer);

	r = client(s, NULL, false);
	j = ask(r, 1, e.action);
	cr_assert_eq(store_object_path(s, STORE_CAS, hex, path, sizeof path), STORE_OK);
	cr_assert_str_eq(json_string_value(json_object_get(j, "DiskPath")), path,
	                 "the entry is taken, with the output already here");
	json_decref(j);
	remote_stop(r, 1000);
	cr_assert_eq(atomic_load(&served_gets), 1);
	cr_assert_eq(atomic_load(&counters.remote_errors), 0, "the bytes sent were not even looked at");
	cr_assert_eq(local_get(s, e.action, &recorded), LOCAL_OK, "the entry was not recorded");
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fread(got, 1, sizeof got - 1, f), 5);
	fclose(f);
	cr_assert_str_eq(got, "right");
	MHD_stop_daemon(d);
	store_close(s);
}

Test(prog_fetch, a_go_answer_longer_than_its_entry_is_refused)
{
	struct MHD_Daemon *d;
	struct store *s;
	struct remote *r;
	struct go_entry here, empty, got;
	json_t *j;

	/* An output the store has, and the empty one: each answered with more bytes than it has. */
	s = store_named("s");
	output_only(s, 0x32, "right", &here);
	entry_make(0x33, "", 0, &empty);
	d = fake_server_start(go_answer);
	r = client(s, NULL, false);
	served_entry = &here;
	served_body = "right, and then some";
	j = ask(r, 1, here.action);
	cr_assert(json_is_true(json_object_get(j, "Miss")), "an answer at odds with its entry was taken");
	json_decref(j);
	/* Without end: a limit missed would leave the get unanswered. */
	served_entry = &empty;
	served_body = NULL;
	j = ask(r, 2, empty.action);
	cr_assert(json_is_true(json_object_get(j, "Miss")), "bytes for an empty output were taken");
	json_decref(j);
	remote_stop(r, 1000);
	cr_assert_eq(atomic_load(&served_gets), 2);
	cr_assert_eq(atomic_load(&counters.remote_errors), 2);
	cr_assert_eq(local_get(s, here.action, &got), LOCAL_MISS, "no entry was recorded");
	MHD_stop_daemon(d);
	store_close(s);
}
