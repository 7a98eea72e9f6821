/*
 * prog_pipe_test.c: the built cachegate-prog driven over pipes, as the go
 * command drives it: a 1 GiB put in little memory, errors for bad requests,
 * and the end of the helper on a stream it cannot parse.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/tmpdir.h"

static char *dir;
static pid_t helper = -1;
static int to_helper = -1, from_helper = -1;
static char errfile[512];

/* Start the helper on a store in dir, stderr to errfile; extra_env is put first. */
static void helper_start(const char *extra_env)
{
	const char *bin = getenv("CACHEGATE_PROG_BIN");
	char store[512];
	int in[2], out[2];

	cr_assert_not_null(bin, "CACHEGATE_PROG_BIN must name the built cachegate-prog");
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(errfile, sizeof errfile, "%s/stderr", dir);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	helper = fork();
	cr_assert_neq(helper, -1);
	if (helper == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		if (freopen(errfile, "w", stderr) == NULL)
			_exit(126);
		if (extra_env != NULL)
			putenv((char *)extra_env);
		execl(bin, bin, "--dir", store, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	to_helper = in[1];
	from_helper = out[0];
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	dir = tmpdir_make("cg-prog-pipe");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	if (helper > 0) {
		kill(helper, SIGKILL);
		waitpid(helper, NULL, 0);
	}
	if (to_helper >= 0)
		close(to_helper);
	if (from_helper >= 0)
		close(from_helper);
	tmpdir_remove(dir);
}

TestSuite(prog_pipe, .init = setup, .fini = teardown, .timeout = 300);

/* Write all of buf to the helper. */
static void send_bytes(const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(to_helper, p, n);
		cr_assert_gt(w, 0, "the helper stopped reading");
		p += w;
		n -= (size_t)w;
	}
}

static void send_text(const char *s)
{
	send_bytes(s, strlen(s));
}

/* The next line from the helper's stdout, parsed; NULL at its end. */
static json_t *read_reply(void)
{
	char line[8192];
	size_t n = 0;
	json_error_t jerr;
	json_t *j;

	for (;;) {
		ssize_t r = read(from_helper, line + n, 1);
		if (r <= 0) {
			cr_assert_eq(n, 0, "stdout ended inside a line");
			return NULL;
		}
		if (line[n] == '\n')
			break;
		cr_assert_lt(++n, sizeof line - 1);
	}
	j = json_loadb(line, n, 0, &jerr);
	cr_assert_not_null(j, "stdout carries something other than JSON: %.*s", (int)n, line);
	return j;
}

/* The helper's exit status once it ends. */
static int helper_wait(void)
{
	int status = 0;

	cr_assert_eq(waitpid(helper, &status, 0), helper);
	helper = -1;
	cr_assert(WIFEXITED(status), "the helper died of a signal");
	return WEXITSTATUS(status);
}

/* Lines in the helper's stderr. */
static int stderr_lines(char *first, size_t n)
{
	FILE *f = fopen(errfile, "r");
	char line[1024];
	int count = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (count++ == 0)
			snprintf(first, n, "%s", line);
	}
	fclose(f);
	return count;
}

/* Check the handshake the helper sends unprompted. */
static void expect_handshake(void)
{
	json_t *j = read_reply();

	cr_assert_not_null(j);
	cr_assert_eq(json_integer_value(json_object_get(j, "ID")), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "KnownCommands")), 3);
	json_decref(j);
}

/* Deterministic body bytes: block number i of a generated stream. */
static void generate(unsigned char *buf, size_t n, uint64_t offset)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t x = (offset + i) * 0x9e3779b97f4a7c15ULL;
		x ^= x >> 29;
		memcpy(buf + i, &x, 8);
	}
}

/* The helper's peak resident memory in KiB, from /proc. */
static long helper_hwm_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)helper);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

Test(prog_pipe, a_one_gib_put_streams_in_little_memory)
{
	enum { CHUNK = 3 * 16384 };  /* a multiple of 3: base64 pieces join cleanly */
	const uint64_t size = 1ULL << 30;
	unsigned char *raw = malloc(CHUNK), out[32], action[32];
	char *text = malloc(CHUNK / 3 * 4 + 1);
	char ob[45], ab[45], req[512];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct stat sb;
	json_t *j;
	long hwm;

	/*
	 * ASan keeps freed blocks in a quarantine (256 MiB by default) before
	 * reusing them; that is the sanitizer's memory, not the helper's, so
	 * keep it small for this child to measure what the helper itself holds.
	 */
	helper_start("ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=1:thread_local_quarantine_size_kb=64");
	expect_handshake();

	/* The OutputID comes first, so generate the body once to hash it. */
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (uint64_t off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		generate(raw, CHUNK, off);
		EVP_DigestUpdate(md, raw, n);
	}
	EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
	memset(action, 0xbb, sizeof action);
	EVP_EncodeBlock((unsigned char *)ob, out, 32);
	EVP_EncodeBlock((unsigned char *)ab, action, 32);
	snprintf(req, sizeof req,
	         "{\"ID\":1,\"Command\":\"put\",\"ActionID\":\"%s\",\"OutputID\":\"%s\",\"BodySize\":%llu}\n\n\"",
	         ab, ob, (unsigned long long)size);
	send_text(req);
	for (uint64_t off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		generate(raw, CHUNK, off);
		send_bytes(text, (size_t)EVP_EncodeBlock((unsigned char *)text, raw, (int)n));
	}
	send_text("\"\n");

	j = read_reply();
	cr_assert_not_null(j);
	cr_assert_eq(json_integer_value(json_object_get(j, "ID")), 1);
	cr_assert_null(json_object_get(j, "Err"), "%s", json_string_value(json_object_get(j, "Err")));
	cr_assert_eq(stat(json_string_value(json_object_get(j, "DiskPath")), &sb), 0);
	cr_assert_eq((uint64_t)sb.st_size, size);
	json_decref(j);

	hwm = helper_hwm_kib();
	cr_assert_gt(hwm, 0);
	cr_assert_lt(hwm, 32 * 1024, "the helper's peak RSS was %ld KiB", hwm);
	fprintf(stderr, "1 GiB put: helper peak RSS %ld KiB\n", hwm);

	snprintf(req, sizeof req, "{\"ID\":2,\"Command\":\"get\",\"ActionID\":\"%s\"}\n\n", ab);
	send_text(req);
	j = read_reply();
	cr_assert_eq(json_integer_value(json_object_get(j, "Size")), (json_int_t)size);
	cr_assert_str_eq(json_string_value(json_object_get(j, "OutputID")), ob);
	json_decref(j);
	send_text("{\"ID\":3,\"Command\":\"close\"}\n\n");
	j = read_reply();
	cr_assert_eq(json_integer_value(json_object_get(j, "ID")), 3);
	json_decref(j);
	cr_assert_null(read_reply(), "nothing after the close reply");
	cr_assert_eq(helper_wait(), 0);
	free(raw);
	free(text);
}

Test(prog_pipe, bad_requests_get_errors_and_the_helper_goes_on)
{
	json_t *j;
	char first[1024];

	helper_start(NULL);
	expect_handshake();
	send_text("{\"ID\":1,\"Command\":\"frobnicate\"}\n\n");
	send_text("{\"ID\":2,\"Command\":\"get\",\"ActionID\":\"AAAA\"}\n\n");
	/* A malformed put's body line is skipped, not taken for a request. */
	send_text("{\"ID\":3,\"Command\":\"put\",\"ActionID\":\"x\",\"OutputID\":\"y\",\"BodySize\":3}\n\n\"AAAA\"\n");
	send_text("{\"ID\":4,\"Command\":\"get\",\"ActionID\":"
	          "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}\n\n");
	for (int id = 1; id <= 4; id++) {
		j = read_reply();
		cr_assert_not_null(j);
		cr_assert_eq(json_integer_value(json_object_get(j, "ID")), id);
		if (id < 4)
			cr_assert(json_is_string(json_object_get(j, "Err")), "request %d", id);
		else
			cr_assert(json_is_true(json_object_get(j, "Miss")));
		json_decref(j);
	}
	send_text("{\"ID\":5,\"Command\":\"close\"}\n\n");
	j = read_reply();
	cr_assert_eq(json_integer_value(json_object_get(j, "ID")), 5);
	json_decref(j);
	cr_assert_eq(helper_wait(), 0);
	cr_assert_eq(stderr_lines(first, sizeof first), 0, "stderr: %s", first);
}

Test(prog_pipe, an_unparsable_line_ends_the_helper_with_one_message)
{
	char first[1024];

	helper_start(NULL);
	expect_handshake();
	send_text("this is not json\n");
	cr_assert_null(read_reply(), "no reply to a line without an ID");
	cr_assert_neq(helper_wait(), 0);
	cr_assert_eq(stderr_lines(first, sizeof first), 1);
	cr_assert(strstr(first, "cachegate-prog:") == first, "%s", first);
}

Test(prog_pipe, end_of_input_without_close_is_a_quiet_exit)
{
	char first[1024];

	helper_start(NULL);
	expect_handshake();
	close(to_helper);
	to_helper = -1;
	cr_assert_null(read_reply());
	cr_assert_eq(helper_wait(), 0);
	cr_assert_eq(stderr_lines(first, sizeof first), 0, "stderr: %s", first);
}

Test(prog_pipe, an_unparsable_line_with_an_upload_pending_is_still_one_message)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned char action[32], empty[32];
	char ab[45], ob[45], req[512], env[96], first[1024];
	json_t *j;

	/* A remote that accepts connections (the backlog does) and never answers. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	cr_assert_eq(listen(fd, 16), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(env, sizeof env, "CACHEGATE_REMOTE=http://127.0.0.1:%u", ntohs(sa.sin_port));
	helper_start(env);
	expect_handshake();

	memset(action, 0x5a, sizeof action);
	EVP_Digest("", 0, empty, NULL, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)ab, action, 32);
	EVP_EncodeBlock((unsigned char *)ob, empty, 32);
	snprintf(req, sizeof req, "{\"ID\":1,\"Command\":\"put\",\"ActionID\":\"%s\","
	         "\"OutputID\":\"%s\"}\n\n", ab, ob);
	send_text(req);
	j = read_reply();
	cr_assert_not_null(j);
	cr_assert(json_is_string(json_object_get(j, "DiskPath")));
	json_decref(j);
	/* Its upload now hangs; then the stream breaks. */
	send_text("this is not json\n");
	cr_assert_null(read_reply());
	cr_assert_neq(helper_wait(), 0);
	cr_assert_eq(stderr_lines(first, sizeof first), 1, "first line: %s", first);
	cr_assert(strstr(first, "cachegate-prog: cannot understand") == first, "%s", first);
	close(fd);
}
