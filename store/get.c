/*
 * get.c: verified reads, stat and removal of objects.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when a use of an object last marked at mtime is due to be recorded. */
static bool refresh_due(time_t mtime)
{
	return time(NULL) - mtime >= STORE_REFRESH_SECONDS;
}

bool store_refresh(int fd, time_t mtime)
{
	return refresh_due(mtime) && futimens(fd, NULL) == 0;
}

/* True when an object of this size cannot be what its path claims. */
static bool object_is_bad(enum store_kind k, const char *id, mode_t mode, uint64_t size,
                          int64_t expected_size)
{
	if (!S_ISREG(mode))
		return true;
	if (expected_size >= 0 && size != (uint64_t)expected_size)
		return true;
	return k == STORE_CAS && size == 0 && strcmp(id, STORE_EMPTY_ID) != 0;
}

/*
 * Open object id's file, raw first, then for CAS compressed, into out (its
 * fd, st, encoding and both sizes) and its path into path (PATH_MAX bytes).
 * A .zst file without its header has size 0 (so it is bad).
 */
static enum store_result open_object(struct store *s, enum store_kind k, const char *id,
                                     char path[PATH_MAX], struct store_object *out)
{
	enum store_result r;

	memset(out, 0, sizeof *out);
	for (enum store_encoding e = STORE_IDENTITY; e <= STORE_ZSTD; e++) {
		r = store_encoded_path(s, k, id, e, path, PATH_MAX);
		if (r != STORE_OK)
			return r;
		out->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (out->fd >= 0) {
			out->encoding = e;
			break;
		}
		if (errno != ENOENT && errno != ELOOP)
			return store_errno_result();
		if (k != STORE_CAS || e == STORE_ZSTD)
			return STORE_NOT_FOUND;
	}
	if (fstat(out->fd, &out->st) != 0) {
		close(out->fd);
		return STORE_IO_ERROR;
	}
	out->size = out->stored_size = (uint64_t)out->st.st_size;
	if (out->encoding == STORE_ZSTD && !store_zst_size(out->fd, &out->size))
		out->size = 0;
	out->mtime = out->st.st_mtime;
	return STORE_OK;
}

/* open_object, removing (and missing) an object that cannot be what its path claims. */
static enum store_result open_good(struct store *s, enum store_kind k, const char *id,
                                   int64_t expected_size, char path[PATH_MAX],
                                   struct store_object *out)
{
	enum store_result r = open_object(s, k, id, path, out);

	if (r != STORE_OK)
		return r;
	if (object_is_bad(k, id, out->st.st_mode, out->size, expected_size)) {
		close(out->fd);
		unlink(path);
		return STORE_NOT_FOUND;
	}
	return STORE_OK;
}

enum store_result store_get(struct store *s, enum store_kind k, const char *id,
                            int64_t expected_size, struct store_object *out)
{
	char path[PATH_MAX];
	enum store_result r = open_good(s, k, id, expected_size, path, out);

	if (r != STORE_OK)
		return r;
	if (store_refresh(out->fd, out->st.st_mtime)) {
		(void)fstat(out->fd, &out->st);
		out->mtime = out->st.st_mtime;
	}
	return STORE_OK;
}

/*
 * Like open_object without keeping a descriptor (out->fd is -1): a raw
 * file is only lstat'ed, as every object of a store without compression
 * is; a .zst is opened for the size in its header.
 */
static enum store_result stat_object(struct store *s, enum store_kind k, const char *id,
                                     char path[PATH_MAX], struct store_object *out)
{
	enum store_result r = store_encoded_path(s, k, id, STORE_IDENTITY, path, PATH_MAX);

	memset(out, 0, sizeof *out);
	out->fd = -1;
	if (r != STORE_OK)
		return r;
	if (lstat(path, &out->st) == 0) {
		out->size = out->stored_size = (uint64_t)out->st.st_size;
		out->mtime = out->st.st_mtime;
		return STORE_OK;
	}
	if (errno != ENOENT)
		return store_errno_result();
	if (k != STORE_CAS)
		return STORE_NOT_FOUND;
	r = open_object(s, k, id, path, out);
	if (r == STORE_OK) {
		close(out->fd);
		out->fd = -1;
	}
	return r;
}

enum store_result store_touch(struct store *s, enum store_kind k, const char *id,
                              int64_t expected_size)
{
	char path[PATH_MAX];
	struct store_object obj;
	enum store_result r = stat_object(s, k, id, path, &obj);

	if (r != STORE_OK)
		return r;
	if (object_is_bad(k, id, obj.st.st_mode, obj.size, expected_size)) {
		unlink(path);
		return STORE_NOT_FOUND;
	}
	if (refresh_due(obj.mtime))
		(void)utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
	return STORE_OK;
}

enum store_result store_stat(struct store *s, enum store_kind k, const char *id,
                             uint64_t *size)
{
	char path[PATH_MAX];
	struct store_object obj;
	enum store_result r = stat_object(s, k, id, path, &obj);

	if (r != STORE_OK)
		return r;
	if (object_is_bad(k, id, obj.st.st_mode, obj.size, -1))
		return STORE_NOT_FOUND;
	if (size != NULL)
		*size = obj.size;
	return STORE_OK;
}

enum store_result store_read_small(struct store *s, enum store_kind k, const char *id,
                                   void *buf, size_t cap, size_t *len)
{
	struct store_object obj;
	struct store_reader *rd;
	enum store_result r = store_get(s, k, id, -1, &obj);
	size_t got = 0, n = 1;

	if (r != STORE_OK)
		return r;
	if (obj.size > cap) {
		close(obj.fd);
		return STORE_TOO_LARGE;
	}
	rd = store_reader_new(&obj);
	r = rd != NULL ? STORE_OK : STORE_IO_ERROR;
	while (r == STORE_OK && got < obj.size && n > 0) {
		r = store_reader_read(rd, (char *)buf + got, (size_t)obj.size - got, &n);
		got += n;
	}
	store_reader_free(rd);
	close(obj.fd);
	if (r != STORE_OK || got != obj.size)
		return STORE_IO_ERROR;
	*len = got;
	return STORE_OK;
}

enum store_result store_remove(struct store *s, enum store_kind k, const char *id)
{
	char path[PATH_MAX];
	enum store_result r = STORE_OK;

	for (enum store_encoding e = STORE_IDENTITY; r == STORE_OK && e <= STORE_ZSTD; e++) {
		r = store_encoded_path(s, k, id, e, path, sizeof path);
		if (r == STORE_OK && unlink(path) != 0 && errno != ENOENT)
			r = store_errno_result();
	}
	return r;
}
