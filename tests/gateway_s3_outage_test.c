/*
 * gateway_s3_outage_test.c: cachegate with --s3 in front of a stand-in
 * bucket in the test's own process, which then answers 503, stalls (takes
 * requests and never answers) or refuses connections: local objects are
 * still served, a miss is a 404 and a write a 503 (each answered: the
 * client's own limit is 60 s), and once the bucket answers again a write
 * reaches it.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/gateway_fixture.h"

enum bucket_mode { BUCKET_OK, BUCKET_503, BUCKET_STALL };

#define BUCKET_OBJECTS 16
#define BUCKET_OBJECT_MAX 4096

/*
 * The stand-in bucket: objects by path (any bucket, any key), kept in
 * memory, no signature checked. One thread per connection, so a stalled
 * request holds only its own.
 */
static struct {
	struct MHD_Daemon *daemon;
	uint16_t port;
	atomic_int mode;
	pthread_mutex_t lock;  /* guards the objects */
	struct {
		char path[256];
		char body[BUCKET_OBJECT_MAX];
		size_t len;
	} objects[BUCKET_OBJECTS];
	int count;
} bucket = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
	atomic_store(&bucket.mode, BUCKET_OK);  /* lets stalled handlers end */
	if (bucket.daemon != NULL)
		MHD_stop_daemon(bucket.daemon);
	bucket.daemon = NULL;
}

TestSuite(gateway_s3_outage, .fini = teardown, .timeout = 180);

/* Queue an answer of status with body text; then release it. */
static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
	                                                            MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(resp, "ETag", "\"stand-in\"");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The slot of path, or -1. The caller holds the lock. */
static int object_find(const char *path)
{
	for (int i = 0; i < bucket.count; i++)
		if (strcmp(bucket.objects[i].path, path) == 0)
			return i;
	return -1;
}

/* A PUT's body as it arrives. */
struct upload {
	char body[BUCKET_OBJECT_MAX];
	size_t len;
	bool too_big;
};

/* The bucket's answer to one request, as its mode says. */
static enum MHD_Result bucket_answer(void *cls, struct MHD_Connection *c, const char *path,
                                     const char *method, const char *version, const char *data,
                                     size_t *data_size, void **state)
{
	struct upload *u = *state;
	char text[BUCKET_OBJECT_MAX + 1];
	int i;

	(void)cls, (void)version;
	if (u == NULL) {
		*state = u = calloc(1, sizeof(*u));
		return u != NULL ? MHD_YES : MHD_NO;
	}
	if (*data_size > 0) {
		if (u->len + *data_size > sizeof(u->body))
			u->too_big = true;
		else
			memcpy(u->body + u->len, data, *data_size);
		u->len += *data_size;
		*data_size = 0;
		return MHD_YES;
	}
	*state = NULL;
	while (atomic_load(&bucket.mode) == BUCKET_STALL)
		usleep(20000);
	if (atomic_load(&bucket.mode) == BUCKET_503) {
		free(u);
		return answer(c, 503, "<Error><Code>SlowDown</Code></Error>");
	}
	pthread_mutex_lock(&bucket.lock);
	i = object_find(path);
	if (strcmp(method, "PUT") == 0 && !u->too_big) {
		if (i < 0 && bucket.count < BUCKET_OBJECTS)
			i = bucket.count++;
		if (i >= 0) {
			snprintf(bucket.objects[i].path, sizeof(bucket.objects[i].path), "%s", path);
			memcpy(bucket.objects[i].body, u->body, u->len);
			bucket.objects[i].len = u->len;
		}
		pthread_mutex_unlock(&bucket.lock);
		free(u);
		return answer(c, i >= 0 ? 200 : 507, "");
	}
	if (i < 0) {
		pthread_mutex_unlock(&bucket.lock);
		free(u);
		return answer(c, 404, "<Error><Code>NoSuchKey</Code></Error>");
	}
	memcpy(text, bucket.objects[i].body, bucket.objects[i].len);
	text[bucket.objects[i].len] = '\0';
	pthread_mutex_unlock(&bucket.lock);
	free(u);
	return answer(c, 200, text);
}

/* Start the bucket on port (0: a free one) of 127.0.0.1. */
static void bucket_start(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	bucket.daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
	                                 0, NULL, NULL, bucket_answer, NULL,
	                                 MHD_OPTION_SOCK_ADDR, &sa,
	                                 MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
	cr_assert_not_null(bucket.daemon, "the stand-in bucket did not start");
	bucket.port = MHD_get_daemon_info(bucket.daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
}

/* True when the bucket holds an object whose key ends in id, with body. */
static bool bucket_has(const char *id, const char *body)
{
	bool found = false;

	pthread_mutex_lock(&bucket.lock);
	for (int i = 0; i < bucket.count && !found; i++) {
		size_t n = strlen(bucket.objects[i].path);
		found = n >= 64 && strcmp(bucket.objects[i].path + n - 64, id) == 0 &&
		        bucket.objects[i].len == strlen(body) &&
		        memcmp(bucket.objects[i].body, body, bucket.objects[i].len) == 0;
	}
	pthread_mutex_unlock(&bucket.lock);
	return found;
}

/* Start the bucket, and cachegate in front of it. */
static void start_both(void)
{
	char endpoint[64];
	const char *flags[] = {"--s3", "s3://stand-in/team", "--s3-endpoint", endpoint,
	                       "--s3-region", "us-east-1", NULL};
	const char *env[] = {"AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret",
	                     "AWS_SESSION_TOKEN", "AWS_PROFILE", NULL};

	bucket_start(0);
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u", bucket.port);
	gw_start(&g, flags, env);
}

/* PUT body as a CAS object; returns the status, and its id in id. */
static long put_cas(const char *body, char id[65])
{
	char path[128];

	gw_sha256_hex(body, strlen(body), id);
	snprintf(path, sizeof(path), "/cas/%s", id);
	return gw_http(&g, "PUT", path, body, strlen(body), NULL, NULL);
}

/*
 * With the bucket in trouble (put in it by fail, taken out by recover):
 * a local object is served, a miss is 404, a write 503 saying why in one
 * line; once recovered a write reaches the bucket again.
 */
static void outage(void (*fail)(void), void (*recover)(void))
{
	char local[65], missing[65], later[65], path[128];
	struct gw_reply r;

	start_both();
	cr_assert_eq(put_cas("here before the outage", local), 201);
	cr_assert(bucket_has(local, "here before the outage"), "the write did not reach the bucket");
	fail();

	snprintf(path, sizeof(path), "/cas/%s", local);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, &r), 200, "a local object is not served");
	cr_assert_str_eq(r.body, "here before the outage");
	gw_reply_free(&r);
	gw_sha256_hex("never written", 13, missing);
	snprintf(path, sizeof(path), "/cas/%s", missing);
	cr_assert_eq(gw_http(&g, "GET", path, NULL, 0, NULL, NULL), 404, "a miss is not a 404");
	gw_sha256_hex("written in the outage", 21, later);
	snprintf(path, sizeof(path), "/cas/%s", later);
	cr_assert_eq(gw_http(&g, "PUT", path, "written in the outage", 21, NULL, &r), 503,
	             "a write is not a 503");
	gw_assert_one_line(&r);
	gw_reply_free(&r);
	cr_assert_not(bucket_has(later, "written in the outage"));

	recover();
	cr_assert_eq(put_cas("written in the outage", later), 201, "no recovery");
	cr_assert(bucket_has(later, "written in the outage"), "the bucket did not get the write");
	cr_assert_eq(gw_stop(&g), 0);
}

static void mode_503(void)
{
	atomic_store(&bucket.mode, BUCKET_503);
}

static void mode_stall(void)
{
	atomic_store(&bucket.mode, BUCKET_STALL);
}

static void mode_ok(void)
{
	atomic_store(&bucket.mode, BUCKET_OK);
}

/* The bucket goes away: its port refuses connections. */
static void bucket_down(void)
{
	MHD_stop_daemon(bucket.daemon);
	bucket.daemon = NULL;
}

/* The bucket comes back on its old port, with what it held. */
static void bucket_up(void)
{
	bucket_start(bucket.port);
}

Test(gateway_s3_outage, a_bucket_answering_503)
{
	outage(mode_503, mode_ok);
}

Test(gateway_s3_outage, a_bucket_that_stalls)
{
	outage(mode_stall, mode_ok);
}

Test(gateway_s3_outage, a_bucket_that_refuses_connections)
{
	outage(bucket_down, bucket_up);
}
