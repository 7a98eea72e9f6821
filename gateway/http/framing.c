/*
 * framing.c: refuse requests whose body framing is ambiguous or unsupported.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "gateway/http/framing.h"

/* What the headers say about the body. */
struct framing {
	unsigned lengths;          /* Content-Length headers */
	bool lengths_differ;
	const char *length;        /* the first one's value */
	unsigned codings;          /* Transfer-Encoding headers */
	const char *coding;        /* the first one's value */
};

/* libmicrohttpd's header iterator: note the framing headers. */
static enum MHD_Result note_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (value == NULL)
		value = "";
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->lengths++ == 0)
			f->length = value;
		else if (strcmp(f->length, value) != 0)
			f->lengths_differ = true;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		if (f->codings++ == 0)
			f->coding = value;
	}
	return MHD_YES;
}

unsigned framing_check(struct MHD_Connection *c, enum method m, const char **why)
{
	struct framing f = {0};

	MHD_get_connection_values(c, MHD_HEADER_KIND, note_header, &f);
	if (f.lengths_differ) {
		*why = "bad framing: two Content-Length headers that differ";
		return MHD_HTTP_BAD_REQUEST;
	}
	if (f.lengths > 0 && f.codings > 0) {
		*why = "bad framing: Content-Length together with Transfer-Encoding";
		return MHD_HTTP_BAD_REQUEST;
	}
	if (f.codings > 1 || (f.codings == 1 && strcasecmp(f.coding, "chunked") != 0)) {
		*why = "unsupported Transfer-Encoding: only chunked is understood";
		return MHD_HTTP_NOT_IMPLEMENTED;
	}
	if (m == METHOD_PUT && f.lengths == 0 && f.codings == 0) {
		*why = "a PUT needs a Content-Length header or a chunked body";
		return MHD_HTTP_LENGTH_REQUIRED;
	}
	return 0;
}
