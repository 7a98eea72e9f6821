/*
 * open.c: opening a store directory, its layout and its README.
 */
#include "store/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cause.h"

static const char readme_text[] =
	"This folder is a cachegate store: a build cache shared by Go builds\n"
	"(cachegate-prog, a GOCACHEPROG helper) and served over HTTP (cachegate).\n"
	"\n"
	"  ac/<xx>/<id>   action entries, keyed by action id (namespace default)\n"
	"  ns/<name>/ac/<xx>/<id>  those of another namespace ('/' in a name as '+')\n"
	"  cas/<xx>/<id>  content blobs, keyed by their SHA-256\n"
	"  cas/<xx>/<id>.zst  the same, zstd-compressed\n"
	"  tmp/           writes in progress\n"
	"\n"
	"Everything here can be rebuilt: deleting the folder loses nothing but time.\n"
	"Do not edit files in place; cachegate trims unused objects itself.\n";

/* mkdir -p: create path and its parents; existing directories are fine. errno is kept. */
static enum store_result make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof buf) {
		errno = ENAMETOOLONG;
		return store_errno_result();
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return store_errno_result();
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return store_errno_result();
	return STORE_OK;
}

/* Write the README once, atomically, so concurrent openers never see half of it. errno is kept. */
static enum store_result write_readme(const struct store *s)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, saved;
	ssize_t n;
	bool ok;

	snprintf(path, sizeof path, "%s/README", s->dir);
	if (access(path, F_OK) == 0)
		return STORE_OK;
	snprintf(tmp, sizeof tmp, "%s/tmp/readme-XXXXXX", s->dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return store_errno_result();
	errno = 0;
	n = write(fd, readme_text, sizeof readme_text - 1);
	ok = n == (ssize_t)(sizeof readme_text - 1) && fchmod(fd, 0644) == 0;
	saved = errno;
	/* The descriptor is closed whatever happened above. */
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) == 0)
		return STORE_OK;
	saved = saved != 0 ? saved : errno;
	unlink(tmp);
	errno = saved != 0 ? saved : EIO;
	return store_errno_result();
}

struct store *store_open(const char *dir, const struct store_options *opts, char **cause)
{
	static const char *const subdirs[] = { "ac", "cas", "tmp" };
	struct store *s;
	char resolved[PATH_MAX];
	char path[PATH_MAX + sizeof "/cas"];
	bool made = false;

	if (dir == NULL || *dir == '\0') {
		cause_set(cause, "store directory is not set");
		return NULL;
	}
	if (make_dirs(dir) != STORE_OK) {
		cause_set(cause, "cannot create store directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (realpath(dir, resolved) == NULL) {
		cause_set(cause, "cannot resolve store directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", resolved, subdirs[i]);
		if (mkdir(path, 0755) == 0)
			made |= i == 0;
		else if (errno != EEXIST) {
			cause_set(cause, "cannot create %s: %s", path, strerror(errno));
			return NULL;
		}
	}
	s = calloc(1, sizeof *s);
	if (s == NULL || (s->dir = strdup(resolved)) == NULL) {
		free(s);
		cause_set(cause, "out of memory opening store %s", resolved);
		return NULL;
	}
	s->dir_len = strlen(s->dir);
	s->made = made;
	snprintf(s->ns, sizeof s->ns, "%s", STORE_NS_DEFAULT);
	store_ns_dir(STORE_NS_DEFAULT, s->ac_dir);
	if (opts != NULL)
		s->opts = *opts;
	if (write_readme(s) != STORE_OK) {
		cause_set(cause, "cannot write to store directory %s: %s", resolved, strerror(errno));
		store_close(s);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/tmp", s->dir);  /* a crash's leftover is swept */
	s->unnamed_temps = !s->opts.named_temps && store_probe_unnamed(path);
	store_sweep_temp(s, time(NULL));
	return s;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (!s->view)
		free(s->dir);
	free(s);
}

const char *store_dir(const struct store *s)
{
	return s->dir;
}

bool store_is_new(const struct store *s)
{
	return s->made;
}

size_t store_path_max(const struct store *s)
{
	return s->dir_len + 1 + STORE_AC_DIR_MAX + STORE_NAME_MAX;
}

enum store_result store_object_name(enum store_kind k, const char *id,
                                    char buf[STORE_NAME_MAX])
{
	if (id == NULL || !store_id_valid(id, strnlen(id, STORE_ID_LEN + 1)))
		return STORE_BAD_ID;
	snprintf(buf, STORE_NAME_MAX, "%s/%.2s/%s", store_kind_name(k), id, id);
	return STORE_OK;
}

enum store_result store_object_path(const struct store *s, enum store_kind k,
                                    const char *id, char *buf, size_t n)
{
	char name[STORE_NAME_MAX];
	enum store_result r = store_object_name(k, id, name);
	int len;

	if (r != STORE_OK)
		return r;
	if (k == STORE_AC)
		len = snprintf(buf, n, "%s/%s/%.2s/%s", s->dir, s->ac_dir, id, id);
	else
		len = snprintf(buf, n, "%s/%s", s->dir, name);
	if (len < 0 || (size_t)len >= n) {
		errno = ENAMETOOLONG;
		return STORE_IO_ERROR;
	}
	return STORE_OK;
}

enum store_result store_encoded_path(const struct store *s, enum store_kind k, const char *id,
                                     enum store_encoding e, char *buf, size_t n)
{
	enum store_result r = store_object_path(s, k, id, buf, n);
	size_t len;

	if (r != STORE_OK || e == STORE_IDENTITY)
		return r;
	len = strlen(buf);
	if (len + sizeof STORE_ZST_SUFFIX > n) {
		errno = ENAMETOOLONG;
		return STORE_IO_ERROR;
	}
	memcpy(buf + len, STORE_ZST_SUFFIX, sizeof STORE_ZST_SUFFIX);
	return STORE_OK;
}

uint64_t store_sweep_temp(struct store *s, time_t now)
{
	char path[PATH_MAX];
	uint64_t left = 0;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof path, "%s/tmp", s->dir);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		/* A live writer holds an exclusive lock; a recent file may be one
		 * whose writer has not taken its lock yet. */
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		if (now - st.st_mtime >= STORE_TEMP_GRACE_SECONDS &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dirfd(d), e->d_name, 0) == 0) {
			close(fd);
			continue;
		}
		left += (uint64_t)st.st_size;
		close(fd);
	}
	closedir(d);
	return left;
}
