/*
 * store_fixture.c: a fresh store in a private directory for each test.
 */
#include "tests/store_fixture.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "tests/tmpdir.h"

char *fixture_dir;
struct store *fixture_store;

/* Open fixture_store with opts on a new directory. */
static void fixture_open_with(const struct store_options *opts)
{
	char *cause = NULL;

	fixture_dir = tmpdir_make("cgstore");
	cr_assert_not_null(fixture_dir);
	fixture_store = store_open(fixture_dir, opts, &cause);
	cr_assert_not_null(fixture_store, "store_open: %s", cause ? cause : "?");
}

void fixture_open(void)
{
	fixture_open_with(NULL);
}

void fixture_open_existing(void)
{
	char *cause = NULL;

	fixture_open();
	store_close(fixture_store);
	fixture_store = store_open(fixture_dir, NULL, &cause);
	cr_assert_not_null(fixture_store, "store_open: %s", cause ? cause : "?");
	cr_assert(!store_is_new(fixture_store));
}

void fixture_open_named(void)
{
	fixture_open_with(&(struct store_options){ .named_temps = true });
}

void fixture_close(void)
{
	store_close(fixture_store);
	fixture_store = NULL;
	tmpdir_remove(fixture_dir);
	fixture_dir = NULL;
}

void fixture_sha256(const void *buf, size_t n, char hex[STORE_ID_LEN + 1])
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	cr_assert_eq(EVP_Digest(buf, n, hash, &len, EVP_sha256(), NULL), 1);
	store_hex(hash, hex);
}

int fixture_temp_count(void)
{
	char path[4200];
	DIR *d;
	struct dirent *e;
	int count = 0;

	snprintf(path, sizeof path, "%s/tmp", fixture_dir);
	d = opendir(path);
	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			count++;
	closedir(d);
	return count;
}
