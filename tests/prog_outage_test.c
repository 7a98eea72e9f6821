/*
 * prog_outage_test.c: the helper's remote client against a remote that
 * fails: one answering 500 and 503, one that accepts and never answers,
 * one that stops in the middle of a body, one that refuses connections.
 * Each get is answered as a miss, uploads give up without touching the
 * local store, the warning is printed once, and after three failures in a
 * row the remote is left alone: no more requests reach it.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/prog_remote_fixture.h"

static char errpath[512];
static int saved_stderr = -1;

/* The remote fixture, and this process's stderr into a file the test reads. */
static void setup(void)
{
	int fd;

	remote_fixture_setup();
	snprintf(errpath, sizeof errpath, "%s/stderr", dir);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	saved_stderr = dup(2);
	cr_assert_eq(dup2(fd, 2), 2);
	close(fd);
}

static void teardown(void)
{
	dup2(saved_stderr, 2);
	close(saved_stderr);
	remote_fixture_teardown();
}

/* Generous: a stalled request is given up after 10 s of no progress. */
TestSuite(prog_outage, .init = setup, .fini = teardown, .timeout = 120);

/* Lines the helper printed on stderr. */
static int warnings(void)
{
	char line[2048];
	FILE *f = fopen(errpath, "r");
	int n = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f) != NULL)
		n += strncmp(line, "cachegate-prog: ", 16) == 0;
	fclose(f);
	return n;
}

static atomic_int requests;  /* requests that reached the server under test */

/* A server in trouble: 500 for /go, 503 for anything else. */
static enum MHD_Result failing_answer(void *cls, struct MHD_Connection *c, const char *path, const char *method,
                                      const char *version, const char *data, size_t *data_size, void **state)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls, (void)method, (void)version, (void)data, (void)data_size;
	if (*state == NULL) {
		/* Called first for the head alone: count the request once, answer when it is whole. */
		*state = c;
		atomic_fetch_add(&requests, 1);
		return MHD_YES;
	}
	if (*data_size > 0) {
		*data_size = 0;  /* an upload's body: dropped */
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(11, "unavailable", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, strncmp(path, "/go/", 4) == 0 ? 500 : 503, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * The remote at url fails each request: three gets in a row are misses,
 * after which gets and uploads are not even tried, nothing more reaches
 * the server, and one warning line was printed. A put made locally stays.
 */
static void gets_fail_then_remote_is_left_alone(void)
{
	struct store *s = store_named("s");
	struct remote *r = client(s, NULL, false);
	unsigned char action[3][32];
	struct go_entry e, got;
	int reached;
	json_t *j;

	/* Three gets at once, each a failure of the remote. */
	for (int i = 0; i < 3; i++) {
		memset(action[i], 0x40 + i, sizeof action[i]);
		cr_assert_eq(remote_get(r, i + 1, action[i]), REMOTE_QUEUED);
	}
	for (int i = 0; i < 3; i++) {
		j = next_reply();
		cr_assert(json_is_true(json_object_get(j, "Miss")), "a failed get was not a miss");
		json_decref(j);
	}
	reached = atomic_load(&requests);
	cr_assert_eq(remote_get(r, 4, action[0]), REMOTE_OFF, "the remote is still asked");
	local_put(s, "made here", 9, 0x50, &e);
	cr_assert_eq(remote_upload(r, &e), REMOTE_OFF, "the remote is still written to");
	remote_stop(r, 1000);
	cr_assert_eq(atomic_load(&requests), reached, "requests reached the remote after it was left");
	cr_assert_eq(atomic_load(&counters.remote_errors), 3);
	cr_assert_eq(atomic_load(&counters.remote_hits), 0);
	cr_assert_eq(warnings(), 1, "not one warning line");
	cr_assert_eq(local_get(s, e.action, &got), LOCAL_OK, "the local put was lost");
	store_close(s);
}

Test(prog_outage, a_remote_answering_500_and_503_is_a_miss_then_left_alone)
{
	struct MHD_Daemon *d = fake_server_start(failing_answer);

	gets_fail_then_remote_is_left_alone();
	cr_assert_geq(atomic_load(&requests), 3);
	MHD_stop_daemon(d);
}

Test(prog_outage, uploads_to_a_remote_answering_503_are_dropped_with_one_warning)
{
	struct MHD_Daemon *d = fake_server_start(failing_answer);
	struct store *s = store_named("s");
	struct remote *r = client(s, "t0ken", false);
	struct go_entry e[4], got;
	uint64_t queued = 0;

	for (int i = 0; i < 4; i++) {
		char body[32];
		int n = snprintf(body, sizeof body, "output %d", i);
		enum remote_result res;
		local_put(s, body, (size_t)n, (unsigned char)(0x60 + i), &e[i]);
		res = remote_upload(r, &e[i]);
		cr_assert_neq(res, REMOTE_DROPPED);
		queued += res == REMOTE_QUEUED;
	}
	/* The last may find the remote off already: three failures are needed for that. */
	cr_assert_geq(queued, 3);
	remote_stop(r, 30000);
	cr_assert_eq(atomic_load(&counters.uploads), 0);
	cr_assert_eq(atomic_load(&counters.uploads_dropped), queued, "uploads not given up: %ju of %ju",
	             (uintmax_t)atomic_load(&counters.uploads_dropped), (uintmax_t)queued);
	cr_assert_eq(warnings(), 1, "not one warning line");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(local_get(s, e[i].action, &got), LOCAL_OK, "a local put was lost");
	store_close(s);
	MHD_stop_daemon(d);
}

/*
 * A server that accepts connections and then stalls: it never answers, or
 * (when mid_body) sends a /go answer's head and the first bytes of a body
 * it never finishes. Runs on its own thread until stall_stop.
 */
struct stall {
	int listen_fd, stop[2];
	bool mid_body;
	pthread_t thread;
	int held[16];
	int nheld;
};

/*
 * Answer the GET /go/<action> on fd with the head of a hit whose output
 * has 100000 bytes, and the first 11 of them.
 */
static void answer_in_part(int fd)
{
	char req[4096], line[GO_ENTRY_LEN + 1], head[512];
	struct go_entry e = { .size = 100000, .time_ns = 1700000000000000000LL };
	ssize_t n = recv(fd, req, sizeof req - 1, 0);

	if (n < 4 + 64 + 4 || strncmp(req, "GET /go/", 8) != 0 || !store_unhex(req + 8, e.action))
		return;  /* not a get: the request fails without an answer */
	memset(e.output, 0x77, sizeof e.output);
	go_entry_format(&e, line);
	line[GO_ENTRY_LEN - 1] = '\0';
	n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nCachegate-Go: 1\r\n"
	             "Cachegate-Entry: %s\r\nContent-Length: 100000\r\n\r\nfirst bytes", line);
	(void)send(fd, head, (size_t)n, MSG_NOSIGNAL);
}

/* Accept and hold connections; answer each with a broken-off body when mid_body. */
static void *stall_main(void *arg)
{
	struct stall *st = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = st->listen_fd, .events = POLLIN },
		                       { .fd = st->stop[0], .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0 || p[1].revents != 0)
			break;
		fd = accept(st->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		atomic_fetch_add(&requests, 1);
		if (st->mid_body)
			answer_in_part(fd);
		if (st->nheld < 16)
			st->held[st->nheld++] = fd;
		else
			close(fd);
	}
	return NULL;
}

/* Start a stalling server on a free loopback port; sets url. */
static void stall_start(struct stall *st, bool mid_body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;

	memset(st, 0, sizeof *st);
	st->mid_body = mid_body;
	st->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(st->listen_fd, 0);
	cr_assert_eq(bind(st->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
	cr_assert_eq(listen(st->listen_fd, 16), 0);
	cr_assert_eq(getsockname(st->listen_fd, (struct sockaddr *)&sa, &len), 0);
	cr_assert_eq(pipe(st->stop), 0);
	cr_assert_eq(pthread_create(&st->thread, NULL, stall_main, st), 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(sa.sin_port));
}

static void stall_stop(struct stall *st)
{
	cr_assert_eq(write(st->stop[1], "x", 1), 1);
	pthread_join(st->thread, NULL);
	for (int i = 0; i < st->nheld; i++)
		close(st->held[i]);
	close(st->listen_fd);
	close(st->stop[0]);
	close(st->stop[1]);
}

Test(prog_outage, a_remote_that_never_answers_is_a_miss_then_left_alone)
{
	struct stall st;

	stall_start(&st, false);
	gets_fail_then_remote_is_left_alone();
	stall_stop(&st);
}

Test(prog_outage, a_remote_that_stops_mid_body_is_a_miss_then_left_alone)
{
	struct stall st;

	stall_start(&st, true);
	gets_fail_then_remote_is_left_alone();
	stall_stop(&st);
}

Test(prog_outage, a_remote_that_refuses_connections_is_a_miss_then_left_alone)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port that was free a moment ago: connections are refused. */
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(sa.sin_port));
	gets_fail_then_remote_is_left_alone();
}
