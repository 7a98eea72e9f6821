/*
 * s3.c: the S3 client of the shared tier (s3.h).
 *
 * Jobs come in through a locked list and wake the thread; the thread runs
 * every job's transfer on one multi handle (so connections are reused) and
 * tells each job's end to its callback (one transfer: s3_job.c). A PUT of
 * a CAS object first asks with a HEAD whether the bucket has it, and sends
 * nothing if so.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "common/clock.h"
#include "gateway/tier/s3/s3_job.h"

/* Seconds since j started. */
static double job_seconds(const struct s3_job *j)
{
	return (double)(clock_us() - j->started_us) / 1e6;
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
		free(j->s3->last_failure);
		j->s3->last_failure = NULL;
		if (r->result == TIER_FAILED)
			cause_set(&j->s3->last_failure, "%s", cause_text(r->why));
		pthread_mutex_unlock(&j->s3->health_lock);
	}
	j->done(j->ctx, r);
	s3_job_free(j);
}

/* Start j's current phase on the multi handle, or end it as failed. */
static void job_start(struct s3_job *j)
{
	struct tier_reply r = { .result = TIER_FAILED };

	if (s3_job_prepare(j) && curl_multi_add_handle(j->s3->multi, j->easy) == CURLM_OK) {
		queue_push(&j->s3->running, &j->link);
		return;
	}
	cause_set(&r.why, "cannot start an S3 request: out of memory");
	job_end(j, &r);
	free(r.why);
}

/* ---- the thread ----------------------------------------------------------- */

/* The jobs submitted since the last look, oldest first; s->incoming is left empty. */
static struct queue steal_incoming(struct s3 *s)
{
	struct queue q;

	pthread_mutex_lock(&s->lock);
	q = queue_steal(&s->incoming);
	pthread_mutex_unlock(&s->lock);
	return q;
}

/* Start the jobs submitted since the last look; false once stopping. */
static bool take_incoming(struct s3 *s)
{
	bool stop = worker_stopping(&s->worker);
	struct queue q = steal_incoming(s);
	struct queue_link *l;

	while ((l = queue_pop(&q)) != NULL)
		job_start(queue_entry(l, struct s3_job, link));
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
		queue_remove(&s->running, &j->link);
		if (s3_job_judge(j, m->data.result, &r)) {
			job_end(j, &r);
			free(r.why);
		} else {
			job_start(j);  /* its next step */
		}
	}
}

/* Fail every transfer still running, and any job submitted meanwhile, at stop. */
static void fail_running(struct s3 *s)
{
	struct tier_reply r = { .result = TIER_FAILED };
	struct queue incoming;
	struct queue_link *l;

	cause_set(&r.why, "the gateway is stopping");
	while ((l = queue_pop(&s->running)) != NULL) {
		struct s3_job *j = queue_entry(l, struct s3_job, link);

		curl_multi_remove_handle(s->multi, j->easy);
		job_end(j, &r);
	}
	incoming = steal_incoming(s);
	while ((l = queue_pop(&incoming)) != NULL)
		job_end(queue_entry(l, struct s3_job, link), &r);
	free(r.why);
}

/* The thread: start what comes in, run the transfers, until stopped. */
static void s3_main(void *arg)
{
	struct s3 *s = arg;
	int running;

	while (take_incoming(s)) {
		curl_multi_perform(s->multi, &running);
		reap(s);
		curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
	}
	fail_running(s);
}

/* The worker's poke: end the thread's curl_multi_poll. */
static void s3_poke(void *arg)
{
	struct s3 *s = arg;

	curl_multi_wakeup(s->multi);
}

/* ---- jobs from the gateway's threads -------------------------------------- */

/* Hand j to the thread; false (j freed, done never called) when stopping. */
static bool submit(struct s3 *s, struct s3_job *j)
{
	bool stopping;

	pthread_mutex_lock(&s->lock);
	stopping = worker_stopping(&s->worker);
	if (!stopping)
		queue_push(&s->incoming, &j->link);
	pthread_mutex_unlock(&s->lock);
	if (stopping) {
		s3_job_free(j);
		return false;
	}
	worker_wake(&s->worker);
	return true;
}

static bool s3_get(void *backend, enum store_kind k, const char *ns, const char *id,
                   struct store_put *put, unsigned stall_seconds, tier_progress progress,
                   tier_done done, void *ctx)
{
	struct s3_job *j = s3_job_new(backend, OP_GET, k, ns, id, done, ctx);

	if (j == NULL)
		return false;
	j->into = put;
	j->stall_seconds = stall_seconds;
	j->progress = progress;
	return submit(backend, j);
}

static bool s3_head(void *backend, enum store_kind k, const char *ns, const char *id,
                    tier_done done, void *ctx)
{
	struct s3_job *j = s3_job_new(backend, OP_HEAD, k, ns, id, done, ctx);

	return j != NULL && submit(backend, j);
}

static bool s3_put(void *backend, enum store_kind k, const char *ns, const char *id, int fd,
                   uint64_t size, int64_t raw_size, const char *sha256_hex, tier_done done,
                   void *ctx)
{
	struct s3_job *j = s3_job_new(backend, OP_PUT, k, ns, id, done, ctx);

	if (j == NULL)
		return false;
	j->fd = fd;
	j->size = size;
	j->raw_size = raw_size;
	snprintf(j->sha256, sizeof(j->sha256), "%s", sha256_hex);
	/* Content-addressed: what the bucket has under this name is these bytes. */
	if (k == STORE_CAS)
		j->phase = OP_HEAD;
	else if (s3_multipart_wanted(j))
		j->phase = OP_CREATE;
	return submit(backend, j);
}

static bool s3_healthy(void *backend, char **cause)
{
	struct s3 *s = backend;
	bool ok;

	pthread_mutex_lock(&s->health_lock);
	ok = s->last_failure == NULL;
	if (!ok)
		cause_set(cause, "%s", s->last_failure);
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
	struct s3_job *j = s3_job_new(s, OP_GET, STORE_AC, NULL, nobody, NULL, NULL);
	struct tier_reply r;
	char code[64];
	CURLcode cc;
	bool ok = false;

	if (j == NULL || !s3_job_prepare(j)) {
		cause_set(cause, "out of memory");
		goto out;
	}
	curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, S3_HEAD_MS);
	cc = curl_easy_perform(j->easy);
	s3_job_judge(j, cc, &r);
	s3_error_code(j->error_body, code, sizeof(code));
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
		          s->cfg.endpoint, cause_text(r.why));
	}
	free(r.why);
out:
	if (j != NULL)
		s3_job_free(j);
	return ok;
}

/* Free s's own parts (the thread is not running). */
static void s3_release(struct s3 *s)
{
	worker_destroy(&s->worker);
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->health_lock);
	if (s->userpwd != NULL)
		memset(s->userpwd, 0, strlen(s->userpwd));
	free(s->userpwd);
	free(s->sigv4);
	free(s->token_header);
	free(s->last_failure);
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
	err = worker_start(&s->worker, s3_main, s3_poke, s);
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
	if (s != NULL)
		worker_stop(&s->worker);
}

void s3_free(struct s3 *s)
{
	if (s == NULL)
		return;
	s3_stop(s);
	s3_release(s);
}
