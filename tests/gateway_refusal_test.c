/*
 * gateway_refusal_test.c: an upload refused before its body is read still
 * gets its answer, never a reset, from clients that send the whole body
 * without waiting (libcurl without Expect, and a raw socket that reads only
 * after sending everything); and the lingering that makes this so is bounded.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

#define WRITE_TOKEN "wr1te-t0ken-123456"
#define READ_TOKEN "r3ad-t0ken-abcdef"
#define BODY_SIZE (3 * 1024 * 1024)
#define ROUNDS 20

static struct gw g;
static char body[BODY_SIZE];  /* zeros: what is sent does not matter */

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_refusal, .fini = teardown, .timeout = 240);

/* One refusal: the request's extra header and the status it must get. */
struct refusal {
	const char *what;
	const char *path_kind;  /* "ac", or "bad" for an id that is not one */
	const char *header;     /* NULL for none */
	long status;
};

static const struct refusal refusals[] = {
	{"no token", "ac", NULL, 401},
	{"a read token", "ac", "Authorization: Bearer " READ_TOKEN, 403},
	{"over --max-object-size", "ac", "Authorization: Bearer " WRITE_TOKEN, 413},
	{"a bad id", "bad", "Authorization: Bearer " WRITE_TOKEN, 400},
};

/* Start a server with tokens and a 1 MiB object limit. */
static void start_refusing(void)
{
	char *file = gw_write_file(&g, "tokens", WRITE_TOKEN " write\n" READ_TOKEN " read\n");
	const char *flags[] = {"--auth-file", file, "--max-object-size", "1M", NULL};

	gw_start(&g, flags, NULL);
	free(file);
}

static void refusal_path(const struct refusal *f, char *path, size_t n)
{
	if (strcmp(f->path_kind, "bad") == 0)
		snprintf(path, n, "/ac/not-an-id");
	else
		snprintf(path, n, "/ac/%064d", 7);
}

Test(gateway_refusal, libcurl_without_expect_always_reads_the_answer)
{
	char path[128];

	start_refusing();
	for (size_t k = 0; k < sizeof(refusals) / sizeof(refusals[0]); k++) {
		const struct refusal *f = &refusals[k];
		const char *headers[] = {f->header, NULL};

		refusal_path(f, path, sizeof(path));
		for (int i = 0; i < ROUNDS; i++)
			cr_assert_eq(gw_http(&g, "PUT", path, body, BODY_SIZE, headers, NULL), f->status,
			             "%s, attempt %d", f->what, i);
	}
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_refusal, a_client_that_sends_everything_first_reads_the_answer)
{
	char path[128], req[512], resp[4096], want[16];

	start_refusing();
	for (size_t k = 0; k < sizeof(refusals) / sizeof(refusals[0]); k++) {
		const struct refusal *f = &refusals[k];

		refusal_path(f, path, sizeof(path));
		snprintf(req, sizeof(req), "PUT %s HTTP/1.1\r\nHost: x\r\n%s%sContent-Length: %d\r\n\r\n",
		         path, f->header != NULL ? f->header : "", f->header != NULL ? "\r\n" : "",
		         BODY_SIZE);
		snprintf(want, sizeof(want), "HTTP/1.1 %ld", f->status);
		for (int i = 0; i < ROUNDS; i++) {
			int fd = gw_connect(&g);

			/* Like Python's http.client or Go's net/http: the whole body, then the answer. */
			cr_assert(gw_send_all(fd, req, strlen(req)), "%s, attempt %d", f->what, i);
			cr_assert(gw_send_all(fd, body, BODY_SIZE), "%s, attempt %d: %s", f->what, i,
			          strerror(errno));
			gw_read_response(fd, resp, sizeof(resp), 20000);
			close(fd);
			cr_assert(strncmp(resp, want, strlen(want)) == 0, "%s, attempt %d: got %s",
			          f->what, i, resp);
		}
	}
	cr_assert_eq(gw_stop(&g), 0);
}

/* The most a TCP receive buffer may grow to here (tcp_rmem's third number). */
static size_t tcp_rmem_max(void)
{
	unsigned long min, def, max = 0;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_rmem", "r");

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%lu %lu %lu", &min, &def, &max), 3);
	fclose(f);
	return max;
}

Test(gateway_refusal, lingering_stops_after_its_byte_bound)
{
	size_t chunk = 1024 * 1024, sent = 0;
	char req[512], resp[4096];
	int fd, sndbuf = 256 * 1024;

	start_refusing();
	/* A client that never stops sending after its refusal is cut off, not drained forever. */
	fd = gw_connect(&g);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	snprintf(req, sizeof(req), "PUT /ac/%064d HTTP/1.1\r\nHost: x\r\n"
	         "Content-Length: 10737418240\r\n\r\n", 7);
	cr_assert(gw_send_all(fd, req, strlen(req)));
	while (sent < 1024 * chunk && gw_send_all(fd, body, chunk))
		sent += chunk;
	/*
	 * It drains 32 MiB (the README's bound) before it cuts off; what was
	 * sent beyond that sat in the kernel's buffers: the server's receive
	 * buffer (at most tcp_rmem's maximum) and the client's small send buffer.
	 * gateway_linger_test checks the bound itself exactly.
	 */
	cr_assert_geq(sent, 32 * chunk, "cut off after only %zu bytes", sent);
	cr_assert_leq(sent, 32 * chunk + tcp_rmem_max() + chunk, "still accepting after %zu bytes",
	              sent);
	gw_read_response(fd, resp, sizeof(resp), 1000);
	close(fd);
	cr_assert_eq(gw_stop(&g), 0);
}
