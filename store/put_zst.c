/*
 * put_zst.c: the compressed forms of a CAS put.
 *
 * A raw put, once verified, is compressed at the store's level, when the
 * store compresses raw puts, into a second unnamed file, <id>.zst, kept
 * instead of the raw one when it saves at least an eighth of the bytes
 * (compress.c); else it stays raw.
 *
 * A put fed a zstd stream (store_put_take_zstd) decodes it only to hash
 * and count the raw bytes: with a compression level, the stream is written
 * as it came after the size header (a size header of its own at its start,
 * as a .zst object's file begins, is dropped: the put writes its own), and
 * at commit kept as <id>.zst when it pays by the same rule, else decoded
 * into a raw put. A store without compression writes the decoded bytes,
 * as any raw put. Either way nothing is named before the whole stream is
 * verified, so readers see the old object or the whole new one.
 */
#include "store/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes a decoded stream moves at a time when it is kept raw after all. */
#define STORE_SETTLE_BLOCK (64 * 1024)

/* True when keeping size raw bytes in stored bytes on disk saves at least an eighth. */
static bool pays(uint64_t size, uint64_t stored)
{
	return size >= STORE_COMPRESS_MIN && stored <= size - size / 8;
}

/*
 * The most stream bytes a put of at most limit raw bytes takes: more than
 * any frames of that much need; the rest would be padding (skippable frames).
 */
static uint64_t stream_bound(uint64_t limit)
{
	return limit + limit / 64 + 65536;
}

enum store_result store_put_take_zstd(struct store_put *p)
{
	enum store_result r;

	if (p->kind != STORE_CAS || p->size > 0 || p->unzstd != NULL)
		return STORE_IO_ERROR;  /* a caller's mistake: only a fresh CAS put takes a stream */
	p->unzstd = store_unzstd_new(0);  /* the sinks keep the limit */
	if (p->unzstd == NULL)
		return STORE_IO_ERROR;
	if (p->store->opts.compression_level == 0)
		return STORE_OK;
	r = store_encoded_path(p->store, p->kind, p->id, STORE_ZSTD, p->final_path,
	                       sizeof p->final_path);
	if (r == STORE_OK && lseek(p->fd, STORE_ZST_HEADER, SEEK_SET) < 0)
		r = STORE_IO_ERROR;
	p->zst = p->keep_frames = r == STORE_OK;
	return r;
}

/* store_sink: the decoded bytes of a kept stream, hashed and counted within the limit. */
static enum store_result count_sink(void *ctx, const void *buf, size_t n)
{
	struct store_put *p = ctx;

	if (p->limit > 0 && (n > p->limit || p->size > p->limit - n))
		return STORE_TOO_LARGE;
	if (EVP_DigestUpdate(p->digest, buf, n) != 1)
		return STORE_IO_ERROR;
	p->size += n;
	return STORE_OK;
}

/* store_sink: the decoded bytes of a stream not kept, written as a raw put's. */
static enum store_result raw_sink(void *ctx, const void *buf, size_t n)
{
	return store_put_raw(ctx, buf, n);
}

/* Append n bytes of the stream to p's file, after the header. */
static enum store_result write_stream(struct store_put *p, const void *buf, size_t n)
{
	const char *at = buf;

	while (n > 0) {
		ssize_t w = write(p->fd, at, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			enum store_result r = store_errno_result();
			return r == STORE_NOT_FOUND ? STORE_IO_ERROR : r;
		}
		at += w;
		n -= (size_t)w;
	}
	return STORE_OK;
}

/* Write the held start of the stream, unless it is a size header of its own. */
static enum store_result judge_head(struct store_put *p)
{
	uint64_t ignored;
	size_t held = p->held;

	p->held = STORE_ZST_HEADER;
	if (held == STORE_ZST_HEADER && store_zst_header_size(p->head, &ignored))
		return STORE_OK;
	return write_stream(p, p->head, held);
}

/* Keep n bytes of the stream; its first STORE_ZST_HEADER are held until judged. */
static enum store_result keep(struct store_put *p, const unsigned char *buf, size_t n)
{
	enum store_result r;

	if (p->held < STORE_ZST_HEADER) {
		size_t take = n < STORE_ZST_HEADER - p->held ? n : STORE_ZST_HEADER - p->held;

		memcpy(p->head + p->held, buf, take);
		p->held += take;
		buf += take;
		n -= take;
		if (p->held < STORE_ZST_HEADER)
			return STORE_OK;
		r = judge_head(p);
		if (r != STORE_OK)
			return r;
	}
	return n > 0 ? write_stream(p, buf, n) : STORE_OK;
}

enum store_result store_put_frames(struct store_put *p, const void *buf, size_t n)
{
	enum store_result r;

	if (p->error != STORE_OK)
		return p->error;
	p->stored += n;
	if (p->limit > 0 && p->stored > stream_bound(p->limit))
		r = STORE_TOO_LARGE;
	else
		r = store_unzstd_feed(p->unzstd, buf, n, p->keep_frames ? count_sink : raw_sink, p);
	if (r == STORE_OK && p->keep_frames)
		r = keep(p, buf, n);
	if (r != STORE_OK && p->error == STORE_OK)
		p->error = r;
	return r;
}

/* Keep p's verified stream decoded instead: a raw put of the same bytes, placed. Frees p. */
static enum store_result settle_decoded(struct store_put *p)
{
	struct store_object o = { .fd = p->fd, .size = p->size, .encoding = STORE_ZSTD };
	struct store_reader *rd = store_reader_new(&o);
	char *buf = malloc(STORE_SETTLE_BLOCK);
	struct store_put *raw = NULL;
	enum store_result r = rd != NULL && buf != NULL ? STORE_OK : STORE_IO_ERROR;
	size_t got = 1;

	if (r == STORE_OK)
		r = store_put_open(p->store, STORE_CAS, p->id, STORE_IDENTITY, false, 0, &raw);
	while (r == STORE_OK && got > 0) {
		r = store_reader_read(rd, buf, STORE_SETTLE_BLOCK, &got);
		if (r == STORE_OK && got > 0)
			r = store_put_raw(raw, buf, got);
	}
	if (r == STORE_OK && raw->size != p->size)
		r = STORE_BAD_ENCODING;  /* cannot be: the stream decoded to p->size bytes */
	store_reader_free(rd);
	free(buf);
	store_put_free(p);
	if (r != STORE_OK) {
		if (raw != NULL)
			store_put_free(raw);
		return r;
	}
	return store_put_place(raw);
}

/* Place p's verified stream: its frames after a size header when that pays, else decoded. */
static enum store_result settle_frames(struct store_put *p)
{
	unsigned char h[STORE_ZST_HEADER];
	enum store_result r = STORE_OK;
	off_t end;

	if (p->held < STORE_ZST_HEADER)
		r = judge_head(p);  /* a stream shorter than a header */
	end = lseek(p->fd, 0, SEEK_CUR);
	if (r == STORE_OK && end < 0)
		r = STORE_IO_ERROR;
	store_zst_header(h, p->size);
	if (r == STORE_OK)
		r = store_write_all(p->fd, h, sizeof h, 0);
	if (r != STORE_OK) {
		store_put_free(p);
		return r;
	}
	if (pays(p->size, (uint64_t)end))
		return store_put_place(p);
	return settle_decoded(p);
}

/*
 * Place p's verified raw bytes: as <id>.zst when the store compresses raw
 * puts and its level saves an eighth, else raw. Any failure of the compressed form but a full disk
 * falls back to the raw file.
 */
static enum store_result settle_raw(struct store_put *p)
{
	int level = p->store->opts.compression_level;
	struct store_put *z;
	uint64_t written;
	enum store_result r;

	if (level == 0 || !p->store->opts.compress_raw_puts || p->size < STORE_COMPRESS_MIN ||
	    store_put_open(p->store, STORE_CAS, p->id, STORE_ZSTD, false, 0, &z) != STORE_OK)
		return store_put_place(p);
	z->size = p->size;
	r = store_compress_fd(p->fd, p->size, z->fd, level, p->size - p->size / 8, &written);
	if (r == STORE_OK) {
		r = store_put_place(z);
	} else {
		store_put_free(z);
		r = r == STORE_NO_SPACE ? r : STORE_TOO_LARGE;
	}
	if (r == STORE_OK || r == STORE_NO_SPACE) {
		store_put_free(p);
		return r;
	}
	return store_put_place(p);
}

enum store_result store_put_settle(struct store_put *p)
{
	return p->keep_frames ? settle_frames(p) : settle_raw(p);
}
