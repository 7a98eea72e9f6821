/*
 * mtimes.c: set modification times from content (mtimes.h). The walk holds
 * one descriptor per directory level and reaches every entry through its
 * directory's descriptor: a file is opened once, read once while hashed
 * (its access time untouched where the file is ours: O_NOATIME), and given
 * its time through the same descriptor; symbolic links are never
 * followed, and entries named .git are never entered nor touched.
 */
#include "proghelper/mtimes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cause.h"

/* Bytes read from a file at a time. */
#define MTIMES_READ (64 * 1024)

/* One walk's state. */
struct walk {
	EVP_MD_CTX *md;
	unsigned char *buf;       /* MTIMES_READ bytes */
	struct mtimes_count *n;
	FILE *err;
	char *path;               /* the current entry's path, for messages */
	size_t len, cap;
};

struct timespec mtimes_of_digest(const unsigned char digest[STORE_HASH_LEN])
{
	uint64_t v = 0, ns;
	struct timespec t;

	for (int i = 0; i < 8; i++)
		v = v << 8 | digest[i];
	ns = v >> (64 - MTIMES_WINDOW_BITS);
	t.tv_sec = (time_t)(MTIMES_WINDOW_START + ns / 1000000000u);
	t.tv_nsec = (long)(ns % 1000000000u);
	return t;
}

/* Append "/name" to the walk's path; returns the length to go back to. */
static size_t walk_push(struct walk *w, const char *name)
{
	size_t old = w->len, n = strlen(name);

	if (w->len + n + 2 > w->cap) {
		size_t cap = (w->len + n + 2) * 2;
		char *grown = realloc(w->path, cap);
		if (grown == NULL)
			return old;  /* the message then names the directory */
		w->path = grown;
		w->cap = cap;
	}
	w->path[w->len++] = '/';
	memcpy(w->path + w->len, name, n + 1);
	w->len += n;
	return old;
}

/* Go back to the path's length old. */
static void walk_pop(struct walk *w, size_t old)
{
	w->len = old;
	w->path[old] = '\0';
}

/* Say on err that doing what to the current entry failed with errno e; count it. */
static void walk_fail(struct walk *w, const char *what, int e)
{
	fprintf(w->err, "cachegate-prog: cannot %s %s: %s\n", what, w->path, strerror(e));
	w->n->errors++;
}

/* Hash n bytes at data into digest. */
static void walk_digest(struct walk *w, const void *data, size_t n,
                        unsigned char digest[STORE_HASH_LEN])
{
	EVP_DigestInit_ex(w->md, EVP_sha256(), NULL);
	EVP_DigestUpdate(w->md, data, n);
	EVP_DigestFinal_ex(w->md, digest, NULL);
}

/* Give the regular file name in directory dfd the time of its content. */
static void walk_file(struct walk *w, int dfd, const char *name)
{
	unsigned char digest[STORE_HASH_LEN];
	struct timespec ts[2];
	ssize_t got;
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	/* Reading leaves the access time as it was, where the file is ours. */
	int fd = openat(dfd, name, flags | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = openat(dfd, name, flags);
	if (fd < 0) {
		walk_fail(w, "open", errno);
		return;
	}
	EVP_DigestInit_ex(w->md, EVP_sha256(), NULL);
	while ((got = read(fd, w->buf, MTIMES_READ)) > 0)
		EVP_DigestUpdate(w->md, w->buf, (size_t)got);
	if (got < 0) {
		walk_fail(w, "read", errno);
		close(fd);
		return;
	}
	EVP_DigestFinal_ex(w->md, digest, NULL);
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = mtimes_of_digest(digest);
	if (futimens(fd, ts) != 0)
		walk_fail(w, "set the time of", errno);
	else
		w->n->files++;
	close(fd);
}

/* Give the symbolic link name in dfd the time of its target's name, without following it. */
static void walk_link(struct walk *w, int dfd, const char *name)
{
	unsigned char digest[STORE_HASH_LEN];
	struct timespec ts[2];
	char target[PATH_MAX];
	ssize_t n = readlinkat(dfd, name, target, sizeof target);

	if (n < 0) {
		walk_fail(w, "read the link", errno);
		return;
	}
	walk_digest(w, target, (size_t)n, digest);
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = mtimes_of_digest(digest);
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) != 0)
		walk_fail(w, "set the time of", errno);
	else
		w->n->links++;
}

/* The kind of entry e of directory dfd (DT_*), asking the file system when readdir did not say. */
static unsigned char walk_kind(int dfd, const struct dirent *e)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN)
		return e->d_type;
	if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return DT_UNKNOWN;
	return S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR :
	       S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
}

/* Set everything in the open directory fd (which this closes), then the directory itself. */
static void walk_dir(struct walk *w, int fd)
{
	const struct timespec ts[2] = {
		{ .tv_sec = 0, .tv_nsec = UTIME_OMIT },
		{ .tv_sec = MTIMES_WINDOW_START, .tv_nsec = 0 },
	};
	DIR *d = fdopendir(fd);
	struct dirent *e;

	if (d == NULL) {
		walk_fail(w, "list", errno);
		close(fd);
		return;
	}
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
		const char *name = e->d_name;
		size_t back;
		int sub;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		back = walk_push(w, name);
		if (strcmp(name, ".git") == 0) {
			w->n->skipped++;
		} else {
			switch (walk_kind(fd, e)) {
			case DT_REG:
				walk_file(w, fd, name);
				break;
			case DT_LNK:
				walk_link(w, fd, name);
				break;
			case DT_DIR:
				sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub < 0)
					walk_fail(w, "open the directory", errno);
				else
					walk_dir(w, sub);
				break;
			default:
				w->n->skipped++;
				break;
			}
		}
		walk_pop(w, back);
	}
	if (errno != 0)
		walk_fail(w, "list", errno);
	if (futimens(fd, ts) != 0)
		walk_fail(w, "set the time of", errno);
	else
		w->n->dirs++;
	closedir(d);
}

enum mtimes_result mtimes_canonicalize(const char *dir, struct mtimes_count *n, FILE *err,
                                       char **cause)
{
	struct walk w = { .n = n, .err = err };
	int fd;

	memset(n, 0, sizeof *n);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		cause_set(cause, "cannot open the directory %s: %s", dir, strerror(errno));
		return MTIMES_NO_DIR;
	}
	w.md = EVP_MD_CTX_new();
	w.buf = malloc(MTIMES_READ);
	w.cap = strlen(dir) + 1;
	w.path = strdup(dir);
	if (w.md == NULL || w.buf == NULL || w.path == NULL) {
		cause_set(cause, "out of memory");
		close(fd);
		EVP_MD_CTX_free(w.md);
		free(w.buf);
		free(w.path);
		return MTIMES_NO_DIR;
	}
	w.len = w.cap - 1;
	/* "DIR/" names its entries "DIR/x", not "DIR//x". */
	while (w.len > 1 && w.path[w.len - 1] == '/')
		w.path[--w.len] = '\0';
	walk_dir(&w, fd);
	EVP_MD_CTX_free(w.md);
	free(w.buf);
	free(w.path);
	return n->errors > 0 ? MTIMES_PARTLY : MTIMES_OK;
}
