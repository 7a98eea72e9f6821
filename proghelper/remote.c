/*
 * remote.c: the helper's network thread. It drives one libcurl multi handle
 * for every job (fetch.c: gets; upload.c: uploads; preload.c: fetching
 * ahead), starts waiting jobs within the concurrency limits, hands each
 * finished transfer to outcome.c, and at close drains the queue until its
 * deadline.
 */
#include "proghelper/remote_job.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/cause.h"
#include "wire/encoding.h"
#include "wire/wire.h"

#define REMOTE_CONNECT_MS 1000L
#define REMOTE_MAX_IDLE_S 20L      /* a connection idle longer is not reused */

void remote_submit(struct remote *r, struct job *j)
{
	pthread_mutex_lock(&r->lock);
	queue_push(&r->incoming, &j->link);
	pthread_mutex_unlock(&r->lock);
	worker_wake(&r->worker);
}

/* ---- jobs and their handles -------------------------------------------- */

/* The count of running jobs of j's kind. */
static int *remote_running(struct remote *r, const struct job *j)
{
	switch (j->kind) {
	case JOB_UPLOAD:
		return &r->running_uploads;
	case JOB_PRELOAD:
		return &r->running_preloads;
	default:
		return &r->running_gets;
	}
}

void remote_free_job(struct remote *r, struct job *j)
{
	if (j->easy != NULL) {
		int i;

		for (i = 0; i < r->nactive; i++) {
			if (r->active[i] == j) {
				r->active[i] = r->active[--r->nactive];
				break;
			}
		}
		curl_multi_remove_handle(r->multi, j->easy);
		/* The buffer goes with the job. */
		curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, NULL);
		if (r->nspare < REMOTE_MAX_HANDLES)
			r->spare[r->nspare++] = j->easy;
		else
			curl_easy_cleanup(j->easy);
		*remote_running(r, j) -= 1;
	}
	if (j->kind == JOB_PRELOAD)
		preload_job_ended(r, j);
	upload_zstd_end(r, j);
	store_put_abort(j->put);
	if (j->fd >= 0)
		close(j->fd);
	if (j->kind == JOB_UPLOAD) {
		pthread_mutex_lock(&r->lock);
		r->uploads_pending--;
		pthread_mutex_unlock(&r->lock);
	}
	free(j);
}

void remote_finish_job(struct remote *r, struct job *j, bool hit)
{
	if (j->kind == JOB_GET)
		fetch_answer(r, j, hit);
	remote_free_job(r, j);
}

void remote_accept_zstd(struct remote *r, CURL *e)
{
	if (r->zstd_down)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, WIRE_ZSTD);
}

void remote_took(struct remote *r, size_t n)
{
	stats_add(&r->stats->bytes_down_raw, n);
}

#define ACCEPT_HEADER "Accept-Encoding:"

void remote_note_header(struct remote *r, const char *data, size_t n)
{
	size_t skip = sizeof ACCEPT_HEADER - 1;

	if (r->compression && !r->zstd_up && n > skip && strncasecmp(data, ACCEPT_HEADER, skip) == 0)
		r->zstd_up = wire_accepts_zstd(data + skip, n - skip);
}

/* libcurl's header callback of every request but those to /go paths (fetch_header). */
static size_t remote_header_line(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;

	remote_note_header(j->remote, data, size * nmemb);
	return size * nmemb;
}

CURL *remote_prepare(struct remote *r, struct job *j, const char *kind,
                     const unsigned char hash[STORE_HASH_LEN])
{
	char hex[STORE_ID_LEN + 1];
	char *url = NULL;
	CURL *e = j->easy;

	if (e != NULL) {
		curl_multi_remove_handle(r->multi, e);
		curl_easy_reset(e);
	} else {
		e = r->nspare > 0 ? r->spare[--r->nspare] : curl_easy_init();
		if (e == NULL)
			return NULL;
		curl_easy_reset(e);
		j->easy = e;
		r->active[r->nactive++] = j;
		*remote_running(r, j) += 1;
	}
	if (hash != NULL)
		store_hex(hash, hex);
	if (asprintf(&url, "%s/%s%s%s", r->url, kind, hash != NULL ? "/" : "",
	             hash != NULL ? hex : "") < 0)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, REMOTE_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	/* Never reuse a connection the gateway may be closing (its --header-timeout is 30 s). */
	curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, REMOTE_MAX_IDLE_S);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, remote_header_line);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
	j->error[0] = '\0';
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->error);
	if (r->cacert != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->cacert);
	if (r->cert != NULL)
		curl_easy_setopt(e, CURLOPT_SSLCERT, r->cert);
	if (r->key != NULL)
		curl_easy_setopt(e, CURLOPT_SSLKEY, r->key);
	return e;
}

bool remote_launch(struct remote *r, struct job *j)
{
	return curl_multi_add_handle(r->multi, j->easy) == CURLM_OK;
}

/* ---- the network thread ------------------------------------------------ */

/* Take newly submitted jobs; returns whether close has begun. */
static bool remote_take_incoming(struct remote *r, int64_t *deadline)
{
	struct job *j;
	bool stopping;

	pthread_mutex_lock(&r->lock);
	while ((j = job_pop(&r->incoming)) != NULL)
		queue_push(j->kind == JOB_UPLOAD ? &r->uploads : &r->gets, &j->link);
	stopping = worker_stopping(&r->worker);
	*deadline = r->deadline_us;
	pthread_mutex_unlock(&r->lock);
	return stopping;
}

/* Start waiting jobs within the concurrency limits; drop them once off. */
static void remote_start_waiting(struct remote *r)
{
	struct job *j;
	bool off = atomic_load(&r->off);

	while ((off || r->running_gets < REMOTE_MAX_GETS) && (j = job_pop(&r->gets)) != NULL) {
		if (off)
			remote_finish_job(r, j, false);
		else
			fetch_start(r, j);
	}
	off = off || atomic_load(&r->writes_off);
	while ((off || r->running_uploads < REMOTE_MAX_UPLOADS) &&
	       (j = job_pop(&r->uploads)) != NULL) {
		if (off) {
			stats_add(&r->stats->uploads_dropped, 1);
			remote_free_job(r, j);
		} else {
			upload_start(r, j);
		}
	}
}

/* Give up on every job still open (close timed out). */
static void remote_abandon(struct remote *r)
{
	struct job *j;
	int n = 0;

	/* Ending a preload request hands the gets waiting for it back to the queue. */
	while (!queue_empty(&r->gets) || !queue_empty(&r->uploads) || r->nactive > 0) {
		while ((j = job_pop(&r->gets)) != NULL)
			remote_finish_job(r, j, false);
		while ((j = job_pop(&r->uploads)) != NULL) {
			n++;
			remote_free_job(r, j);
		}
		if (r->nactive > 0) {
			j = r->active[r->nactive - 1];
			if (j->kind == JOB_UPLOAD)
				n++;
			remote_finish_job(r, j, false);
		}
	}
	if (n > 0)
		stats_add(&r->stats->uploads_dropped, (uint64_t)n);
	if (n > 0 && !atomic_load(&r->quiet)) {
		fprintf(stderr, "cachegate-prog: %d uploads to %s did not finish before the close "
		        "timeout\n", n, r->url);
	}
}

/* The network thread: run transfers until close has drained them or timed out. */
static void remote_main(void *arg)
{
	struct remote *r = arg;
	CURLMsg *msg;
	int running, left;
	int64_t deadline;
	bool progressed;

	for (;;) {
		bool stopping = remote_take_incoming(r, &deadline);
		int wait_ms = 1000;

		remote_renew_token(r);
		if (stopping)
			preload_cancel(r);
		else
			wait_ms = preload_pump(r, wait_ms);
		remote_start_waiting(r);
		curl_multi_perform(r->multi, &running);
		progressed = false;
		while ((msg = curl_multi_info_read(r->multi, &left)) != NULL) {
			char *p = NULL;
			long code = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			progressed = true;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			remote_done(r, (struct job *)p, msg->data.result, code);
		}
		if (stopping) {
			int64_t now = clock_us();
			if (r->running_gets + r->running_uploads == 0 && queue_empty(&r->gets) &&
			    queue_empty(&r->uploads))
				break;
			if (now >= deadline) {
				remote_abandon(r);
				break;
			}
			/* Wake for the deadline itself, not up to a second past it. */
			wait_ms = clock_poll_ms(now, deadline, wait_ms);
		}
		/*
		 * New steps started above are due at once; curl's own timer says so.
		 * A transfer that ended may have freed room or queued gets: go round.
		 */
		curl_multi_poll(r->multi, NULL, 0, progressed ? 0 : wait_ms, NULL);
	}
}

/* The worker's poke: end the network thread's curl_multi_poll. */
static void remote_poke(void *arg)
{
	struct remote *r = arg;

	curl_multi_wakeup(r->multi);
}

/* ---- start and stop ---------------------------------------------------- */

/* Free what remote_start built (the thread is not running). */
static void remote_free(struct remote *r)
{
	int i;

	worker_destroy(&r->worker);
	for (i = 0; i < r->nspare; i++)
		curl_easy_cleanup(r->spare[i]);
	if (r->multi != NULL)
		curl_multi_cleanup(r->multi);
	curl_slist_free_all(r->headers);
	curl_slist_free_all(r->upload_headers);
	upload_zstd_free_all(r);
	preload_free(r->preload, r->stats);
	pthread_mutex_destroy(&r->lock);
	free(r->url);
	free(r->diskpath_root);
	free(r->token_source);
	free(r->cacert);
	free(r->cert);
	free(r->key);
	free(r);
}

/* Append a header line; false when out of memory. */
static bool remote_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (l == NULL)
		return false;
	*list = l;
	return true;
}

struct remote *remote_start(const struct remote_options *o, struct store *s, struct reply *w, struct stats *st,
                            char **cause)
{
	struct remote *r = calloc(1, sizeof *r);
	char *auth = NULL;
	bool ok;

	*cause = NULL;
	if (r == NULL)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->store = s;
	r->reply = w;
	r->stats = st;
	r->url = strdup(o->url);
	r->diskpath_root = strdup(o->diskpath_root != NULL ? o->diskpath_root : store_dir(s));
	r->token_source = strdup(o->token_source != NULL ? o->token_source : "the token");
	r->have_token = o->token != NULL || o->citoken != NULL;
	r->cacert = o->cacert != NULL ? strdup(o->cacert) : NULL;
	r->cert = o->cert != NULL ? strdup(o->cert) : NULL;
	r->key = o->key != NULL ? strdup(o->key) : NULL;
	r->read_only = o->read_only;
	r->compression = !o->no_compression;
	r->compression_level = o->compression_level > 0 ? o->compression_level : UPLOAD_ZSTD_LEVEL;
	/* Ask for zstd only of a libcurl that decodes it. */
	r->zstd_down = r->compression && (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ZSTD) != 0;
	atomic_init(&r->off, false);
	atomic_init(&r->quiet, false);
	atomic_init(&r->writes_off, o->read_only);
	r->multi = curl_multi_init();
	r->recorder = o->recorder;
	r->used = o->used;
	if (o->preload_key != NULL)
		r->preload = preload_new(o->preload_key, o->preload_max, o->preload_wait_ms);
	ok = r->url != NULL && r->diskpath_root != NULL && r->token_source != NULL && r->multi != NULL;
	ok = ok && (o->cacert == NULL || r->cacert != NULL) && (o->cert == NULL || r->cert != NULL) &&
	     (o->key == NULL || r->key != NULL);
	r->citoken = o->citoken;
	if (ok && (o->token != NULL || o->citoken != NULL)) {
		ok = asprintf(&auth, "Authorization: Bearer %s",
		              o->citoken != NULL ? citoken_value(o->citoken) : o->token) >= 0;
		ok = ok && remote_header(&r->headers, auth) && remote_header(&r->upload_headers, auth);
		if (auth != NULL) {
			explicit_bzero(auth, strlen(auth));
			free(auth);
		}
	}
	ok = ok && remote_header(&r->upload_headers, "Expect:") &&
	     remote_header(&r->upload_headers, "Content-Type: application/octet-stream");
	if (ok)
		ok = worker_start(&r->worker, remote_main, remote_poke, r) == 0;
	if (!ok) {
		cause_set(cause, "cannot start the client of %s", o->url);
		remote_free(r);
		return NULL;
	}
	return r;
}

void remote_stop(struct remote *r, long timeout_ms)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->deadline_us = clock_us() + (int64_t)timeout_ms * 1000;
	pthread_mutex_unlock(&r->lock);
	worker_stop(&r->worker);
	remote_free(r);
}

void remote_abort(struct remote *r)
{
	if (r == NULL)
		return;
	atomic_store(&r->quiet, true);
	remote_stop(r, 0);
}
