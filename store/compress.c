/*
 * compress.c: write a .zst object from a raw one, in bounded memory.
 *
 * The output is one valid zstd stream: a skippable frame with the
 * uncompressed size (so a stat needs 16 bytes, not a decoding), then one
 * frame compressed with the size pledged (so its window is no larger than
 * the object). Any zstd decoder reads the whole file as the object's bytes.
 */
#include "store/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

enum store_result store_write_all(int fd, const void *buf, size_t n, off_t off)
{
	const char *at = buf;

	while (n > 0) {
		ssize_t w = off < 0 ? write(fd, at, n) : pwrite(fd, at, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return store_errno_result();
		at += w;
		n -= (size_t)w;
		if (off >= 0)
			off += w;
	}
	return STORE_OK;
}

void store_zst_header(unsigned char h[STORE_ZST_HEADER], uint64_t size)
{
	static const unsigned char magic[8] = { 0x50, 0x2A, 0x4D, 0x18, 8, 0, 0, 0 };

	memcpy(h, magic, sizeof magic);
	for (int i = 0; i < 8; i++)
		h[8 + i] = (unsigned char)(size >> (8 * i));
}

/* Write the skippable frame that says the object is size bytes. */
static enum store_result write_header(int fd, uint64_t size)
{
	unsigned char h[STORE_ZST_HEADER];

	store_zst_header(h, size);
	return store_write_all(fd, h, sizeof h, -1);
}

/* Buffers and context of one compression. */
struct squeeze {
	ZSTD_CCtx *cctx;
	char *in, *out;
	size_t in_len, out_len;
};

/* Compress the size bytes of in_fd into out_fd, stopping once past max_out bytes. */
static enum store_result squeeze_run(struct squeeze *z, int in_fd, uint64_t size, int out_fd,
                                     uint64_t max_out, uint64_t *written)
{
	uint64_t pos = 0;
	size_t left = 1;  /* zstd's "more to flush"; read before the first call on EINTR */

	do {
		ZSTD_inBuffer in = { z->in, 0, 0 };
		ZSTD_EndDirective end = ZSTD_e_continue;

		if (pos < size) {
			size_t want = size - pos < z->in_len ? (size_t)(size - pos) : z->in_len;
			ssize_t n = pread(in_fd, z->in, want, (off_t)pos);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return STORE_IO_ERROR;  /* the temp file is ours: it cannot shrink */
			in.size = (size_t)n;
			pos += (uint64_t)n;
		}
		if (pos == size)
			end = ZSTD_e_end;
		do {
			ZSTD_outBuffer out = { z->out, z->out_len, 0 };
			enum store_result r;

			left = ZSTD_compressStream2(z->cctx, &out, &in, end);
			if (ZSTD_isError(left))
				return STORE_IO_ERROR;
			*written += out.pos;
			if (*written > max_out)
				return STORE_TOO_LARGE;
			r = store_write_all(out_fd, z->out, out.pos, -1);
			if (r != STORE_OK)
				return r;
		} while (in.pos < in.size || (end == ZSTD_e_end && left > 0));
	} while (pos < size || left > 0);
	return STORE_OK;
}

enum store_result store_compress_fd(int in_fd, uint64_t size, int out_fd, int level,
                                    uint64_t max_out, uint64_t *written)
{
	struct squeeze z = { .in_len = ZSTD_CStreamInSize(), .out_len = ZSTD_CStreamOutSize() };
	enum store_result r = STORE_IO_ERROR;

	*written = STORE_ZST_HEADER;
	z.cctx = ZSTD_createCCtx();
	z.in = malloc(z.in_len);
	z.out = malloc(z.out_len);
	if (z.cctx != NULL && z.in != NULL && z.out != NULL &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(z.cctx, ZSTD_c_compressionLevel, level)) &&
	    !ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(z.cctx, size))) {
		r = write_header(out_fd, size);
		if (r == STORE_OK)
			r = squeeze_run(&z, in_fd, size, out_fd, max_out, written);
	}
	ZSTD_freeCCtx(z.cctx);
	free(z.in);
	free(z.out);
	return r;
}
