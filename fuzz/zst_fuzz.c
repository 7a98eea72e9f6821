/*
 * zst_fuzz.c: libFuzzer target for compressed objects read from the store:
 * any bytes as a .zst file go through the header, the reader and the check
 * (store_reader, store_verify_object), and through the streaming decoder an
 * upload's body takes (store_unzstd). The reader and the check must agree:
 * bytes the reader hands out whole are exactly the ones that verify.
 */
#include <stdint.h>
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
