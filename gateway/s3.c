/*
 * s3.c: the S3 client of the shared tier (s3.h).
 *
 * Jobs come in through a locked list and wake the thread; the thread runs
 * every job's transfer on one multi handle (so connections are reused) and
 * tells each job's end to its callback. A PUT of a CAS object first asks
 * with a HEAD whether the bucket has it, and sends nothing if so.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/cause.h"
#include "gateway/s3.h"

#define S3_CONNECT_MS 3000L      /* to open a connection */
#define S3_STALL_SECONDS 10L     /* a transfer that moves no byte this long fails */
#define S3_HEAD_MS 10000L        /* a HEAD, whole */
#define S3_URL_MAX 1024
#define S3_ERROR_BODY 512        /* bytes of an error answer kept for its <Code> */

/* SHA-256 of no bytes: the payload hash of a GET or HEAD. */
static const char empty_sha256[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

enum s3_op { OP_GET, OP_HEAD, OP_PUT };

struct s3_job {
	struct s3 *s3;
	enum s3_op op;
	enum s3_op phase;            /* OP_HEAD while a PUT asks whether it is needed */
	enum store_kind kind;
	char id[STORE_ID_LEN + 1];
	struct store_put *into;      /* OP_GET */
	int fd;                      /* OP_PUT: the body, read with pread */
	uint64_t size, sent;
	char sha256[STORE_ID_LEN + 1];
	tier_done done;
	void *ctx;
	CURL *easy;
	struct curl_slist *headers;
	long status;
	bool write_failed;           /* the local store refused the bytes */
	uint64_t got;
	char error_body[S3_ERROR_BODY + 1];
	size_t error_len;
	char errbuf[CURL_ERROR_SIZE];
	struct timespec started;
	struct s3_job *next;         /* in incoming, or in running */
};

struct s3 {
	struct s3_config cfg;
	struct metrics *metrics;
	char *userpwd;               /* "key:secret" for libcurl; never logged */
	char *sigv4;                 /* "aws:amz:<region>:s3" */
	char *token_header;          /* "x-amz-security-token: ..." or NULL */
	CURLM *multi;
	pthread_t thread;
	pthread_mutex_t lock;        /* guards incoming and stop */
	struct s3_job *incoming;
	bool stop;
	struct s3_job *running;      /* jobs on the multi handle (the thread's own) */
	pthread_mutex_t health_lock; /* guards last_failure */
	char last_failure[200];      /* why the last request failed; "" when it was answered */
};

/* ---- one transfer --------------------------------------------------------- */

/* libcurl hands over response bytes: into the store on a 200, else kept for the error. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct s3_job *j = arg;
	size_t len = size * n;

	if (j->status == 0)
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
	if (j->status == 200 && j->phase == OP_GET) {
		if (store_put_write(j->into, data, len) != STORE_OK) {
			j->write_failed = true;
			return 0;  /* aborts the transfer */
		}
		j->got += len;
		return len;
	}
	if (j->error_len < S3_ERROR_BODY) {
		size_t keep = len < S3_ERROR_BODY - j->error_len ? len : S3_ERROR_BODY - j->error_len;
		memcpy(j->error_body + j->error_len, data, keep);
		j->error_len += keep;
		j->error_body[j->error_len] = '\0';
	}
	return len;
}

/* libcurl asks for upload bytes: read them from the job's file. */
static size_t on_upload(char *buf, size_t size, size_t n, void *arg)
{
	struct s3_job *j = arg;
	size_t want = size * n;
	ssize_t got;

	if (want > j->size - j->sent)
		want = (size_t)(j->size - j->sent);
	do
		got = pread(j->fd, buf, want, (off_t)j->sent);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return CURL_READFUNC_ABORT;
	j->sent += (uint64_t)got;
	return (size_t)got;
}

/* Set up j's handle for its current phase; false when out of memory. */
static bool job_prepare(struct s3_job *j)
{
	struct s3 *s = j->s3;
	char url[S3_URL_MAX], header[128];
	bool sending = j->phase == OP_PUT;

	if (j->easy == NULL && (j->easy = curl_easy_init()) == NULL)
		return false;
	curl_easy_reset(j->easy);
	curl_slist_free_all(j->headers);
	j->headers = NULL;
	j->status = 0;
	j->error_len = 0;
	j->errbuf[0] = '\0';
	if (!s3_config_url(&s->cfg, j->kind, j->id, url, sizeof(url)))
		return false;
	snprintf(header, sizeof(header), "x-amz-content-sha256: %s",
	         sending ? j->sha256 : empty_sha256);
	/* No "Expect:" to drop that header: libcurl 7.88 would sign it, unsent, and S3 refuses. */
	j->headers = curl_slist_append(j->headers, header);
	if (s->token_header != NULL)
		j->headers = curl_slist_append(j->headers, s->token_header);
	if (j->headers == NULL)
		return false;
	curl_easy_setopt(j->easy, CURLOPT_URL, url);
	curl_easy_setopt(j->easy, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(j->easy, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
	curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS, S3_CONNECT_MS);
	curl_easy_setopt(j->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(j->easy, CURLOPT_LOW_SPEED_TIME, S3_STALL_SECONDS);
	curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
	if (j->phase == OP_HEAD) {
		curl_easy_setopt(j->easy, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, S3_HEAD_MS);
	} else if (sending) {
		j->sent = 0;
		curl_easy_setopt(j->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(j->easy, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(j->easy, CURLOPT_READDATA, j);
		curl_easy_setopt(j->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->size);
	}
	return true;
}

/* The text between <Code> and </Code> of an S3 error answer, into buf; "" if none. */
static void error_code(const char *body, char *buf, size_t n)
{
	const char *at = strstr(body, "<Code>"), *end;

	buf[0] = '\0';
	if (at == NULL || (end = strstr(at += 6, "</Code>")) == NULL)
		return;
	snprintf(buf, n, "%.*s", (int)(end - at), at);
}

/* Describe why j failed into r->why. */
static void job_failure(const struct s3_job *j, CURLcode cc, struct tier_reply *r)
{
	char code[64];

	r->result = TIER_FAILED;
	if (j->write_failed) {
		snprintf(r->why, sizeof(r->why), "the local store could not take the object: %s",
		         store_result_str(store_put_error(j->into)));
	} else if (cc != CURLE_OK) {
		snprintf(r->why, sizeof(r->why), "S3 did not answer: %.160s",
		         j->errbuf[0] != '\0' ? j->errbuf : curl_easy_strerror(cc));
	} else {
		error_code(j->error_body, code, sizeof(code));
		snprintf(r->why, sizeof(r->why), "S3 answered HTTP %ld%s%s", j->status,
		         code[0] != '\0' ? " " : "", code);
	}
}

/* Judge j's finished transfer; false when it goes on (a PUT after its HEAD). */
static bool job_judge(struct s3_job *j, CURLcode cc, struct tier_reply *r)
{
	curl_off_t length = -1;

	memset(r, 0, sizeof(*r));
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
	if (cc != CURLE_OK || j->write_failed ||
	    (j->status != 200 && !(j->status == 404 && j->phase != OP_PUT))) {
		job_failure(j, cc, r);
		return true;
	}
	if (j->status == 404) {
		if (j->op == OP_PUT)
			return false;  /* not there: send it */
		r->result = TIER_NOT_FOUND;
		return true;
	}
	r->result = TIER_OK;
	if (j->phase == OP_HEAD) {
		curl_easy_getinfo(j->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
		r->size = length >= 0 ? (uint64_t)length : 0;
		r->skipped = j->op == OP_PUT;
	} else {
		r->size = j->phase == OP_GET ? j->got : j->size;
	}
	return true;
}

/* Free j and its handle (already out of the multi handle). */
static void job_free(struct s3_job *j)
{
	if (j->easy != NULL)
		curl_easy_cleanup(j->easy);
	curl_slist_free_all(j->headers);
	free(j);
}

/* Seconds since j started. */
static double job_seconds(const struct s3_job *j)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - j->started.tv_sec) + (now.tv_nsec - j->started.tv_nsec) / 1e9;
}

/* Take j off the running list, if it is on it. */
static void running_remove(struct s3 *s, struct s3_job *j)
{
	for (struct s3_job **p = &s->running; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			return;
		}
}

/* Tell j's end to its caller, count it, free it. */
static void job_end(struct s3_job *j, const struct tier_reply *r)
{
	static const enum metrics_s3_op ops[] = { S3_METRIC_GET, S3_METRIC_HEAD, S3_METRIC_PUT };

	metrics_count_s3(j->s3->metrics, ops[j->op], r->result != TIER_FAILED, job_seconds(j),
	                 j->op == OP_GET ? r->size : 0, j->op == OP_PUT && !r->skipped ? j->size : 0);
	/* A failure of the local store is not S3's. */
	if (!j->write_failed) {
		pthread_mutex_lock(&j->s3->health_lock);
		snprintf(j->s3->last_failure, sizeof(j->s3->last_failure), "%s",
		         r->result == TIER_FAILED ? r->why : "");
		pthread_mutex_unlock(&j->s3->health_lock);
	}
	j->done(j->ctx, r);
	job_free(j);
}

/* Start j's current phase on the multi handle, or end it as failed. */
static void job_start(struct s3_job *j)
{
	struct tier_reply r = { .result = TIER_FAILED };

	if (job_prepare(j) && curl_multi_add_handle(j->s3->multi, j->easy) == CURLM_OK) {
		j->next = j->s3->running;
		j->s3->running = j;
		return;
	}
	snprintf(r.why, sizeof(r.why), "cannot start an S3 request: out of memory");
	job_end(j, &r);
}

/* ---- the thread ----------------------------------------------------------- */

/* Take the jobs submitted since the last look and start them. */
static bool take_incoming(struct s3 *s)
{
	struct s3_job *list, *rev = NULL;
	bool stop;

	pthread_mutex_lock(&s->lock);
	list = s->incoming;
	s->incoming = NULL;
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	while (list != NULL) {  /* submitted newest first: start the oldest first */
		struct s3_job *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	for (struct s3_job *j = rev, *next; j != NULL; j = next) {
		next = j->next;
		job_start(j);
	}
	return !stop;
}

/* Handle every transfer that has ended. */
static void reap(struct s3 *s)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		struct s3_job *j = NULL;
		struct tier_reply r;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		curl_multi_remove_handle(s->multi, j->easy);
		running_remove(s, j);
		if (job_judge(j, m->data.result, &r)) {
			job_end(j, &r);
		} else {
			j->phase = OP_PUT;
			job_start(j);
		}
	}
}

/* Fail every transfer still running, and any job submitted meanwhile, at stop. */
static void fail_running(struct s3 *s)
{
	struct tier_reply r = { .result = TIER_FAILED };
	struct s3_job *j;

	snprintf(r.why, sizeof(r.why), "the gateway is stopping");
	while ((j = s->running) != NULL) {
		s->running = j->next;
		curl_multi_remove_handle(s->multi, j->easy);
		job_end(j, &r);
	}
	pthread_mutex_lock(&s->lock);
	j = s->incoming;
	s->incoming = NULL;
	pthread_mutex_unlock(&s->lock);
	while (j != NULL) {
		struct s3_job *next = j->next;
		job_end(j, &r);
		j = next;
	}
}

static void *s3_main(void *arg)
{
	struct s3 *s = arg;
	int running;

	while (take_incoming(s)) {
		curl_multi_perform(s->multi, &running);
		reap(s);
		curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
	}
	fail_running(s);
	return NULL;
}

/* ---- jobs from the gateway's threads -------------------------------------- */

/* A new job of op for object id, or NULL when out of memory. */
static struct s3_job *job_new(struct s3 *s, enum s3_op op, enum store_kind k, const char *id,
                              tier_done done, void *ctx)
{
	struct s3_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->s3 = s;
	j->op = j->phase = op;
	j->kind = k;
	snprintf(j->id, sizeof(j->id), "%s", id);
	j->fd = -1;
	j->done = done;
	j->ctx = ctx;
	clock_gettime(CLOCK_MONOTONIC, &j->started);
	return j;
}

/* Hand j to the thread; false (j freed, done never called) when stopping. */
static bool submit(struct s3 *s, struct s3_job *j)
{
	bool stopping;

	pthread_mutex_lock(&s->lock);
	stopping = s->stop;
	if (!stopping) {
		j->next = s->incoming;
		s->incoming = j;
	}
	pthread_mutex_unlock(&s->lock);
	if (stopping) {
		job_free(j);
		return false;
	}
	curl_multi_wakeup(s->multi);
	return true;
}

static bool s3_get(void *backend, enum store_kind k, const char *id, struct store_put *put,
                   tier_done done, void *ctx)
{
	struct s3_job *j = job_new(backend, OP_GET, k, id, done, ctx);

	if (j == NULL)
		return false;
	j->into = put;
	return submit(backend, j);
}

static bool s3_head(void *backend, enum store_kind k, const char *id, tier_done done, void *ctx)
{
	struct s3_job *j = job_new(backend, OP_HEAD, k, id, done, ctx);

	return j != NULL && submit(backend, j);
}

static bool s3_put(void *backend, enum store_kind k, const char *id, int fd, uint64_t size,
                   const char *sha256_hex, tier_done done, void *ctx)
{
	struct s3_job *j = job_new(backend, OP_PUT, k, id, done, ctx);

	if (j == NULL)
		return false;
	j->fd = fd;
	j->size = size;
	snprintf(j->sha256, sizeof(j->sha256), "%s", sha256_hex);
	/* Content-addressed: what the bucket has under this name is these bytes. */
	if (k == STORE_CAS)
		j->phase = OP_HEAD;
	return submit(backend, j);
}

static bool s3_healthy(void *backend, char *why, size_t n)
{
	struct s3 *s = backend;
	bool ok;

	pthread_mutex_lock(&s->health_lock);
	ok = s->last_failure[0] == '\0';
	snprintf(why, n, "%s", s->last_failure);
	pthread_mutex_unlock(&s->health_lock);
	return ok;
}

const struct tier_ops s3_tier_ops = {
	.name = "S3",
	.get = s3_get,
	.head = s3_head,
	.put = s3_put,
	.healthy = s3_healthy,
};

/* ---- start and stop ------------------------------------------------------- */

/*
 * Ask for an object that cannot exist: "not found" proves the endpoint,
 * the bucket and the credentials; anything else is told in *cause.
 */
static bool probe(struct s3 *s, char **cause)
{
	static const char nobody[] = "0000000000000000000000000000000000000000000000000000000000000000";
	struct s3_job *j = job_new(s, OP_GET, STORE_AC, nobody, NULL, NULL);
	struct tier_reply r;
	char code[64];
	CURLcode cc;
	bool ok = false;

	if (j == NULL || !job_prepare(j)) {
		cause_set(cause, "out of memory");
		goto out;
	}
	curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, S3_HEAD_MS);
	cc = curl_easy_perform(j->easy);
	job_judge(j, cc, &r);
	error_code(j->error_body, code, sizeof(code));
	if (r.result == TIER_NOT_FOUND && strcmp(code, "NoSuchBucket") != 0) {
		ok = true;
	} else if (strcmp(code, "NoSuchBucket") == 0) {
		cause_set(cause, "--s3: the bucket %s does not exist at %s", s->cfg.bucket,
		          s->cfg.endpoint);
	} else if (cc == CURLE_OK && (j->status == 403 || j->status == 401)) {
		cause_set(cause, "--s3: %s refused the credentials of access key %s for bucket %s "
		          "(HTTP %ld%s%s)", s->cfg.endpoint, s->cfg.access_key, s->cfg.bucket,
		          j->status, code[0] != '\0' ? " " : "", code);
	} else if (r.result == TIER_OK) {
		ok = true;  /* someone stored that name: the bucket answers all the same */
	} else {
		cause_set(cause, "--s3: cannot use bucket %s at %s: %s", s->cfg.bucket,
		          s->cfg.endpoint, r.why);
	}
out:
	if (j != NULL)
		job_free(j);
	return ok;
}

/* Free s's own parts (the thread is not running). */
static void s3_release(struct s3 *s)
{
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->health_lock);
	if (s->userpwd != NULL)
		memset(s->userpwd, 0, strlen(s->userpwd));
	free(s->userpwd);
	free(s->sigv4);
	free(s->token_header);
	s3_config_free(&s->cfg);
	free(s);
}

struct s3 *s3_start(struct s3_config *c, struct metrics *m, char **cause)
{
	struct s3 *s = calloc(1, sizeof(*s));
	int err;

	if (s == NULL) {
		s3_config_free(c);
		cause_set(cause, "out of memory");
		return NULL;
	}
	s->cfg = *c;
	memset(c, 0, sizeof(*c));
	s->metrics = m;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->health_lock, NULL);
	if (asprintf(&s->userpwd, "%s:%s", s->cfg.access_key, s->cfg.secret_key) < 0)
		s->userpwd = NULL;
	if (asprintf(&s->sigv4, "aws:amz:%s:s3", s->cfg.region) < 0)
		s->sigv4 = NULL;
	if (s->cfg.session_token != NULL &&
	    asprintf(&s->token_header, "x-amz-security-token: %s", s->cfg.session_token) < 0)
		s->token_header = NULL;
	if (s->userpwd == NULL || s->sigv4 == NULL ||
	    (s->cfg.session_token != NULL && s->token_header == NULL)) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	if (!probe(s, cause))
		goto fail;
	if ((s->multi = curl_multi_init()) == NULL) {
		cause_set(cause, "out of memory");
		goto fail;
	}
	err = pthread_create(&s->thread, NULL, s3_main, s);
	if (err != 0) {
		cause_set(cause, "cannot start the S3 thread: %s", strerror(err));
		goto fail;
	}
	return s;
fail:
	s3_release(s);
	return NULL;
}

void s3_stop(struct s3 *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->stop) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	curl_multi_wakeup(s->multi);
	pthread_join(s->thread, NULL);
}

void s3_free(struct s3 *s)
{
	if (s == NULL)
		return;
	s3_stop(s);
	s3_release(s);
}
