/*
 * protocol.h: the GOCACHEPROG wire format, decoded and encoded.
 *
 * The go command writes one JSON request per line, followed by an empty
 * line; a put with BodySize > 0 is then followed by its body as one JSON
 * string line (see body.h). Replies are one JSON object per line, in any
 * order. This module only turns lines into structs and structs into lines;
 * it does no I/O.
 */
#ifndef CACHEGATE_PROG_PROTOCOL_H
#define CACHEGATE_PROG_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Longest request line accepted (requests are about 200 bytes). */
#define PROTOCOL_LINE_MAX 4096

/* What a request asks for (its Command). */
enum command {
	COMMAND_GET,
	COMMAND_PUT,
	COMMAND_CLOSE,
	COMMAND_UNKNOWN,
};

/* The outcome of decoding one request line. */
enum protocol_result {
	PROTOCOL_OK = 0,
	PROTOCOL_BAD_REQUEST,  /* has an ID but is malformed: answer with Err */
	PROTOCOL_UNPARSABLE,   /* not a JSON object with an integer ID: the stream is lost */
};

struct protocol_request {
	int64_t id;
	enum command cmd;
	unsigned char action[STORE_HASH_LEN];  /* get, put */
	unsigned char output[STORE_HASH_LEN];  /* put: OutputID (or the older ObjectID) */
	int64_t body_size;                     /* put: bytes of the body line that follows */
};

/*
 * Decode one request line (without its newline). On PROTOCOL_OK req is
 * filled. On PROTOCOL_BAD_REQUEST req->id and req->body_size are still set
 * (so the caller can skip the body and answer) and *cause says why. On
 * PROTOCOL_UNPARSABLE *cause says why. The caller frees *cause.
 */
enum protocol_result protocol_decode_request(const char *line, size_t len,
                                             struct protocol_request *req, char **cause);

/*
 * Decode standard padded base64 text into exactly want bytes. Anything else
 * (other characters, whitespace, wrong length) is false.
 */
bool protocol_decode_id(const char *text, size_t len, unsigned char *out, size_t want);

/* One reply; fields left zero/NULL are omitted. */
struct protocol_reply {
	int64_t id;
	const char *err;                       /* Err */
	bool known_commands;                   /* the ID-0 handshake */
	bool miss;                             /* get: Miss */
	bool hit;                              /* get: OutputID, Size, Time */
	unsigned char output[STORE_HASH_LEN];
	int64_t size;
	int64_t time_ns;                       /* Unix nanoseconds of the put */
	const char *disk_path;                 /* get hit, put: DiskPath */
};

/*
 * Encode a reply as one JSON line ending in '\n'. Returns a buffer the
 * caller frees and sets *len, or NULL when out of memory.
 */
char *protocol_encode_reply(const struct protocol_reply *r, size_t *len);

/* Format Unix nanoseconds as RFC 3339 UTC with nanoseconds into buf (>= 40 bytes). */
void protocol_format_time(int64_t time_ns, char *buf, size_t n);

#endif
