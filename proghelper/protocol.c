/*
 * protocol.c: decode GOCACHEPROG request lines and encode reply lines.
 */
#include "proghelper/protocol.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/cause.h"

bool protocol_decode_id(const char *text, size_t len, unsigned char *out, size_t want)
{
	unsigned char raw[64];
	char again[sizeof raw / 3 * 4 + 8];
	size_t i;

	if (want == 0 || want > 48 || len != 4 * ((want + 2) / 3))
		return false;
	for (i = 0; i < len; i++) {
		char c = text[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			return false;
	}
	if (EVP_DecodeBlock(raw, (const unsigned char *)text, (int)len) < 0)
		return false;
	/* Only the canonical encoding of exactly want bytes is accepted. */
	EVP_EncodeBlock((unsigned char *)again, raw, (int)want);
	if (memcmp(again, text, len) != 0)
		return false;
	memcpy(out, raw, want);
	return true;
}

/* Decode a base64 hash field of root; false (with *cause) when absent or bad. */
static bool protocol_hash_field(json_t *root, const char *name, unsigned char out[STORE_HASH_LEN],
                                char **cause)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL || json_is_null(v)) {
		cause_set(cause, "request has no %s", name);
		return false;
	}
	if (!json_is_string(v) ||
	    !protocol_decode_id(json_string_value(v), json_string_length(v), out, STORE_HASH_LEN)) {
		cause_set(cause, "%s is not %d bytes of base64", name, STORE_HASH_LEN);
		return false;
	}
	return true;
}

enum protocol_result protocol_decode_request(const char *line, size_t len, struct protocol_request *req, char **cause)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *command;
	enum protocol_result result = PROTOCOL_BAD_REQUEST;

	memset(req, 0, sizeof *req);
	*cause = NULL;
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		cause_set(cause, "request is not JSON: %s", jerr.text);
		return PROTOCOL_UNPARSABLE;
	}
	v = json_object_get(root, "ID");
	if (!json_is_object(root) || !json_is_integer(v)) {
		json_decref(root);
		cause_set(cause, "request has no integer ID");
		return PROTOCOL_UNPARSABLE;
	}
	req->id = json_integer_value(v);

	v = json_object_get(root, "BodySize");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			cause_set(cause, "BodySize is not a size");
			goto out;
		}
		req->body_size = json_integer_value(v);
	}

	v = json_object_get(root, "Command");
	command = json_is_string(v) ? json_string_value(v) : NULL;
	if (command == NULL) {
		cause_set(cause, "request has no Command");
		goto out;
	}
	if (strcmp(command, "get") == 0) {
		req->cmd = COMMAND_GET;
		if (!protocol_hash_field(root, "ActionID", req->action, cause))
			goto out;
	} else if (strcmp(command, "put") == 0) {
		req->cmd = COMMAND_PUT;
		if (!protocol_hash_field(root, "ActionID", req->action, cause))
			goto out;
		/* Go 1.24 renamed ObjectID to OutputID; older toolchains send ObjectID. */
		v = json_object_get(root, "OutputID");
		if (!protocol_hash_field(root, v != NULL && !json_is_null(v) ? "OutputID" : "ObjectID",
		                         req->output, cause))
			goto out;
	} else if (strcmp(command, "close") == 0) {
		req->cmd = COMMAND_CLOSE;
	} else {
		req->cmd = COMMAND_UNKNOWN;
		if (strlen(command) <= 40)
			cause_set(cause, "unknown command \"%s\"", command);
		else
			cause_set(cause, "unknown command");
		goto out;
	}
	result = PROTOCOL_OK;
out:
	json_decref(root);
	return result;
}

void protocol_format_time(int64_t time_ns, char *buf, size_t n)
{
	int64_t sec = time_ns / 1000000000, nsec = time_ns % 1000000000;
	time_t t;
	struct tm tm;
	char date[32];

	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%09" PRId64 "Z", date, nsec);
}

/* Add key = value to obj, taking the reference; false when out of memory. */
static bool protocol_set(json_t *obj, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(obj, key, value) == 0;
}

char *protocol_encode_reply(const struct protocol_reply *r, size_t *len)
{
	json_t *root = json_object();
	char *line = NULL;
	size_t n;
	bool ok = root != NULL;

	ok = ok && protocol_set(root, "ID", json_integer(r->id));
	if (ok && r->err != NULL)
		ok = protocol_set(root, "Err", json_string(r->err));
	if (ok && r->known_commands)
		ok = protocol_set(root, "KnownCommands", json_pack("[sss]", "get", "put", "close"));
	if (ok && r->miss)
		ok = protocol_set(root, "Miss", json_true());
	if (ok && r->hit) {
		char b64[4 * ((STORE_HASH_LEN + 2) / 3) + 1];
		char when[48];

		EVP_EncodeBlock((unsigned char *)b64, r->output, STORE_HASH_LEN);
		protocol_format_time(r->time_ns, when, sizeof when);
		ok = protocol_set(root, "OutputID", json_string(b64)) &&
		     protocol_set(root, "Size", json_integer(r->size)) &&
		     protocol_set(root, "Time", json_string(when));
	}
	if (ok && r->disk_path != NULL)
		ok = protocol_set(root, "DiskPath", json_string(r->disk_path));
	if (ok) {
		n = json_dumpb(root, NULL, 0, JSON_COMPACT);
		line = n > 0 ? malloc(n + 1) : NULL;
		if (line != NULL) {
			json_dumpb(root, line, n, JSON_COMPACT);
			line[n] = '\n';
			*len = n + 1;
		}
	}
	json_decref(root);
	return line;
}
