/*
 * put.c: streaming, verified, atomic writes.
 *
 * A put writes into a unique temp file under <dir>/tmp that its writer holds
 * an exclusive flock on (so sweeps of leftovers never take a live one),
 * hashes the bytes on the way, and on commit checks them and renames the file
 * into place. Readers see the old object or the whole new one, never a part.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

struct store_put {
	struct store *store;
	enum store_kind kind;
	char id[STORE_ID_LEN + 1];
	int fd;
	EVP_MD_CTX *digest;      /* CAS only */
	uint64_t size;
	uint64_t limit;          /* 0: none */
	enum store_result error; /* the first failed write's result */
	char temp_path[PATH_MAX];
};

/* errno as the result of a failed write: a missing file is an I/O error here, not a miss. */
static enum store_result write_errno_result(void)
{
	enum store_result r = store_errno_result();

	return r == STORE_NOT_FOUND ? STORE_IO_ERROR : r;
}

/* Create and lock a fresh temp file for p, recreating tmp/ if it vanished. */
static enum store_result open_temp(struct store_put *p)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		snprintf(p->temp_path, sizeof p->temp_path, "%s/tmp/%s-%.16s-XXXXXX",
		         p->store->dir, store_kind_name(p->kind), p->id);
		p->fd = mkostemp(p->temp_path, O_CLOEXEC);
		if (p->fd >= 0)
			break;
		if (errno != ENOENT || attempt > 0)
			return write_errno_result();
		char tmpdir[PATH_MAX];
		snprintf(tmpdir, sizeof tmpdir, "%s/tmp", p->store->dir);
		if (mkdir(tmpdir, 0755) != 0 && errno != EEXIST)
			return STORE_IO_ERROR;
	}
	if (flock(p->fd, LOCK_EX) != 0 || fchmod(p->fd, 0644) != 0) {
		int saved = errno;
		close(p->fd);
		unlink(p->temp_path);
		p->fd = -1;
		errno = saved;
		return STORE_IO_ERROR;
	}
	return STORE_OK;
}

enum store_result store_put_begin(struct store *s, enum store_kind k, const char *id,
                                  uint64_t limit, struct store_put **out)
{
	struct store_put *p;
	enum store_result r;

	*out = NULL;
	if (id == NULL || !store_id_valid(id, strnlen(id, STORE_ID_LEN + 1)))
		return STORE_BAD_ID;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return STORE_IO_ERROR;
	p->store = s;
	p->kind = k;
	p->limit = limit;
	p->fd = -1;
	memcpy(p->id, id, STORE_ID_LEN + 1);
	if (k == STORE_CAS) {
		p->digest = EVP_MD_CTX_new();
		if (p->digest == NULL || EVP_DigestInit_ex(p->digest, EVP_sha256(), NULL) != 1) {
			EVP_MD_CTX_free(p->digest);
			free(p);
			return STORE_IO_ERROR;
		}
	}
	r = open_temp(p);
	if (r != STORE_OK) {
		EVP_MD_CTX_free(p->digest);
		free(p);
		return r;
	}
	*out = p;
	return STORE_OK;
}

/* Remember r as the put's error if it is the first; returns r. */
static enum store_result put_failed(struct store_put *p, enum store_result r)
{
	if (p->error == STORE_OK)
		p->error = r;
	return r;
}

enum store_result store_put_write(struct store_put *p, const void *buf, size_t n)
{
	const char *at = buf;

	if (p->limit > 0 && (n > p->limit || p->size > p->limit - n))
		return put_failed(p, STORE_TOO_LARGE);
	if (p->digest != NULL && EVP_DigestUpdate(p->digest, buf, n) != 1)
		return put_failed(p, STORE_IO_ERROR);
	while (n > 0) {
		ssize_t w = write(p->fd, at, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return put_failed(p, store_errno_result());
		}
		at += w;
		n -= (size_t)w;
		p->size += (uint64_t)w;
	}
	return STORE_OK;
}

uint64_t store_put_size(const struct store_put *p)
{
	return p->size;
}

int store_put_fd(const struct store_put *p)
{
	return p->fd;
}

enum store_result store_put_error(const struct store_put *p)
{
	return p->error;
}

/* Release everything p holds; the temp file is removed if still there. */
static void put_free(struct store_put *p)
{
	if (p->fd >= 0) {
		unlink(p->temp_path);
		close(p->fd);
	}
	EVP_MD_CTX_free(p->digest);
	free(p);
}

void store_put_abort(struct store_put *p)
{
	if (p != NULL)
		put_free(p);
}

/* For CAS: true when the bytes written hash to the id. */
static enum store_result check_digest(struct store_put *p)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	unsigned char want[STORE_HASH_LEN];

	if (EVP_DigestFinal_ex(p->digest, hash, &len) != 1 || len != STORE_HASH_LEN)
		return STORE_IO_ERROR;
	store_unhex(p->id, want);
	return CRYPTO_memcmp(hash, want, STORE_HASH_LEN) == 0 ? STORE_OK : STORE_HASH_MISMATCH;
}

/*
 * A CAS object already in place is kept as it is when it has the right size
 * and still hashes to its id; a damaged one is replaced.
 */
static bool keep_existing(struct store_put *p, const char *final_path)
{
	struct stat st;
	int fd;

	if (p->kind != STORE_CAS)
		return false;
	fd = open(final_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != p->size ||
	    store_verify_fd(fd, p->id, p->size) != STORE_OK) {
		close(fd);
		return false;
	}
	store_refresh(fd, st.st_mtime);
	close(fd);
	return true;
}

/* Rename the temp file to final_path, creating its <xx> directory if needed. */
static enum store_result move_into_place(struct store_put *p, const char *final_path)
{
	if (rename(p->temp_path, final_path) == 0)
		return STORE_OK;
	if (errno == ENOENT) {
		char parent[PATH_MAX];
		char *slash;

		snprintf(parent, sizeof parent, "%s", final_path);
		slash = strrchr(parent, '/');
		*slash = '\0';
		if (mkdir(parent, 0755) != 0 && errno != EEXIST) {
			/* The kind directory itself may have been removed. */
			char *kind_slash = strrchr(parent, '/');
			*kind_slash = '\0';
			if (mkdir(parent, 0755) != 0 && errno != EEXIST)
				return store_errno_result();
			*kind_slash = '/';
			if (mkdir(parent, 0755) != 0 && errno != EEXIST)
				return store_errno_result();
		}
		if (rename(p->temp_path, final_path) == 0)
			return STORE_OK;
	}
	return write_errno_result();
}

enum store_result store_put_commit(struct store_put *p, int64_t expected_size)
{
	char final_path[PATH_MAX];
	enum store_result r = STORE_OK;

	if (expected_size >= 0 && p->size != (uint64_t)expected_size)
		r = STORE_SIZE_MISMATCH;
	if (r == STORE_OK && p->digest != NULL)
		r = check_digest(p);
	if (r == STORE_OK)
		r = store_object_path(p->store, p->kind, p->id, final_path, sizeof final_path);
	if (r == STORE_OK && keep_existing(p, final_path)) {
		put_free(p);
		return STORE_OK;
	}
	if (r == STORE_OK && p->store->opts.fsync && fsync(p->fd) != 0)
		r = store_errno_result();
	if (r == STORE_OK)
		r = move_into_place(p, final_path);
	if (r == STORE_OK) {
		/* The file now lives at final_path: do not unlink it on free. */
		close(p->fd);
		p->fd = -1;
	}
	put_free(p);
	return r;
}

enum store_result store_put_bytes(struct store *s, enum store_kind k, const char *id,
                                  const void *buf, size_t n)
{
	struct store_put *p;
	enum store_result r = store_put_begin(s, k, id, 0, &p);

	if (r != STORE_OK)
		return r;
	r = store_put_write(p, buf, n);
	if (r != STORE_OK) {
		store_put_abort(p);
		return r;
	}
	return store_put_commit(p, (int64_t)n);
}
