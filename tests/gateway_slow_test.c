/*
 * gateway_slow_test.c: slow clients are bounded. A request head that never
 * arrives whole is cut at --header-timeout however it trickles, an idle
 * keep-alive connection too, and with default flags a thousand trickling
 * connections keep a normal client out for no longer than that. A request
 * is cut at --request-timeout, a body slower than --min-body-rate after its
 * window, and connections beyond --max-connections are answered 503.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_slow, .fini = teardown, .timeout = 120);

/* Seconds on the monotonic clock. */
static double now(void)
{
	return (double)clock_us() / 1e6;
}

/* True once the server has closed fd (reads end or fail). */
static bool closed_by_server(int fd)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

Test(gateway_slow, a_trickling_head_is_cut_at_the_header_timeout)
{
	static const char *const flags[] = {"--header-timeout", "2", NULL};
	const char *head = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	double start, took = -1;
	int fd;

	gw_start(&g, flags, NULL);
	fd = gw_connect(&g);
	start = now();
	/* A byte every 200 ms: never silent, so the idle timeout never fires. */
	for (size_t i = 0; i < strlen(head) && took < 0; i++) {
		if (!gw_send_all(fd, head + i, 1) || closed_by_server(fd))
			took = now() - start;
		else
			usleep(200 * 1000);
	}
	close(fd);
	cr_assert_geq(took, 1.5, "cut before the header timeout (%.1f s)", took);
	cr_assert_leq(took, 4.5, "not cut at the header timeout (%.1f s)", took);
	/* A whole request is served as ever. */
	cr_assert_eq(gw_http(&g, "GET", "/healthz", NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_slow, an_idle_keep_alive_connection_is_closed_at_the_header_timeout)
{
	static const char *const flags[] = {"--header-timeout", "2", NULL};
	char resp[4096];
	double start;
	int fd;

	gw_start(&g, flags, NULL);
	fd = gw_connect(&g);
	cr_assert(gw_send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 34));
	gw_read_response(fd, resp, sizeof(resp), 5000);
	cr_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0, "got: %s", resp);
	start = now();
	while (!closed_by_server(fd) && now() - start < 10)
		usleep(100 * 1000);
	cr_assert_leq(now() - start, 4.5, "the idle connection was kept");
	close(fd);
	cr_assert_eq(gw_stop(&g), 0);
}

#define TRICKLERS 1000

Test(gateway_slow, a_thousand_tricklers_keep_a_client_out_for_the_header_timeout_at_most)
{
	static int fds[TRICKLERS];
	double start, served = -1;
	int opened = 0;

	gw_start(&g, NULL, NULL);  /* default flags */
	start = now();
	for (int i = 0; i < TRICKLERS; i++) {
		fds[i] = gw_connect(&g);
		opened++;
		gw_send_all(fds[i], "GET /healthz HTTP/1.1\r\nX-A: ", 28);
	}
	/* Every trickler sends a byte every 5 s; the client asks every second. */
	for (int tick = 0; tick < 50 && served < 0; tick++) {
		if (tick % 5 == 0)
			for (int i = 0; i < opened; i++)
				gw_send_all(fds[i], "a", 1);
		if (gw_http(&g, "GET", "/healthz", NULL, 0, NULL, NULL) == 200)
			served = now() - start;
		else
			sleep(1);
	}
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	cr_assert_geq(served, 0, "the client was never served");
	cr_assert_leq(served, 40, "the client waited %.1f s", served);
	cr_assert_eq(gw_stop(&g), 0);
}

/* True when a request on fd is answered 200. */
static bool answered(int fd)
{
	char resp[4096];

	if (!gw_send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 34))
		return false;
	gw_read_response(fd, resp, sizeof(resp), 5000);
	return strncmp(resp, "HTTP/1.1 200", 12) == 0;
}

Test(gateway_slow, one_address_holds_no_more_than_its_connection_limit)
{
	static const char *const flags[] = {"--max-connections-per-ip", "3", NULL};
	int held[3], extra;
	char buf[64];
	ssize_t n;

	gw_start(&g, flags, NULL);
	for (int i = 0; i < 3; i++) {
		held[i] = gw_connect(&g);
		cr_assert(answered(held[i]), "connection %d", i);
	}
	/* The fourth is closed at once, unanswered. */
	extra = gw_connect(&g);
	(void)gw_send_all(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 34);
	n = recv(extra, buf, sizeof(buf), 0);
	cr_assert_leq(n, 0, "a connection past the limit was served");
	close(extra);
	/* Those held are served as ever, and a freed place is taken again. */
	cr_assert(answered(held[0]));
	close(held[2]);
	usleep(200 * 1000);
	extra = gw_connect(&g);
	cr_assert(answered(extra), "the freed place was not given again");
	close(extra);
	for (int i = 0; i < 2; i++)
		close(held[i]);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_slow, a_body_slower_than_the_minimum_rate_is_cut_after_its_window)
{
	enum { SIZE = 200000 };
	char head[256], resp[4096], id[65];
	static char body[SIZE];
	int slow, steady;
	size_t sent_slow = 0, sent_steady = 0;
	double start, cut = -1;

	for (size_t i = 0; i < SIZE; i++)
		body[i] = (char)(i * 31 + 7);
	gw_sha256_hex(body, SIZE, id);
	gw_start(&g, NULL, NULL);  /* default --min-body-rate: 1K per second */
	snprintf(head, sizeof(head), "PUT /cas/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",
	         id, SIZE);
	slow = gw_connect(&g);
	steady = gw_connect(&g);
	cr_assert(gw_send_all(slow, head, strlen(head)));
	cr_assert(gw_send_all(steady, head, strlen(head)));
	start = now();
	/* 100 bytes a second against 4 KiB a second, for 14 s. */
	while (now() - start < 14) {
		if (cut < 0 && (!gw_send_all(slow, body + sent_slow, 50) || closed_by_server(slow)))
			cut = now() - start;
		sent_slow += 50;
		cr_assert(gw_send_all(steady, body + sent_steady, 2048), "the steady upload was cut");
		sent_steady += 2048;
		usleep(500 * 1000);
	}
	cr_assert_geq(cut, 9, "cut before its window was over (%.1f s)", cut);
	cr_assert_leq(cut, 13, "a body at 100 bytes per second was not cut (%.1f s)", cut);
	close(slow);
	/* The steady one finishes and is stored. */
	cr_assert(gw_send_all(steady, body + sent_steady, SIZE - sent_steady));
	gw_read_response(steady, resp, sizeof(resp), 10000);
	cr_assert(strncmp(resp, "HTTP/1.1 201", 12) == 0, "got: %s", resp);
	close(steady);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_slow, slow_request_is_cut_at_the_deadline)
{
	static const char *const flags[] = {"--request-timeout", "1", NULL};
	char req[512], resp[256];
	bool closed = false;
	int fd;

	gw_start(&g, flags, NULL);
	fd = gw_connect(&g);
	snprintf(req, sizeof(req),
	         "PUT /ac/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", GW_ZERO_ID);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	/* Trickle a byte every 100 ms: never idle, but never done; bounded at 30 s. */
	for (int i = 0; i < 300 && !closed; i++) {
		if (!gw_send_all(fd, "x", 1))
			closed = true;
		else if (gw_read_response(fd, resp, sizeof(resp), 100) == 0 &&
		         recv(fd, resp, 1, MSG_DONTWAIT) == 0)
			closed = true;
	}
	close(fd);
	cr_assert(closed, "the server never cut the trickling request");
	for (int i = 0; i < 2000 && gw_count_files(&g, "tmp") != 0; i++)
		usleep(10000);
	cr_assert_eq(gw_count_files(&g, "ac") + gw_count_files(&g, "tmp"), 0);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_slow, too_many_connections_is_503)
{
	/* Every client here has one address: its own limit must not come first. */
	static const char *const flags[] = {"--max-connections", "2", "--max-connections-per-ip", "0",
	                                    NULL};
	const char partial[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
	struct gw_reply r;
	long st = 0;
	int idle[2];

	gw_start(&g, flags, NULL);
	/* Two clients hold their connections open, mid-request. */
	for (int i = 0; i < 2; i++) {
		idle[i] = gw_connect(&g);
		cr_assert(gw_send_all(idle[i], partial, strlen(partial)));
	}
	/* Once the server has taken both, a third is told to come back later; bounded wait. */
	for (int i = 0; i < 1000 && st != 503; i++) {
		st = gw_http(&g, "GET", "/healthz", NULL, 0, NULL, &r);
		if (st == 503)
			gw_assert_one_line(&r);
		gw_reply_free(&r);
		if (st != 503)
			usleep(10000);
	}
	cr_assert_eq(st, 503);
	close(idle[0]);
	close(idle[1]);
	for (int i = 0; i < 1000 && st != 200; i++) {
		st = gw_http(&g, "GET", "/healthz", NULL, 0, NULL, NULL);
		if (st != 200)
			usleep(10000);
	}
	cr_assert_eq(st, 200);
	cr_assert_eq(gw_stop(&g), 0);
}
