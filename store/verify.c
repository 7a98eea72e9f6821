/*
 * verify.c: checking that CAS objects still hash to their ids, one object
 * as it streams out, one object whole, or a whole store at a bounded rate.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/clock.h"

/* Bytes read per call while hashing a whole object. */
#define VERIFY_CHUNK (256 * 1024)

struct store_check {
	EVP_MD_CTX *digest;
	unsigned char want[STORE_HASH_LEN];
	bool failed;  /* the digest itself failed: never intact */
};

struct store_check *store_check_new(const char *id)
{
	struct store_check *c;

	if (id == NULL || !store_id_valid(id, strnlen(id, STORE_ID_LEN + 1)))
		return NULL;
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	store_unhex(id, c->want);
	c->digest = EVP_MD_CTX_new();
	if (c->digest == NULL || EVP_DigestInit_ex(c->digest, EVP_sha256(), NULL) != 1) {
		store_check_free(c);
		return NULL;
	}
	return c;
}

void store_check_update(struct store_check *c, const void *buf, size_t n)
{
	if (!c->failed && EVP_DigestUpdate(c->digest, buf, n) != 1)
		c->failed = true;
}

bool store_check_intact(struct store_check *c)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (c->failed || EVP_DigestFinal_ex(c->digest, hash, &len) != 1 || len != STORE_HASH_LEN)
		return false;
	c->failed = true;  /* finished: a second call must not pass */
	return CRYPTO_memcmp(hash, c->want, STORE_HASH_LEN) == 0;
}

void store_check_free(struct store_check *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->digest);
	free(c);
}

/* Keeps a pass at no more than rate bytes per second. */
struct pacer {
	uint64_t rate;             /* 0: no limit */
	uint64_t bytes;            /* read since start */
	int64_t start_us;          /* clock_us at the start */
	const struct store_verify_options *opts;
};

/* True when the pass was asked to stop. */
static bool stop_asked(const struct store_verify_options *o)
{
	return o != NULL && o->stop != NULL && o->stop(o->ctx);
}

/* Seconds since p started. */
static double pacer_elapsed(const struct pacer *p)
{
	return (double)(clock_us() - p->start_us) / 1e6;
}

/* Count n bytes read, then sleep until the rate allows more; false when asked to stop. */
static bool pacer_take(struct pacer *p, size_t n)
{
	p->bytes += n;
	if (p->rate == 0)
		return !stop_asked(p->opts);
	for (;;) {
		double ahead = (double)p->bytes / (double)p->rate - pacer_elapsed(p);
		struct timespec nap;

		if (stop_asked(p->opts))
			return false;
		if (ahead <= 0)
			return true;
		if (ahead > 0.1)
			ahead = 0.1;  /* wake often enough to notice a stop */
		nap.tv_sec = 0;
		nap.tv_nsec = (long)(ahead * 1e9);
		nanosleep(&nap, NULL);
	}
}

/*
 * Feed up to size bytes of fd from offset, read through buf and paced by p (may be
 * NULL), to digest; *got says how many there were (fewer when the file is
 * shorter). STORE_IO_ERROR on a failed read or digest, STORE_NOT_FOUND
 * when the pass was asked to stop.
 */
static enum store_result digest_fd(int fd, uint64_t offset, uint64_t size, char *buf,
                                   struct pacer *p, EVP_MD_CTX *digest, uint64_t *got)
{
	*got = 0;
	while (*got < size) {
		size_t want = size - *got < VERIFY_CHUNK ? (size_t)(size - *got) : VERIFY_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)(offset + *got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && EVP_DigestUpdate(digest, buf, (size_t)n) != 1))
			return STORE_IO_ERROR;
		if (n == 0)
			return STORE_OK;
		*got += (uint64_t)n;
		if (p != NULL && !pacer_take(p, (size_t)n))
			return STORE_NOT_FOUND;
	}
	return STORE_OK;
}

/*
 * Hash size bytes of fd through buf against id, paced by p (may be NULL).
 * STORE_OK when intact, STORE_HASH_MISMATCH when not (a short file too),
 * STORE_IO_ERROR on a failed read or digest, STORE_NOT_FOUND when stopped.
 */
static enum store_result verify_paced(int fd, const char *id, uint64_t size, char *buf,
                                      struct pacer *p)
{
	struct store_check *c = store_check_new(id);
	enum store_result r;
	uint64_t got;

	if (c == NULL)
		return STORE_IO_ERROR;
	r = digest_fd(fd, 0, size, buf, p, c->digest, &got);
	if (r == STORE_OK && (got != size || !store_check_intact(c)))
		r = STORE_HASH_MISMATCH;
	store_check_free(c);
	return r;
}

enum store_result store_verify_fd(int fd, const char *id, uint64_t size)
{
	char *buf = malloc(VERIFY_CHUNK);
	enum store_result r;

	if (buf == NULL)
		return STORE_IO_ERROR;
	r = verify_paced(fd, id, size, buf, NULL);
	free(buf);
	return r;
}

/* Store sink: feed decoded bytes to the struct store_check ctx. */
static enum store_result check_sink(void *ctx, const void *buf, size_t n)
{
	store_check_update(ctx, buf, n);
	return STORE_OK;
}

/*
 * Decode the .zst object o through buf against id, paced by p (may be
 * NULL): as verify_paced, a broken frame or a wrong size is a mismatch.
 */
static enum store_result verify_zst(const struct store_object *o, const char *id, char *buf,
                                    struct pacer *p)
{
	struct store_check *c = store_check_new(id);
	struct store_unzstd *u = store_unzstd_new(o->size > 0 ? o->size : 1);
	enum store_result r = c != NULL && u != NULL ? STORE_OK : STORE_IO_ERROR;
	uint64_t pos = 0;

	while (r == STORE_OK && pos < o->stored_size) {
		ssize_t n = pread(o->fd, buf, VERIFY_CHUNK, (off_t)pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? STORE_IO_ERROR : STORE_HASH_MISMATCH;
			break;
		}
		pos += (uint64_t)n;
		r = store_unzstd_feed(u, buf, (size_t)n, check_sink, c);
		if (r == STORE_OK && p != NULL && !pacer_take(p, (size_t)n))
			r = STORE_NOT_FOUND;
	}
	if (r == STORE_BAD_ENCODING)
		r = STORE_HASH_MISMATCH;
	if (r == STORE_OK && (!store_unzstd_complete(u) || store_unzstd_size(u) != o->size ||
	                      !store_check_intact(c)))
		r = STORE_HASH_MISMATCH;
	store_unzstd_free(u);
	store_check_free(c);
	return r;
}

enum store_result store_verify_object(const struct store_object *o, const char *id)
{
	char *buf;
	enum store_result r;

	if (o->encoding != STORE_ZSTD)
		return store_verify_fd(o->fd, id, o->size);
	buf = malloc(VERIFY_CHUNK);
	if (buf == NULL)
		return STORE_IO_ERROR;
	r = verify_zst(o, id, buf, NULL);
	free(buf);
	return r;
}

enum store_result store_sha256_fd(int fd, uint64_t offset, uint64_t size,
                                  char hex[STORE_ID_LEN + 1])
{
	EVP_MD_CTX *digest = EVP_MD_CTX_new();
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *buf = malloc(VERIFY_CHUNK);
	enum store_result r = STORE_IO_ERROR;
	uint64_t got;

	if (digest != NULL && buf != NULL && EVP_DigestInit_ex(digest, EVP_sha256(), NULL) == 1 &&
	    digest_fd(fd, offset, size, buf, NULL, digest, &got) == STORE_OK && got == size &&
	    EVP_DigestFinal_ex(digest, hash, &len) == 1 && len == STORE_HASH_LEN) {
		store_hex(hash, hex);
		r = STORE_OK;
	}
	EVP_MD_CTX_free(digest);
	free(buf);
	return r;
}

enum store_result store_remove_if_same(struct store *s, enum store_kind k, const char *id,
                                       const struct stat *seen)
{
	char path[PATH_MAX];
	struct stat now;

	for (enum store_encoding e = STORE_IDENTITY; e <= STORE_ZSTD; e++) {
		enum store_result r = store_encoded_path(s, k, id, e, path, sizeof path);

		if (r != STORE_OK)
			return r;
		if (lstat(path, &now) != 0) {
			if (errno != ENOENT)
				return store_errno_result();
			continue;
		}
		if (now.st_dev != seen->st_dev || now.st_ino != seen->st_ino)
			continue;  /* another file: a fresh, verified write, or the other name */
		if (unlink(path) != 0 && errno != ENOENT)
			return store_errno_result();
		return STORE_OK;
	}
	return STORE_OK;
}

/* State of one store_verify pass. */
struct verify_pass {
	struct store *store;
	const struct store_verify_options *opts;
	struct store_verify_result *result;
	struct pacer pacer;
	char *buf;
	bool stopped;
};

/* store_scan visitor: hash one CAS object, remove it if damaged. */
static bool verify_visit(void *ctx, enum store_kind k, const char *where, const char *id,
                         const char *name, int dir_fd, const struct stat *listed)
{
	struct verify_pass *v = ctx;
	const struct store_verify_options *o = v->opts;
	struct store_object obj = { .encoding = STORE_NAME_ENCODING(name) };
	struct stat st;
	enum store_result r;

	(void)k;
	(void)where;
	(void)listed;
	obj.fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (obj.fd < 0)
		return true;  /* gone since it was listed */
	if (fstat(obj.fd, &st) != 0) {
		close(obj.fd);
		return true;
	}
	obj.size = obj.stored_size = (uint64_t)st.st_size;
	if (obj.encoding == STORE_IDENTITY)
		r = verify_paced(obj.fd, id, obj.size, v->buf, &v->pacer);
	else if (!store_zst_size(obj.fd, &obj.size))
		r = STORE_HASH_MISMATCH;
	else
		r = verify_zst(&obj, id, v->buf, &v->pacer);
	close(obj.fd);
	if (r == STORE_NOT_FOUND) {
		v->stopped = true;
		return false;
	}
	v->result->objects++;
	v->result->bytes += (uint64_t)st.st_size;
	if (r == STORE_HASH_MISMATCH) {
		v->result->damaged++;
		store_remove_if_same(v->store, STORE_CAS, id, &st);
		if (o != NULL && o->damaged != NULL)
			o->damaged(o->ctx, id, &st);
	} else if (r == STORE_OK && o != NULL && o->intact != NULL) {
		o->intact(o->ctx, id, &st);
	}
	return true;
}

enum store_result store_verify(struct store *s, const struct store_verify_options *o,
                               struct store_verify_result *result)
{
	struct store_verify_result ignored;
	struct verify_pass v = {
		.store = s, .opts = o, .result = result != NULL ? result : &ignored,
		.pacer = { .rate = o != NULL ? o->rate : 0, .opts = o },
	};
	enum store_result r;

	memset(v.result, 0, sizeof *v.result);
	v.buf = malloc(VERIFY_CHUNK);
	if (v.buf == NULL)
		return STORE_IO_ERROR;
	v.pacer.start_us = clock_us();
	r = store_scan_kind(s, STORE_CAS, verify_visit, &v);
	free(v.buf);
	return v.stopped ? STORE_OK : r;
}
