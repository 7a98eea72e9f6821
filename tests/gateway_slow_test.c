/*
 * gateway_slow_test.c: slow clients are bounded. A request head that never
 * arrives whole is cut at --header-timeout however it trickles, an idle
 * keep-alive connection too, and with default flags a thousand trickling
 * connections keep a normal client out for no longer than that.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
