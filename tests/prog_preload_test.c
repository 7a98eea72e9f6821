/*
 * prog_preload_test.c: the helper's preload against servers in the test's
 * own process: what a batch stream brings is kept only when right, a get
 * waits for a batch that keeps coming (nothing is fetched twice), a get
 * behind a batch that does not come asks for itself, and --preload-max
 * bounds the running total of what the preload asks for.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "wire/goentry.h"
#include "proghelper/local.h"
#include "proghelper/scope.h"
#include "proghelper/usedlist.h"
#include "tests/prog_remote_fixture.h"

TestSuite(prog_preload, .init = remote_fixture_setup, .fini = remote_fixture_teardown,
          .timeout = 60);

/*
 * A server for the preload: GET /ac/<any> is the list, POST /go/batch the
 * stream that batch_read gives (by default preload_stream, handed out 7
 * bytes at a time so that records and entry lines arrive split; the
 * batches' bodies are kept in batch_asked), GET /go/<id> served_output
 * (prog_remote_fixture.h) and else a miss from a /go server.
 */
static char preload_list[4096], preload_stream[4096];
static size_t preload_list_len, preload_stream_len;
static MHD_ContentReaderCallback batch_read;  /* NULL: preload_stream_read */
static char batch_asked[8192];                /* the bodies of the batches, one after another */
static size_t batch_asked_len;

static ssize_t preload_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	size_t n = preload_stream_len - (size_t)pos;

	(void)cls;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = n < 7 ? n : 7;
	n = n < max ? n : max;
	memcpy(buf, preload_stream + pos, n);
	return (ssize_t)n;
}

static enum MHD_Result preload_answer(void *cls, struct MHD_Connection *c, const char *path, const char *method,
                                      const char *version, const char *data, size_t *data_size, void **state)
{
	struct MHD_Response *resp;

	(void)cls, (void)version, (void)data;
	if (*state == NULL) {
		*state = c;  /* answer once the body, if any, is in */
		return MHD_YES;
	}
	if (*data_size > 0) {
		if (batch_asked_len + *data_size < sizeof batch_asked) {
			memcpy(batch_asked + batch_asked_len, data, *data_size);
			batch_asked_len += *data_size;
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0 && strcmp(path, "/go/batch") == 0) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64,
		                                         batch_read != NULL ? batch_read
		                                                            : preload_stream_read,
		                                         NULL, NULL);
	} else if (strcmp(method, "GET") == 0 && strncmp(path, "/ac/", 4) == 0) {
		resp = MHD_create_response_from_buffer(preload_list_len, preload_list,
		                                       MHD_RESPMEM_PERSISTENT);
	} else {
		resp = served_output(path);
	}
	return go_queue(c, resp);
}

/* Append an entry line for action seed with output body (n bytes) to buf at *len. */
static void preload_record(char *buf, size_t *len, unsigned char seed, const char *body, size_t n,
                           bool with_body, struct go_entry *e)
{
	entry_make(seed, body, n, e);
	go_entry_format(e, buf + *len);
	*len += GO_ENTRY_LEN;
	if (with_body) {
		memcpy(buf + *len, body, n);
		*len += n;
	}
}

/* Empty the list (its header only) and the stream. */
static void preload_start_list(void)
{
	memcpy(preload_list, WIRE_LIST_HEADER, WIRE_LIST_HEADER_LEN);
	preload_list_len = WIRE_LIST_HEADER_LEN;
	preload_stream_len = 0;
}

/*
 * Start preload_answer (into *d) and a client of it for a new store "b"
 * (into *b) that preloads the list under a key of key_byte, within max,
 * its gets waiting wait_ms for what it brings (0: the default).
 */
static struct remote *preload_client(unsigned char key_byte, uint64_t max, long wait_ms, struct MHD_Daemon **d,
                                     struct store **b)
{
	unsigned char key[STORE_HASH_LEN];
	struct remote_options o = { .preload_key = key, .preload_max = max,
	                            .preload_wait_ms = wait_ms };
	char *cause = NULL;
	struct remote *r;

	memset(key, key_byte, sizeof key);
	*d = fake_server_start(preload_answer);
	o.url = url;
	*b = store_named("b");
	r = remote_start(&o, *b, writer, &counters, &cause);
	cr_assert_not_null(r, "%s", cause);
	return r;
}

Test(prog_preload, the_preload_keeps_what_is_right_in_its_stream_and_nothing_else)
{
	static const char *const bodies[] = { "first output", "second", "third output", "" };
	struct go_entry e[4], dummy;
	char o3[STORE_ID_LEN + 1];
	struct MHD_Daemon *d;
	struct remote *r;
	struct store *b;
	json_t *j;

	/* The list names four actions; the stream skips the second (the server lacks it), */
	/* brings the third with bytes that are not its output, and the first and fourth right. */
	preload_start_list();
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(bodies[i]);
		preload_record(preload_list, &preload_list_len, (unsigned char)(0x60 + i), bodies[i], n,
		               false, &e[i]);
		if (i == 1)
			continue;
		preload_record(preload_stream, &preload_stream_len, (unsigned char)(0x60 + i),
		               bodies[i], n, true, &dummy);
		if (i == 2)
			preload_stream[preload_stream_len - 1] ^= 1;  /* one flipped bit */
	}
	r = preload_client(0x5c, 1 << 20, 0, &d, &b);
	/* Let the preload finish: the fourth (empty) output is the stream's last record. */
	store_hex(e[2].output, o3);
	for (int i = 0; i < 500 && local_get(b, e[3].action, &dummy) != LOCAL_OK; i++)
		usleep(10000);
	for (int i = 0; i < 4; i++) {
		j = ask(r, i + 1, e[i].action);
		if (i == 0 || i == 3) {
			cr_assert(json_is_string(json_object_get(j, "DiskPath")), "action %d: no hit", i);
			cr_assert_eq(json_integer_value(json_object_get(j, "Size")), e[i].size);
		} else {
			cr_assert(json_is_true(json_object_get(j, "Miss")), "action %d: not a miss", i);
		}
		json_decref(j);
	}
	remote_stop(r, 10000);
	cr_assert_eq(atomic_load(&counters.preload_hits), 2);
	cr_assert_eq(atomic_load(&counters.preload_bytes), strlen(bodies[0]) + strlen(bodies[3]));
	cr_assert_eq(store_stat(b, STORE_CAS, o3, NULL), STORE_NOT_FOUND,
	             "the damaged output was kept");
	MHD_stop_daemon(d);
	store_close(b);
}

/*
 * A batch that never ends, for preload_answer: the list names a huge output
 * and then a small one; the stream trickles the huge one (fast enough for
 * libcurl's low-speed limit), and GET /go/<small> answers the small one.
 */
static struct go_entry trickle_small;
static const char trickle_body[] = "the small output";
static atomic_bool trickle_streaming;

static ssize_t trickle_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	if (pos < preload_stream_len) {  /* the huge output's entry line */
		size_t n = preload_stream_len - (size_t)pos;
		n = n < max ? n : max;
		memcpy(buf, preload_stream + pos, n);
		return (ssize_t)n;
	}
	atomic_store(&trickle_streaming, true);
	usleep(2000);
	memset(buf, 'x', max < 16 ? max : 16);
	return max < 16 ? (ssize_t)max : 16;
}

Test(prog_preload, a_get_behind_a_slow_batch_asks_for_itself)
{
	char line[GO_ENTRY_LEN + 1];
	struct go_entry huge;
	struct MHD_Daemon *d;
	struct remote *r;
	struct store *b;

	/* The list: an 8 MB output that never finishes coming, then the small one (one batch). */
	memset(&huge, 0, sizeof huge);
	memset(huge.action, 0x70, STORE_HASH_LEN);
	memset(huge.output, 0x42, STORE_HASH_LEN);
	huge.size = 8 << 20;
	huge.time_ns = 1700000000000000000LL;
	go_entry_format(&huge, line);
	preload_start_list();
	memcpy(preload_list + preload_list_len, line, GO_ENTRY_LEN);
	preload_list_len += GO_ENTRY_LEN;
	memcpy(preload_stream, line, GO_ENTRY_LEN);  /* the stream: its entry line, then a trickle */
	preload_stream_len = GO_ENTRY_LEN;
	preload_record(preload_list, &preload_list_len, 0x71, trickle_body, strlen(trickle_body),
	               false, &trickle_small);
	batch_read = trickle_read;
	served_entry = &trickle_small;
	served_body = trickle_body;
	/* The stream never stalls: the get waits for it ten times 100 ms at most. */
	r = preload_client(0x5d, 1ull << 30, 100, &d, &b);
	for (int i = 0; i < 1000 && !atomic_load(&trickle_streaming); i++)
		usleep(10000);
	cr_assert(atomic_load(&trickle_streaming), "the batch never started");
	/* It waits for the batch, which never gets to it; then it asks for itself. */
	ask_hit(r, 1, &trickle_small);
	cr_assert_eq(atomic_load(&served_gets), 1, "it did not ask for itself once");
	remote_stop(r, 10000);
	cr_assert_eq(atomic_load(&counters.preload_hits), 0);
	MHD_stop_daemon(d);
	store_close(b);
}

/*
 * A batch that keeps coming, for preload_answer: a big output in pieces a
 * little apart (STEADY_BYTES in all), then the small one, steady_small.
 */
#define STEADY_BYTES (256 * 1024)
#define STEADY_PIECE 4096
static struct go_entry steady_big, steady_small;
static const char steady_body[] = "the output behind the big one";

static ssize_t steady_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	uint64_t small_at = GO_ENTRY_LEN + STEADY_BYTES, end = small_at + GO_ENTRY_LEN + strlen(steady_body);
	char line[GO_ENTRY_LEN + 1];
	size_t n;

	(void)cls;
	if (pos >= end)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (pos < GO_ENTRY_LEN || pos >= small_at) {  /* an entry line, or the small output */
		bool big = pos < GO_ENTRY_LEN;
		uint64_t at = big ? 0 : small_at;
		char rec[GO_ENTRY_LEN + sizeof steady_body];

		go_entry_format(big ? &steady_big : &steady_small, line);
		memcpy(rec, line, GO_ENTRY_LEN);
		memcpy(rec + GO_ENTRY_LEN, steady_body, strlen(steady_body));
		n = (size_t)((big ? GO_ENTRY_LEN : end - small_at) - (pos - at));
		n = n < max ? n : max;
		memcpy(buf, rec + (pos - at), n);
		return (ssize_t)n;
	}
	atomic_store(&trickle_streaming, true);
	usleep(10000);
	n = (size_t)(small_at - pos);
	n = n < STEADY_PIECE ? n : STEADY_PIECE;
	n = n < max ? n : max;
	memset(buf, 'b', n);
	return (ssize_t)n;
}

Test(prog_preload, a_get_waits_for_a_batch_that_keeps_coming_and_fetches_nothing_twice)
{
	static char big[STEADY_BYTES];
	struct MHD_Daemon *d;
	struct remote *r;
	struct store *b;

	/* The list: the big output (a quarter of a second on its way, at least), then the small one. */
	memset(big, 'b', sizeof big);
	preload_start_list();
	preload_record(preload_list, &preload_list_len, 0x73, big, sizeof big, false, &steady_big);
	preload_record(preload_list, &preload_list_len, 0x74, steady_body, strlen(steady_body), false,
	               &steady_small);
	batch_read = steady_read;
	served_entry = &steady_small;
	served_body = steady_body;
	/* Gets wait while the stream has not stalled for 100 ms: it never does. */
	r = preload_client(0x5b, 1ull << 30, 100, &d, &b);
	for (int i = 0; i < 1000 && !atomic_load(&trickle_streaming); i++)
		usleep(10000);
	cr_assert(atomic_load(&trickle_streaming), "the batch never started");
	ask_hit(r, 1, &steady_small);
	ask_hit(r, 2, &steady_big);
	remote_stop(r, 10000);
	cr_assert_eq(atomic_load(&served_gets), 0, "a get asked for itself what the batch brought");
	cr_assert_eq(atomic_load(&counters.preload_hits), 2);
	cr_assert_eq(atomic_load(&counters.preload_unused), 0);
	MHD_stop_daemon(d);
	store_close(b);
}

Test(prog_preload, a_record_over_the_budget_ends_its_batch_and_its_get_asks_for_itself)
{
	static const char grown_body[] = "an output grown since the list was made";
	struct go_entry listed, grown;
	struct MHD_Daemon *d;
	struct remote *r;
	struct store *b;

	/* The list names a 5-byte output; the server's entry names a larger one, past the budget. */
	preload_start_list();
	preload_record(preload_list, &preload_list_len, 0x72, "small", 5, false, &listed);
	preload_record(preload_stream, &preload_stream_len, 0x72, grown_body, strlen(grown_body), true,
	               &grown);
	served_entry = &grown;
	served_body = grown_body;
	/* Gets would wait for it longer than the test waits for a reply: it must not come to that. */
	r = preload_client(0x5e, 5, 120000, &d, &b);
	ask_hit(r, 1, &grown);
	cr_assert_eq(atomic_load(&served_gets), 1, "it did not ask for itself once");
	remote_stop(r, 10000);
	cr_assert_eq(atomic_load(&counters.remote_errors), 1, "the batch was not refused");
	cr_assert_eq(atomic_load(&counters.preload_hits), 0);
	cr_assert_eq(atomic_load(&counters.preload_bytes), 0, "the budget was overrun");
	MHD_stop_daemon(d);
	store_close(b);
}

/* True when the batches asked for e's action. */
static bool batch_asked_for(const struct go_entry *e)
{
	char hex[STORE_ID_LEN + 1];

	store_hex(e->action, hex);
	return memmem(batch_asked, batch_asked_len, hex, STORE_ID_LEN) != NULL;
}

Test(prog_preload, the_budget_is_a_running_total_of_what_is_asked)
{
	struct go_entry e[4];
	struct MHD_Daemon *d;
	struct remote *r;
	struct store *b;

	/* Within 25 bytes: 10 and 10 are asked; the next 10 is over what is left; 5 still fits. */
	preload_start_list();
	preload_record(preload_list, &preload_list_len, 0x81, "ten bytes!", 10, false, &e[0]);
	preload_record(preload_list, &preload_list_len, 0x82, "ten bytes?", 10, false, &e[1]);
	preload_record(preload_list, &preload_list_len, 0x83, "ten bytes.", 10, false, &e[2]);
	preload_record(preload_list, &preload_list_len, 0x84, "five!", 5, false, &e[3]);
	preload_record(preload_stream, &preload_stream_len, 0x81, "ten bytes!", 10, true, &e[0]);
	preload_record(preload_stream, &preload_stream_len, 0x82, "ten bytes?", 10, true, &e[1]);
	preload_record(preload_stream, &preload_stream_len, 0x84, "five!", 5, true, &e[3]);
	r = preload_client(0x5f, 25, 0, &d, &b);
	ask_hit(r, 1, &e[0]);
	ask_hit(r, 2, &e[1]);
	ask_hit(r, 3, &e[3]);
	remote_stop(r, 10000);
	cr_assert_eq(atomic_load(&counters.preload_hits), 3);
	cr_assert_eq(atomic_load(&counters.preload_bytes), 25);
	cr_assert(batch_asked_for(&e[0]) && batch_asked_for(&e[1]), "what fits was not asked for");
	cr_assert(batch_asked_for(&e[3]), "a small output after one over the budget was not asked for");
	cr_assert_not(batch_asked_for(&e[2]), "asked past the budget: %.*s", (int)batch_asked_len,
	              batch_asked);
	MHD_stop_daemon(d);
	store_close(b);
}

Test(prog_preload, a_list_left_at_another_checkout_path_is_told)
{
	char mine[GO_ENTRY_LEN], other[GO_ENTRY_LEN];
	struct go_entry e;
	struct MHD_Daemon *d;
	struct remote *r;
	struct store *b;

	scope_checkout_record(mine);
	cr_assert(memcmp(mine, WIRE_LIST_CHECKOUT, WIRE_LIST_CHECKOUT_LEN) == 0);
	memcpy(other, mine, sizeof other);
	other[WIRE_LIST_CHECKOUT_LEN] = other[WIRE_LIST_CHECKOUT_LEN] == '0' ? '1' : '0';

	preload_start_list();
	preload_record(preload_list, &preload_list_len, 0x91, "an output", 9, false, &e);
	memcpy(preload_list + preload_list_len, other, sizeof other);
	preload_list_len += sizeof other;
	preload_record(preload_stream, &preload_stream_len, 0x91, "an output", 9, true, &e);
	r = preload_client(0x6f, 1 << 20, 0, &d, &b);
	ask_hit(r, 1, &e);
	remote_stop(r, 10000);
	MHD_stop_daemon(d);
	store_close(b);
	cr_assert_eq(atomic_load(&counters.preload_hits), 1, "the record ends the list only");
	cr_assert_eq(atomic_load(&counters.preload_other_checkout), 1);

	/* The same path's record says nothing. */
	preload_start_list();
	preload_record(preload_list, &preload_list_len, 0x92, "another output", 14, false, &e);
	memcpy(preload_list + preload_list_len, mine, sizeof mine);
	preload_list_len += sizeof mine;
	preload_record(preload_stream, &preload_stream_len, 0x92, "another output", 14, true, &e);
	r = preload_client(0x6e, 1 << 20, 0, &d, &b);
	ask_hit(r, 2, &e);
	remote_stop(r, 10000);
	MHD_stop_daemon(d);
	store_close(b);
	cr_assert_eq(atomic_load(&counters.preload_hits), 2);
	cr_assert_eq(atomic_load(&counters.preload_other_checkout), 1, "not counted again");
}
