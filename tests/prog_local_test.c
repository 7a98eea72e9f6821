/*
 * prog_local_test.c: the helper's Go cache on the local store: entries and
 * outputs, bad entries, deferred recording, the list of what a build used,
 * and the daily trim.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proghelper/local.h"
#include "proghelper/recorder.h"
#include "proghelper/usedlist.h"
#include "tests/store_fixture.h"

#define DAY (24 * 3600)

TestSuite(prog_local, .init = fixture_open_existing, .fini = fixture_close);

/* Store body as the output of an action made of seed, and its entry. */
static void put(const char *body, unsigned char seed, struct go_entry *e)
{
	char hex[STORE_ID_LEN + 1];

	memset(e->action, seed, STORE_HASH_LEN);
	EVP_Digest(body, strlen(body), e->output, NULL, EVP_sha256(), NULL);
	e->size = (int64_t)strlen(body);
	e->time_ns = local_now_ns();
	store_hex(e->output, hex);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, hex, body, strlen(body)), STORE_OK);
	cr_assert_eq(local_record(fixture_store, e), LOCAL_OK);
}

Test(prog_local, a_recorded_entry_is_a_hit)
{
	struct go_entry e, got;

	put("hello", 1, &e);
	cr_assert_eq(local_get(fixture_store, e.action, &got), LOCAL_OK);
	cr_assert_arr_eq(got.output, e.output, 32);
	cr_assert_eq(got.size, 5);
	cr_assert_eq(got.time_ns, e.time_ns);
	memset(e.action, 2, 32);
	cr_assert_eq(local_get(fixture_store, e.action, &got), LOCAL_MISS);
}

Test(prog_local, bad_entries_are_misses_and_removed)
{
	struct go_entry e, got;
	char ahex[STORE_ID_LEN + 1], line[GO_ENTRY_LEN + 1];

	put("hello", 3, &e);
	store_hex(e.action, ahex);
	/* Not an entry line at all. */
	cr_assert_eq(store_put_bytes(fixture_store, STORE_AC, ahex, "junk", 4), STORE_OK);
	cr_assert_eq(local_get(fixture_store, e.action, &got), LOCAL_MISS);
	cr_assert_eq(store_stat(fixture_store, STORE_AC, ahex, NULL), STORE_NOT_FOUND);
	/* An entry naming another action. */
	got = e;
	memset(got.action, 4, 32);
	go_entry_format(&got, line);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_AC, ahex, line, GO_ENTRY_LEN), STORE_OK);
	cr_assert_eq(local_get(fixture_store, e.action, &got), LOCAL_MISS);
	cr_assert_eq(store_stat(fixture_store, STORE_AC, ahex, NULL), STORE_NOT_FOUND);
	/* An entry whose output has another size than it says. */
	got = e;
	got.size = 6;
	cr_assert_eq(local_record(fixture_store, &got), LOCAL_OK);
	cr_assert_eq(local_get(fixture_store, e.action, &got), LOCAL_MISS);
}

Test(prog_local, the_recorder_writes_everything_by_the_time_it_stops)
{
	struct recorder *rec = recorder_start(fixture_store);
	struct go_entry e[50], got;
	char hex[STORE_ID_LEN + 1];

	cr_assert_not_null(rec);
	for (int i = 0; i < 50; i++) {
		memset(e[i].action, 100 + i, 32);
		EVP_Digest("", 0, e[i].output, NULL, EVP_sha256(), NULL);
		e[i].size = 0;
		e[i].time_ns = i;
		recorder_add(rec, &e[i]);
	}
	store_hex(e[0].output, hex);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, hex, "", 0), STORE_OK);
	recorder_stop(rec);
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(local_get(fixture_store, e[i].action, &got), LOCAL_OK);
		cr_assert_eq(got.time_ns, i);
	}
}

Test(prog_local, a_put_after_a_remote_hit_of_its_action_is_the_entry_kept)
{
	struct recorder *rec = recorder_start(fixture_store);
	struct go_entry hit, mine, got;
	char hex[STORE_ID_LEN + 1];

	cr_assert_not_null(rec);
	/* A remote hit: its output is stored, its entry waits in the recorder. */
	put("the remote's output", 7, &hit);
	recorder_add(rec, &hit);
	/* The go command then puts the same action with another output. */
	memset(mine.action, 7, 32);
	EVP_Digest("rebuilt", 7, mine.output, NULL, EVP_sha256(), NULL);
	mine.size = 7;
	mine.time_ns = hit.time_ns + 1;
	store_hex(mine.output, hex);
	cr_assert_eq(store_put_bytes(fixture_store, STORE_CAS, hex, "rebuilt", 7), STORE_OK);
	cr_assert_eq(recorder_record_now(rec, &mine), LOCAL_OK);
	recorder_stop(rec);
	cr_assert_eq(local_get(fixture_store, mine.action, &got), LOCAL_OK);
	cr_assert_eq(memcmp(got.output, mine.output, 32), 0, "the older remote entry came back");
	cr_assert_eq(got.time_ns, mine.time_ns);
}

/* Set the mtime of an object to seconds ago. */
static void age(enum store_kind k, const unsigned char id[32], time_t seconds)
{
	char hex[STORE_ID_LEN + 1], path[4096];
	struct timespec t[2];

	store_hex(id, hex);
	store_object_path(fixture_store, k, hex, path, sizeof path);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= seconds;
	t[1] = t[0];
	cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

Test(prog_local, trim_removes_what_was_unused_for_five_days_at_most_daily)
{
	struct go_entry old, fresh, later, got;
	char mark[4096], *cause = NULL;
	FILE *f;

	put("old output", 5, &old);
	put("fresh output", 6, &fresh);
	age(STORE_AC, old.action, 6 * DAY);
	age(STORE_CAS, old.output, 6 * DAY);
	age(STORE_AC, fresh.action, 4 * DAY);
	age(STORE_CAS, fresh.output, 4 * DAY);
	cr_assert(local_trim(fixture_store, 0, time(NULL), &cause) == LOCAL_OK, "%s", cause);
	cr_assert_eq(local_get(fixture_store, old.action, &got), LOCAL_MISS);
	cr_assert_eq(local_get(fixture_store, fresh.action, &got), LOCAL_OK);

	/* Within a day of that trim, nothing more is trimmed. */
	put("later output", 7, &later);
	age(STORE_AC, later.action, 9 * DAY);
	age(STORE_CAS, later.output, 9 * DAY);
	cr_assert(local_trim(fixture_store, 0, time(NULL), &cause) == LOCAL_OK);
	cr_assert_eq(local_get(fixture_store, later.action, &got), LOCAL_OK);

	/* A day later it is. */
	age(STORE_AC, later.action, 9 * DAY);
	age(STORE_CAS, later.output, 9 * DAY);
	snprintf(mark, sizeof mark, "%s/prog-trim.txt", store_dir(fixture_store));
	f = fopen(mark, "w");
	cr_assert_not_null(f);
	fprintf(f, "%lld\n", (long long)time(NULL) - 25 * 3600);
	fclose(f);
	cr_assert(local_trim(fixture_store, 0, time(NULL), &cause) == LOCAL_OK);
	cr_assert_eq(local_get(fixture_store, later.action, &got), LOCAL_MISS);
}

Test(prog_local, trim_to_a_size_keeps_what_this_run_used)
{
	struct go_entry a, b, got;
	char *cause = NULL;
	struct store_usage u;

	put("first output, used before the run", 8, &a);
	put("second output", 9, &b);
	/* Last used three hours ago: before this run (uses are recorded hourly). */
	age(STORE_AC, a.action, 3 * 3600);
	age(STORE_CAS, a.output, 3 * 3600);
	cr_assert(local_trim(fixture_store, 1, time(NULL), &cause) == LOCAL_OK, "%s", cause);
	cr_assert_eq(local_get(fixture_store, a.action, &got), LOCAL_MISS);
	cr_assert_eq(local_get(fixture_store, b.action, &got), LOCAL_OK,
	             "what this run used stays, whatever the size");
	cr_assert_eq(store_usage(fixture_store, &u), STORE_OK);
	cr_assert_eq(u.objects, 2);
}

/*
 * Finish u and read back its entry lines (after the header) into buf; their
 * count. The checkout record that ends the list is checked and not counted.
 */
static size_t list_lines(struct usedlist *u, char *buf, size_t cap, struct usedlist_digest *d)
{
	uint64_t size = 0;
	ssize_t n;
	int fd;

	cr_assert(usedlist_finish(u, &fd, &size, d));
	cr_assert_leq(size, WIRE_LIST_HEADER_LEN + cap);
	cr_assert_eq(lseek(fd, WIRE_LIST_HEADER_LEN, SEEK_SET), (off_t)WIRE_LIST_HEADER_LEN);
	n = read(fd, buf, size - WIRE_LIST_HEADER_LEN);
	close(fd);
	cr_assert_eq((uint64_t)n, size - WIRE_LIST_HEADER_LEN);
	cr_assert_geq((size_t)n, GO_ENTRY_LEN);
	cr_assert(memcmp(buf + n - GO_ENTRY_LEN, WIRE_LIST_CHECKOUT, WIRE_LIST_CHECKOUT_LEN) == 0,
	          "the list ends with the checkout record");
	cr_assert_eq(buf[n - 1], '\n');
	return (size_t)n / GO_ENTRY_LEN - 1;
}

Test(prog_local, a_store_this_run_made_is_only_marked_as_trimmed)
{
	char dir[4200], mark[4300], *cause = NULL;
	struct go_entry old, got;
	struct store *fresh, *shared = fixture_store;

	snprintf(dir, sizeof dir, "%s/fresh", fixture_dir);
	fresh = store_open(dir, NULL, &cause);
	cr_assert_not_null(fresh);
	cr_assert(store_is_new(fresh));
	fixture_store = fresh;  /* put() and age() write to fixture_store */
	put("old output", 10, &old);
	age(STORE_AC, old.action, 9 * DAY);
	age(STORE_CAS, old.output, 9 * DAY);
	cr_assert(local_trim(fresh, 0, time(NULL), &cause) == LOCAL_OK, "%s", cause);
	cr_assert_eq(local_get(fresh, old.action, &got), LOCAL_OK, "nothing is looked at");
	snprintf(mark, sizeof mark, "%s/prog-trim.txt", dir);
	cr_assert_eq(access(mark, R_OK), 0, "the next trim is a day away");
	fixture_store = shared;
	store_close(fresh);
}

Test(prog_local, an_action_used_twice_is_listed_once)
{
	struct usedlist *once = usedlist_open(), *twice = usedlist_open();
	struct usedlist_digest d_once, d_twice;
	char lines[4 * GO_ENTRY_LEN], first[GO_ENTRY_LEN + 1], second[GO_ENTRY_LEN + 1];
	struct go_entry a, b, again;

	cr_assert(once != NULL && twice != NULL);
	put("used twice", 0x31, &a);
	put("used once", 0x32, &b);
	again = a;
	again.time_ns += 1000;  /* asked again later: the same action */
	usedlist_add(once, &a);
	usedlist_add(once, &b);
	usedlist_add(twice, &a);
	usedlist_add(twice, &b);
	usedlist_add(twice, &again);
	usedlist_add(twice, &b);
	cr_assert_eq(list_lines(once, lines, sizeof lines, &d_once), 2);
	cr_assert_eq(list_lines(twice, lines, sizeof lines, &d_twice), 2);
	go_entry_format(&a, first);
	go_entry_format(&b, second);
	cr_assert(memcmp(lines, first, GO_ENTRY_LEN) == 0, "the first use keeps its place");
	cr_assert(memcmp(lines + GO_ENTRY_LEN, second, GO_ENTRY_LEN) == 0);
	cr_assert(memcmp(&d_once, &d_twice, sizeof d_once) == 0, "the same list, the same digest");
	usedlist_free(once);
	usedlist_free(twice);
}
