/*
 * put.c: streaming, verified, atomic writes.
 *
 * A put writes into a file that no reader can find, hashes the bytes on the
 * way, and on commit checks them and gives the file its name in one step.
 * Readers see the old object or the whole new one, never a part.
 *
 * Where the file system can (store_open probes it), the file is unnamed
 * (O_TMPFILE) in the object's own directory: a crash leaves nothing behind,
 * and commit is one link, with no temp name to make and remove. Elsewhere,
 * and to replace an object already there, the file gets a unique name under
 * <dir>/tmp that its writer holds an exclusive flock on (so sweeps of
 * leftovers never take a live one) and is renamed into place.
 *
 * A CAS object is there raw (<id>) or compressed (<id>.zst): at commit,
 * once its raw bytes are verified, put_zst.c chooses which form to keep.
 * A put keeps an intact object already there under either name.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* errno as the result of a failed write: a missing file is an I/O error here, not a miss. */
static enum store_result write_errno_result(void)
{
	enum store_result r = store_errno_result();

	return r == STORE_NOT_FOUND ? STORE_IO_ERROR : r;
}

/*
 * Make dir and any of its parents that are gone (a kind directory someone
 * removed, a namespace's first entry). errno is kept.
 */
static enum store_result make_dir(const char *dir)
{
	char parent[PATH_MAX];
	char *slash;

	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return STORE_OK;
	if (errno != ENOENT)
		return store_errno_result();
	snprintf(parent, sizeof parent, "%s", dir);
	slash = strrchr(parent, '/');
	if (slash == NULL || slash == parent)
		return store_errno_result();
	*slash = '\0';
	if (make_dir(parent) != STORE_OK)
		return STORE_IO_ERROR;
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? STORE_OK : store_errno_result();
}

/* Make the directory that will hold path. errno is kept. */
static enum store_result make_parent(const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	return make_dir(dir);
}

/* Create and lock a fresh temp file for p under tmp/, recreating tmp/ if it vanished. */
static enum store_result open_named(struct store_put *p)
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

/* Open an unnamed file for p in its object's directory; false when that cannot be. */
static bool open_unnamed(struct store_put *p)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof dir, "%s", p->final_path);
	*strrchr(dir, '/') = '\0';
	p->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
	if (p->fd < 0 && errno == ENOENT && make_dir(dir) == STORE_OK)
		p->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
	if (p->fd >= 0 && fchmod(p->fd, 0644) != 0) {  /* whatever the umask, as named ones */
		close(p->fd);
		p->fd = -1;
	}
	p->unnamed = p->fd >= 0;
	return p->unnamed;
}

/* The file p writes into: unnamed where the store can, else named under tmp/. */
static enum store_result open_temp(struct store_put *p)
{
	if (p->store->unnamed_temps && open_unnamed(p))
		return STORE_OK;
	return open_named(p);
}

/* Bytes of the longest "/proc/self/fd/<fd>", plus the NUL. */
#define FD_NAME_MAX sizeof "/proc/self/fd/-2147483648"

/* The name the kernel gives open file fd: linking it names an unnamed file. */
static void fd_name(int fd, char name[FD_NAME_MAX])
{
	snprintf(name, FD_NAME_MAX, "/proc/self/fd/%d", fd);
}

bool store_probe_unnamed(const char *dir)
{
	char name[FD_NAME_MAX], path[PATH_MAX];
	static atomic_uint probes;
	bool ok;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	fd_name(fd, name);
	snprintf(path, sizeof path, "%s/probe-%ld-%u", dir, (long)getpid(),
	         atomic_fetch_add(&probes, 1));
	ok = linkat(AT_FDCWD, name, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0;
	if (ok)
		unlink(path);
	close(fd);
	return ok;
}

enum store_result store_put_open(struct store *s, enum store_kind k, const char *id,
                                 enum store_encoding e, bool hash, uint64_t limit,
                                 struct store_put **out)
{
	struct store_put *p;
	enum store_result r;

	*out = NULL;
	if (id == NULL || !store_id_valid(id, strnlen(id, STORE_ID_LEN + 1)))
		return STORE_BAD_ID;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return STORE_IO_ERROR;
	p->store_copy = *s;
	p->store = &p->store_copy;
	p->kind = k;
	p->limit = limit;
	p->fd = -1;
	p->zst = e == STORE_ZSTD;
	memcpy(p->id, id, STORE_ID_LEN + 1);
	r = store_encoded_path(s, k, id, e, p->final_path, sizeof p->final_path);
	if (r != STORE_OK) {
		free(p);
		return r;
	}
	if (k == STORE_CAS && hash) {
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

enum store_result store_put_begin(struct store *s, enum store_kind k, const char *id,
                                  uint64_t limit, struct store_put **out)
{
	return store_put_open(s, k, id, STORE_IDENTITY, true, limit, out);
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
	if (p->unzstd != NULL)
		return store_put_frames(p, buf, n);
	return store_put_raw(p, buf, n);
}

enum store_result store_put_raw(struct store_put *p, const void *buf, size_t n)
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

void store_put_free(struct store_put *p)
{
	if (p->fd >= 0) {
		if (p->temp_path[0] != '\0')
			unlink(p->temp_path);
		close(p->fd);
	}
	EVP_MD_CTX_free(p->digest);
	store_unzstd_free(p->unzstd);
	free(p);
}

void store_put_abort(struct store_put *p)
{
	if (p != NULL)
		store_put_free(p);
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
 * A CAS object already at path (compressed when zst) is kept as it is when
 * it has the right size and its bytes still hash to its id; a damaged one
 * is replaced.
 */
static bool keep_existing(struct store_put *p, const char *path, bool zst)
{
	struct store_object o = { .encoding = zst ? STORE_ZSTD : STORE_IDENTITY };
	bool intact;

	if (p->kind != STORE_CAS)
		return false;
	o.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (o.fd < 0)
		return false;
	intact = fstat(o.fd, &o.st) == 0 && S_ISREG(o.st.st_mode);
	o.size = o.stored_size = (uint64_t)o.st.st_size;
	if (intact && zst)
		intact = store_zst_size(o.fd, &o.size);
	intact = intact && o.size == p->size && store_verify_object(&o, p->id) == STORE_OK;
	if (intact)
		store_refresh(o.fd, o.st.st_mtime);
	close(o.fd);
	return intact;
}

/* The path of p's object under its other name: raw for a .zst put, .zst for a raw one. */
static void other_path(const struct store_put *p, char path[PATH_MAX])
{
	store_encoded_path(p->store, p->kind, p->id, p->zst ? STORE_IDENTITY : STORE_ZSTD,
	                   path, PATH_MAX);
}

/* A CAS object already there, intact, under either name: the put keeps it. */
static bool keep_either(struct store_put *p)
{
	char other[PATH_MAX];

	if (p->kind != STORE_CAS)
		return false;
	other_path(p, other);
	return keep_existing(p, p->final_path, p->zst) || keep_existing(p, other, !p->zst);
}

/* Rename the named temp file into place, making the object's directory if needed. */
static enum store_result rename_into_place(struct store_put *p)
{
	if (rename(p->temp_path, p->final_path) == 0)
		return STORE_OK;
	if (errno == ENOENT) {
		if (make_parent(p->final_path) != STORE_OK)
			return store_errno_result();
		if (rename(p->temp_path, p->final_path) == 0)
			return STORE_OK;
	}
	return write_errno_result();
}

/*
 * Give the unnamed file a name under tmp/ (locked first, so no sweep takes
 * it), for a rename over an object already there.
 */
static enum store_result name_unnamed(struct store_put *p)
{
	static atomic_uint names;
	char name[FD_NAME_MAX];

	if (flock(p->fd, LOCK_EX) != 0)
		return STORE_IO_ERROR;
	fd_name(p->fd, name);
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(p->temp_path, sizeof p->temp_path, "%s/tmp/%s-%.16s-%ld-%u", p->store->dir,
		         store_kind_name(p->kind), p->id, (long)getpid(), atomic_fetch_add(&names, 1));
		if (linkat(AT_FDCWD, name, AT_FDCWD, p->temp_path, AT_SYMLINK_FOLLOW) == 0)
			return STORE_OK;
		if (errno != EEXIST)
			break;
	}
	p->temp_path[0] = '\0';
	return write_errno_result();
}

/*
 * Link the unnamed file in as the object. One already there is kept when it
 * is an intact CAS object, else replaced by a rename.
 */
static enum store_result link_into_place(struct store_put *p, bool *kept)
{
	char name[FD_NAME_MAX];
	enum store_result r;

	fd_name(p->fd, name);
	if (linkat(AT_FDCWD, name, AT_FDCWD, p->final_path, AT_SYMLINK_FOLLOW) == 0)
		return STORE_OK;
	if (errno == ENOENT && make_parent(p->final_path) == STORE_OK &&
	    linkat(AT_FDCWD, name, AT_FDCWD, p->final_path, AT_SYMLINK_FOLLOW) == 0)
		return STORE_OK;
	if (errno != EEXIST)
		return write_errno_result();
	if (keep_existing(p, p->final_path, p->zst)) {
		*kept = true;
		return STORE_OK;
	}
	r = name_unnamed(p);
	return r == STORE_OK ? rename_into_place(p) : r;
}

/* (A damaged copy under the other name is one readers would prefer or find.) */
enum store_result store_put_place(struct store_put *p)
{
	enum store_result r = STORE_OK;
	char other[PATH_MAX];
	bool kept = false;

	if (p->store->opts.fsync && fsync(p->fd) != 0)
		r = store_errno_result();
	if (r == STORE_OK)
		r = p->unnamed ? link_into_place(p, &kept) : rename_into_place(p);
	if (r == STORE_OK && !kept) {
		/* The file now lives at final_path: do not unlink it on free. */
		close(p->fd);
		p->fd = -1;
	}
	if (r == STORE_OK && p->kind == STORE_CAS) {
		other_path(p, other);
		if (access(other, F_OK) == 0 && !keep_existing(p, other, !p->zst))
			unlink(other);
	}
	store_put_free(p);
	return r;
}

enum store_result store_put_commit(struct store_put *p, int64_t expected_size)
{
	enum store_result r = p->error;  /* a write that failed fails the put */

	if (r == STORE_OK && p->unzstd != NULL && !store_unzstd_complete(p->unzstd))
		r = STORE_BAD_ENCODING;  /* the stream stopped inside a frame */
	if (r == STORE_OK && expected_size >= 0 && p->size != (uint64_t)expected_size)
		r = STORE_SIZE_MISMATCH;
	if (r == STORE_OK && p->digest != NULL)
		r = check_digest(p);
	if (r == STORE_OK && keep_either(p)) {
		store_put_free(p);
		return STORE_OK;
	}
	if (r != STORE_OK) {
		store_put_free(p);
		return r;
	}
	return p->kind == STORE_CAS ? store_put_settle(p) : store_put_place(p);
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
