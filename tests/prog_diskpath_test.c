/*
 * prog_diskpath_test.c: DiskPaths are handed out through a link in GOCACHE
 * (so the go command copies, never moves, what it installs), and fall back
 * to the store's own paths when there is no usable GOCACHE.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proghelper/diskpath.h"
#include "tests/store_fixture.h"
#include "tests/tmpdir.h"

static char *gocache;

static void setup(void)
{
	fixture_open();
	gocache = tmpdir_make("cachegate-gocache");
}

static void teardown(void)
{
	tmpdir_remove(gocache);
	fixture_close();
}

TestSuite(prog_diskpath, .init = setup, .fini = teardown);

/* Store body in the fixture store; its hash goes to output. */
static void put(const char *body, unsigned char output[STORE_HASH_LEN])
{
	char hex[STORE_ID_LEN + 1];

	fixture_sha256(body, strlen(body), hex);
	cr_assert(store_unhex(hex, output));
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, hex, body, strlen(body)), STORE_OK);
}

/* The DiskPath of output under root. */
static char *path_of(const char *root, const unsigned char output[STORE_HASH_LEN])
{
	size_t n = diskpath_max(root);
	char *path = malloc(n);

	cr_assert(diskpath_format(root, output, path, n));
	cr_assert_eq(strlen(path) + 1, n, "diskpath_max is exact for a CAS object");
	return path;
}

Test(prog_diskpath, paths_go_through_a_link_in_gocache_to_the_same_file)
{
	unsigned char out[STORE_HASH_LEN];
	char hex[STORE_ID_LEN + 1], real[PATH_MAX], target[PATH_MAX];
	char *root = diskpath_root(store_dir(fixture_store), gocache);
	char *path;
	struct stat via, direct, link;
	ssize_t n;

	put("an output", out);
	cr_assert_not_null(root);
	cr_assert_eq(strncmp(root, gocache, strlen(gocache)), 0, "%s is under GOCACHE", root);
	cr_assert_eq(strncmp(root + strlen(gocache), "/" DISKPATH_LINKS "/", strlen(DISKPATH_LINKS) + 2), 0);
	cr_assert_eq(lstat(root, &link), 0);
	cr_assert(S_ISLNK(link.st_mode));
	n = readlink(root, target, sizeof target - 1);
	cr_assert_gt(n, 0);
	target[n] = '\0';
	cr_assert_str_eq(target, store_dir(fixture_store));

	path = path_of(root, out);
	store_hex(out, hex);
	store_object_path(fixture_store, STORE_CAS, hex, real, sizeof real);
	cr_assert_eq(stat(path, &via), 0);
	cr_assert_eq(stat(real, &direct), 0);
	cr_assert_eq(via.st_ino, direct.st_ino, "the DiskPath is the store's own file");
	free(path);
	free(root);
}

Test(prog_diskpath, one_store_keeps_its_link_and_another_gets_its_own)
{
	char *first = diskpath_root(store_dir(fixture_store), gocache);
	char *again = diskpath_root(store_dir(fixture_store), gocache);
	char *other_dir = tmpdir_make("cachegate-other-store");
	char *other = diskpath_root(other_dir, gocache);
	char *stray = NULL;

	cr_assert_str_eq(first, again);
	cr_assert_str_neq(first, other, "two stores never share a link");
	cr_assert_eq(asprintf(&stray, "%s.%ld.tmp", first, (long)getpid()) > 0, 1);
	cr_assert_neq(access(stray, F_OK), 0, "no temporary link is left behind");
	free(stray);
	free(first);
	free(again);
	free(other);
	tmpdir_remove(other_dir);
}

Test(prog_diskpath, a_link_to_somewhere_else_is_mended)
{
	char *root = diskpath_root(store_dir(fixture_store), gocache);
	char target[PATH_MAX];
	ssize_t n;

	cr_assert_eq(unlink(root), 0);
	cr_assert_eq(symlink("/nonexistent", root), 0);
	free(diskpath_root(store_dir(fixture_store), gocache));
	n = readlink(root, target, sizeof target - 1);
	cr_assert_gt(n, 0);
	target[n] = '\0';
	cr_assert_str_eq(target, store_dir(fixture_store));
	free(root);
}

Test(prog_diskpath, without_a_usable_gocache_paths_are_the_stores_own)
{
	const char *dir = store_dir(fixture_store);
	const char *unusable[] = { NULL, "", "relative/gocache", "/nonexistent/gocache" };
	unsigned char out[STORE_HASH_LEN];
	char hex[STORE_ID_LEN + 1], real[PATH_MAX];

	put("another output", out);
	store_hex(out, hex);
	store_object_path(fixture_store, STORE_CAS, hex, real, sizeof real);
	for (size_t i = 0; i < sizeof unusable / sizeof unusable[0]; i++) {
		char *root = diskpath_root(dir, unusable[i]);
		char *path = path_of(root, out);

		cr_assert_str_eq(root, dir, "GOCACHE '%s'", unusable[i] ? unusable[i] : "(unset)");
		cr_assert_str_eq(path, real);
		free(path);
		free(root);
	}
}

Test(prog_diskpath, a_store_already_under_gocache_is_used_as_it_is)
{
	char *root = diskpath_root(store_dir(fixture_store), fixture_dir);

	cr_assert_str_eq(root, store_dir(fixture_store));
	free(root);
}

Test(prog_diskpath, a_path_that_does_not_fit_is_refused)
{
	unsigned char out[STORE_HASH_LEN];
	char small[16];

	memset(out, 7, sizeof out);
	cr_assert_not(diskpath_format("/some/root", out, small, sizeof small));
}
