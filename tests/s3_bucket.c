/*
 * s3_bucket.c: a stand-in S3 bucket in the test's own process (s3_bucket.h).
 */
#include "tests/s3_bucket.h"

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

#define BUCKET_OBJECTS 512
#define BUCKET_GETS 1024  /* GET paths remembered for bucket_gets */
#define TRICKLE_BODY 100000

static struct {
	struct MHD_Daemon *daemon;
	atomic_int mode;
	pthread_mutex_t lock;  /* guards all below */
	struct {
		char path[256];
		char body[BUCKET_OBJECT_MAX];
		size_t len;
		char encoding[32];   /* its Content-Encoding, as S3 keeps it ("" for none) */
		char raw_size[32];   /* its x-amz-meta-raw-size ("" for none) */
	} objects[BUCKET_OBJECTS];
	int count;
	char gets[BUCKET_GETS][256];
	int ngets;
} bucket = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * Queue an answer of status with len bytes of body, and the encoding and
 * raw size kept with it (NULL or "": none); then release it.
 */
static enum MHD_Result answer_object(struct MHD_Connection *c, unsigned status,
                                     const void *body, size_t len, const char *encoding,
                                     const char *raw_size)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body,
	                                                            MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(resp, "ETag", "\"stand-in\"");
	if (encoding != NULL && encoding[0] != '\0')
		MHD_add_response_header(resp, "Content-Encoding", encoding);
	if (raw_size != NULL && raw_size[0] != '\0')
		MHD_add_response_header(resp, "x-amz-meta-raw-size", raw_size);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Queue an answer of status with len bytes of body; then release it. */
static enum MHD_Result answer_bytes(struct MHD_Connection *c, unsigned status, const void *body,
                                    size_t len)
{
	return answer_object(c, status, body, len, NULL, NULL);
}

/* Queue an answer of status with body text; then release it. */
static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *text)
{
	return answer_bytes(c, status, text, strlen(text));
}

/* A trickled body: a byte every 200 ms while the mode is BUCKET_TRICKLE, then a broken end. */
static ssize_t trickle(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls, (void)pos, (void)max;
	if (atomic_load(&bucket.mode) != BUCKET_TRICKLE)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	usleep(200000);
	buf[0] = 'x';
	return 1;
}

/* The slot of path, or -1. The caller holds the lock. */
static int object_find(const char *path)
{
	for (int i = 0; i < bucket.count; i++)
		if (strcmp(bucket.objects[i].path, path) == 0)
			return i;
	return -1;
}

/* Copy request header name of c (or "") into a 32-byte field of an object. */
static void header_copy(struct MHD_Connection *c, const char *name, char out[32])
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, 32, "%s", v != NULL ? v : "");
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
	char body[BUCKET_OBJECT_MAX];
	size_t len;
	char encoding[32], raw_size[32];
	bool put = strcmp(method, "PUT") == 0;
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
	pthread_mutex_lock(&bucket.lock);
	if (strcmp(method, "GET") == 0 && bucket.ngets < BUCKET_GETS)
		snprintf(bucket.gets[bucket.ngets++], sizeof(bucket.gets[0]), "%s", path);
	pthread_mutex_unlock(&bucket.lock);
	while (atomic_load(&bucket.mode) == BUCKET_STALL)
		usleep(20000);
	if (atomic_load(&bucket.mode) == BUCKET_503) {
		free(u);
		return answer(c, 503, "<Error><Code>SlowDown</Code></Error>");
	}
	if (atomic_load(&bucket.mode) == BUCKET_TRICKLE && !put) {
		struct MHD_Response *resp = MHD_create_response_from_callback(TRICKLE_BODY, 1, trickle,
		                                                              NULL, NULL);
		enum MHD_Result ret = MHD_queue_response(c, 200, resp);
		MHD_destroy_response(resp);
		free(u);
		return ret;
	}
	pthread_mutex_lock(&bucket.lock);
	i = object_find(path);
	if (put && !u->too_big) {
		if (i < 0 && bucket.count < BUCKET_OBJECTS)
			i = bucket.count++;
		if (i >= 0) {
			snprintf(bucket.objects[i].path, sizeof(bucket.objects[i].path), "%s", path);
			memcpy(bucket.objects[i].body, u->body, u->len);
			bucket.objects[i].len = u->len;
			header_copy(c, "Content-Encoding", bucket.objects[i].encoding);
			header_copy(c, "x-amz-meta-raw-size", bucket.objects[i].raw_size);
		}
		pthread_mutex_unlock(&bucket.lock);
		free(u);
		return answer(c, i >= 0 ? 200 : 507, "");
	}
	if (i < 0 || put) {
		pthread_mutex_unlock(&bucket.lock);
		free(u);
		return put ? answer(c, 507, "") : answer(c, 404, "<Error><Code>NoSuchKey</Code></Error>");
	}
	len = bucket.objects[i].len;
	memcpy(body, bucket.objects[i].body, len);
	memcpy(encoding, bucket.objects[i].encoding, sizeof(encoding));
	memcpy(raw_size, bucket.objects[i].raw_size, sizeof(raw_size));
	pthread_mutex_unlock(&bucket.lock);
	free(u);
	return answer_object(c, 200, body, len, encoding, raw_size);
}

uint16_t bucket_start(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	bucket.daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	                                 MHD_USE_INTERNAL_POLLING_THREAD,
	                                 0, NULL, NULL, bucket_answer, NULL,
	                                 MHD_OPTION_SOCK_ADDR, &sa,
	                                 MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
	cr_assert_not_null(bucket.daemon, "the stand-in bucket did not start");
	return MHD_get_daemon_info(bucket.daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
}

void bucket_stop(void)
{
	atomic_store(&bucket.mode, BUCKET_OK);  /* lets stalled and trickling handlers end */
	if (bucket.daemon != NULL)
		MHD_stop_daemon(bucket.daemon);
	bucket.daemon = NULL;
}

void bucket_reset(void)
{
	bucket_stop();
	bucket.count = 0;
	bucket.ngets = 0;
}

void bucket_set_mode(enum bucket_mode m)
{
	atomic_store(&bucket.mode, m);
}

void bucket_put(const char *path, const void *body, size_t len)
{
	bucket_put_encoded(path, body, len, "", "");
}

void bucket_put_encoded(const char *path, const void *body, size_t len, const char *encoding,
                        const char *raw_size)
{
	cr_assert_leq(len, BUCKET_OBJECT_MAX);
	pthread_mutex_lock(&bucket.lock);
	cr_assert_lt(bucket.count, BUCKET_OBJECTS);
	snprintf(bucket.objects[bucket.count].path, sizeof(bucket.objects[0].path), "%s", path);
	memcpy(bucket.objects[bucket.count].body, body, len);
	snprintf(bucket.objects[bucket.count].encoding, 32, "%s", encoding);
	snprintf(bucket.objects[bucket.count].raw_size, 32, "%s", raw_size);
	bucket.objects[bucket.count++].len = len;
	pthread_mutex_unlock(&bucket.lock);
}

bool bucket_has(const char *id, const char *body)
{
	bool found = false;

	pthread_mutex_lock(&bucket.lock);
	for (int i = 0; i < bucket.count && !found; i++) {
		size_t n = strlen(bucket.objects[i].path);
		found = n >= strlen(id) && strcmp(bucket.objects[i].path + n - strlen(id), id) == 0 &&
		        bucket.objects[i].len == strlen(body) &&
		        memcmp(bucket.objects[i].body, body, bucket.objects[i].len) == 0;
	}
	pthread_mutex_unlock(&bucket.lock);
	return found;
}

long bucket_object(const char *id, void *buf, size_t cap, char encoding[32])
{
	long len = -1;

	pthread_mutex_lock(&bucket.lock);
	for (int i = 0; i < bucket.count && len < 0; i++) {
		size_t n = strlen(bucket.objects[i].path);
		if (n < strlen(id) || strcmp(bucket.objects[i].path + n - strlen(id), id) != 0)
			continue;
		len = (long)bucket.objects[i].len;
		memcpy(buf, bucket.objects[i].body, bucket.objects[i].len < cap ? bucket.objects[i].len
		                                                                : cap);
		memcpy(encoding, bucket.objects[i].encoding, 32);
	}
	pthread_mutex_unlock(&bucket.lock);
	return len;
}

int bucket_gets(const char *part)
{
	int n = 0;

	pthread_mutex_lock(&bucket.lock);
	for (int i = 0; i < bucket.ngets; i++)
		n += strstr(bucket.gets[i], part) != NULL;
	pthread_mutex_unlock(&bucket.lock);
	return n;
}

uint16_t bucket_gateway_start(struct gw *g)
{
	char endpoint[64];
	const char *flags[] = {"--s3", "s3://stand-in/team", "--s3-endpoint", endpoint,
	                       "--s3-region", "us-east-1", NULL};
	const char *env[] = {"AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret",
	                     "AWS_SESSION_TOKEN", "AWS_PROFILE", NULL};
	uint16_t port = bucket_start(0);

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u", port);
	gw_start(g, flags, env);
	return port;
}
