/*
 * store_open_test.c: opening a store: its layout and README, the sweep of
 * temp files killed writers left, whether this open made the store, and
 * the failures it reports.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/store_fixture.h"

TestSuite(store_open, .init = fixture_open, .fini = fixture_close);
/* A store that writes through named temp files in tmp/, so that a live write has one. */
TestSuite(store_open_named, .init = fixture_open_named, .fini = fixture_close);

static const char other_id[] =
	"1111111111111111111111111111111111111111111111111111111111111111";

Test(store_open, open_writes_readme_and_layout)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/README", fixture_dir);
	cr_assert_eq(access(path, R_OK), 0);
	snprintf(path, sizeof path, "%s/ac", fixture_dir);
	cr_assert_eq(access(path, X_OK), 0);
	snprintf(path, sizeof path, "%s/cas", fixture_dir);
	cr_assert_eq(access(path, X_OK), 0);
}

Test(store_open_named, open_sweeps_stale_unlocked_temp_files_only)
{
	char stale[PATH_MAX], fresh[PATH_MAX];
	struct timespec old[2] = { { .tv_sec = 1000000 }, { .tv_sec = 1000000 } };
	struct store_put *live;
	struct store *again;
	char *cause = NULL;
	int fd;

	snprintf(stale, sizeof stale, "%s/tmp/cas-crashed-writer", fixture_dir);
	snprintf(fresh, sizeof fresh, "%s/tmp/cas-just-created", fixture_dir);
	fd = open(stale, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(utimensat(AT_FDCWD, stale, old, 0), 0);
	fd = open(fresh, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(store_put_begin(fixture_store, STORE_AC, other_id, 0, &live), STORE_OK);
	cr_assert_eq(fixture_temp_count(), 3);

	again = store_open(fixture_dir, NULL, &cause);
	cr_assert_not_null(again);
	cr_assert_neq(access(stale, F_OK), 0, "a stale temp file is removed");
	cr_assert_eq(access(fresh, F_OK), 0, "a recent temp file is kept");
	cr_assert_eq(fixture_temp_count(), 2, "a live write is kept");
	cr_assert_eq(store_put_write(live, "ok", 2), STORE_OK);
	cr_assert_eq(store_put_commit(live, 2), STORE_OK);
	store_close(again);
}

Test(store_open, open_reports_an_unusable_directory)
{
	char *cause = NULL;
	char path[PATH_MAX];
	struct store *s;
	int fd;

	snprintf(path, sizeof path, "%s/a-file", fixture_dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	close(fd);
	snprintf(path, sizeof path, "%s/a-file/store", fixture_dir);
	s = store_open(path, NULL, &cause);
	cr_assert_null(s);
	cr_assert_not_null(cause);
	cr_assert_not_null(strstr(cause, "a-file/store"), "the cause names the folder: %s", cause);
	free(cause);
}

/* The lowest free descriptor number right now. */
static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	close(fd);
	return fd;
}

Test(store_open, open_that_cannot_write_its_readme_leaks_no_descriptor)
{
	struct rlimit none = {0, 0}, old;
	char *cause = NULL;
	char path[PATH_MAX];
	struct store *s;
	int before;

	/* Writes into files fail (EFBIG) while directories can still be made. */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	none.rlim_max = old.rlim_max;
	snprintf(path, sizeof path, "%s/second", fixture_dir);
	before = lowest_free_fd();
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &none), 0);
	s = store_open(path, NULL, &cause);
	setrlimit(RLIMIT_FSIZE, &old);
	cr_assert_null(s, "the README could be written after all");
	cr_assert_not_null(cause);
	cr_assert_not_null(strstr(cause, "second"), "the cause names the folder: %s", cause);
	free(cause);
	cr_assert_eq(lowest_free_fd(), before, "store_open left a descriptor open");
}

Test(store_open, says_whether_it_made_the_store)
{
	char path[PATH_MAX], *cause = NULL;
	struct store *first, *again;

	snprintf(path, sizeof path, "%s/made-here", fixture_dir);
	first = store_open(path, NULL, &cause);
	cr_assert_not_null(first, "%s", cause);
	cr_assert(store_is_new(first), "the first open made it");
	again = store_open(path, NULL, &cause);
	cr_assert_not_null(again, "%s", cause);
	cr_assert(!store_is_new(again), "a later open found it");
	store_close(first);
	store_close(again);
}
