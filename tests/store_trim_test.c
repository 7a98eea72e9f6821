/*
 * store_trim_test.c: trimming by age and by size, judged by a fake clock.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/store_fixture.h"

TestSuite(store_trim, .init = fixture_open, .fini = fixture_close);

#define DAY (24 * 3600)
static const time_t fake_now = 2000000000;

/* Put a CAS object of n bytes of value fill, last used at the given time; returns its id. */
static void put_used_at(char fill, size_t n, time_t used, char id[STORE_ID_LEN + 1])
{
	char buf[4096];
	char path[PATH_MAX];
	struct timespec times[2] = { { .tv_sec = used }, { .tv_sec = used } };

	cr_assert_leq(n, sizeof buf);
	memset(buf, fill, n);
	fixture_sha256(buf, n, id);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, id, buf, n), STORE_OK);
	store_object_path(fixture_store, STORE_CAS, id, path, sizeof path);
	cr_assert_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

static bool present(const char *id)
{
	return store_stat(fixture_store, STORE_CAS, id, NULL) == STORE_OK;
}

Test(store_trim, removes_objects_unused_for_too_long)
{
	char old[STORE_ID_LEN + 1], recent[STORE_ID_LEN + 1];
	struct store_trim_options o = { .now = fake_now, .max_unused = 5 * DAY };
	struct store_trim_result r;

	put_used_at('o', 100, fake_now - 6 * DAY, old);
	put_used_at('r', 200, fake_now - 4 * DAY, recent);
	cr_assert_eq(store_trim(fixture_store, &o, &r), STORE_OK);
	cr_assert_not(present(old));
	cr_assert(present(recent));
	cr_assert_eq(r.before.objects, 2);
	cr_assert_eq(r.before.bytes, 300);
	cr_assert_eq(r.after.objects, 1);
	cr_assert_eq(r.after.bytes, 200);
	cr_assert_eq(r.removed_objects, 1);
	cr_assert_eq(r.removed_bytes, 100);
}

Test(store_trim, size_cap_removes_least_recently_used_first)
{
	char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1], c[STORE_ID_LEN + 1], d[STORE_ID_LEN + 1];
	struct store_trim_options o = { .now = fake_now, .max_bytes = 2500 };
	struct store_trim_result r;

	put_used_at('a', 1000, fake_now - 40, a);
	put_used_at('b', 1000, fake_now - 10, b);
	put_used_at('c', 1000, fake_now - 30, c);
	put_used_at('d', 1000, fake_now - 20, d);
	cr_assert_eq(store_trim(fixture_store, &o, &r), STORE_OK);
	cr_assert_not(present(a), "oldest goes first");
	cr_assert_not(present(c), "then the next oldest");
	cr_assert(present(d));
	cr_assert(present(b));
	cr_assert_eq(r.after.bytes, 2000);
	cr_assert_eq(r.removed_objects, 2);
}

Test(store_trim, min_keep_protects_recent_objects)
{
	char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1];
	struct store_trim_options o = { .now = fake_now, .max_bytes = 1, .min_keep = 3600 };
	struct store_trim_result r;

	put_used_at('a', 500, fake_now - 7200, a);
	put_used_at('b', 500, fake_now - 60, b);
	cr_assert_eq(store_trim(fixture_store, &o, &r), STORE_OK);
	cr_assert_not(present(a));
	cr_assert(present(b), "used within min_keep: kept even over the cap");
	cr_assert_eq(r.after.bytes, 500);
}

Test(store_trim, no_limits_removes_nothing_and_counts)
{
	char a[STORE_ID_LEN + 1];
	struct store_trim_options o = { .now = fake_now };
	struct store_trim_result r;
	struct store_usage u;

	put_used_at('a', 10, 1, a);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_AC, a, "entry", 5), STORE_OK);
	cr_assert_eq(store_trim(fixture_store, &o, &r), STORE_OK);
	cr_assert(present(a));
	cr_assert_eq(r.removed_objects, 0);
	cr_assert_eq(store_usage(fixture_store, &u), STORE_OK);
	cr_assert_eq(u.objects, 2);
	cr_assert_eq(u.ac_objects, 1);
	cr_assert_eq(u.cas_objects, 1);
	cr_assert_eq(u.bytes, 15);
}

Test(store_trim, ignores_foreign_files)
{
	char path[PATH_MAX];
	struct store_trim_options o = { .now = fake_now, .max_unused = 1, .max_bytes = 1 };
	struct store_usage u;
	int fd;

	snprintf(path, sizeof path, "%s/cas/ab", fixture_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/cas/ab/notes.txt", fixture_dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(store_trim(fixture_store, &o, NULL), STORE_OK);
	cr_assert_eq(access(path, F_OK), 0, "trim only removes objects it owns");
	snprintf(path, sizeof path, "%s/README", fixture_dir);
	cr_assert_eq(access(path, F_OK), 0);
	cr_assert_eq(store_usage(fixture_store, &u), STORE_OK);
	cr_assert_eq(u.objects, 0);
}
