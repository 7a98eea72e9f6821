/*
 * trim.c: usage scans and trimming by age and total size.
 */
#include "store/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One object seen by a scan. */
struct scanned {
	time_t mtime;
	uint64_t size;
	unsigned char hash[STORE_HASH_LEN];
	uint32_t where;           /* its directory: an index into trim_pass.wheres */
	enum store_kind kind;
	enum store_encoding encoding;
};

/* A growable list of scanned objects. */
struct scan_list {
	struct scanned *items;
	size_t len, cap;
};

/* Add one object to a usage count. */
static void usage_add(struct store_usage *u, enum store_kind k, uint64_t size)
{
	u->objects++;
	u->bytes += size;
	if (k == STORE_AC)
		u->ac_objects++;
	else
		u->cas_objects++;
}

/* Take one object away from a usage count. */
static void usage_sub(struct store_usage *u, enum store_kind k, uint64_t size)
{
	u->objects--;
	u->bytes -= size;
	if (k == STORE_AC)
		u->ac_objects--;
	else
		u->cas_objects--;
}

/* scan visitor for store_usage: add the object to the struct store_usage ctx. */
static bool count_visit(void *ctx, enum store_kind k, const char *where, const char *id,
                        const char *name, int dir_fd, const struct stat *st)
{
	(void)where;
	(void)id;
	(void)name;
	(void)dir_fd;
	usage_add(ctx, k, (uint64_t)st->st_size);
	return true;
}

enum store_result store_usage(struct store *s, struct store_usage *u)
{
	memset(u, 0, sizeof *u);
	return store_scan(s, count_visit, u);
}

/* State of one trim pass. */
struct trim_pass {
	const struct store_trim_options *opts;
	struct store_trim_result *result;
	struct scan_list kept;     /* survivors, only gathered when a size cap is set */
	char (*wheres)[STORE_AC_DIR_MAX];  /* the kind directories survivors are in */
	size_t nwheres, cap_wheres;
};

/*
 * The index in t->wheres of directory where, added if it is not the last
 * one added (a scan visits one directory at a time). False when out of memory.
 */
static bool where_index(struct trim_pass *t, const char *where, uint32_t *index)
{
	if (t->nwheres > 0 && strcmp(t->wheres[t->nwheres - 1], where) == 0) {
		*index = (uint32_t)(t->nwheres - 1);
		return true;
	}
	if (t->nwheres == UINT32_MAX)
		return false;
	if (t->nwheres == t->cap_wheres) {
		size_t cap = t->cap_wheres ? t->cap_wheres * 2 : 8;
		char (*w)[STORE_AC_DIR_MAX] = realloc(t->wheres, cap * sizeof *w);
		if (w == NULL)
			return false;
		t->wheres = w;
		t->cap_wheres = cap;
	}
	snprintf(t->wheres[t->nwheres], STORE_AC_DIR_MAX, "%s", where);
	*index = (uint32_t)t->nwheres++;
	return true;
}

/* True when an object last used at mtime may be removed at all. */
static bool removable(const struct store_trim_options *o, time_t mtime)
{
	return o->min_keep <= 0 || mtime < o->now - o->min_keep;
}

/*
 * Unlink one object unless it was used since the scan saw it (a reader
 * refreshed its mtime). True when it was removed.
 */
static bool remove_if_unchanged(int dir_fd, const char *name, time_t seen_mtime)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_mtime != seen_mtime)
		return false;
	return unlinkat(dir_fd, name, 0) == 0;
}

/*
 * scan visitor for store_trim: remove the object when unused for longer than
 * max_unused, else count it as kept and, with a size cap, remember it for
 * trim_to_size. False only when out of memory.
 */
static bool trim_visit(void *ctx, enum store_kind k, const char *where, const char *id,
                       const char *name, int dir_fd, const struct stat *st)
{
	struct trim_pass *t = ctx;
	const struct store_trim_options *o = t->opts;
	uint64_t size = (uint64_t)st->st_size;

	usage_add(&t->result->before, k, size);
	if (o->max_unused > 0 && st->st_mtime < o->now - o->max_unused &&
	    removable(o, st->st_mtime) && remove_if_unchanged(dir_fd, name, st->st_mtime)) {
		t->result->removed_objects++;
		t->result->removed_bytes += size;
		return true;
	}
	usage_add(&t->result->after, k, size);
	if (o->max_bytes == 0)
		return true;
	if (t->kept.len == t->kept.cap) {
		size_t cap = t->kept.cap ? t->kept.cap * 2 : 1024;
		struct scanned *items = realloc(t->kept.items, cap * sizeof *items);
		if (items == NULL)
			return false;
		t->kept.items = items;
		t->kept.cap = cap;
	}
	struct scanned *it = &t->kept.items[t->kept.len];
	if (!where_index(t, where, &it->where))
		return false;
	t->kept.len++;
	it->mtime = st->st_mtime;
	it->size = size;
	it->kind = k;
	it->encoding = STORE_NAME_ENCODING(name);
	store_unhex(id, it->hash);
	return true;
}

/* Oldest first; ties broken by size, largest first, to free space sooner. */
static int by_mtime(const void *a, const void *b)
{
	const struct scanned *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return 0;
}

/* Remove least recently used survivors until the total fits max_bytes. */
static void trim_to_size(struct store *s, struct trim_pass *t)
{
	const struct store_trim_options *o = t->opts;
	struct store_usage *after = &t->result->after;

	if (t->kept.len == 0)
		return;  /* only temp files: nothing to remove */
	qsort(t->kept.items, t->kept.len, sizeof *t->kept.items, by_mtime);
	for (size_t i = 0; i < t->kept.len && after->bytes + after->temp_bytes > o->max_bytes; i++) {
		struct scanned *it = &t->kept.items[i];
		char id[STORE_ID_LEN + sizeof STORE_ZST_SUFFIX];
		char shard[PATH_MAX];
		int dir_fd;

		if (!removable(o, it->mtime))
			break;  /* sorted: everything after is newer still */
		store_hex(it->hash, id);
		if (it->encoding == STORE_ZSTD)
			strcat(id, STORE_ZST_SUFFIX);
		snprintf(shard, sizeof shard, "%s/%s/%.2s", s->dir, t->wheres[it->where], id);
		dir_fd = open(shard, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir_fd < 0)
			continue;
		if (remove_if_unchanged(dir_fd, id, it->mtime)) {
			usage_sub(after, it->kind, it->size);
			t->result->removed_objects++;
			t->result->removed_bytes += it->size;
		}
		close(dir_fd);
	}
}

enum store_result store_trim(struct store *s, const struct store_trim_options *o,
                             struct store_trim_result *result)
{
	struct store_trim_result local;
	struct trim_pass t = { .opts = o, .result = result != NULL ? result : &local };
	enum store_result r;

	memset(t.result, 0, sizeof *t.result);
	t.result->before.temp_bytes = t.result->after.temp_bytes = store_sweep_temp(s, o->now);
	r = store_scan(s, trim_visit, &t);
	if (r == STORE_OK && o->max_bytes > 0 &&
	    t.result->after.bytes + t.result->after.temp_bytes > o->max_bytes)
		trim_to_size(s, &t);
	free(t.kept.items);
	free(t.wheres);
	return r;
}
