/*
 * store_concurrency_test.c: many processes writing one store at once, and
 * readers of a replaceable (AC) object that writers with different
 * contents keep rewriting: each read is one writer's whole content.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/store_fixture.h"

TestSuite(store_concurrency, .init = fixture_open, .fini = fixture_close);

#define WRITERS 6
#define ROUNDS 40
#define BODY 65536

/* Fill buf with bytes that depend on seed only. */
static void fill(unsigned char *buf, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
}

/*
 * Child body: each round writes one object shared by all writers and one of
 * its own, in uneven chunks, through its own store handle.
 */
static int writer(int index)
{
	static unsigned char body[BODY];
	char id[STORE_ID_LEN + 1];
	char *cause = NULL;
	struct store *s = store_open(fixture_dir, NULL, &cause);

	if (s == NULL)
		return 1;
	for (int round = 0; round < ROUNDS; round++) {
		unsigned seeds[2] = { (unsigned)round, (unsigned)(1000 + index * ROUNDS + round) };
		for (int j = 0; j < 2; j++) {
			struct store_put *p;
			fill(body, BODY, seeds[j]);
			fixture_sha256(body, BODY, id);
			if (store_put_begin(s, STORE_CAS, id, 0, &p) != STORE_OK)
				return 2;
			for (size_t off = 0; off < BODY; off += 4093) {
				size_t n = BODY - off < 4093 ? BODY - off : 4093;
				if (store_put_write(p, body + off, n) != STORE_OK)
					return 3;
			}
			if (store_put_commit(p, BODY) != STORE_OK)
				return 4;
			/* Shared action entry rewritten by everyone: last one wins, whole. */
			if (store_put_bytes(s, STORE_AC, id, body, 512) != STORE_OK)
				return 5;
		}
	}
	store_close(s);
	return 0;
}

Test(store_concurrency, writers_share_one_directory)
{
	static unsigned char expect[BODY];
	pid_t pids[WRITERS];
	char id[STORE_ID_LEN + 1];
	int found = 0;

	for (int i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0)
			_exit(writer(i));
	}
	for (int i = 0; i < WRITERS; i++) {
		int status;
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		          "writer %d failed with status %d", i, status);
	}

	/* Every object, shared or private, is present and whole. */
	for (unsigned seed = 0; seed < 1000 + WRITERS * ROUNDS; seed++) {
		struct store_object obj;
		unsigned char *got;
		char ac[512];
		size_t len;

		if (seed == ROUNDS)
			seed = 1000;
		fill(expect, BODY, seed);
		fixture_sha256(expect, BODY, id);
		cr_assert_eq(store_get(fixture_store, STORE_CAS, id, BODY, &obj), STORE_OK,
		             "object of seed %u", seed);
		got = malloc(BODY);
		cr_assert_eq(pread(obj.fd, got, BODY, 0), BODY);
		cr_assert_arr_eq(got, expect, BODY);
		free(got);
		close(obj.fd);
		cr_assert_eq(store_read_small(fixture_store, STORE_AC, id, ac, sizeof ac, &len),
		             STORE_OK);
		cr_assert_eq(len, 512);
		cr_assert_arr_eq(ac, expect, 512);
		found++;
	}
	cr_assert_eq(found, ROUNDS + WRITERS * ROUNDS);
	cr_assert_eq(fixture_temp_count(), 0, "no temp file survives");
}

#define KEYS 3
#define ENTRY_MAX 24576

/*
 * The entry writer w puts under a shared key in round: its length and bytes
 * depend on (w, round) only, and it starts with them so a reader can tell
 * whose it is. Returns its length.
 */
static size_t entry_of(int w, int round, unsigned char *buf)
{
	size_t n = 4096 + (size_t)w * 2000 + (size_t)round % 7 * 1000;

	fill(buf, n, (unsigned)(w * 1000 + round));
	buf[0] = (unsigned char)w;
	buf[1] = (unsigned char)round;
	return n;
}

/* The id of shared key k. */
static void key_id(int k, char id[STORE_ID_LEN + 1])
{
	snprintf(id, STORE_ID_LEN + 1, "%064d", k + 1);
}

/* Child: rewrite every shared key each round with this writer's own entry, in small chunks. */
static int entry_writer(int w)
{
	static unsigned char buf[ENTRY_MAX];
	char id[STORE_ID_LEN + 1], *cause = NULL;
	struct store *s = store_open(fixture_dir, NULL, &cause);

	if (s == NULL)
		return 1;
	for (int round = 0; round < ROUNDS; round++) {
		size_t n = entry_of(w, round, buf);
		for (int k = 0; k < KEYS; k++) {
			struct store_put *p;
			key_id(k, id);
			if (store_put_begin(s, STORE_AC, id, 0, &p) != STORE_OK)
				return 2;
			for (size_t off = 0; off < n; off += 1021)
				if (store_put_write(p, buf + off, n - off < 1021 ? n - off : 1021) != STORE_OK)
					return 3;
			if (store_put_commit(p, (int64_t)n) != STORE_OK)
				return 4;
		}
	}
	store_close(s);
	return 0;
}

/* True when got (n bytes) is exactly the entry some writer put in some round. */
static bool whole_entry(const unsigned char *got, size_t n)
{
	static unsigned char want[ENTRY_MAX];

	if (n < 2 || got[0] >= WRITERS || got[1] >= ROUNDS)
		return false;
	return entry_of(got[0], got[1], want) == n && memcmp(got, want, n) == 0;
}

/* Child: read the shared keys over and over while the writers run; 0 when every read was whole. */
static int entry_reader(void)
{
	static unsigned char got[ENTRY_MAX];
	char id[STORE_ID_LEN + 1], *cause = NULL;
	struct store *s = store_open(fixture_dir, NULL, &cause);
	size_t n;
	int reads = 0;

	if (s == NULL)
		return 1;
	for (int i = 0; i < 2000; i++) {
		key_id(i % KEYS, id);
		if (store_read_small(s, STORE_AC, id, got, sizeof got, &n) != STORE_OK)
			continue;  /* not written yet */
		if (!whole_entry(got, n))
			return 2;
		reads++;
	}
	store_close(s);
	return reads > 0 ? 0 : 3;
}

Test(store_concurrency, an_entry_rewritten_by_many_is_read_whole)
{
	static unsigned char got[ENTRY_MAX];
	pid_t pids[WRITERS + 2];
	char id[STORE_ID_LEN + 1];
	size_t n;

	for (int i = 0; i < WRITERS + 2; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0)
			_exit(i < WRITERS ? entry_writer(i) : entry_reader());
	}
	for (int i = 0; i < WRITERS + 2; i++) {
		int status;
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		          "%s %d failed with status %d (2: a read was not one writer's whole entry)",
		          i < WRITERS ? "writer" : "reader", i, status);
	}
	/* What is left is some writer's last entry, whole. */
	for (int k = 0; k < KEYS; k++) {
		key_id(k, id);
		cr_assert_eq(store_read_small(fixture_store, STORE_AC, id, got, sizeof got, &n), STORE_OK);
		cr_assert(whole_entry(got, n), "key %d holds no writer's whole entry", k);
		cr_assert_eq(got[1], ROUNDS - 1, "key %d: not a last round's entry", k);
	}
	cr_assert_eq(fixture_temp_count(), 0, "no temp file survives");
}
