/*
 * zst_fuzz.c: libFuzzer target for compressed objects read from the store:
 * any bytes as a .zst file go through the header, the reader and the check
 * (store_reader, store_verify_object), through the streaming decoder an
 * upload's body takes (store_unzstd), and as a zstd put into a compressing
 * store (store_put_take_zstd). The reader and the check must agree: bytes
 * the reader hands out whole are exactly the ones that verify; and a put
 * takes exactly the streams the decoder takes whole, kept so that they
 * read back and verify.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store/store.h"

/* A claimed size above this is skipped: only the time to decode it would grow. */
#define SIZE_MAX_FUZZED (256u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* store_sink: count the bytes into the uint64_t ctx. */
static enum store_result count_sink(void *ctx, const void *buf, size_t n)
{
	(void)buf;
	*(uint64_t *)ctx += n;
	return STORE_OK;
}

/* Feed data to an upload's decoder in pieces; it never yields more than its limit. */
static void fuzz_unzstd(const uint8_t *data, size_t size)
{
	struct store_unzstd *u = store_unzstd_new(256u << 10);
	uint64_t got = 0;

	if (u == NULL)
		return;
	for (size_t at = 0; at < size; at += 1000)
		if (store_unzstd_feed(u, data + at, size - at < 1000 ? size - at : 1000, count_sink,
		                      &got) != STORE_OK)
			break;
	if (got > (256u << 10))
		abort();
	store_unzstd_free(u);
}

/* store_sink: write the bytes to the memfd in ctx. */
static enum store_result fd_sink(void *ctx, const void *buf, size_t n)
{
	return write(*(int *)ctx, buf, n) == (ssize_t)n ? STORE_OK : STORE_IO_ERROR;
}

/* The compressing store the puts go to, in a private directory removed at exit. */
static struct store *put_store;
static char put_dir[] = "/tmp/zst-fuzz-XXXXXX";

/* nftw: remove one file or (emptied) directory of the store. */
static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* atexit: close the store and remove its directory. */
static void put_store_close(void)
{
	store_close(put_store);
	nftw(put_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The store, opened on first use. */
static struct store *put_store_get(void)
{
	char *cause = NULL;

	if (put_store != NULL)
		return put_store;
	if (mkdtemp(put_dir) == NULL)
		abort();
	put_store = store_open(put_dir, &(struct store_options){ .compression_level = 1 }, &cause);
	if (put_store == NULL)
		abort();
	atexit(put_store_close);
	return put_store;
}

/*
 * Put data as a zstd stream under the id of what it decodes to: a stream
 * the decoder takes whole is stored and reads back intact; any other is
 * refused, however far it got.
 */
static void fuzz_put(const uint8_t *data, size_t size)
{
	struct store_unzstd *u = store_unzstd_new(SIZE_MAX_FUZZED);
	int raw = memfd_create("decoded", MFD_CLOEXEC);
	char id[STORE_ID_LEN + 1];
	struct store_object o;
	struct store_put *p;
	bool whole;

	if (u == NULL || raw < 0)
		abort();
	whole = store_unzstd_feed(u, data, size, fd_sink, &raw) == STORE_OK &&
	        store_unzstd_complete(u);
	if (store_sha256_fd(raw, 0, store_unzstd_size(u), id) != STORE_OK ||
	    store_put_begin(put_store_get(), STORE_CAS, id, SIZE_MAX_FUZZED, &p) != STORE_OK ||
	    store_put_take_zstd(p) != STORE_OK)
		abort();
	for (size_t at = 0; at < size; at += 777)
		if (store_put_write(p, data + at, size - at < 777 ? size - at : 777) != STORE_OK)
			break;
	if ((store_put_commit(p, (int64_t)store_unzstd_size(u)) == STORE_OK) != whole)
		abort();  /* the put and the decoder disagree on the stream */
	if (whole) {
		if (store_get(put_store, STORE_CAS, id, (int64_t)store_unzstd_size(u), &o) != STORE_OK)
			abort();
		if (store_verify_object(&o, id) != STORE_OK)
			abort();  /* kept in a form that does not read back */
		close(o.fd);
		store_remove(put_store, STORE_CAS, id);
	}
	store_unzstd_free(u);
	close(raw);
}

/* Read o whole through a reader into out_fd; true when the reader said it is intact. */
static bool read_all(const struct store_object *o, int out_fd)
{
	struct store_reader *rd = store_reader_new(o);
	char buf[4096];
	uint64_t total = 0;
	size_t got = 1;
	enum store_result r = STORE_OK;

	if (rd == NULL)
		return false;
	while (r == STORE_OK && got > 0) {
		r = store_reader_read(rd, buf, sizeof buf, &got);
		if (r == STORE_OK && write(out_fd, buf, got) != (ssize_t)got)
			abort();
		total += r == STORE_OK ? got : 0;
		if (total > o->size)
			abort();  /* never more than the header claims */
	}
	store_reader_free(rd);
	return r == STORE_OK && total == o->size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_object o = { .encoding = STORE_ZSTD };
	char hex[STORE_ID_LEN + 1];
	int out_fd;

	fuzz_unzstd(data, size);
	fuzz_put(data, size);
	o.fd = memfd_create("zst", MFD_CLOEXEC);
	out_fd = memfd_create("raw", MFD_CLOEXEC);
	if (o.fd < 0 || out_fd < 0 || write(o.fd, data, size) != (ssize_t)size)
		abort();
	o.stored_size = size;
	if (store_zst_size(o.fd, &o.size) && o.size > 0 && o.size <= SIZE_MAX_FUZZED) {
		bool whole = read_all(&o, out_fd);

		/* What the reader gave whole is what the check hashes, and nothing else verifies. */
		if (whole && (store_sha256_fd(out_fd, 0, o.size, hex) != STORE_OK ||
		              store_verify_object(&o, hex) != STORE_OK))
			abort();
		if (!whole && store_verify_object(&o, STORE_EMPTY_ID) == STORE_OK)
			abort();
	}
	close(o.fd);
	close(out_fd);
	return 0;
}
