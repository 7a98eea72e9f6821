/*
 * remote.c: fetch and upload Go cache entries through one libcurl multi
 * handle driven by one network thread.
 *
 * A get job: GET /ac/<action> (the entry line), then, unless the output is
 * already in the local store, GET /cas/<output> streamed into a store write
 * that checks size and SHA-256; the entry is then recorded locally and the
 * go command answered. An upload job: HEAD /cas/<output> for large outputs
 * (skip the body when the server has it), PUT /cas/<output> from the local
 * file, then PUT /ac/<action>.
 */
#include "proghelper/remote.h"
#include "proghelper/diskpath.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define REMOTE_MAX_GETS 16         /* gets in flight at once */
#define REMOTE_MAX_UPLOADS 6       /* uploads in flight at once */
#define REMOTE_MAX_QUEUE 4096      /* uploads waiting; more are dropped */
#define REMOTE_MAX_FAILURES 3      /* consecutive failures before the remote is skipped */
#define REMOTE_HEAD_MIN (64 * 1024)  /* outputs at least this big are HEADed first */
#define REMOTE_CONNECT_MS 1000L
#define REMOTE_SMALL_MS 10000L     /* whole-request limit for entries and HEADs */
#define REMOTE_LOW_SPEED 1024L     /* bytes/s below which a body transfer ... */
#define REMOTE_LOW_SPEED_S 10L     /* ... for this long is given up */

enum job_step {
	STEP_GET_AC,
	STEP_GET_CAS,
	STEP_HEAD_CAS,
	STEP_PUT_CAS,
	STEP_PUT_AC,
};

/* One get or upload, owned by the network thread once queued. */
struct job {
	struct job *next;
	bool upload;
	enum job_step step;
	int64_t req_id;                    /* get: the request to answer */
	int64_t queued_us;
	struct go_entry entry;          /* upload: what to send; get: what was found */
	unsigned char action[STORE_HASH_LEN];
	char line[GO_ENTRY_LEN + 1];    /* the entry line received or being sent */
	size_t line_len;                   /* bytes received, or bytes sent */
	struct store_put *put;             /* STEP_GET_CAS: the local write */
	bool put_failed;                   /* STEP_GET_CAS: the local write could not start */
	int fd;                            /* STEP_PUT_CAS: the local output, or -1 */
	CURL *easy;
	struct remote *remote;             /* for callbacks */
};

/* A FIFO of jobs. */
struct job_list {
	struct job *head, *tail;
};

struct remote {
	char *url;
	char *diskpath_root;                /* DiskPaths start with this */
	char *token_source;
	bool have_token;
	bool read_only;                     /* --read-only: writes_off from the start */
	struct curl_slist *headers;         /* Authorization */
	struct curl_slist *upload_headers;  /* Authorization, no Expect, octet-stream */
	struct store *store;
	struct reply *reply;
	struct stats *stats;
	CURLM *multi;
	struct recorder *recorder;          /* writes fetched entries locally (not ours) */
	pthread_t thread;

	pthread_mutex_t lock;               /* guards the fields up to the next comment */
	struct job_list incoming;
	size_t uploads_pending;             /* queued or running uploads */
	bool stopping;
	int64_t deadline_us;

	atomic_bool off;                    /* nothing more goes to the remote */
	atomic_bool quiet;                  /* remote_abort: drop work without a word */
	atomic_bool writes_off;             /* no more uploads */

	/* Used by the network thread only. */
	struct job_list gets, uploads;
	int running_gets, running_uploads;
	int failures;                       /* consecutive */
	struct job *active[REMOTE_MAX_GETS + REMOTE_MAX_UPLOADS];  /* jobs holding a handle */
	int nactive;
	CURL *spare[REMOTE_MAX_GETS + REMOTE_MAX_UPLOADS];
	int nspare;
};

/* Microseconds on the monotonic clock. */
static int64_t
remote_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
job_list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct job *
job_list_pop(struct job_list *l)
{
	struct job *j = l->head;

	if (j != NULL) {
		l->head = j->next;
		if (l->head == NULL)
			l->tail = NULL;
	}
	return j;
}

/* Add a job and wake the network thread. */
static void
remote_submit(struct remote *r, struct job *j)
{
	pthread_mutex_lock(&r->lock);
	job_list_push(&r->incoming, j);
	pthread_mutex_unlock(&r->lock);
	curl_multi_wakeup(r->multi);
}

enum remote_result
remote_get(struct remote *r, int64_t id, const unsigned char action[STORE_HASH_LEN])
{
	struct job *j;

	if (atomic_load(&r->off))
		return REMOTE_OFF;
	j = calloc(1, sizeof *j);
	if (j == NULL)
		return REMOTE_OFF;
	j->req_id = id;
	j->remote = r;
	j->fd = -1;
	j->step = STEP_GET_AC;
	j->queued_us = remote_now_us();
	memcpy(j->action, action, STORE_HASH_LEN);
	remote_submit(r, j);
	return REMOTE_QUEUED;
}

enum remote_result
remote_upload(struct remote *r, const struct go_entry *e)
{
	struct job *j;
	bool full;

	if (atomic_load(&r->off) || atomic_load(&r->writes_off))
		return REMOTE_OFF;
	pthread_mutex_lock(&r->lock);
	full = r->uploads_pending >= REMOTE_MAX_QUEUE;
	if (!full)
		r->uploads_pending++;
	pthread_mutex_unlock(&r->lock);
	j = full ? NULL : calloc(1, sizeof *j);
	if (j == NULL) {
		if (!full) {
			pthread_mutex_lock(&r->lock);
			r->uploads_pending--;
			pthread_mutex_unlock(&r->lock);
		}
		stats_add(&r->stats->uploads_dropped, 1);
		return REMOTE_DROPPED;
	}
	j->upload = true;
	j->remote = r;
	j->fd = -1;
	j->entry = *e;
	memcpy(j->action, e->action, STORE_HASH_LEN);
	j->step = e->size >= REMOTE_HEAD_MIN ? STEP_HEAD_CAS : STEP_PUT_CAS;
	go_entry_format(e, j->line);
	remote_submit(r, j);
	return REMOTE_QUEUED;
}

/* ---- the network thread ------------------------------------------------ */

/* Answer a get job: a hit names the output's local file. */
static void
remote_answer(struct remote *r, struct job *j, bool hit)
{
	struct protocol_reply rep;
	char *path = NULL;

	memset(&rep, 0, sizeof rep);
	rep.id = j->req_id;
	if (hit) {
		size_t n = diskpath_max(r->diskpath_root);
		path = malloc(n);
		if (path == NULL || !diskpath_format(r->diskpath_root, j->entry.output, path, n))
			hit = false;
	}
	if (hit) {
		rep.hit = true;
		memcpy(rep.output, j->entry.output, STORE_HASH_LEN);
		rep.size = j->entry.size;
		rep.time_ns = j->entry.time_ns;
		rep.disk_path = path;
		stats_add(&r->stats->remote_hits, 1);
	} else {
		rep.miss = true;
		stats_add(&r->stats->misses, 1);
	}
	stats_add(&r->stats->remote_wait_us, (uint64_t)(remote_now_us() - j->queued_us));
	reply_send(r->reply, &rep);
	free(path);
}

/* Release what a job holds (its handle is kept for reuse) and free it. */
static void
remote_free_job(struct remote *r, struct job *j)
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
		if (r->nspare < (int)(sizeof r->spare / sizeof r->spare[0]))
			r->spare[r->nspare++] = j->easy;
		else
			curl_easy_cleanup(j->easy);
		if (j->upload)
			r->running_uploads--;
		else
			r->running_gets--;
	}
	store_put_abort(j->put);
	if (j->fd >= 0)
		close(j->fd);
	if (j->upload) {
		pthread_mutex_lock(&r->lock);
		r->uploads_pending--;
		pthread_mutex_unlock(&r->lock);
	}
	free(j);
}

/* End a job: a get is answered (hit or miss), an upload just ends. */
static void
remote_finish_job(struct remote *r, struct job *j, bool hit)
{
	if (!j->upload)
		remote_answer(r, j, hit);
	remote_free_job(r, j);
}

/* Stop using the remote, saying why once. */
static void
remote_turn_off(struct remote *r, const char *why)
{
	if (!atomic_exchange(&r->off, true))
		fprintf(stderr, "cachegate-prog: %s; continuing without the remote for this run\n", why);
}

/* Count one failure of the remote itself; enough in a row turn it off. */
static void
remote_failed(struct remote *r, const char *what)
{
	char why[512];

	stats_add(&r->stats->remote_errors, 1);
	if (++r->failures >= REMOTE_MAX_FAILURES && !atomic_load(&r->off)) {
		snprintf(why, sizeof why, "the remote %s failed %d times in a row (last: %s)",
		         r->url, r->failures, what);
		remote_turn_off(r, why);
	}
}

/*
 * The server rejected our credentials with code. A refused upload only ends
 * uploads (reads may be open to all, or to a read token); a refused read,
 * or a token rejected outright, ends all use of the remote.
 */
static void
remote_denied(struct remote *r, long code, bool write)
{
	char why[512];

	stats_add(&r->stats->remote_errors, 1);
	if (write && (code == 403 || !r->have_token)) {
		if (atomic_exchange(&r->writes_off, true))
			return;
		if (r->have_token)
			fprintf(stderr, "cachegate-prog: the remote %s refused an upload with %s "
			        "(HTTP 403: a read-only token); continuing without uploads\n",
			        r->url, r->token_source);
		else
			fprintf(stderr, "cachegate-prog: the remote %s wants a token for uploads "
			        "(HTTP %ld): set --token-file or CACHEGATE_TOKEN; continuing "
			        "without uploads\n", r->url, code);
		return;
	}
	if (!r->have_token && atomic_load(&r->writes_off) && !r->read_only) {
		/* The missing token was already named; stop reading too, quietly. */
		atomic_store(&r->off, true);
		return;
	}
	if (r->have_token)
		snprintf(why, sizeof why, "the remote %s rejected %s (HTTP %ld)", r->url,
		         r->token_source, code);
	else
		snprintf(why, sizeof why, "the remote %s wants a token (HTTP %ld): "
		         "set --token-file or CACHEGATE_TOKEN", r->url, code);
	remote_turn_off(r, why);
}

/* Store what a GET /ac returns, up to one entry line (more fails the transfer). */
static size_t
remote_write_line(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb;

	if (n > sizeof j->line - 1 - j->line_len)
		return 0;
	memcpy(j->line + j->line_len, data, n);
	j->line_len += n;
	return n;
}

/* Start the local write of a job's output, once; false if it cannot start. */
static bool
remote_begin_put(struct remote *r, struct job *j)
{
	char o[STORE_ID_LEN + 1];

	if (j->put == NULL && !j->put_failed) {
		store_hex(j->entry.output, o);
		if (store_put_begin(r->store, STORE_CAS, o, (uint64_t)j->entry.size, &j->put) != STORE_OK) {
			j->put = NULL;
			j->put_failed = true;
		}
	}
	return j->put != NULL;
}

/* Hand what a GET /cas returns to the store write. */
static size_t
remote_write_put(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb;

	if (!remote_begin_put(j->remote, j))
		return 0;
	return store_put_write(j->put, data, n) == STORE_OK ? n : 0;
}

/* Swallow a response body nobody needs (stdout is the protocol's alone). */
static size_t
remote_write_nothing(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/* Feed a PUT /cas from the local output file. */
static size_t
remote_read_file(char *buf, size_t size, size_t nitems, void *arg)
{
	struct job *j = arg;
	ssize_t n;

	do
		n = read(j->fd, buf, size * nitems);
	while (n < 0 && errno == EINTR);
	return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

/* Feed a PUT /ac from the entry line. */
static size_t
remote_read_line(char *buf, size_t size, size_t nitems, void *arg)
{
	struct job *j = arg;
	size_t n = GO_ENTRY_LEN - j->line_len;

	if (n > size * nitems)
		n = size * nitems;
	memcpy(buf, j->line + j->line_len, n);
	j->line_len += n;
	return n;
}

/* Point j's easy handle at its current step and add it to the multi handle. */
static bool
remote_start_step(struct remote *r, struct job *j)
{
	char hex[STORE_ID_LEN + 1];
	char *url = NULL;
	const char *kind = j->step == STEP_GET_AC || j->step == STEP_PUT_AC ? "ac" : "cas";
	CURL *e = j->easy;
	bool ok;

	if (e != NULL) {
		curl_multi_remove_handle(r->multi, e);
		curl_easy_reset(e);
	} else {
		e = r->nspare > 0 ? r->spare[--r->nspare] : curl_easy_init();
		if (e == NULL)
			return false;
		curl_easy_reset(e);
		j->easy = e;
		r->active[r->nactive++] = j;
		if (j->upload)
			r->running_uploads++;
		else
			r->running_gets++;
	}
	store_hex(kind[0] == 'a' ? j->action : j->entry.output, hex);
	if (asprintf(&url, "%s/%s/%s", r->url, kind, hex) < 0)
		return false;
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, REMOTE_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, remote_write_nothing);

	switch (j->step) {
	case STEP_GET_AC:
		j->line_len = 0;
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, REMOTE_SMALL_MS);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, remote_write_line);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
		break;
	case STEP_GET_CAS:
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, REMOTE_LOW_SPEED);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, REMOTE_LOW_SPEED_S);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, remote_write_put);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->entry.size);
		break;
	case STEP_HEAD_CAS:
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, REMOTE_SMALL_MS);
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		break;
	case STEP_PUT_CAS:
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, REMOTE_LOW_SPEED);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, REMOTE_LOW_SPEED_S);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->upload_headers);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->entry.size);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, remote_read_file);
		curl_easy_setopt(e, CURLOPT_READDATA, j);
		break;
	case STEP_PUT_AC:
		j->line_len = 0;
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, REMOTE_SMALL_MS);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->upload_headers);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)GO_ENTRY_LEN);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, remote_read_line);
		curl_easy_setopt(e, CURLOPT_READDATA, j);
		break;
	}
	ok = curl_multi_add_handle(r->multi, e) == CURLM_OK;
	return ok;
}

/*
 * The output is in the local store: answer the get as a hit now; its entry
 * is recorded locally later, off the go command's path (recorder.h).
 */
static void
remote_got(struct remote *r, struct job *j)
{
	if (r->recorder != NULL)
		recorder_add(r->recorder, &j->entry);
	else
		local_record(r->store, &j->entry);
	remote_finish_job(r, j, true);
}

/* A GET /ac returned an entry line: check it, then fetch or reuse its output. */
static void
remote_got_entry(struct remote *r, struct job *j)
{
	char o[STORE_ID_LEN + 1];
	uint64_t have = 0;
	enum store_result sr;
	int running;

	if (!go_entry_parse(j->line, j->line_len, &j->entry) ||
	    memcmp(j->entry.action, j->action, STORE_HASH_LEN) != 0) {
		stats_add(&r->stats->remote_errors, 1);
		remote_finish_job(r, j, false);
		return;
	}
	store_hex(j->entry.output, o);
	/*
	 * Already here: mark it used (sizes agreeing, so nothing is removed), or
	 * a trim could take the DiskPath about to be handed out.
	 */
	if (store_stat(r->store, STORE_CAS, o, &have) == STORE_OK && have == (uint64_t)j->entry.size &&
	    store_touch(r->store, STORE_CAS, o, j->entry.size) == STORE_OK) {
		remote_got(r, j);
		return;
	}
	if (j->entry.size == 0) {
		/* Nothing to download: the empty output is its own proof. */
		if (!remote_begin_put(r, j)) {
			remote_finish_job(r, j, false);
			return;
		}
		sr = store_put_commit(j->put, 0);
		j->put = NULL;
		if (sr == STORE_OK)
			remote_got(r, j);
		else
			remote_finish_job(r, j, false);
		return;
	}
	j->step = STEP_GET_CAS;
	if (!remote_start_step(r, j)) {
		remote_finish_job(r, j, false);
		return;
	}
	/* Send the request first, then make the temp file while the server answers. */
	curl_multi_perform(r->multi, &running);
	remote_begin_put(r, j);
}

/* Open the local output of an upload job for its PUT /cas. */
static bool
remote_open_output(struct remote *r, struct job *j)
{
	char o[STORE_ID_LEN + 1];
	struct store_object obj;

	store_hex(j->entry.output, o);
	if (store_get(r->store, STORE_CAS, o, j->entry.size, &obj) != STORE_OK)
		return false;
	j->fd = obj.fd;
	return true;
}

/* Move an upload job to step, or end it when that cannot start. */
static void
remote_upload_step(struct remote *r, struct job *j, enum job_step step)
{
	j->step = step;
	if (step == STEP_PUT_CAS && !remote_open_output(r, j)) {
		remote_finish_job(r, j, false);
		return;
	}
	if (!remote_start_step(r, j))
		remote_finish_job(r, j, false);
}

/* One transfer of job j ended with result and HTTP code. */
static void
remote_done(struct remote *r, struct job *j, CURLcode result, long code)
{
	bool write = j->step == STEP_PUT_CAS || j->step == STEP_PUT_AC;
	char what[256];
	curl_off_t n = 0;

	if (j->step == STEP_GET_CAS || j->step == STEP_GET_AC) {
		if (curl_easy_getinfo(j->easy, CURLINFO_SIZE_DOWNLOAD_T, &n) == CURLE_OK && n > 0)
			stats_add(&r->stats->bytes_down, (uint64_t)n);
	} else if (write) {
		if (curl_easy_getinfo(j->easy, CURLINFO_SIZE_UPLOAD_T, &n) == CURLE_OK && n > 0)
			stats_add(&r->stats->bytes_up, (uint64_t)n);
	}
	if (code == 401 || code == 403) {
		remote_denied(r, code, write);
		remote_finish_job(r, j, false);
		return;
	}
	if (result == CURLE_OK || code == 404)
		r->failures = 0;

	switch (j->step) {
	case STEP_GET_AC:
		if (result == CURLE_OK && code == 200) {
			remote_got_entry(r, j);
			return;
		}
		break;
	case STEP_GET_CAS:
		if (j->put_failed) {
			remote_finish_job(r, j, false);
			return;
		}
		if (result == CURLE_OK && code == 200) {
			enum store_result sr = store_put_commit(j->put, j->entry.size);
			j->put = NULL;
			if (sr == STORE_OK) {
				remote_got(r, j);
				return;
			}
			/* Wrong size or hash: the server's copy is bad; a miss. */
			stats_add(&r->stats->remote_errors, 1);
			remote_finish_job(r, j, false);
			return;
		}
		break;
	case STEP_HEAD_CAS:
		if (result == CURLE_OK && code == 200) {
			remote_upload_step(r, j, STEP_PUT_AC);
			return;
		}
		if (code == 404) {
			remote_upload_step(r, j, STEP_PUT_CAS);
			return;
		}
		break;
	case STEP_PUT_CAS:
		if (result == CURLE_OK && code / 100 == 2) {
			close(j->fd);
			j->fd = -1;
			remote_upload_step(r, j, STEP_PUT_AC);
			return;
		}
		break;
	case STEP_PUT_AC:
		if (result == CURLE_OK && code / 100 == 2) {
			stats_add(&r->stats->uploads, 1);
			remote_finish_job(r, j, false);
			return;
		}
		break;
	}
	if (code == 404) {
		/* Not there (or evicted between the entry and the output): a plain miss. */
		remote_finish_job(r, j, false);
		return;
	}
	if (code >= 500 || (result != CURLE_OK && result != CURLE_HTTP_RETURNED_ERROR &&
	                    result != CURLE_WRITE_ERROR && result != CURLE_READ_ERROR &&
	                    result != CURLE_ABORTED_BY_CALLBACK &&
	                    result != CURLE_FILESIZE_EXCEEDED)) {
		if (code >= 500)
			snprintf(what, sizeof what, "HTTP %ld", code);
		else
			snprintf(what, sizeof what, "%s", curl_easy_strerror(result));
		remote_failed(r, what);
	} else {
		/* Refused data (400, 413, 507...) or a local write error: this job only. */
		stats_add(&r->stats->remote_errors, 1);
	}
	if (j->upload)
		stats_add(&r->stats->uploads_dropped, 1);
	remote_finish_job(r, j, false);
}

/* Take newly submitted jobs; returns whether close has begun. */
static bool
remote_take_incoming(struct remote *r, int64_t *deadline)
{
	struct job *j;
	bool stopping;

	pthread_mutex_lock(&r->lock);
	while ((j = job_list_pop(&r->incoming)) != NULL)
		job_list_push(j->upload ? &r->uploads : &r->gets, j);
	stopping = r->stopping;
	*deadline = r->deadline_us;
	pthread_mutex_unlock(&r->lock);
	return stopping;
}

/* Start waiting jobs within the concurrency limits; drop them once off. */
static void
remote_start_waiting(struct remote *r)
{
	struct job *j;
	bool off = atomic_load(&r->off);

	while ((off || r->running_gets < REMOTE_MAX_GETS) && (j = job_list_pop(&r->gets)) != NULL) {
		if (off || !remote_start_step(r, j))
			remote_finish_job(r, j, false);
	}
	off = off || atomic_load(&r->writes_off);
	while ((off || r->running_uploads < REMOTE_MAX_UPLOADS) &&
	       (j = job_list_pop(&r->uploads)) != NULL) {
		if (off) {
			stats_add(&r->stats->uploads_dropped, 1);
			remote_free_job(r, j);
		} else {
			remote_upload_step(r, j, j->step);
		}
	}
}

/* Give up on every job still open (close timed out). */
static void
remote_abandon(struct remote *r)
{
	struct job *j;
	int n = 0;

	while ((j = job_list_pop(&r->gets)) != NULL)
		remote_finish_job(r, j, false);
	while ((j = job_list_pop(&r->uploads)) != NULL) {
		n++;
		remote_free_job(r, j);
	}
	while (r->nactive > 0) {
		j = r->active[r->nactive - 1];
		if (j->upload)
			n++;
		remote_finish_job(r, j, false);
	}
	if (n > 0)
		stats_add(&r->stats->uploads_dropped, (uint64_t)n);
	if (n > 0 && !atomic_load(&r->quiet)) {
		fprintf(stderr, "cachegate-prog: %d uploads to %s did not finish before the close "
		        "timeout\n", n, r->url);
	}
}

/* The network thread: run transfers until close has drained them or timed out. */
static void *
remote_main(void *arg)
{
	struct remote *r = arg;
	CURLMsg *msg;
	int running, left;
	int64_t deadline;

	for (;;) {
		bool stopping = remote_take_incoming(r, &deadline);
		int wait_ms = 1000;

		remote_start_waiting(r);
		curl_multi_perform(r->multi, &running);
		while ((msg = curl_multi_info_read(r->multi, &left)) != NULL) {
			char *p = NULL;
			long code = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			remote_done(r, (struct job *)p, msg->data.result, code);
		}
		if (stopping) {
			int64_t now = remote_now_us();
			if (r->running_gets + r->running_uploads == 0 && r->gets.head == NULL &&
			    r->uploads.head == NULL)
				break;
			if (now >= deadline) {
				remote_abandon(r);
				break;
			}
			/* Wake for the deadline itself, not up to a second past it. */
			if ((deadline - now) / 1000 + 1 < wait_ms)
				wait_ms = (int)((deadline - now) / 1000 + 1);
		}
		/* New steps started above are due at once; curl's own timer says so. */
		curl_multi_poll(r->multi, NULL, 0, wait_ms, NULL);
	}
	return NULL;
}

/* ---- start and stop ---------------------------------------------------- */

/* Free what remote_start built (the thread is not running). */
static void
remote_free(struct remote *r)
{
	int i;

	for (i = 0; i < r->nspare; i++)
		curl_easy_cleanup(r->spare[i]);
	if (r->multi != NULL)
		curl_multi_cleanup(r->multi);
	curl_slist_free_all(r->headers);
	curl_slist_free_all(r->upload_headers);
	pthread_mutex_destroy(&r->lock);
	free(r->url);
	free(r->diskpath_root);
	free(r->token_source);
	free(r);
}

/* Append a header line; false when out of memory. */
static bool
remote_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (l == NULL)
		return false;
	*list = l;
	return true;
}

struct remote *
remote_start(const struct remote_options *o, struct store *s, struct reply *w, struct stats *st,
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
	r->have_token = o->token != NULL;
	r->read_only = o->read_only;
	atomic_init(&r->off, false);
	atomic_init(&r->quiet, false);
	atomic_init(&r->writes_off, o->read_only);
	r->multi = curl_multi_init();
	r->recorder = o->recorder;
	ok = r->url != NULL && r->diskpath_root != NULL && r->token_source != NULL && r->multi != NULL;
	if (ok && o->token != NULL) {
		ok = asprintf(&auth, "Authorization: Bearer %s", o->token) >= 0;
		ok = ok && remote_header(&r->headers, auth) && remote_header(&r->upload_headers, auth);
		if (auth != NULL) {
			explicit_bzero(auth, strlen(auth));
			free(auth);
		}
	}
	ok = ok && remote_header(&r->upload_headers, "Expect:") &&
	     remote_header(&r->upload_headers, "Content-Type: application/octet-stream");
	if (ok)
		ok = pthread_create(&r->thread, NULL, remote_main, r) == 0;
	if (!ok) {
		if (asprintf(cause, "cannot start the client of %s", o->url) < 0)
			*cause = NULL;
		remote_free(r);
		return NULL;
	}
	return r;
}

void
remote_stop(struct remote *r, long timeout_ms)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	r->deadline_us = remote_now_us() + (int64_t)timeout_ms * 1000;
	pthread_mutex_unlock(&r->lock);
	curl_multi_wakeup(r->multi);
	pthread_join(r->thread, NULL);
	remote_free(r);
}

void
remote_abort(struct remote *r)
{
	if (r == NULL)
		return;
	atomic_store(&r->quiet, true);
	remote_stop(r, 0);
}
