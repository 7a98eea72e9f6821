/*
 * decode.c: the uncompressed bytes of compressed objects, in bounded memory.
 *
 * A decoder holds one zstd context with its window capped at
 * 1 << STORE_ZSTD_WINDOW_LOG_MAX bytes, and one output block; it never
 * yields more bytes than its limit. Frames that need a larger window, or
 * that do not decode, are STORE_BAD_ENCODING: the caller treats the object
 * (or the upload) as damaged. A reader pulls an object's bytes through a
 * decoder, or straight from the file when it is raw.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

/* Bytes store_decode_temp moves at a time. */
#define STORE_DECODE_BLOCK (128 * 1024)

/* The largest window a frame may ask for: 16 MiB (zstd's levels 1-19 use at most 8 MiB). */
#define STORE_ZSTD_WINDOW_LOG_MAX 24

struct store_unzstd {
	ZSTD_DCtx *dctx;
	uint64_t limit;      /* 0: any */
	uint64_t out;        /* bytes decoded */
	size_t last;         /* ZSTD_decompressStream's last hint: 0 at a frame's end */
	bool fed;
	size_t block_len;
	char *block;         /* decoded bytes on their way to the sink */
};

struct store_unzstd *store_unzstd_new(uint64_t limit)
{
	struct store_unzstd *u = calloc(1, sizeof *u);

	if (u == NULL)
		return NULL;
	u->limit = limit;
	u->block_len = ZSTD_DStreamOutSize();
	u->block = malloc(u->block_len);
	u->dctx = ZSTD_createDCtx();
	if (u->block == NULL || u->dctx == NULL ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(u->dctx, ZSTD_d_windowLogMax,
	                                        STORE_ZSTD_WINDOW_LOG_MAX))) {
		store_unzstd_free(u);
		return NULL;
	}
	return u;
}

/*
 * Decode from *in into out until in is used up or out is full; the bytes
 * made are added to out->pos. STORE_BAD_ENCODING when the input is not zstd
 * or decodes past the limit.
 */
static enum store_result unzstd_step(struct store_unzstd *u, ZSTD_inBuffer *in,
                                     ZSTD_outBuffer *out)
{
	size_t before = out->pos, in_before = in->pos;
	size_t hint = ZSTD_decompressStream(u->dctx, out, in);

	if (ZSTD_isError(hint))
		return STORE_BAD_ENCODING;
	/*
	 * A call that moved nothing (after a block that filled the output
	 * exactly, at a frame's end) hints at a next frame: it says nothing.
	 */
	if (in->pos != in_before || out->pos != before)
		u->last = hint;
	u->out += out->pos - before;
	if (u->limit > 0 && u->out > u->limit)
		return STORE_BAD_ENCODING;
	return STORE_OK;
}

enum store_result store_unzstd_feed(struct store_unzstd *u, const void *buf, size_t n,
                                    store_sink sink, void *ctx)
{
	ZSTD_inBuffer in = { buf, n, 0 };

	u->fed |= n > 0;
	for (;;) {
		ZSTD_outBuffer out = { u->block, u->block_len, 0 };
		enum store_result r = unzstd_step(u, &in, &out);

		if (r == STORE_OK && out.pos > 0)
			r = sink(ctx, u->block, out.pos);
		if (r != STORE_OK)
			return r;
		/* A full block may leave more output inside zstd even with the input used up. */
		if (in.pos == in.size && out.pos < out.size)
			return STORE_OK;
	}
}

bool store_unzstd_complete(const struct store_unzstd *u)
{
	return u->fed && u->last == 0;
}

uint64_t store_unzstd_size(const struct store_unzstd *u)
{
	return u->out;
}

void store_unzstd_free(struct store_unzstd *u)
{
	if (u == NULL)
		return;
	ZSTD_freeDCtx(u->dctx);
	free(u->block);
	free(u);
}

bool store_zst_header_size(const unsigned char h[STORE_ZST_HEADER], uint64_t *size)
{
	/* Magic 0x184D2A50 (a skippable frame), then its length 8, little-endian. */
	if (h[0] != 0x50 || h[1] != 0x2A || h[2] != 0x4D || h[3] != 0x18 ||
	    h[4] != 8 || h[5] != 0 || h[6] != 0 || h[7] != 0)
		return false;
	*size = 0;
	for (int i = 7; i >= 0; i--)
		*size = *size << 8 | h[8 + i];
	return true;
}

bool store_zst_size(int fd, uint64_t *size)
{
	unsigned char h[STORE_ZST_HEADER];
	ssize_t n;

	do
		n = pread(fd, h, sizeof h, 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof h && store_zst_header_size(h, size);
}

struct store_reader {
	int fd;
	uint64_t size;           /* the object's uncompressed size */
	uint64_t pos;            /* of the file: the next byte to read */
	uint64_t given;          /* uncompressed bytes handed out */
	struct store_unzstd *u;  /* NULL for a raw object */
	ZSTD_inBuffer in;
	char *in_buf;
};

struct store_reader *store_reader_new(const struct store_object *o)
{
	struct store_reader *rd = calloc(1, sizeof *rd);

	if (rd == NULL)
		return NULL;
	rd->fd = o->fd;
	rd->size = o->size;
	if (o->encoding != STORE_ZSTD)
		return rd;
	rd->u = store_unzstd_new(o->size > 0 ? o->size : 1);
	rd->in_buf = malloc(ZSTD_DStreamInSize());
	if (rd->u == NULL || rd->in_buf == NULL) {
		store_reader_free(rd);
		return NULL;
	}
	rd->in.src = rd->in_buf;
	return rd;
}

/* pread the next compressed bytes into the reader's input; *eof when there are none. */
static enum store_result refill(struct store_reader *rd, bool *eof)
{
	ssize_t n;

	do
		n = pread(rd->fd, rd->in_buf, ZSTD_DStreamInSize(), (off_t)rd->pos);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return STORE_IO_ERROR;
	rd->pos += (uint64_t)n;
	rd->in.size = (size_t)n;
	rd->in.pos = 0;
	*eof = n == 0;
	return STORE_OK;
}

/*
 * Past the object's last byte: the rest of the file must decode to nothing
 * (the frame's epilogue, then any empty or skippable frames a client sent)
 * and end at a frame's end. It is decoded through a spare byte that must
 * stay unused.
 */
static enum store_result read_end(struct store_reader *rd)
{
	char spare;
	bool eof = false;
	enum store_result r;

	for (;;) {
		ZSTD_outBuffer out = { &spare, 1, 0 };
		size_t before;

		if (rd->in.pos == rd->in.size) {
			r = refill(rd, &eof);
			if (r != STORE_OK)
				return r;
			if (eof)
				return rd->u->last == 0 ? STORE_OK : STORE_BAD_ENCODING;
		}
		before = rd->in.pos;
		r = unzstd_step(rd->u, &rd->in, &out);  /* a byte more is over the limit */
		if (r != STORE_OK)
			return r;
		if (rd->in.pos == before)
			return STORE_BAD_ENCODING;  /* no progress: not zstd */
	}
}

/* The next decoded bytes of a compressed object; the last ones only once its end checks out. */
static enum store_result read_zstd(struct store_reader *rd, void *buf, size_t n, size_t *got)
{
	ZSTD_outBuffer out = { buf, n, 0 };
	bool eof = false;

	while (out.pos == 0 && rd->given < rd->size) {
		enum store_result r;

		if (rd->in.pos == rd->in.size) {
			r = refill(rd, &eof);
			if (r != STORE_OK)
				return r;
			if (eof)
				return STORE_BAD_ENCODING;  /* the file ended before the object */
		}
		r = unzstd_step(rd->u, &rd->in, &out);
		if (r != STORE_OK)
			return r;
		rd->given += out.pos;
	}
	*got = out.pos;
	return rd->given < rd->size ? STORE_OK : read_end(rd);
}

enum store_result store_reader_read(struct store_reader *rd, void *buf, size_t n,
                                    size_t *got)
{
	ssize_t r;

	*got = 0;
	if (rd->u != NULL)
		return rd->given < rd->size ? read_zstd(rd, buf, n, got) : STORE_OK;
	if (n > rd->size - rd->given)
		n = (size_t)(rd->size - rd->given);
	if (n == 0)
		return STORE_OK;
	do
		r = pread(rd->fd, buf, n, (off_t)rd->pos);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return STORE_IO_ERROR;
	rd->pos += (uint64_t)r;
	rd->given += (uint64_t)r;
	*got = (size_t)r;
	return STORE_OK;
}

void store_reader_free(struct store_reader *rd)
{
	if (rd == NULL)
		return;
	store_unzstd_free(rd->u);
	free(rd->in_buf);
	free(rd);
}

/* A file no one can find under the store's tmp/, open for reading and writing, or -1. */
static int unnamed_temp(struct store *s)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof path, "%s/tmp", s->dir);
	fd = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	snprintf(path, sizeof path, "%s/tmp/decoded-XXXXXX", s->dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

enum store_result store_decode_temp(struct store *s, const struct store_object *o, int *out)
{
	struct store_reader *rd = store_reader_new(o);
	char *buf = malloc(STORE_DECODE_BLOCK);
	enum store_result r = rd != NULL && buf != NULL ? STORE_OK : STORE_IO_ERROR;
	int fd = r == STORE_OK ? unnamed_temp(s) : -1;
	uint64_t done = 0;
	size_t got = 1;

	if (r == STORE_OK && fd < 0)
		r = store_errno_result();
	while (r == STORE_OK && done < o->size && got > 0) {
		r = store_reader_read(rd, buf, STORE_DECODE_BLOCK, &got);
		for (size_t at = 0; r == STORE_OK && at < got;) {
			ssize_t w = write(fd, buf + at, got - at);
			if (w < 0 && errno != EINTR)
				r = store_errno_result();
			at += w > 0 ? (size_t)w : 0;
		}
		done += got;
	}
	if (r == STORE_OK && done != o->size)
		r = STORE_BAD_ENCODING;
	store_reader_free(rd);
	free(buf);
	if (r != STORE_OK && fd >= 0)
		close(fd);
	*out = r == STORE_OK ? fd : -1;
	return r;
}
