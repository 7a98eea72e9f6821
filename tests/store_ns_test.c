/*
 * store_ns_test.c: namespaces of action entries: "default" is today's ac/,
 * the others have their own directories, the CAS is one pool, and trim and
 * usage see every namespace.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/store_fixture.h"

TestSuite(store_ns, .init = fixture_open, .fini = fixture_close);

static const char action[] = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";

/* The bytes of action entry id in store s ("" when absent). */
static const char *entry(struct store *s, const char *id)
{
	static char buf[64];
	size_t len = 0;

	if (store_read_small(s, STORE_AC, id, buf, sizeof buf - 1, &len) != STORE_OK)
		len = 0;
	buf[len] = '\0';
	return buf;
}

/* A view of the fixture's store for namespace ns, which must work. */
static struct store *ns(const char *name)
{
	struct store *v = store_namespace(fixture_store, name);

	cr_assert_not_null(v, "a view of namespace %s", name);
	return v;
}

Test(store_ns, default_is_the_store_as_written_before_namespaces)
{
	char path[PATH_MAX], expect[PATH_MAX];
	struct store *def = ns(STORE_NS_DEFAULT);

	cr_assert_str_eq(store_ns(fixture_store), STORE_NS_DEFAULT);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_AC, action, "old", 3), STORE_OK);
	cr_assert_str_eq(entry(def, action), "old");
	cr_assert_eq(store_object_path(def, STORE_AC, action, path, sizeof path), STORE_OK);
	snprintf(expect, sizeof expect, "%s/ac/a1/%s", store_dir(fixture_store), action);
	cr_assert_str_eq(path, expect);
	store_close(def);
}

Test(store_ns, namespaces_keep_their_entries_apart)
{
	struct store *main_ns = ns("main"), *pr = ns("pr-42");

	cr_assert_eq(store_put_bytes(main_ns, STORE_AC, action, "main", 4), STORE_OK);
	cr_assert_eq(store_put_bytes(pr, STORE_AC, action, "pr", 2), STORE_OK);
	cr_assert_str_eq(entry(main_ns, action), "main");
	cr_assert_str_eq(entry(pr, action), "pr");
	cr_assert_str_eq(entry(fixture_store, action), "", "default sees neither");
	cr_assert_eq(store_remove(pr, STORE_AC, action), STORE_OK);
	cr_assert_str_eq(entry(main_ns, action), "main", "a removal stays in its namespace");
	store_close(main_ns);
	store_close(pr);
}

Test(store_ns, a_slash_in_a_name_does_not_nest_directories)
{
	char path[PATH_MAX], expect[PATH_MAX];
	struct store *ref = ns("refs/heads/main");

	cr_assert_eq(store_object_path(ref, STORE_AC, action, path, sizeof path), STORE_OK);
	snprintf(expect, sizeof expect, "%s/ns/refs+heads+main/ac/a1/%s",
	         store_dir(fixture_store), action);
	cr_assert_str_eq(path, expect);
	cr_assert_eq(store_put_bytes(ref, STORE_AC, action, "ref", 3), STORE_OK);
	cr_assert_eq(access(path, F_OK), 0);
	store_close(ref);
}

Test(store_ns, bad_names_give_no_view)
{
	const char *bad[] = { "", "..", "a/../b", "/abs", "a+b", "sp ace", "a//b" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_null(store_namespace(fixture_store, bad[i]), "\"%s\"", bad[i]);
}

Test(store_ns, cas_is_one_pool_and_a_put_outlives_its_view)
{
	char id[STORE_ID_LEN + 1];
	struct store_put *p;
	struct store *pr = ns("pr-1");

	fixture_sha256("blob", 4, id);
	cr_assert_eq(store_put_begin(pr, STORE_AC, action, 0, &p), STORE_OK);
	store_close(pr);
	cr_assert_eq(store_put_write(p, "late", 4), STORE_OK);
	cr_assert_eq(store_put_commit(p, 4), STORE_OK);
	pr = ns("pr-1");
	cr_assert_str_eq(entry(pr, action), "late");
	cr_assert_eq(store_put_bytes(pr, STORE_CAS, id, "blob", 4), STORE_OK);
	cr_assert_eq(store_stat(fixture_store, STORE_CAS, id, NULL), STORE_OK);
	store_close(pr);
}

/* Put entry id in namespace name, last used at when. */
static void put_used_at(const char *name, const char *id, time_t when)
{
	char path[PATH_MAX];
	struct timespec times[2] = { { .tv_sec = when }, { .tv_sec = when } };
	struct store *v = ns(name);

	cr_assert_eq(store_put_bytes(v, STORE_AC, id, "entry", 5), STORE_OK);
	store_object_path(v, STORE_AC, id, path, sizeof path);
	cr_assert_eq(utimensat(AT_FDCWD, path, times, 0), 0);
	store_close(v);
}

Test(store_ns, usage_and_trim_cover_every_namespace)
{
	static const time_t now = 2000000000;
	const char *old = action;
	const char *newer = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
	struct store_trim_options age = { .now = now, .max_unused = 100 };
	struct store_trim_options size = { .now = now, .max_bytes = 5 };
	struct store_usage u;
	struct store *a, *b;

	put_used_at("team/a", old, now - 1000);
	put_used_at("team/a", newer, now - 10);
	put_used_at("b", newer, now - 20);
	put_used_at(STORE_NS_DEFAULT, newer, now - 30);
	cr_assert_eq(store_usage(fixture_store, &u), STORE_OK);
	cr_assert_eq(u.ac_objects, 4);
	cr_assert_eq(u.bytes, 20);
	cr_assert_eq(store_trim(fixture_store, &age, NULL), STORE_OK);
	a = ns("team/a");
	b = ns("b");
	cr_assert_str_eq(entry(a, old), "", "the old entry of a namespace is trimmed by age");
	cr_assert_str_eq(entry(a, newer), "entry");
	/* Least recently used first, whatever the namespace: default, then b go. */
	cr_assert_eq(store_trim(fixture_store, &size, NULL), STORE_OK);
	cr_assert_str_eq(entry(fixture_store, newer), "");
	cr_assert_str_eq(entry(b, newer), "");
	cr_assert_str_eq(entry(a, newer), "entry");
	store_close(a);
	store_close(b);
}
