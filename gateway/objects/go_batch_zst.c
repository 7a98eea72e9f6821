/*
 * go_batch_zst.c: the /go/batch stream as one zstd stream, for a client
 * that accepts zstd (wire/wire.h). Its decoding is exactly the plain
 * stream. A compressed output goes out as its stored file (a skippable
 * frame, then its frames: no compression per request); the entry lines and
 * the raw outputs between them are compressed on the way into frames of
 * their own, each ended before a stored one starts. The checks are the
 * plain stream's: an output not known to be intact is hashed (a stored one
 * decoded for it) and the stream is cut before its last bytes if it proves
 * damaged, so a client never decodes a damaged output whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zstd.h>

#include "gateway/gateway.h"
#include "gateway/objects/go_batch.h"

/*
 * The level of what is compressed on the way: entry lines, small outputs
 * and the few a compressing store keeps raw (or all of an older store's).
 * The fastest, since it is paid per request.
 */
#define BATCH_ZSTD_LEVEL 1

/* Raw output bytes read at a time, to be compressed. */
#define BATCH_IN_BLOCK (64 * 1024)

/* Where the zstd form stands. */
enum zst_step {
	ZS_NEXT,     /* the next hit: its entry line goes into the frame */
	ZS_RAW,      /* a raw output: read, hashed, compressed */
	ZS_CLOSE,    /* end the open frame before a stored output */
	ZS_STORED,   /* a compressed output's file, as it is */
	ZS_FINISH,   /* the list is over: end the open frame */
	ZS_DONE,
};

struct go_batch_zst {
	ZSTD_CCtx *cctx;
	enum zst_step step;
	ZSTD_inBuffer in;              /* what waits to be compressed */
	uint64_t stored_at;            /* ZS_STORED: the next byte of the file */
	struct store_unzstd *u;        /* ZS_STORED with a check: decodes for the hash */
	char block[BATCH_IN_BLOCK];
};

struct go_batch_zst *go_batch_zst_new(void)
{
	struct go_batch_zst *z = calloc(1, sizeof *z);

	if (z == NULL)
		return NULL;
	z->cctx = ZSTD_createCCtx();
	if (z->cctx == NULL ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, BATCH_ZSTD_LEVEL))) {
		go_batch_zst_free(z);
		return NULL;
	}
	z->step = ZS_NEXT;
	return z;
}

void go_batch_zst_free(struct go_batch_zst *z)
{
	if (z == NULL)
		return;
	ZSTD_freeCCtx(z->cctx);
	store_unzstd_free(z->u);
	free(z);
}

/*
 * Compress what waits into out, ending the frame when end. Returns false on
 * a compressor error; *ended true once the frame is whole.
 */
static bool zst_compress(struct go_batch_zst *z, ZSTD_outBuffer *out, bool end, bool *ended)
{
	size_t left = ZSTD_compressStream2(z->cctx, out, &z->in, end ? ZSTD_e_end : ZSTD_e_continue);

	if (ZSTD_isError(left))
		return false;
	*ended = end && left == 0;
	return true;
}

/* Start the next hit, or the end of the list. False when out of memory. */
static bool zst_next_hit(struct go_batch *b, struct go_batch_zst *z)
{
	if (!go_batch_advance(b)) {
		z->step = ZS_FINISH;
		return true;
	}
	z->in = (ZSTD_inBuffer){b->head, GO_ENTRY_LEN, 0};
	b->head_sent = GO_ENTRY_LEN;
	if (b->obj.encoding != STORE_ZSTD) {
		z->step = ZS_RAW;
		return (b->rd = store_reader_new(&b->obj)) != NULL;
	}
	z->step = ZS_CLOSE;
	z->stored_at = 0;
	if (b->check == NULL)
		return true;
	z->u = store_unzstd_new(b->obj.size > 0 ? b->obj.size : 1);
	return z->u != NULL;
}

/* Read the next raw output bytes to be compressed; false when the output is damaged or lost. */
static bool zst_read_raw(struct go_batch *b, struct go_batch_zst *z)
{
	size_t want = b->left < sizeof z->block ? (size_t)b->left : sizeof z->block, n = 0;
	enum store_result res = want > 0 ? store_reader_read(b->rd, z->block, want, &n) : STORE_OK;

	if (res != STORE_OK || (want > 0 && n == 0)) {
		/* A file that shrank (or broke) under us: the stream cannot go on framed. */
		go_batch_output_done(b, false);
		return false;
	}
	if (b->check != NULL)
		store_check_update(b->check, z->block, n);
	b->left -= n;
	z->in = (ZSTD_inBuffer){z->block, n, 0};
	if (b->left > 0)
		return true;
	/* Its last bytes are not compressed before the whole proved intact. */
	z->step = ZS_NEXT;
	return go_batch_output_done(b, true);
}

/* store_sink: feed decoded bytes to the struct store_check ctx. */
static enum store_result zst_check_sink(void *ctx, const void *buf, size_t n)
{
	store_check_update(ctx, buf, n);
	return STORE_OK;
}

/*
 * Copy the next bytes of a stored output's file into buf (at most max) and
 * count them in *got; false when it proves damaged before its last bytes
 * are handed over.
 */
static bool zst_copy_stored(struct go_batch *b, struct go_batch_zst *z, char *buf, size_t max,
                            size_t *got)
{
	uint64_t left = b->obj.stored_size - z->stored_at;
	bool whole = true;
	ssize_t n;

	if (max > left)
		max = (size_t)left;
	do
		n = pread(b->fd, buf, max, (off_t)z->stored_at);
	while (n < 0 && errno == EINTR);
	if (n <= 0 && max > 0) {
		go_batch_output_done(b, false);
		return false;
	}
	*got = (size_t)(n > 0 ? n : 0);
	if (z->u != NULL && store_unzstd_feed(z->u, buf, *got, zst_check_sink, b->check) != STORE_OK) {
		go_batch_output_done(b, false);
		return false;
	}
	z->stored_at += *got;
	if (z->stored_at < b->obj.stored_size)
		return true;
	if (z->u != NULL)
		whole = store_unzstd_complete(z->u) && store_unzstd_size(z->u) == b->obj.size;
	store_unzstd_free(z->u);
	z->u = NULL;
	z->step = ZS_NEXT;
	return go_batch_output_done(b, whole);
}

ssize_t go_batch_zst_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct go_batch *b = cls;
	struct go_batch_zst *z = b->zst;
	ZSTD_outBuffer out = {buf, max, 0};
	bool ended = false;

	(void)pos;
	while (out.pos < out.size && z->step != ZS_DONE) {
		size_t got = 0;

		/* What waits is compressed first: the frame goes on until its input is used up. */
		if (z->in.pos < z->in.size) {
			if (!zst_compress(z, &out, false, &ended))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			continue;
		}
		switch (z->step) {
		case ZS_NEXT:
			if (!zst_next_hit(b, z))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			break;
		case ZS_RAW:
			if (!zst_read_raw(b, z))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			break;
		case ZS_CLOSE:
		case ZS_FINISH:
			if (!zst_compress(z, &out, true, &ended))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			if (ended)
				z->step = z->step == ZS_CLOSE ? ZS_STORED : ZS_DONE;
			break;
		case ZS_STORED:
			if (!zst_copy_stored(b, z, (char *)out.dst + out.pos, out.size - out.pos, &got))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			out.pos += got;
			break;
		case ZS_DONE:
			break;
		}
	}
	if (out.pos == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	*b->sent += out.pos;
	metrics_count_sent(b->gw->metrics, STORE_ZSTD, out.pos);
	return (ssize_t)out.pos;
}
