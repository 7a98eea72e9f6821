/*
 * prog_protocol_test.c: the helper's request decoder, reply encoder and
 * entry lines, as the go command reads and writes them (prog_framing_test.c
 * has the input stream around them).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proghelper/local.h"
#include "proghelper/protocol.h"

/* A 32-byte id whose bytes all equal v, and its base64. */
static void id_of(unsigned char v, unsigned char id[32], char b64[45])
{
	memset(id, v, 32);
	EVP_EncodeBlock((unsigned char *)b64, id, 32);
}

/* Decode a NUL-terminated line. */
static enum protocol_result decode(const char *line, struct protocol_request *req, char **cause)
{
	return protocol_decode_request(line, strlen(line), req, cause);
}

TestSuite(prog_decode);

Test(prog_decode, get)
{
	unsigned char a[32];
	char b64[45], line[256];
	struct protocol_request req;
	char *cause = NULL;

	id_of(0xab, a, b64);
	snprintf(line, sizeof line, "{\"ID\":7,\"Command\":\"get\",\"ActionID\":\"%s\"}", b64);
	cr_assert_eq(decode(line, &req, &cause), PROTOCOL_OK);
	cr_assert_null(cause);
	cr_assert_eq(req.id, 7);
	cr_assert_eq(req.cmd, COMMAND_GET);
	cr_assert_arr_eq(req.action, a, 32);
	cr_assert_eq(req.body_size, 0);
}

Test(prog_decode, put_with_output_id)
{
	unsigned char a[32], o[32];
	char ab[45], ob[45], line[256];
	struct protocol_request req;
	char *cause = NULL;

	id_of(1, a, ab);
	id_of(2, o, ob);
	snprintf(line, sizeof line,
	         "{\"ID\":12,\"Command\":\"put\",\"ActionID\":\"%s\",\"OutputID\":\"%s\",\"BodySize\":99}",
	         ab, ob);
	cr_assert_eq(decode(line, &req, &cause), PROTOCOL_OK);
	cr_assert_eq(req.cmd, COMMAND_PUT);
	cr_assert_arr_eq(req.action, a, 32);
	cr_assert_arr_eq(req.output, o, 32);
	cr_assert_eq(req.body_size, 99);
}

Test(prog_decode, put_with_older_object_id_and_no_body_size)
{
	unsigned char a[32], o[32];
	char ab[45], ob[45], line[256];
	struct protocol_request req;
	char *cause = NULL;

	id_of(3, a, ab);
	id_of(4, o, ob);
	snprintf(line, sizeof line,
	         "{\"ID\":2,\"Command\":\"put\",\"ActionID\":\"%s\",\"ObjectID\":\"%s\"}", ab, ob);
	cr_assert_eq(decode(line, &req, &cause), PROTOCOL_OK);
	cr_assert_arr_eq(req.output, o, 32);
	cr_assert_eq(req.body_size, 0, "an absent BodySize means an empty body");
}

Test(prog_decode, a_null_output_id_falls_back_to_object_id)
{
	unsigned char a[32], o[32];
	char ab[45], ob[45], line[256];
	struct protocol_request req;
	char *cause = NULL;

	id_of(3, a, ab);
	id_of(6, o, ob);
	snprintf(line, sizeof line,
	         "{\"ID\":2,\"Command\":\"put\",\"ActionID\":\"%s\",\"OutputID\":null,"
	         "\"ObjectID\":\"%s\"}", ab, ob);
	cr_assert_eq(decode(line, &req, &cause), PROTOCOL_OK, "%s", cause);
	cr_assert_arr_eq(req.output, o, 32);
}

Test(prog_decode, close)
{
	struct protocol_request req;
	char *cause = NULL;

	cr_assert_eq(decode("{\"ID\":40,\"Command\":\"close\"}", &req, &cause), PROTOCOL_OK);
	cr_assert_eq(req.cmd, COMMAND_CLOSE);
	cr_assert_eq(req.id, 40);
}

Test(prog_decode, unknown_command_is_an_error_for_its_id)
{
	struct protocol_request req;
	char *cause = NULL;

	cr_assert_eq(decode("{\"ID\":5,\"Command\":\"get2\"}", &req, &cause), PROTOCOL_BAD_REQUEST);
	cr_assert_eq(req.id, 5);
	cr_assert_not_null(cause);
	cr_assert(strstr(cause, "unknown command") != NULL, "cause: %s", cause);
	free(cause);
	cr_assert_eq(decode("{\"ID\":6}", &req, &cause), PROTOCOL_BAD_REQUEST);
	cr_assert_eq(req.id, 6);
	free(cause);
}

Test(prog_decode, lines_without_json_or_id_are_unparsable)
{
	static const char *const bad[] = {
		"", "hello", "{\"ID\":1", "[1,2]", "{\"Command\":\"get\"}", "{\"ID\":\"1\"}",
		"{\"ID\":1.5,\"Command\":\"close\"}", "\"ID\"", "{\"ID\":1}{\"ID\":2}",
	};
	struct protocol_request req;
	char *cause = NULL;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(decode(bad[i], &req, &cause), PROTOCOL_UNPARSABLE, "line: %s", bad[i]);
		cr_assert_not_null(cause);
		free(cause);
		cause = NULL;
	}
}

Test(prog_decode, ids_of_the_wrong_length_or_encoding_are_errors)
{
	unsigned char raw[40];
	char b64[80], line[300];
	struct protocol_request req;
	char *cause = NULL;
	static const char *const texts[] = {
		"", "abc", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=",
		/* right length, but padding bits set (not canonical) */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",
		/* url-safe alphabet */
		"_-__AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	};

	memset(raw, 9, sizeof raw);
	for (int n = 30; n <= 34; n++) {
		if (n == 32)
			continue;
		EVP_EncodeBlock((unsigned char *)b64, raw, n);
		snprintf(line, sizeof line, "{\"ID\":3,\"Command\":\"get\",\"ActionID\":\"%s\"}", b64);
		cr_assert_eq(decode(line, &req, &cause), PROTOCOL_BAD_REQUEST, "%d bytes", n);
		cr_assert_eq(req.id, 3);
		free(cause);
		cause = NULL;
	}
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		snprintf(line, sizeof line, "{\"ID\":4,\"Command\":\"get\",\"ActionID\":\"%s\"}", texts[i]);
		cr_assert_eq(decode(line, &req, &cause), PROTOCOL_BAD_REQUEST, "text: %s", texts[i]);
		free(cause);
		cause = NULL;
	}
	cr_assert_eq(decode("{\"ID\":4,\"Command\":\"get\",\"ActionID\":12}", &req, &cause),
	             PROTOCOL_BAD_REQUEST);
	free(cause);
}

Test(prog_decode, put_needs_an_output_id_and_keeps_its_body_size_when_bad)
{
	char ab[45], line[256];
	unsigned char a[32];
	struct protocol_request req;
	char *cause = NULL;

	id_of(5, a, ab);
	snprintf(line, sizeof line,
	         "{\"ID\":9,\"Command\":\"put\",\"ActionID\":\"%s\",\"OutputID\":\"xx\",\"BodySize\":10}", ab);
	cr_assert_eq(decode(line, &req, &cause), PROTOCOL_BAD_REQUEST);
	cr_assert_eq(req.body_size, 10, "the caller must still skip the body line");
	free(cause);
	snprintf(line, sizeof line, "{\"ID\":9,\"Command\":\"put\",\"ActionID\":\"%s\"}", ab);
	cr_assert_eq(decode(line, &req, &cause), PROTOCOL_BAD_REQUEST);
	free(cause);
	snprintf(line, sizeof line,
	         "{\"ID\":9,\"Command\":\"put\",\"ActionID\":\"%s\",\"OutputID\":\"%s\",\"BodySize\":-1}",
	         ab, ab);
	cr_assert_eq(decode(line, &req, &cause), PROTOCOL_BAD_REQUEST);
	free(cause);
}

TestSuite(prog_encode);

/* Encode r and return the line as a string the caller frees. */
static char *encode(const struct protocol_reply *r)
{
	size_t len = 0;
	char *line = protocol_encode_reply(r, &len);
	char *s;

	cr_assert_not_null(line);
	cr_assert_gt(len, 0);
	cr_assert_eq(line[len - 1], '\n', "a reply is one whole line");
	cr_assert_null(memchr(line, '\n', len - 1));
	s = strndup(line, len);
	free(line);
	return s;
}

Test(prog_encode, handshake)
{
	struct protocol_reply r = { .id = 0, .known_commands = true };
	char *s = encode(&r);

	cr_assert_str_eq(s, "{\"ID\":0,\"KnownCommands\":[\"get\",\"put\",\"close\"]}\n");
	free(s);
}

Test(prog_encode, miss_put_close_and_error)
{
	struct protocol_reply miss = { .id = 3, .miss = true };
	struct protocol_reply put = { .id = 4, .disk_path = "/var/cache/x/cas/ab/ab\"c" };
	struct protocol_reply done = { .id = 5 };
	struct protocol_reply err = { .id = 6, .err = "unknown command \"x\"" };
	char *s;

	s = encode(&miss);
	cr_assert_str_eq(s, "{\"ID\":3,\"Miss\":true}\n");
	free(s);
	s = encode(&put);
	cr_assert_str_eq(s, "{\"ID\":4,\"DiskPath\":\"/var/cache/x/cas/ab/ab\\\"c\"}\n");
	free(s);
	s = encode(&done);
	cr_assert_str_eq(s, "{\"ID\":5}\n");
	free(s);
	s = encode(&err);
	cr_assert_str_eq(s, "{\"ID\":6,\"Err\":\"unknown command \\\"x\\\"\"}\n");
	free(s);
}

Test(prog_encode, hit_carries_output_size_time_and_path)
{
	struct protocol_reply r = { .id = 8, .hit = true, .size = 1234,
	                            .time_ns = 1700000000123456789LL, .disk_path = "/c/cas/00/x" };
	unsigned char back[32];
	json_error_t jerr;
	json_t *root;
	char *s;
	const char *out;

	memset(r.output, 0x5a, sizeof r.output);
	s = encode(&r);
	root = json_loads(s, 0, &jerr);
	cr_assert_not_null(root, "%s", s);
	cr_assert_eq(json_integer_value(json_object_get(root, "ID")), 8);
	cr_assert_eq(json_integer_value(json_object_get(root, "Size")), 1234);
	cr_assert_str_eq(json_string_value(json_object_get(root, "Time")),
	                 "2023-11-14T22:13:20.123456789Z");
	cr_assert_str_eq(json_string_value(json_object_get(root, "DiskPath")), "/c/cas/00/x");
	out = json_string_value(json_object_get(root, "OutputID"));
	cr_assert(protocol_decode_id(out, strlen(out), back, 32));
	cr_assert_arr_eq(back, r.output, 32);
	cr_assert_null(json_object_get(root, "Miss"));
	json_decref(root);
	free(s);
}

Test(prog_encode, time_is_rfc3339_with_nanoseconds)
{
	char buf[64];
	regex_t re;

	protocol_format_time(0, buf, sizeof buf);
	cr_assert_str_eq(buf, "1970-01-01T00:00:00.000000000Z");
	protocol_format_time(-1, buf, sizeof buf);
	cr_assert_str_eq(buf, "1969-12-31T23:59:59.999999999Z");
	cr_assert_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$",
	                     REG_EXTENDED | REG_NOSUB), 0);
	protocol_format_time(local_now_ns(), buf, sizeof buf);
	cr_assert_eq(regexec(&re, buf, 0, NULL, 0), 0, "%s", buf);
	regfree(&re);
}

/* ---- entry lines -------------------------------------------------------- */

TestSuite(prog_entry);

Test(prog_entry, round_trip_and_go_format)
{
	struct go_entry e, back;
	char line[GO_ENTRY_LEN + 1];

	memset(e.action, 0xa1, 32);
	memset(e.output, 0x0b, 32);
	e.size = 42;
	e.time_ns = 1700000000000000001LL;
	go_entry_format(&e, line);
	cr_assert_eq(strlen(line), GO_ENTRY_LEN);
	cr_assert_eq(strncmp(line, "v1 a1a1", 7), 0);
	cr_assert_eq(strcmp(line + 3 + 64 + 1 + 64, "                   42  1700000000000000001\n"), 0,
	             "%s", line);
	cr_assert(go_entry_parse(line, GO_ENTRY_LEN, &back));
	cr_assert_arr_eq(back.action, e.action, 32);
	cr_assert_arr_eq(back.output, e.output, 32);
	cr_assert_eq(back.size, 42);
	cr_assert_eq(back.time_ns, e.time_ns);
}

Test(prog_entry, malformed_entries_are_rejected)
{
	struct go_entry e, back;
	char line[GO_ENTRY_LEN + 1], bad[GO_ENTRY_LEN + 1];
	static const size_t spots[] = { 0, 1, 2, 3, 40, 67, 100, 132, 140, 152, 153, 160, 173, 174 };

	memset(&e, 0, sizeof e);
	e.size = 7;
	e.time_ns = 99;
	go_entry_format(&e, line);
	cr_assert_not(go_entry_parse(line, GO_ENTRY_LEN - 1, &back));
	for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
		memcpy(bad, line, sizeof bad);
		bad[spots[i]] = bad[spots[i]] == 'x' ? 'y' : 'x';
		cr_assert_not(go_entry_parse(bad, GO_ENTRY_LEN, &back), "spot %zu", spots[i]);
	}
	memcpy(bad, line, sizeof bad);
	bad[152] = '-';  /* a negative size */
	cr_assert_not(go_entry_parse(bad, GO_ENTRY_LEN, &back));
}

Test(prog_entry, the_largest_size_and_time_round_trip)
{
	struct go_entry e, back;
	char line[GO_ENTRY_LEN + 1];

	/* Found by fuzz/goentry.fuzz: the last few int64 values did not parse back. */
	memset(&e, 0, sizeof e);
	for (int64_t v = INT64_MAX - 9; v > 0; v = v == INT64_MAX ? 0 : v + 1) {
		e.size = v;
		e.time_ns = INT64_MAX - (v - (INT64_MAX - 9));
		go_entry_format(&e, line);
		cr_assert(go_entry_parse(line, GO_ENTRY_LEN, &back), "%s", line);
		cr_assert_eq(back.size, e.size);
		cr_assert_eq(back.time_ns, e.time_ns);
	}
	/* One past: 9223372036854775808 does not fit. */
	memcpy(line + GO_ENTRY_LEN - 20, "9223372036854775808\n", 20);
	cr_assert_not(go_entry_parse(line, GO_ENTRY_LEN, &back));
}
