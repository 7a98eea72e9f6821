/*
 * respond_zst.c: answers with a compressed CAS object, never a damaged one
 * whole.
 *
 * To a client that accepts zstd the object's file goes out as it is stored
 * (one valid zstd stream): by sendfile when the file is known good, else
 * read, decoded and hashed on the way. Anyone else gets the decoded bytes.
 * Either way a stream checks the hash (and that the frames decode to the
 * object's size) before it hands over its last bytes, so a damaged object's
 * answer ends short of its Content-Length.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "gateway/jobs/integrity.h"
#include "gateway/objects/respond_zst.h"
#include "wire/encoding.h"

/* Bytes a stream reads at a time. */
#define ZST_BLOCK (256 * 1024)

/* A compressed object on its way out. */
struct zst_stream {
	struct integrity *integrity;
	struct store_object obj;      /* its fd is the stream's */
	bool as_stored;               /* the file's bytes, else the decoded ones */
	uint64_t length;              /* of the answer's body */
	uint64_t next;                /* the offset reached */
	struct store_check *check;    /* NULL: no hash needed (known good, raw out) */
	struct store_unzstd *u;       /* as_stored with a check: decodes for it */
	struct store_reader *rd;      /* !as_stored: the decoded bytes */
	char id[STORE_ID_LEN + 1];
};

bool zst_accepted(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_ACCEPT_ENCODING);

	return v != NULL && wire_accepts_zstd(v, strlen(v));
}

/* store_sink: feed decoded bytes to the struct store_check ctx. */
static enum store_result check_sink(void *ctx, const void *buf, size_t n)
{
	store_check_update(ctx, buf, n);
	return STORE_OK;
}

/* Read the next bytes of the answer into buf: STORE_BAD_ENCODING when the frames are broken. */
static enum store_result zst_next(struct zst_stream *z, char *buf, size_t max, size_t *got)
{
	enum store_result r;
	ssize_t n;

	if (!z->as_stored) {
		r = store_reader_read(z->rd, buf, max, got);
		if (r == STORE_OK && z->check != NULL)
			store_check_update(z->check, buf, *got);
		return r;
	}
	do
		n = pread(z->obj.fd, buf, max, (off_t)z->next);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return STORE_IO_ERROR;
	*got = (size_t)n;
	return store_unzstd_feed(z->u, buf, *got, check_sink, z->check);
}

/* True when every byte is out and the object proved intact (or needed no proof). */
static bool zst_intact(struct zst_stream *z)
{
	if (z->next != z->length)
		return false;
	if (z->u != NULL &&
	    (!store_unzstd_complete(z->u) || store_unzstd_size(z->u) != z->obj.size))
		return false;
	return z->check == NULL || store_check_intact(z->check);
}

/* libmicrohttpd asks for bytes from pos; the last ones only if the object is intact. */
static ssize_t zst_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct zst_stream *z = cls;
	enum store_result r;
	size_t n = 0;

	if (pos != z->next)
		return MHD_CONTENT_READER_END_WITH_ERROR;  /* the checks need every byte in order */
	if (max > z->length - pos)
		max = (size_t)(z->length - pos);
	r = zst_next(z, buf, max, &n);
	if (r == STORE_IO_ERROR)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	z->next += n;
	if (r == STORE_OK && n > 0 && z->next < z->length)
		return (ssize_t)n;
	/* The end: of the object, of a file shorter than it, or of frames that broke. */
	if (r == STORE_OK && zst_intact(z)) {
		if (z->check != NULL)
			integrity_mark_good(z->integrity, z->id, &z->obj.st);
		return (ssize_t)n;
	}
	integrity_damaged(z->integrity, z->id, &z->obj.st, DAMAGE_READ);
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The response is done with the stream. */
static void zst_free(void *cls)
{
	struct zst_stream *z = cls;

	close(z->obj.fd);
	store_check_free(z->check);
	store_unzstd_free(z->u);
	store_reader_free(z->rd);
	free(z);
}

struct MHD_Response *zst_response(struct gateway *gw, struct store_object *obj,
                                  const char *id, bool as_stored, bool head)
{
	bool good = integrity_known_good(gw->integrity, id, &obj->st);
	struct zst_stream *z;
	struct MHD_Response *resp;

	if (as_stored && (good || head)) {
		resp = MHD_create_response_from_fd64(obj->stored_size, obj->fd);
		if (resp == NULL)
			close(obj->fd);
		return resp;
	}
	z = calloc(1, sizeof(*z));
	if (z == NULL) {
		close(obj->fd);
		return NULL;
	}
	z->integrity = gw->integrity;
	z->obj = *obj;
	z->as_stored = as_stored;
	z->length = as_stored ? obj->stored_size : obj->size;
	memcpy(z->id, id, sizeof(z->id));
	if ((!good && (z->check = store_check_new(id)) == NULL) ||
	    (as_stored && (z->u = store_unzstd_new(obj->size > 0 ? obj->size : 1)) == NULL) ||
	    (!as_stored && (z->rd = store_reader_new(obj)) == NULL)) {
		zst_free(z);
		return NULL;
	}
	resp = MHD_create_response_from_callback(z->length, ZST_BLOCK, zst_read, z, zst_free);
	if (resp == NULL)
		zst_free(z);
	return resp;
}
