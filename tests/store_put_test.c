/*
 * store_put_test.c: streaming puts (unnamed and named), verified gets,
 * corruption as a miss.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/store_fixture.h"

TestSuite(store_put, .init = fixture_open, .fini = fixture_close);
/* The same promises kept through named temp files in tmp/, as where O_TMPFILE is missing. */
TestSuite(store_put_named, .init = fixture_open_named, .fini = fixture_close);

static const char other_id[] =
	"1111111111111111111111111111111111111111111111111111111111111111";

/* Read a whole object through store_get into a malloc'd buffer. */
static char *read_object(enum store_kind k, const char *id, size_t *len)
{
	struct store_object obj;
	char *buf;
	ssize_t n;

	cr_assert_eq(store_get(fixture_store, k, id, -1, &obj), STORE_OK);
	buf = malloc(obj.size + 1);
	n = read(obj.fd, buf, obj.size + 1);
	cr_assert_eq(n, (ssize_t)obj.size);
	close(obj.fd);
	*len = (size_t)n;
	return buf;
}

/* A CAS object written in pieces reads back whole, and leaves no temp file. */
static void check_cas_round_trip(void)
{
	char body[10000];
	char id[STORE_ID_LEN + 1];
	struct store_put *p;
	size_t len;

	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (char)(i * 7 + 3);
	fixture_sha256(body, sizeof body, id);
	cr_assert_eq(store_put_begin(fixture_store, STORE_CAS, id, 0, &p), STORE_OK);
	for (size_t off = 0; off < sizeof body; off += 999) {
		size_t n = sizeof body - off < 999 ? sizeof body - off : 999;
		cr_assert_eq(store_put_write(p, body + off, n), STORE_OK);
	}
	cr_assert_eq(store_put_size(p), sizeof body);
	cr_assert_eq(store_put_commit(p, sizeof body), STORE_OK);

	char *got = read_object(STORE_CAS, id, &len);
	cr_assert_eq(len, sizeof body);
	cr_assert_arr_eq(got, body, sizeof body);
	free(got);
	cr_assert_eq(fixture_temp_count(), 0, "no temp file is left behind");

	char path[PATH_MAX];
	char expect[PATH_MAX];
	cr_assert_eq(store_object_path(fixture_store, STORE_CAS, id, path, sizeof path), STORE_OK);
	snprintf(expect, sizeof expect, "%s/cas/%.2s/%s", store_dir(fixture_store), id, id);
	cr_assert_str_eq(path, expect);
	cr_assert_eq(access(path, R_OK), 0);
}

Test(store_put, cas_round_trip_in_chunks)
{
	check_cas_round_trip();
}

Test(store_put_named, cas_round_trip_in_chunks)
{
	check_cas_round_trip();
}

Test(store_put, wrong_hash_stores_nothing)
{
	struct store_put *p;

	cr_assert_eq(store_put_begin(fixture_store, STORE_CAS, other_id, 0, &p), STORE_OK);
	cr_assert_eq(store_put_write(p, "hello", 5), STORE_OK);
	cr_assert_eq(store_put_commit(p, -1), STORE_HASH_MISMATCH);
	cr_assert_eq(store_stat(fixture_store, STORE_CAS, other_id, NULL), STORE_NOT_FOUND);
	cr_assert_eq(fixture_temp_count(), 0);
}

Test(store_put, wrong_size_stores_nothing)
{
	char id[STORE_ID_LEN + 1];
	struct store_put *p;

	fixture_sha256("hello", 5, id);
	cr_assert_eq(store_put_begin(fixture_store, STORE_CAS, id, 0, &p), STORE_OK);
	cr_assert_eq(store_put_write(p, "hello", 5), STORE_OK);
	cr_assert_eq(store_put_commit(p, 6), STORE_SIZE_MISMATCH);
	cr_assert_eq(store_stat(fixture_store, STORE_CAS, id, NULL), STORE_NOT_FOUND);
	cr_assert_eq(fixture_temp_count(), 0);
}

Test(store_put, limit_refuses_oversize_body)
{
	struct store_put *p;

	cr_assert_eq(store_put_begin(fixture_store, STORE_AC, other_id, 8, &p), STORE_OK);
	cr_assert_eq(store_put_write(p, "12345", 5), STORE_OK);
	cr_assert_eq(store_put_write(p, "6789", 4), STORE_TOO_LARGE);
	store_put_abort(p);
	cr_assert_eq(store_stat(fixture_store, STORE_AC, other_id, NULL), STORE_NOT_FOUND);
	cr_assert_eq(fixture_temp_count(), 0);
}

Test(store_put, abort_leaves_nothing_visible)
{
	struct store_put *p;

	cr_assert_eq(store_put_begin(fixture_store, STORE_AC, other_id, 0, &p), STORE_OK);
	cr_assert_eq(store_put_write(p, "partial", 7), STORE_OK);
	cr_assert_eq(store_stat(fixture_store, STORE_AC, other_id, NULL), STORE_NOT_FOUND,
	             "a write in progress is not visible");
	store_put_abort(p);
	cr_assert_eq(fixture_temp_count(), 0);
}

Test(store_put_named, abort_removes_the_live_temp_file)
{
	struct store_put *p;

	cr_assert_eq(store_put_begin(fixture_store, STORE_AC, other_id, 0, &p), STORE_OK);
	cr_assert_eq(store_put_write(p, "partial", 7), STORE_OK);
	cr_assert_eq(fixture_temp_count(), 1, "a named write lives in tmp/");
	cr_assert_eq(store_stat(fixture_store, STORE_AC, other_id, NULL), STORE_NOT_FOUND,
	             "a write in progress is not visible");
	store_put_abort(p);
	cr_assert_eq(fixture_temp_count(), 0);
}

/* Skip the test unless dir's file system makes unnamed files (O_TMPFILE). */
static void need_unnamed(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR, 0600);

	if (fd < 0)
		cr_skip_test("no O_TMPFILE on this file system");
	close(fd);
}

/* Entries in <fixture_dir>/<kind>/<xx> for the id's xx; 0 when it does not exist. */
static int dir_entries(const char *kind, const char *id)
{
	char path[PATH_MAX];
	struct dirent *e;
	int count = 0;
	DIR *d;

	snprintf(path, sizeof path, "%s/%s/%.2s", fixture_dir, kind, id);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		count += e->d_name[0] != '.';
	closedir(d);
	return count;
}

Test(store_put, a_write_in_progress_has_no_name_anywhere)
{
	char id[STORE_ID_LEN + 1];
	struct store_put *p;

	need_unnamed(fixture_dir);
	fixture_sha256("unnamed", 7, id);
	cr_assert_eq(store_put_begin(fixture_store, STORE_CAS, id, 0, &p), STORE_OK);
	cr_assert_eq(store_put_write(p, "unnamed", 7), STORE_OK);
	cr_assert_eq(fixture_temp_count(), 0, "nothing in tmp/");
	cr_assert_eq(dir_entries("cas", id), 0, "nothing beside the objects");
	cr_assert_eq(store_put_commit(p, 7), STORE_OK);
	cr_assert_eq(dir_entries("cas", id), 1);
	cr_assert_eq(store_stat(fixture_store, STORE_CAS, id, NULL), STORE_OK);
}

Test(store_put, a_killed_writer_leaves_nothing_behind)
{
	char id[STORE_ID_LEN + 1];
	int status;
	pid_t pid;

	need_unnamed(fixture_dir);
	fixture_sha256("killed", 6, id);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct store_put *p;
		if (store_put_begin(fixture_store, STORE_CAS, id, 0, &p) == STORE_OK &&
		    store_put_write(p, "killed", 6) == STORE_OK)
			raise(SIGKILL);
		_exit(1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the writer was not killed");
	cr_assert_eq(fixture_temp_count(), 0, "no temp file to sweep");
	cr_assert_eq(dir_entries("cas", id), 0);
	cr_assert_eq(store_stat(fixture_store, STORE_CAS, id, NULL), STORE_NOT_FOUND);
}

Test(store_put, bad_ids_never_touch_the_disk)
{
	struct store_put *p = (struct store_put *)1;
	struct store_object obj;
	char path[PATH_MAX];

	cr_assert_eq(store_put_begin(fixture_store, STORE_CAS, "../../etc/passwd", 0, &p),
	             STORE_BAD_ID);
	cr_assert_null(p);
	cr_assert_eq(store_get(fixture_store, STORE_AC, "ABC", -1, &obj), STORE_BAD_ID);
	cr_assert_eq(store_stat(fixture_store, STORE_AC, "", NULL), STORE_BAD_ID);
	cr_assert_eq(store_remove(fixture_store, STORE_AC, ".."), STORE_BAD_ID);
	cr_assert_eq(store_object_path(fixture_store, STORE_AC, "x", path, sizeof path),
	             STORE_BAD_ID);
	cr_assert_eq(fixture_temp_count(), 0);
}

/* A later AC put replaces the entry. */
static void check_ac_replaced(void)
{
	char buf[64];
	size_t len = 0;

	cr_assert_eq(store_put_bytes(fixture_store, STORE_AC, other_id, "first", 5), STORE_OK);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_AC, other_id, "second!", 7), STORE_OK);
	cr_assert_eq(store_read_small(fixture_store, STORE_AC, other_id, buf, sizeof buf, &len),
	             STORE_OK);
	cr_assert_eq(len, 7);
	cr_assert_arr_eq(buf, "second!", 7);
	cr_assert_eq(store_read_small(fixture_store, STORE_AC, other_id, buf, 3, &len),
	             STORE_TOO_LARGE);
}

Test(store_put, ac_is_replaced_by_a_later_put)
{
	check_ac_replaced();
}

Test(store_put_named, ac_is_replaced_by_a_later_put)
{
	check_ac_replaced();
}

/* An intact CAS object is kept as it is by a put of the same id. */
static void check_cas_kept(void)
{
	char id[STORE_ID_LEN + 1];
	char path[PATH_MAX];
	struct stat before, after;

	fixture_sha256("same bytes", 10, id);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, id, "same bytes", 10), STORE_OK);
	store_object_path(fixture_store, STORE_CAS, id, path, sizeof path);
	cr_assert_eq(stat(path, &before), 0);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, id, "same bytes", 10), STORE_OK);
	cr_assert_eq(stat(path, &after), 0);
	cr_assert_eq(before.st_ino, after.st_ino, "a handed-out file is never replaced");
	cr_assert_eq(fixture_temp_count(), 0);
}

Test(store_put, existing_cas_object_is_kept)
{
	check_cas_kept();
}

Test(store_put_named, existing_cas_object_is_kept)
{
	check_cas_kept();
}

Test(store_put, empty_object)
{
	char id[STORE_ID_LEN + 1];
	struct store_object obj;

	fixture_sha256("", 0, id);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, id, "", 0), STORE_OK);
	cr_assert_eq(store_get(fixture_store, STORE_CAS, id, 0, &obj), STORE_OK);
	cr_assert_eq(obj.size, 0);
	close(obj.fd);
}

/* Overwrite an object's file behind the store's back. */
static void corrupt(enum store_kind k, const char *id, const char *bytes, size_t n)
{
	char path[PATH_MAX];
	int fd;

	store_object_path(fixture_store, k, id, path, sizeof path);
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, bytes, n), (ssize_t)n);
	close(fd);
}

Test(store_put, wrong_size_on_disk_is_a_miss_and_removed)
{
	char id[STORE_ID_LEN + 1];
	struct store_object obj;

	fixture_sha256("0123456789", 10, id);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, id, "0123456789", 10), STORE_OK);
	corrupt(STORE_CAS, id, "01234", 5);
	cr_assert_eq(store_get(fixture_store, STORE_CAS, id, 10, &obj), STORE_NOT_FOUND);
	cr_assert_eq(store_stat(fixture_store, STORE_CAS, id, NULL), STORE_NOT_FOUND,
	             "the bad entry was removed");
}

/* A damaged CAS object is replaced by a put of its id. */
static void check_damaged_replaced(void)
{
	char id[STORE_ID_LEN + 1], *got;
	size_t len;

	fixture_sha256("right bytes", 11, id);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, id, "right bytes", 11), STORE_OK);
	corrupt(STORE_CAS, id, "wrong bytes", 11);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, id, "right bytes", 11), STORE_OK);
	got = read_object(STORE_CAS, id, &len);
	cr_assert(len == 11 && memcmp(got, "right bytes", 11) == 0, "still damaged: %.*s",
	          (int)len, got);
	free(got);
	cr_assert_eq(fixture_temp_count(), 0);
}

Test(store_put, a_damaged_cas_object_of_the_same_size_is_replaced_by_a_put)
{
	check_damaged_replaced();
}

Test(store_put_named, a_damaged_cas_object_of_the_same_size_is_replaced_by_a_put)
{
	check_damaged_replaced();
}

/* store_verify callback: count a damaged object in the size_t at ctx. */
static void count_damaged(void *ctx, const char *id, const struct stat *st)
{
	(void)id;
	(void)st;
	(*(size_t *)ctx)++;
}

Test(store_put, verify_removes_exactly_the_damaged_objects)
{
	static const char *const bodies[] = { "one", "two", "three", "four" };
	char ids[4][STORE_ID_LEN + 1], entry[STORE_ID_LEN + 1];
	struct store_verify_result res;
	size_t told = 0;
	struct store_verify_options o = { .damaged = count_damaged, .ctx = &told };

	for (int i = 0; i < 4; i++) {
		fixture_sha256(bodies[i], strlen(bodies[i]), ids[i]);
		cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, ids[i], bodies[i],
		                             strlen(bodies[i])), STORE_OK);
	}
	/* An action entry is opaque: whatever it holds is not damage. */
	memcpy(entry, other_id, sizeof(entry));
	cr_assert_eq(store_put_bytes(fixture_store, STORE_AC, entry, "anything", 8), STORE_OK);
	corrupt(STORE_CAS, ids[1], "tw0", 3);
	corrupt(STORE_CAS, ids[3], "four!", 5);
	cr_assert_eq(store_verify(fixture_store, &o, &res), STORE_OK);
	cr_assert_eq(res.objects, 4);
	cr_assert_eq(res.bytes, 3 + 3 + 5 + 5);
	cr_assert_eq(res.damaged, 2);
	cr_assert_eq(told, 2);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(store_stat(fixture_store, STORE_CAS, ids[i], NULL),
		             i % 2 == 1 ? STORE_NOT_FOUND : STORE_OK, "object %d", i);
	cr_assert_eq(store_stat(fixture_store, STORE_AC, entry, NULL), STORE_OK);
}

Test(store_put, a_check_passes_only_the_bytes_of_its_id)
{
	char id[STORE_ID_LEN + 1];
	struct store_check *c;

	fixture_sha256("abcdef", 6, id);
	c = store_check_new(id);
	store_check_update(c, "abc", 3);
	store_check_update(c, "def", 3);
	cr_assert(store_check_intact(c));
	cr_assert_not(store_check_intact(c), "a finished check never passes again");
	store_check_free(c);
	c = store_check_new(id);
	store_check_update(c, "abcdeF", 6);
	cr_assert_not(store_check_intact(c));
	store_check_free(c);
	cr_assert_null(store_check_new("not an id"));
}

Test(store_put, truncated_cas_object_is_a_miss)
{
	char id[STORE_ID_LEN + 1];
	struct store_object obj;

	fixture_sha256("payload", 7, id);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, id, "payload", 7), STORE_OK);
	corrupt(STORE_CAS, id, "", 0);
	cr_assert_eq(store_get(fixture_store, STORE_CAS, id, -1, &obj), STORE_NOT_FOUND,
	             "an empty file can only be the empty object");
}

Test(store_put, directory_in_place_of_object_is_a_miss)
{
	char path[PATH_MAX];

	store_object_path(fixture_store, STORE_AC, other_id, path, sizeof path);
	*strrchr(path, '/') = '\0';
	cr_assert_eq(mkdir(path, 0755), 0);
	store_object_path(fixture_store, STORE_AC, other_id, path, sizeof path);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(store_stat(fixture_store, STORE_AC, other_id, NULL), STORE_NOT_FOUND);
}

Test(store_put, get_refreshes_old_mtime)
{
	char path[PATH_MAX];
	struct stat st;
	struct store_object obj;
	struct timespec old[2] = { { .tv_sec = 1000000 }, { .tv_sec = 1000000 } };

	cr_assert_eq(store_put_bytes(fixture_store, STORE_AC, other_id, "x", 1), STORE_OK);
	store_object_path(fixture_store, STORE_AC, other_id, path, sizeof path);
	cr_assert_eq(utimensat(AT_FDCWD, path, old, 0), 0);
	cr_assert_eq(store_stat(fixture_store, STORE_AC, other_id, NULL), STORE_OK);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mtime, 1000000, "stat does not count as a use");
	cr_assert_eq(store_get(fixture_store, STORE_AC, other_id, 1, &obj), STORE_OK);
	close(obj.fd);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_gt(st.st_mtime, time(NULL) - 60, "a use refreshes an old mtime");
}

Test(store_put, touch_marks_a_use_without_opening_and_removes_a_bad_object)
{
	char id[STORE_ID_LEN + 1], path[PATH_MAX];
	struct stat st;
	struct timespec old[2] = { { .tv_sec = 1000000 }, { .tv_sec = 1000000 } };

	fixture_sha256("0123456789", 10, id);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, id, "0123456789", 10), STORE_OK);
	store_object_path(fixture_store, STORE_CAS, id, path, sizeof path);
	cr_assert_eq(utimensat(AT_FDCWD, path, old, 0), 0);
	cr_assert_eq(store_touch(fixture_store, STORE_CAS, id, 10), STORE_OK);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_gt(st.st_mtime, time(NULL) - 60, "a touch refreshes an old mtime");
	cr_assert_eq(store_touch(fixture_store, STORE_CAS, id, -1), STORE_OK, "any size");
	cr_assert_eq(store_touch(fixture_store, STORE_CAS, other_id, -1), STORE_NOT_FOUND);
	cr_assert_eq(store_touch(fixture_store, STORE_CAS, "nothex", -1), STORE_BAD_ID);
	cr_assert_eq(store_touch(fixture_store, STORE_CAS, id, 11), STORE_NOT_FOUND);
	cr_assert_eq(stat(path, &st), -1, "an object of the wrong size was removed");
}

Test(store_put, remove_then_miss)
{
	cr_assert_eq(store_put_bytes(fixture_store, STORE_AC, other_id, "x", 1), STORE_OK);
	cr_assert_eq(store_remove(fixture_store, STORE_AC, other_id), STORE_OK);
	cr_assert_eq(store_stat(fixture_store, STORE_AC, other_id, NULL), STORE_NOT_FOUND);
	cr_assert_eq(store_remove(fixture_store, STORE_AC, other_id), STORE_OK);
}
