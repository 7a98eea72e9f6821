/*
 * scan.c: walk the objects of a store directory.
 */
#include "store/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when name is an object file's: an id, or for CAS an id and ".zst". */
static bool well_named(enum store_kind k, const char *name)
{
	size_t len = strlen(name);

	if (len == STORE_ID_LEN + sizeof STORE_ZST_SUFFIX - 1 && k == STORE_CAS &&
	    strcmp(name + STORE_ID_LEN, STORE_ZST_SUFFIX) == 0)
		len = STORE_ID_LEN;
	return store_id_valid(name, len);
}

/* Visit every well-named regular file in one shard directory d named xx. */
static bool scan_shard(DIR *d, const char *xx, enum store_kind k, const char *where,
                       store_scan_visit visit, void *ctx)
{
	struct dirent *e;

	while ((e = readdir(d)) != NULL) {
		char id[STORE_ID_LEN + 1];
		struct stat st;

		if (!well_named(k, e->d_name) || strncmp(e->d_name, xx, 2) != 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		memcpy(id, e->d_name, STORE_ID_LEN);
		id[STORE_ID_LEN] = '\0';
		if (!visit(ctx, k, where, id, e->d_name, dirfd(d), &st))
			return false;
	}
	return true;
}

/* Visit every well-named regular file in <dir>/<where>/<xx>/, objects of kind k. */
static enum store_result scan_dir(struct store *s, enum store_kind k, const char *where,
                                  store_scan_visit visit, void *ctx)
{
	char path[PATH_MAX];
	DIR *top;
	struct dirent *shard;
	bool go_on = true;

	snprintf(path, sizeof path, "%s/%s", s->dir, where);
	top = opendir(path);
	if (top == NULL)
		return errno == ENOENT ? STORE_OK : STORE_IO_ERROR;
	while (go_on && (shard = readdir(top)) != NULL) {
		int shard_fd;
		DIR *d;

		if (strlen(shard->d_name) != 2 || shard->d_name[0] == '.')
			continue;
		shard_fd = openat(dirfd(top), shard->d_name,
		                  O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (shard_fd < 0)
			continue;
		d = fdopendir(shard_fd);
		if (d == NULL) {
			close(shard_fd);
			continue;
		}
		go_on = scan_shard(d, shard->d_name, k, where, visit, ctx);
		closedir(d);
	}
	closedir(top);
	return go_on ? STORE_OK : STORE_IO_ERROR;
}

/* A scan of the action entries of every namespace. */
struct ns_scan {
	struct store *store;
	store_scan_visit visit;
	void *ctx;
	enum store_result result;
};

/* store_ns_each visitor: scan one namespace's action entries. */
static bool scan_ns(void *ctx, const char *where)
{
	struct ns_scan *n = ctx;

	n->result = scan_dir(n->store, STORE_AC, where, n->visit, n->ctx);
	return n->result == STORE_OK;
}

enum store_result store_scan_kind(struct store *s, enum store_kind k, store_scan_visit visit,
                                  void *ctx)
{
	struct ns_scan n = { .store = s, .visit = visit, .ctx = ctx, .result = STORE_OK };
	enum store_result r = scan_dir(s, k, store_kind_name(k), visit, ctx);

	if (r != STORE_OK || k != STORE_AC)
		return r;
	store_ns_each(s, scan_ns, &n);
	return n.result;
}

enum store_result store_scan(struct store *s, store_scan_visit visit, void *ctx)
{
	enum store_result r = store_scan_kind(s, STORE_AC, visit, ctx);

	return r == STORE_OK ? store_scan_kind(s, STORE_CAS, visit, ctx) : r;
}
