/*
 * gateway_evict_test.c: --max-size keeps the store under its cap by
 * evicting least recently used objects in the background.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_evict, .fini = teardown, .timeout = 120);

#define OBJECT_SIZE 30000

struct object {
	char body[OBJECT_SIZE];
	char id[65];
	char path[128];
};

/* Make object o from seed and PUT it. */
static void put_object(struct object *o, unsigned seed)
{
	for (size_t i = 0; i < sizeof(o->body); i++) {
		seed = seed * 1664525u + 1013904223u;
		o->body[i] = (char)(seed >> 24);
	}
	gw_sha256_hex(o->body, sizeof(o->body), o->id);
	snprintf(o->path, sizeof(o->path), "/cas/%s", o->id);
	cr_assert_eq(gw_http(&g, "PUT", o->path, o->body, sizeof(o->body), NULL, NULL), 201);
}

/* Pretend o was last used age seconds ago. */
static void age_object(const struct object *o, time_t age)
{
	char file[1024];
	struct timespec times[2];

	snprintf(file, sizeof(file), "%s/cas/%.2s/%s", g.store, o->id, o->id);
	times[0].tv_sec = times[1].tv_sec = time(NULL) - age;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	cr_assert_eq(utimensat(AT_FDCWD, file, times, 0), 0, "cannot age %s", file);
}

static unsigned long long walked_bytes;

/* nftw callback: add up regular files. */
static int add_size(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_F && S_ISREG(st->st_mode))
		walked_bytes += (unsigned long long)st->st_size;
	return 0;
}

/* Bytes of all objects on disk. */
static unsigned long long disk_bytes(void)
{
	char dir[1024];

	walked_bytes = 0;
	snprintf(dir, sizeof(dir), "%s/cas", g.store);
	nftw(dir, add_size, 16, FTW_PHYS);
	snprintf(dir, sizeof(dir), "%s/ac", g.store);
	nftw(dir, add_size, 16, FTW_PHYS);
	return walked_bytes;
}

/* bytes_used as /status reports it. */
static long long status_bytes(void)
{
	struct gw_reply r;
	json_t *doc;
	long long v;

	cr_assert_eq(gw_http(&g, "GET", "/status", NULL, 0, NULL, &r), 200);
	doc = json_loads(r.body, 0, NULL);
	cr_assert_not_null(doc);
	v = json_integer_value(json_object_get(doc, "bytes_used"));
	cr_assert_eq(json_integer_value(json_object_get(doc, "bytes_limit")), 100 * 1024);
	json_decref(doc);
	gw_reply_free(&r);
	return v;
}

Test(gateway_evict, least_recently_used_go_first)
{
	static const char *const flags[] = {"--max-size", "100K", NULL};
	static struct object a, b, c, d;

	gw_start(&g, flags, NULL);
	put_object(&a, 1);
	put_object(&b, 2);
	put_object(&c, 3);
	cr_assert_eq(disk_bytes(), 3 * OBJECT_SIZE);
	age_object(&a, 3 * 3600);
	age_object(&b, 2 * 3600);
	age_object(&c, 1800);
	/* A use refreshes a: now b is the least recently used. */
	cr_assert_eq(gw_http(&g, "GET", a.path, NULL, 0, NULL, NULL), 200);
	put_object(&d, 4);

	/* 120000 bytes against a 102400 cap: the background thread must evict; wait, bounded. */
	for (int i = 0; i < 3000 && disk_bytes() > 100 * 1024; i++)
		usleep(10000);
	cr_assert_leq(disk_bytes(), 100 * 1024, "store still over its cap");
	cr_assert_eq(gw_http(&g, "GET", b.path, NULL, 0, NULL, NULL), 404, "b should be gone");
	cr_assert_eq(gw_http(&g, "GET", a.path, NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_http(&g, "GET", c.path, NULL, 0, NULL, NULL), 200);
	cr_assert_eq(gw_http(&g, "GET", d.path, NULL, 0, NULL, NULL), 200);
	for (int i = 0; i < 3000 && status_bytes() != 3 * OBJECT_SIZE; i++)
		usleep(10000);
	cr_assert_eq(status_bytes(), 3 * OBJECT_SIZE);
	cr_assert_eq(gw_stop(&g), 0);
}

Test(gateway_evict, many_puts_stay_under_the_cap)
{
	static const char *const flags[] = {"--max-size", "100K", NULL};
	static struct object o;

	gw_start(&g, flags, NULL);
	for (unsigned i = 0; i < 20; i++)
		put_object(&o, 100 + i);
	for (int i = 0; i < 3000 && disk_bytes() > 100 * 1024; i++)
		usleep(10000);
	cr_assert_leq(disk_bytes(), 100 * 1024, "store still over its cap");
	cr_assert_geq(disk_bytes(), OBJECT_SIZE, "eviction removed everything");
	for (int i = 0; i < 3000 && status_bytes() > 100 * 1024; i++)
		usleep(10000);
	cr_assert_leq(status_bytes(), 100 * 1024);
	cr_assert_gt(gw_metric(&g, "cachegate_evictions_total"), 0, "no eviction counted");
	cr_assert_eq(gw_stop(&g), 0);
}

/* Write a temp file of n bytes into the store's tmp/, last written age seconds ago. */
static void leftover(const char *name, size_t n, time_t age, char *path, size_t cap)
{
	static char zeros[64 * 1024];
	struct timespec times[2];
	int fd;

	snprintf(path, cap, "%s/tmp/%s", g.store, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0, "cannot create %s", path);
	for (size_t done = 0; done < n; done += sizeof(zeros))
		cr_assert_eq(write(fd, zeros, n - done < sizeof(zeros) ? n - done : sizeof(zeros)),
		             (ssize_t)(n - done < sizeof(zeros) ? n - done : sizeof(zeros)));
	close(fd);
	times[0].tv_sec = times[1].tv_sec = time(NULL) - age;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	cr_assert_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

Test(gateway_evict, a_killed_writers_temp_files_count_until_swept_while_running)
{
	static const char *const flags[] = {"--max-size", "100K", NULL};
	char dead[1024], fresh[1024], live[1024];
	int held, i;

	gw_start(&g, flags, NULL);
	cr_assert_eq(status_bytes(), 0);
	/* A killed writer's file (old, unlocked), one just begun, and a live one (locked). */
	leftover("cas-dead-000001", 300 * 1024, 3600, dead, sizeof(dead));
	leftover("cas-fresh-000002", 100 * 1024, 0, fresh, sizeof(fresh));
	leftover("cas-live-000003", 50 * 1024, 3600, live, sizeof(live));
	held = open(live, O_RDONLY);
	cr_assert_geq(held, 0);
	cr_assert_eq(flock(held, LOCK_EX), 0);
	/* Swept within seconds while the server runs, not at its next start. */
	for (i = 0; i < 100 && access(dead, F_OK) == 0; i++)
		usleep(100 * 1000);
	cr_assert_neq(access(dead, F_OK), 0, "the dead writer's file is still there");
	/* What remains counts toward the store's size. */
	cr_assert_geq(status_bytes(), 50 * 1024);
	/* The fresh one goes once it is a few seconds old; the live one stays. */
	for (i = 0; i < 150 && access(fresh, F_OK) == 0; i++)
		usleep(100 * 1000);
	cr_assert_neq(access(fresh, F_OK), 0, "the unlocked file was kept");
	cr_assert_eq(access(live, F_OK), 0, "a live writer's file was removed");
	for (i = 0; i < 50 && status_bytes() != 50 * 1024; i++)
		usleep(100 * 1000);
	cr_assert_eq(status_bytes(), 50 * 1024);
	close(held);
	cr_assert_eq(gw_stop(&g), 0);
}
