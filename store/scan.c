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
static bool scan_shard(DIR *d, const char *xx, enum store_kind k, store_scan_visit visit,
                       void *ctx)
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
		if (!visit(ctx, k, id, e->d_name, dirfd(d), &st))
			return false;
	}
	return true;
}

enum store_result store_scan_kind(struct store *s, enum store_kind k, store_scan_visit visit,
                                  void *ctx)
{
	char path[PATH_MAX];
	DIR *top;
	struct dirent *shard;
	bool go_on = true;

	snprintf(path, sizeof path, "%s/%s", s->dir, store_kind_name(k));
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
		go_on = scan_shard(d, shard->d_name, k, visit, ctx);
		closedir(d);
	}
	closedir(top);
	return go_on ? STORE_OK : STORE_IO_ERROR;
}

enum store_result store_scan(struct store *s, store_scan_visit visit, void *ctx)
{
	enum store_result r = store_scan_kind(s, STORE_AC, visit, ctx);

	return r == STORE_OK ? store_scan_kind(s, STORE_CAS, visit, ctx) : r;
}
