/*
 * upload_zstd.c: PUT /cas/<output> compressed, by bazel-remote's HTTP
 * convention (wire.h): "Content-Encoding: zstd", the raw size in
 * X-Digest-SizeBytes, and a body that libzstd's streaming API makes from
 * the local file inside libcurl's read callback, so on the network thread,
 * a read buffer and one compressor's state at a time (never the whole
 * output), sent chunked since its length is not known ahead. Only to a
 * server that said "Accept-Encoding: zstd" in an answer (RFC 7694): a plain
 * /ac + /cas server would keep the compressed bytes as the object.
 */
#include "proghelper/remote_job.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "wire/wire.h"

#define UPLOAD_ZSTD_READ (128 * 1024)  /* bytes read from the file at a time */

/* One compressed PUT on its way: what has been read of the file, and the compressor. */
struct upload_zstd {
	ZSTD_CCtx *cctx;
	ZSTD_inBuffer in;                  /* over buf: read, not yet compressed */
	uint64_t raw;                      /* bytes read from the file */
	bool ended;                        /* the frame is complete: the body is over */
	unsigned char buf[UPLOAD_ZSTD_READ];
};

bool upload_zstd_wanted(const struct remote *r, const struct job *j)
{
	return r->compression && r->zstd_up && !r->zstd_refused && j->entry.size >= STORE_COMPRESS_MIN;
}

/* Read the next piece of j's file, at most what its entry still promises; false on an error or early end. */
static bool upload_zstd_fill(struct job *j, struct upload_zstd *z)
{
	uint64_t left = (uint64_t)j->entry.size - z->raw;
	size_t want = left < sizeof z->buf ? (size_t)left : sizeof z->buf;
	ssize_t n;

	do
		n = read(j->fd, z->buf, want);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return false;  /* an error, or a file shorter than its entry */
	z->in.src = z->buf;
	z->in.size = (size_t)n;
	z->in.pos = 0;
	z->raw += (uint64_t)n;
	return true;
}

/* libcurl's read callback of a compressed PUT: fill buf with the next compressed bytes; 0 at the end. */
static size_t upload_zstd_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct job *j = arg;
	struct upload_zstd *z = j->zput;
	ZSTD_outBuffer out = { buf, size * nitems, 0 };

	while (out.pos < out.size && !z->ended) {
		bool last;
		size_t left;

		if (z->in.pos == z->in.size && z->raw < (uint64_t)j->entry.size && !upload_zstd_fill(j, z))
			return CURL_READFUNC_ABORT;
		last = z->in.pos == z->in.size && z->raw == (uint64_t)j->entry.size;
		left = ZSTD_compressStream2(z->cctx, &out, &z->in, last ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return CURL_READFUNC_ABORT;
		z->ended = last && left == 0;
	}
	return out.pos;
}

/* A compressor at the helper's level, reset for a body of size bytes; NULL when out of memory. */
static ZSTD_CCtx *upload_zstd_cctx(struct remote *r, uint64_t size)
{
	ZSTD_CCtx *c = r->ncctx > 0 ? r->cctx[--r->ncctx] : ZSTD_createCCtx();

	if (c == NULL)
		return NULL;
	/* The size in the frame's header also fits the window to the output. */
	if (ZSTD_isError(ZSTD_CCtx_reset(c, ZSTD_reset_session_only)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, r->compression_level)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(c, size))) {
		ZSTD_freeCCtx(c);
		return NULL;
	}
	return c;
}

/* j's request headers: those of every upload, then the two that say the body is compressed. */
static struct curl_slist *upload_zstd_headers(struct remote *r, const struct job *j)
{
	struct curl_slist *list = NULL, *l;
	const struct curl_slist *h;
	char size[sizeof WIRE_RAW_SIZE_HEADER ": " + 20];

	snprintf(size, sizeof size, "%s: %" PRId64, WIRE_RAW_SIZE_HEADER, j->entry.size);
	for (h = r->upload_headers; h != NULL; h = h->next) {
		if ((l = curl_slist_append(list, h->data)) == NULL)
			goto fail;
		list = l;
	}
	if ((l = curl_slist_append(list, "Content-Encoding: " WIRE_ZSTD)) == NULL)
		goto fail;
	list = l;
	if ((l = curl_slist_append(list, size)) == NULL)
		goto fail;
	return l;
fail:
	curl_slist_free_all(list);
	return NULL;
}

bool upload_zstd_setup(struct remote *r, struct job *j, CURL *e)
{
	struct upload_zstd *z = calloc(1, sizeof *z);

	j->zput = z;
	if (z == NULL || (z->cctx = upload_zstd_cctx(r, (uint64_t)j->entry.size)) == NULL ||
	    (j->put_headers = upload_zstd_headers(r, j)) == NULL) {
		upload_zstd_end(r, j);
		return false;
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->put_headers);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, upload_zstd_read);
	curl_easy_setopt(e, CURLOPT_READDATA, j);
	return true;
}

uint64_t upload_zstd_raw(const struct job *j)
{
	return j->zput != NULL ? j->zput->raw : 0;
}

void upload_zstd_end(struct remote *r, struct job *j)
{
	struct upload_zstd *z = j->zput;

	if (z != NULL && z->cctx != NULL) {
		if (r->ncctx < REMOTE_MAX_UPLOADS)
			r->cctx[r->ncctx++] = z->cctx;
		else
			ZSTD_freeCCtx(z->cctx);
	}
	free(z);
	j->zput = NULL;
	curl_slist_free_all(j->put_headers);
	j->put_headers = NULL;
}

void upload_zstd_free_all(struct remote *r)
{
	while (r->ncctx > 0)
		ZSTD_freeCCtx(r->cctx[--r->ncctx]);
}
