/*
 * prog_mtimes_test.c: --canonicalize-mtimes sets each file's mtime from its
 * content: equal content equal times, another content another time, all far
 * in the past and spread to the nanosecond; directories one fixed time;
 * .git and access times untouched; symbolic links set, never followed.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proghelper/mtimes.h"
#include "tests/tmpdir.h"

static char *dir;

static void setup(void)
{
	dir = tmpdir_make("cachegate-mtimes");
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(prog_mtimes, .init = setup, .fini = teardown);

/* Write text to dir/rel, making its directories. */
static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	for (const char *s = strchr(rel, '/'); s != NULL; s = strchr(s + 1, '/')) {
		snprintf(path, sizeof path, "%s/%.*s", dir, (int)(s - rel), rel);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* The lstat of dir/rel. */
static struct stat info(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	cr_assert_eq(lstat(path, &st), 0, "cannot stat %s", path);
	return st;
}

/* Run the walk on dir; it must set everything without an error. */
static struct mtimes_count canonicalize(void)
{
	struct mtimes_count n;
	char *cause = NULL;

	cr_assert_eq(mtimes_canonicalize(dir, &n, stderr, &cause), MTIMES_OK, "%s",
	             cause != NULL ? cause : "");
	cr_assert_eq(n.errors, 0);
	return n;
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

Test(prog_mtimes, equal_content_gets_equal_times_and_other_content_another)
{
	put("a/one.txt", "hello\n");
	put("b/c/two.txt", "hello\n");
	put("three.txt", "hello!\n");
	cr_assert_eq(canonicalize().files, 3);
	cr_assert(same_time(info("a/one.txt").st_mtim, info("b/c/two.txt").st_mtim));
	cr_assert_not(same_time(info("a/one.txt").st_mtim, info("three.txt").st_mtim));
}

Test(prog_mtimes, a_changed_file_gets_another_time_and_its_old_content_its_old_time)
{
	struct timespec before;

	put("data.txt", "version 1\n");
	canonicalize();
	before = info("data.txt").st_mtim;
	put("data.txt", "version 2\n");
	canonicalize();
	cr_assert_not(same_time(before, info("data.txt").st_mtim));
	put("data.txt", "version 1\n");
	canonicalize();
	cr_assert(same_time(before, info("data.txt").st_mtim), "the same content, the same time");
}

Test(prog_mtimes, times_are_far_in_the_past_inside_the_window)
{
	char name[32], text[32];
	time_t end = MTIMES_WINDOW_START + (time_t)((1ull << MTIMES_WINDOW_BITS) / 1000000000u) + 1;

	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "f%d", i);
		snprintf(text, sizeof text, "content %d", i);
		put(name, text);
	}
	canonicalize();
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "f%d", i);
		time_t t = info(name).st_mtim.tv_sec;
		cr_assert(t >= MTIMES_WINDOW_START && t < end, "%s at %lld", name, (long long)t);
		cr_assert(t < time(NULL) - 10 * 365 * 86400, "at least ten years old");
	}
}

Test(prog_mtimes, times_use_the_whole_nanosecond_range)
{
	unsigned char digest[STORE_HASH_LEN];
	int distinct_seconds = 0, off_micro = 0;
	time_t last = 0;

	/* The digest's leading bits decide: its first 58 bits move the time by 1 ns each. */
	memset(digest, 0, sizeof digest);
	digest[7] = 0x40;
	cr_assert_eq(mtimes_of_digest(digest).tv_nsec, 1);
	cr_assert_eq(mtimes_of_digest(digest).tv_sec, MTIMES_WINDOW_START);
	memset(digest, 0xff, sizeof digest);
	cr_assert_eq((uint64_t)(mtimes_of_digest(digest).tv_sec - MTIMES_WINDOW_START) * 1000000000u +
	             (uint64_t)mtimes_of_digest(digest).tv_nsec, (1ull << MTIMES_WINDOW_BITS) - 1);

	/* Real files: nanoseconds not rounded to microseconds, seconds spread out. */
	for (int i = 0; i < 100; i++) {
		char name[32], text[32];
		snprintf(name, sizeof name, "f%d", i);
		snprintf(text, sizeof text, "%d", i);
		put(name, text);
	}
	canonicalize();
	for (int i = 0; i < 100; i++) {
		char name[32];
		snprintf(name, sizeof name, "f%d", i);
		struct timespec t = info(name).st_mtim;
		off_micro += t.tv_nsec % 1000 != 0;
		distinct_seconds += t.tv_sec != last;
		last = t.tv_sec;
	}
	cr_assert_gt(off_micro, 90, "%d of 100 times are not whole microseconds", off_micro);
	cr_assert_gt(distinct_seconds, 90);
}

Test(prog_mtimes, directories_get_the_fixed_time)
{
	struct stat st;

	put("x/y/z.txt", "z");
	cr_assert_eq(canonicalize().dirs, 3);
	st = info("x/y");
	cr_assert_eq(st.st_mtim.tv_sec, MTIMES_WINDOW_START);
	cr_assert_eq(st.st_mtim.tv_nsec, 0);
	cr_assert(same_time(info("x").st_mtim, st.st_mtim));
	cr_assert(same_time(info(".").st_mtim, st.st_mtim), "the directory named too");
}

Test(prog_mtimes, git_is_left_alone_and_access_times_too)
{
	struct stat git, head, sub, data;

	put(".git/HEAD", "ref: refs/heads/main\n");
	put("sub/.git", "gitdir: ../.git/modules/sub\n");  /* a submodule's */
	put("data.txt", "data");
	git = info(".git");
	head = info(".git/HEAD");
	sub = info("sub/.git");
	data = info("data.txt");
	cr_assert_eq(canonicalize().skipped, 2);
	cr_assert(same_time(info(".git").st_mtim, git.st_mtim));
	cr_assert(same_time(info(".git/HEAD").st_mtim, head.st_mtim));
	cr_assert(same_time(info("sub/.git").st_mtim, sub.st_mtim));
	cr_assert(same_time(info("data.txt").st_atim, data.st_atim), "the access time is kept");
}

Test(prog_mtimes, symbolic_links_are_set_and_never_followed)
{
	char *outside = tmpdir_make("cachegate-mtimes-outside");
	char target[PATH_MAX], link[PATH_MAX];
	struct stat before, after;

	snprintf(target, sizeof target, "%s/target.txt", outside);
	put("kept.txt", "x");
	FILE *f = fopen(target, "w");
	cr_assert_not_null(f);
	fputs("outside", f);
	fclose(f);
	cr_assert_eq(stat(target, &before), 0);
	snprintf(link, sizeof link, "%s/link", dir);
	cr_assert_eq(symlink(target, link), 0);
	snprintf(link, sizeof link, "%s/dirlink", dir);
	cr_assert_eq(symlink(outside, link), 0);

	struct mtimes_count n = canonicalize();
	cr_assert_eq(n.links, 2);
	cr_assert_eq(n.files, 1, "nothing reached through a link");
	cr_assert_eq(stat(target, &after), 0);
	cr_assert(same_time(before.st_mtim, after.st_mtim), "the target is not touched");
	cr_assert_lt(info("link").st_mtim.tv_sec, MTIMES_WINDOW_START + 10 * 365 * 86400);
	tmpdir_remove(outside);
}

Test(prog_mtimes, a_missing_directory_is_one_sentence)
{
	struct mtimes_count n;
	char *cause = NULL, path[PATH_MAX];

	snprintf(path, sizeof path, "%s/none", dir);
	cr_assert_eq(mtimes_canonicalize(path, &n, stderr, &cause), MTIMES_NO_DIR);
	cr_assert_not_null(strstr(cause, "none"));
	cr_assert_null(strchr(cause, '\n'));
	free(cause);
}
