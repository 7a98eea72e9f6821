/*
 * gateway_framing_test.c: request framing (gateway/http/framing.h) with a raw
 * socket: ambiguous lengths are 400 and end the connection, so nothing
 * smuggled after them runs; other transfer codings are 501 at once; a PUT
 * without a length is 411 and stores nothing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_framing, .fini = teardown, .timeout = 60);

#define ID "0000000000000000000000000000000000000000000000000000000000000007"

/*
 * Send raw (headers and whatever follows) on a new connection and read all
 * the server sends until it closes (at most 10 s); returns the bytes read.
 */
static size_t exchange(const char *raw, char *resp, size_t cap)
{
	int fd = gw_connect(&g);
	size_t len = 0, n;

	cr_assert(gw_send_all(fd, raw, strlen(raw)));
	do {
		n = gw_read_response(fd, resp + len, cap - len, 10000);
		len += n;
	} while (n > 0 && len + 1 < cap);
	close(fd);
	return len;
}

/* Occurrences of needle in haystack. */
static int count(const char *haystack, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(gateway_framing, two_lengths_that_differ_are_refused_and_nothing_is_smuggled)
{
	char resp[8192];

	gw_start(&g, NULL, NULL);
	/* Read as 5 bytes, the rest would be a second request: a GET of /healthz. */
	exchange("PUT /ac/" ID " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	         "Content-Length: 40\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
	         resp, sizeof(resp));
	cr_assert(strncmp(resp, "HTTP/1.1 400", 12) == 0, "got: %s", resp);
	cr_assert_not_null(strstr(resp, "two Content-Length"), "got: %s", resp);
	cr_assert_eq(count(resp, "HTTP/1.1 "), 1, "a second answer came: %s", resp);
	cr_assert_eq(gw_http(&g, "GET", "/ac/" ID, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_framing, a_length_with_a_transfer_coding_is_refused)
{
	char resp[8192];

	gw_start(&g, NULL, NULL);
	exchange("PUT /ac/" ID " HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
	         resp, sizeof(resp));
	cr_assert(strncmp(resp, "HTTP/1.1 400", 12) == 0, "got: %s", resp);
	cr_assert_eq(count(resp, "HTTP/1.1 "), 1, "a second answer came: %s", resp);
	/* Also on a GET: the framing is checked before the route. */
	exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
	         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", resp, sizeof(resp));
	cr_assert(strncmp(resp, "HTTP/1.1 400", 12) == 0, "got: %s", resp);
	cr_assert_eq(gw_http(&g, "GET", "/ac/" ID, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_framing, identical_lengths_are_one_length)
{
	char resp[8192];

	gw_start(&g, NULL, NULL);
	exchange("PUT /ac/" ID " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n"
	         "Connection: close\r\n\r\nhello", resp, sizeof(resp));
	cr_assert(strncmp(resp, "HTTP/1.1 201", 12) == 0, "got: %s", resp);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_framing, other_transfer_codings_are_501_at_once)
{
	char resp[8192];

	gw_start(&g, NULL, NULL);
	exchange("PUT /ac/" ID " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc",
	         resp, sizeof(resp));
	cr_assert(strncmp(resp, "HTTP/1.1 501", 12) == 0, "got: %s", resp);
	exchange("PUT /ac/" ID " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	         resp, sizeof(resp));
	cr_assert(strncmp(resp, "HTTP/1.1 501", 12) == 0, "got: %s", resp);
	cr_assert_eq(gw_http(&g, "GET", "/ac/" ID, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_framing, a_put_without_a_length_is_411_and_stores_nothing)
{
	char resp[8192];

	gw_start(&g, NULL, NULL);
	exchange("PUT /ac/" ID " HTTP/1.1\r\nHost: x\r\n\r\n", resp, sizeof(resp));
	cr_assert(strncmp(resp, "HTTP/1.1 411", 12) == 0, "got: %s", resp);
	cr_assert_eq(gw_http(&g, "GET", "/ac/" ID, NULL, 0, NULL, NULL), 404);
	cr_assert_eq(gw_count_files(&g, "ac") + gw_count_files(&g, "tmp"), 0);
	/* A chunked PUT and an empty one with a length are fine. */
	exchange("PUT /ac/" ID " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	         "Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n", resp, sizeof(resp));
	cr_assert(strncmp(resp, "HTTP/1.1 201", 12) == 0, "got: %s", resp);
	cr_assert_eq(gw_http(&g, "PUT", "/ac/" ID, "", 0, NULL, NULL), 201);
	cr_assert_eq(gw_stop(&g), 0);
}
