/*
 * gateway_linger_test.c: the lingering close (gateway/http/linger.c) on a
 * socket pair: a client that keeps sending is cut off after 32 MiB, one
 * that falls silent is closed, and one that trickles forever is closed in
 * the end.
 *
 * linger.c is compiled into this test with its two time bounds read from
 * variables, so a test can shorten one and make the other long: a socket
 * can then only be closed by the bound under test. Its byte bound stays
 * the header's, and the header's time bounds are checked against the
 * README's numbers.
 */
#include "gateway/http/linger.h"

static const int readme_idle_seconds = LINGER_IDLE_SECONDS;
static const int readme_total_seconds = LINGER_TOTAL_SECONDS;
static int idle_seconds = LINGER_IDLE_SECONDS;
static int total_seconds = LINGER_TOTAL_SECONDS;
#undef LINGER_IDLE_SECONDS
#undef LINGER_TOTAL_SECONDS
#define LINGER_IDLE_SECONDS idle_seconds
#define LINGER_TOTAL_SECONDS total_seconds
#include "gateway/http/linger.c"

#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>

#define MIB (1024 * 1024)

static struct linger_pool *pool;
static int client = -1;  /* the client's end; the server's end is lingering */

/*
 * Start the pool with these time bounds and hand it the server's end of a
 * fresh socket pair.
 */
static void start(int idle, int total)
{
	char *cause;
	int sv[2];

	idle_seconds = idle;
	total_seconds = total;
	signal(SIGPIPE, SIG_IGN);
	pool = linger_start(&cause);
	cr_assert_not_null(pool, "%s", cause);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	client = sv[0];
	linger_add(pool, sv[1]);
	close(sv[1]);  /* as libmicrohttpd closes its own copy */
}

static void teardown(void)
{
	linger_stop(pool);
	if (client >= 0)
		close(client);
}

TestSuite(gateway_linger, .fini = teardown, .timeout = 60);

/*
 * True once the lingering end is closed within ms: the client's end hangs
 * up (the server's sending side was shut down at once, so only a close of
 * its receiving side too makes a hangup).
 */
static bool closed_within(int ms)
{
	struct pollfd p = {.fd = client, .events = 0};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLHUP);
}

/* Send n bytes as long as the peer takes them; returns how many it took. */
static size_t send_until_cut(size_t n)
{
	static char chunk[64 * 1024];
	size_t sent = 0;

	while (sent < n) {
		ssize_t k = send(client, chunk, sizeof chunk, 0);
		if (k < 0)
			break;
		sent += (size_t)k;
	}
	return sent;
}

Test(gateway_linger, the_bounds_are_the_readmes)
{
	cr_assert_eq(LINGER_MAX_BYTES, 32 * MIB);
	cr_assert_eq(readme_idle_seconds, 5);
	cr_assert_eq(readme_total_seconds, 30);
}

Test(gateway_linger, a_client_that_keeps_sending_is_cut_off_after_32_MiB)
{
	start(readme_idle_seconds, readme_total_seconds);
	/* A socket pair buffers a few hundred KiB at most, so what was sent is what was drained. */
	size_t sent = send_until_cut(64 * MIB);

	cr_assert(errno == EPIPE || errno == ECONNRESET, "not cut off: %s", strerror(errno));
	cr_assert_geq(sent, 32 * MIB, "cut off after only %zu bytes", sent);
	cr_assert_leq(sent, 33 * MIB, "still draining after %zu bytes", sent);
}

Test(gateway_linger, a_silent_client_is_closed)
{
	/* Time bounds of the test's own: only the idle bound can close it. */
	start(1, 3600);
	cr_assert(closed_within(30000), "a silent client was not closed");
}

Test(gateway_linger, a_client_that_trickles_forever_is_closed_in_the_end)
{
	start(3600, 1);
	/* A byte every 20 ms: never idle, never near the byte bound; cut off only by the total bound. */
	for (int i = 0; i < 1500; i++) {
		if (send(client, "x", 1, 0) < 0) {
			cr_assert(errno == EPIPE || errno == ECONNRESET, "%s", strerror(errno));
			return;
		}
		usleep(20000);
	}
	cr_assert_fail("still lingering after 30 s of trickle");
}
