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
static bool object_is_bad(enum store_kind k, const char *id, const struct stat *st,
                          int64_t expected_size)
{
	if (!S_ISREG(st->st_mode))
		return true;
	if (expected_size >= 0 && st->st_size != expected_size)
		return true;
	return k == STORE_CAS && st->st_size == 0 && strcmp(id, STORE_EMPTY_ID) != 0;
}

enum store_result store_get(struct store *s, enum store_kind k, const char *id,
                            int64_t expected_size, struct store_object *out)
{
	char path[PATH_MAX];
	struct stat st;
	enum store_result r;
	int fd;

	r = store_object_path(s, k, id, path, sizeof path);
	if (r != STORE_OK)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? STORE_NOT_FOUND : store_errno_result();
	if (fstat(fd, &st) != 0) {
		close(fd);
		return STORE_IO_ERROR;
	}
	if (object_is_bad(k, id, &st, expected_size)) {
		close(fd);
		unlink(path);
		return STORE_NOT_FOUND;
	}
	if (store_refresh(fd, st.st_mtime))
		(void)fstat(fd, &st);
	out->fd = fd;
	out->st = st;
	out->size = (uint64_t)st.st_size;
	out->mtime = st.st_mtime;
	return STORE_OK;
}

/* lstat an object's file into *st, its path into path (PATH_MAX bytes). */
static enum store_result stat_object(struct store *s, enum store_kind k, const char *id,
                                     char path[PATH_MAX], struct stat *st)
{
	enum store_result r = store_object_path(s, k, id, path, PATH_MAX);

	if (r != STORE_OK)
		return r;
	if (lstat(path, st) != 0)
		return errno == ENOENT ? STORE_NOT_FOUND : store_errno_result();
	return STORE_OK;
}

enum store_result store_touch(struct store *s, enum store_kind k, const char *id,
                              int64_t expected_size)
{
	char path[PATH_MAX];
	struct stat st;
	enum store_result r = stat_object(s, k, id, path, &st);

	if (r != STORE_OK)
		return r;
	if (object_is_bad(k, id, &st, expected_size)) {
		unlink(path);
		return STORE_NOT_FOUND;
	}
	if (refresh_due(st.st_mtime))
		(void)utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
	return STORE_OK;
}

enum store_result store_stat(struct store *s, enum store_kind k, const char *id,
                             uint64_t *size)
{
	char path[PATH_MAX];
	struct stat st;
	enum store_result r = stat_object(s, k, id, path, &st);

	if (r != STORE_OK)
		return r;
	if (object_is_bad(k, id, &st, -1))
		return STORE_NOT_FOUND;
	if (size != NULL)
		*size = (uint64_t)st.st_size;
	return STORE_OK;
}

enum store_result store_read_small(struct store *s, enum store_kind k, const char *id,
                                   void *buf, size_t cap, size_t *len)
{
	struct store_object obj;
	enum store_result r = store_get(s, k, id, -1, &obj);
	size_t got = 0;

	if (r != STORE_OK)
		return r;
	if (obj.size > cap) {
		close(obj.fd);
		return STORE_TOO_LARGE;
	}
	while (got < obj.size) {
		ssize_t n = read(obj.fd, (char *)buf + got, (size_t)obj.size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(obj.fd);
			return STORE_IO_ERROR;
		}
		got += (size_t)n;
	}
	close(obj.fd);
	*len = got;
	return STORE_OK;
}

enum store_result store_remove(struct store *s, enum store_kind k, const char *id)
{
	char path[PATH_MAX];
	enum store_result r = store_object_path(s, k, id, path, sizeof path);

	if (r != STORE_OK)
		return r;
	if (unlink(path) != 0 && errno != ENOENT)
		return store_errno_result();
	return STORE_OK;
}
