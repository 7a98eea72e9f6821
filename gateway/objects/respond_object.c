/*
 * respond_object.c: answer with an object's bytes, never with a damaged
 * CAS object's.
 *
 * Small objects are read into the answer and hashed there. A large CAS
 * object whose file was already hashed whole (integrity.h) goes out by
 * sendfile; otherwise it streams through a reader that hashes it on the
 * way and checks the hash before handing over its last bytes, so a damaged
 * object's answer ends short of its Content-Length: the client sees a
 * broken transfer, never a complete wrong one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "gateway/jobs/integrity.h"
#include "gateway/http/respond.h"
#include "gateway/objects/respond_zst.h"
#include "wire/wire.h"

/*
 * Objects up to this size are read into the response, so that headers and
 * body leave in one send (one packet, one wake-up of the client); larger
 * ones go out with sendfile. Bounds the memory a response may hold.
 */
#define SMALL_OBJECT_MAX (16 * 1024)

/* Bytes a verifying stream reads at a time. */
#define STREAM_BLOCK (256 * 1024)

/* Read size bytes of fd into a fresh buffer, or NULL. */
static char *read_whole(int fd, uint64_t size)
{
	char *body = malloc(size > 0 ? size : 1);
	size_t got = 0;

	while (body != NULL && got < size) {
		ssize_t n = pread(fd, body + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (body != NULL && got != size) {
		free(body);
		return NULL;
	}
	return body;
}

/* True when the n bytes at buf hash to CAS id. */
static bool bytes_intact(const char *id, const char *buf, size_t n)
{
	struct store_check *c = store_check_new(id);
	bool intact;

	if (c == NULL)
		return false;
	store_check_update(c, buf, n);
	intact = store_check_intact(c);
	store_check_free(c);
	return intact;
}

/* A large CAS object on its way out, hashed as it goes. */
struct verified_stream {
	struct integrity *integrity;
	int fd;
	struct stat st;
	uint64_t next;               /* the offset the hash has reached */
	struct store_check *check;
	char id[STORE_ID_LEN + 1];
};

/* libmicrohttpd asks for bytes from pos; the last ones only if the whole hashes right. */
static ssize_t verified_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct verified_stream *v = cls;
	uint64_t size = (uint64_t)v->st.st_size;
	ssize_t n;

	if (pos != v->next)
		return MHD_CONTENT_READER_END_WITH_ERROR;  /* the hash needs every byte in order */
	if (max > size - pos)
		max = (size_t)(size - pos);
	do
		n = pread(v->fd, buf, max, (off_t)pos);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	store_check_update(v->check, buf, (size_t)n);
	v->next += (uint64_t)n;
	if (n > 0 && v->next < size)
		return n;
	/* The end: of the object, or of a file shorter than it was. */
	if (v->next == size && store_check_intact(v->check)) {
		integrity_mark_good(v->integrity, v->id, &v->st);
		return n;
	}
	integrity_damaged(v->integrity, v->id, &v->st, DAMAGE_READ);
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The response is done with the stream. */
static void verified_free(void *cls)
{
	struct verified_stream *v = cls;

	close(v->fd);
	store_check_free(v->check);
	free(v);
}

/* A response streaming obj (whose fd it takes) through the hash of id, or NULL. */
static struct MHD_Response *verified_response(struct gateway *gw, struct store_object *obj,
                                              const char *id)
{
	struct verified_stream *v = calloc(1, sizeof(*v));
	struct MHD_Response *resp;

	if (v == NULL || (v->check = store_check_new(id)) == NULL) {
		free(v);
		close(obj->fd);
		return NULL;
	}
	v->integrity = gw->integrity;
	v->fd = obj->fd;
	v->st = obj->st;
	memcpy(v->id, id, sizeof(v->id));
	resp = MHD_create_response_from_callback(obj->size, STREAM_BLOCK, verified_read, v,
	                                         verified_free);
	if (resp == NULL)
		verified_free(v);
	return resp;
}

/* Add the headers every object answer carries, then queue it and count its body. */
static enum MHD_Result queue_encoded(struct MHD_Connection *c, struct request *r,
                                     struct MHD_Response *resp, uint64_t size,
                                     const char *entry, enum store_encoding enc)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	if (entry != NULL)
		MHD_add_response_header(resp, WIRE_ENTRY_HEADER, entry);
	if (enc == STORE_ZSTD)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, WIRE_ZSTD);
	/* What /cas and /go send depends on Accept-Encoding (for a compressed object). */
	if (r->route == ENDPOINT_CAS || r->route == ENDPOINT_GO)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	ret = respond_queue(c, r, MHD_HTTP_OK, resp, size);
	if (ret == MHD_YES && r->method == METHOD_GET)
		metrics_count_sent(r->gw->metrics, enc, size);
	return ret;
}

/* queue_encoded for the raw bytes. */
static enum MHD_Result queue_object(struct MHD_Connection *c, struct request *r,
                                    struct MHD_Response *resp, uint64_t size, const char *entry)
{
	return queue_encoded(c, r, resp, size, entry, STORE_IDENTITY);
}

/*
 * Answer with a compressed CAS object: as stored to a client of /cas or
 * /go/<action> that accepts zstd, decoded to anyone else. Takes obj->fd.
 */
static enum MHD_Result respond_compressed(struct MHD_Connection *c, struct request *r,
                                          struct store_object *obj, const char *cas_id,
                                          const char *entry)
{
	bool as_stored = (r->route == ENDPOINT_CAS || r->route == ENDPOINT_GO) && zst_accepted(c);
	struct MHD_Response *resp;

	/* A small known-good file goes out in the answer's one send, as respond_small's do. */
	if (as_stored && r->method == METHOD_GET && obj->stored_size <= SMALL_OBJECT_MAX &&
	    integrity_known_good(r->gw->integrity, cas_id, &obj->st)) {
		char *body = read_whole(obj->fd, obj->stored_size);

		close(obj->fd);
		if (body == NULL)
			return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			                    "store error: cannot read the object");
		resp = MHD_create_response_from_buffer(obj->stored_size, body, MHD_RESPMEM_MUST_FREE);
		if (resp == NULL)
			free(body);
		return queue_encoded(c, r, resp, obj->stored_size, entry, STORE_ZSTD);
	}
	resp = zst_response(r->gw, obj, cas_id, as_stored, r->method == METHOD_HEAD);
	return queue_encoded(c, r, resp, as_stored ? obj->stored_size : obj->size, entry,
	                     as_stored ? STORE_ZSTD : STORE_IDENTITY);
}

/*
 * Answer with a small object read whole into the answer (a HEAD sends only
 * its length), after checking a CAS object's hash unless its file is known
 * good. Closes obj->fd.
 */
static enum MHD_Result respond_small(struct MHD_Connection *c, struct request *r,
                                     struct store_object *obj, const char *cas_id,
                                     const char *entry)
{
	struct integrity *ig = r->gw->integrity;
	char *body = read_whole(obj->fd, obj->size);
	struct MHD_Response *resp;

	close(obj->fd);
	if (body == NULL)
		return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "store error: cannot read the object");
	if (cas_id != NULL && !integrity_known_good(ig, cas_id, &obj->st)) {
		if (!bytes_intact(cas_id, body, obj->size)) {
			free(body);
			integrity_damaged(ig, cas_id, &obj->st, DAMAGE_READ);
			return respond_text(c, r, MHD_HTTP_NOT_FOUND, "not found");
		}
		integrity_mark_good(ig, cas_id, &obj->st);
	}
	resp = MHD_create_response_from_buffer(obj->size, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		free(body);
	return queue_object(c, r, resp, obj->size, entry);
}

enum MHD_Result respond_object(struct MHD_Connection *c, struct request *r,
                               struct store_object *obj, const char *cas_id,
                               const char *entry)
{
	struct MHD_Response *resp;

	if (obj->encoding == STORE_ZSTD && cas_id != NULL)
		return respond_compressed(c, r, obj, cas_id, entry);
	if (obj->size <= SMALL_OBJECT_MAX && (r->method == METHOD_GET || cas_id != NULL))
		return respond_small(c, r, obj, cas_id, entry);
	if (r->method == METHOD_GET && cas_id != NULL &&
	    !integrity_known_good(r->gw->integrity, cas_id, &obj->st)) {
		resp = verified_response(r->gw, obj, cas_id);
	} else {
		/* A HEAD of a large object sends no byte: its length is all it tells. */
		resp = MHD_create_response_from_fd64(obj->size, obj->fd);
		if (resp == NULL)
			close(obj->fd);
	}
	return queue_object(c, r, resp, obj->size, entry);
}
