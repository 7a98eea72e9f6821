/*
 * gateway_integrity_test.c: no damaged CAS object is ever served whole,
 * damage is found by reads, uploads, the scrub and --verify, and a re-PUT
 * of the right bytes heals the store.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_integrity, .fini = teardown, .timeout = 120);

/* How an object's file is damaged on disk. */
enum damage { FLIP, TRUNCATE, EXTEND };

struct object {
	char *body;
	size_t size;
	char id[65];
	char path[80];   /* "/cas/<id>" */
	char file[1024]; /* its file in the store */
};

/* Make an object of size bytes from seed and PUT it (201). */
static void put_object(struct object *o, size_t size, unsigned seed)
{
	o->size = size;
	o->body = malloc(size);
	for (size_t i = 0; i < size; i++) {
		seed = seed * 1664525u + 1013904223u;
		o->body[i] = (char)(seed >> 24);
	}
	gw_sha256_hex(o->body, size, o->id);
	snprintf(o->path, sizeof(o->path), "/cas/%s", o->id);
	snprintf(o->file, sizeof(o->file), "%s/cas/%.2s/%s", g.store, o->id, o->id);
	cr_assert_eq(gw_http(&g, "PUT", o->path, o->body, size, NULL, NULL), 201);
}

/* Damage o's file in place, as a failing disk or a stray writer would. */
static void damage(const struct object *o, enum damage how)
{
	int fd = open(o->file, O_RDWR);
	char c;

	cr_assert_geq(fd, 0, "cannot open %s", o->file);
	switch (how) {
	case FLIP:
		cr_assert_eq(pread(fd, &c, 1, (off_t)o->size / 2), 1);
		c ^= 0x20;
		cr_assert_eq(pwrite(fd, &c, 1, (off_t)o->size / 2), 1);
		break;
	case TRUNCATE:
		cr_assert_eq(ftruncate(fd, (off_t)o->size - 100), 0);
		break;
	case EXTEND:
		cr_assert_eq(pwrite(fd, "more", 4, (off_t)o->size), 4);
		break;
	}
	close(fd);
}

/* True when o's file is in the store. */
static bool present(const struct object *o)
{
	return access(o->file, F_OK) == 0;
}

/*
 * GET o: true when the answer was a 200 carrying exactly o's bytes. Any
 * other answer must not be a complete 200 with other bytes.
 */
static bool get_is_right(const struct object *o)
{
	struct gw_reply r;
	long status = gw_http(&g, "GET", o->path, NULL, 0, NULL, &r);
	bool right = status == 200 && r.len == o->size && memcmp(r.body, o->body, o->size) == 0;

	cr_assert(right || status != 200, "a damaged object was served whole with 200 (%zu bytes)",
	          r.len);
	gw_reply_free(&r);
	return right;
}

Test(gateway_integrity, a_damaged_small_object_is_a_miss_and_goes)
{
	static const enum damage hows[] = { FLIP, TRUNCATE, EXTEND };
	struct object o[3];

	gw_start(&g, NULL, NULL);
	for (int i = 0; i < 3; i++) {
		put_object(&o[i], 1000, 10 + (unsigned)i);
		cr_assert(get_is_right(&o[i]));
		damage(&o[i], hows[i]);
		cr_assert_eq(gw_http(&g, "GET", o[i].path, NULL, 0, NULL, NULL), 404, "damage %d", i);
		cr_assert_not(present(&o[i]), "damage %d: the damaged file is still there", i);
		free(o[i].body);
	}
	cr_assert_eq(gw_metric(&g, "cachegate_damaged_objects_total{found_by=\"read\"}"), 3);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_integrity, a_damaged_large_object_never_arrives_whole)
{
	static const enum damage hows[] = { FLIP, TRUNCATE, EXTEND };
	struct object o[3];

	gw_start(&g, NULL, NULL);
	for (int i = 0; i < 3; i++) {
		put_object(&o[i], 3 * 1024 * 1024 + 17, 20 + (unsigned)i);
		/* Read once first: the file is then known good, until it changes. */
		cr_assert(get_is_right(&o[i]));
		cr_assert(get_is_right(&o[i]));
		damage(&o[i], hows[i]);
		cr_assert_not(get_is_right(&o[i]), "damage %d was served", i);
		cr_assert_not(present(&o[i]), "damage %d: the damaged file is still there", i);
		cr_assert_eq(gw_http(&g, "GET", o[i].path, NULL, 0, NULL, NULL), 404);
		free(o[i].body);
	}
	cr_assert_eq(gw_metric(&g, "cachegate_damaged_objects_total{found_by=\"read\"}"), 3);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_integrity, a_head_of_a_damaged_small_object_is_a_miss)
{
	struct object o;

	gw_start(&g, NULL, NULL);
	put_object(&o, 5000, 30);
	damage(&o, FLIP);
	cr_assert_eq(gw_http(&g, "HEAD", o.path, NULL, 0, NULL, NULL), 404);
	cr_assert_not(present(&o));
	free(o.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_integrity, a_put_of_the_right_bytes_replaces_a_damaged_object)
{
	static const char *const expect[] = { "Expect: 100-continue", NULL };
	struct object small, large;

	gw_start(&g, NULL, NULL);
	put_object(&small, 2000, 40);
	put_object(&large, 2 * 1024 * 1024, 41);
	damage(&small, FLIP);
	damage(&large, FLIP);
	/* Same length as stored: without the check these were "already stored". */
	cr_assert_eq(gw_http(&g, "PUT", small.path, small.body, small.size, NULL, NULL), 201);
	cr_assert_eq(gw_http(&g, "PUT", large.path, large.body, large.size, expect, NULL), 201);
	cr_assert(get_is_right(&small));
	cr_assert(get_is_right(&large));
	cr_assert_eq(gw_metric(&g, "cachegate_damaged_objects_total{found_by=\"put\"}"), 2);
	/* An intact object is still not written again. */
	cr_assert_eq(gw_http(&g, "PUT", large.path, large.body, large.size, expect, NULL), 200);
	free(small.body);
	free(large.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_integrity, the_scrub_finds_damage_that_no_read_asked_for)
{
	static const char *const fast[] = { "--scrub-rate", "1G", "--scrub-interval", "1", NULL };
	struct object intact, damaged;

	gw_start(&g, fast, NULL);
	put_object(&intact, 100000, 50);
	put_object(&damaged, 100000, 51);
	damage(&damaged, FLIP);
	for (int i = 0; i < 200 && present(&damaged); i++)
		usleep(50 * 1000);
	cr_assert_not(present(&damaged), "the scrub left the damaged object in place");
	cr_assert(present(&intact));
	cr_assert_eq(gw_metric(&g, "cachegate_damaged_objects_total{found_by=\"scrub\"}"), 1);
	cr_assert_geq(gw_metric(&g, "cachegate_scrubbed_objects_total"), 2);
	cr_assert(get_is_right(&intact));
	free(intact.body);
	free(damaged.body);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_integrity, verify_names_damaged_objects_removes_them_and_says_so_in_its_status)
{
	static const char *const no_scrub[] = { "--scrub-rate", "0", NULL };
	struct object intact, damaged;
	char out[4096], want[256];
	const char *args[] = { "--verify", "--dir", g.store, NULL };

	gw_start(&g, no_scrub, NULL);
	put_object(&intact, 70000, 60);
	put_object(&damaged, 300, 61);
	damage(&damaged, TRUNCATE);
	cr_assert_eq(gw_run(args, NULL, out, sizeof(out)), 1, "%s", out);
	snprintf(want, sizeof(want), "damaged: cas/%.2s/%s (200 bytes), removed", damaged.id,
	         damaged.id);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	cr_assert(strstr(out, "verified 2 CAS objects (70200 bytes)") != NULL, "%s", out);
	cr_assert_not(present(&damaged));
	cr_assert_eq(gw_run(args, NULL, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "verified 1 CAS objects (70000 bytes)") != NULL, "%s", out);
	cr_assert(strstr(out, ": 0 damaged") != NULL, "%s", out);
	free(intact.body);
	free(damaged.body);
	cr_assert_eq(gw_stop(&g), 0);
}
