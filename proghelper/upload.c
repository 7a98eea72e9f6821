/*
 * upload.c: write-behind uploads of new cache entries. For each: HEAD
 * /cas/<output> when the output is large (its bytes are skipped when the
 * server has them), PUT /cas/<output> from the local file, then PUT
 * /ac/<action> with the entry line, so a server never holds an entry
 * whose output it lacks. The PUT /cas goes out compressed to a server that
 * takes it (upload_zstd.c), else raw. At close, this build's list (usedlist.h) goes to
 * /ac/<list key>, queued after the entries it names (it may still arrive
 * before some of them, or without them when close times out: the next
 * build then just asks for those itself).
 */
#include "proghelper/remote_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REMOTE_MAX_QUEUE 4096        /* uploads waiting; more are dropped */
#define REMOTE_HEAD_MIN (64 * 1024)  /* outputs at least this big are HEADed first */
#define REMOTE_SMALL_MS 10000L       /* whole-request limit for entries and HEADs */
#define REMOTE_LOW_SPEED 1024L       /* bytes/s below which a body transfer ... */
#define REMOTE_LOW_SPEED_S 10L       /* ... for this long is given up */

/* A new upload job, counted as pending; NULL when the remote takes no uploads. */
static struct job *upload_job(struct remote *r, enum remote_result *why)
{
	struct job *j;
	bool full;

	*why = REMOTE_OFF;
	if (atomic_load(&r->off) || atomic_load(&r->writes_off))
		return NULL;
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
		*why = REMOTE_DROPPED;
		return NULL;
	}
	j->kind = JOB_UPLOAD;
	j->remote = r;
	j->fd = -1;
	return j;
}

enum remote_result remote_upload(struct remote *r, const struct go_entry *e)
{
	enum remote_result why;
	struct job *j = upload_job(r, &why);

	if (j == NULL) {
		if (why == REMOTE_DROPPED)
			stats_add(&r->stats->uploads_dropped, 1);
		return why;
	}
	j->entry = *e;
	memcpy(j->action, e->action, STORE_HASH_LEN);
	j->step = e->size >= REMOTE_HEAD_MIN ? STEP_HEAD_CAS : STEP_PUT_CAS;
	go_entry_format(e, j->line);
	remote_submit(r, j);
	return REMOTE_QUEUED;
}

void remote_upload_list(struct remote *r, struct usedlist *u)
{
	enum remote_result why;
	struct usedlist_digest digest;
	struct job *j;
	uint64_t size;
	int fd;

	if (r == NULL || r->preload == NULL || u == NULL || !usedlist_finish(u, &fd, &size, &digest))
		return;
	j = upload_job(r, &why);
	if (j == NULL) {
		close(fd);
		return;
	}
	j->step = STEP_PUT_LIST;
	j->fd = fd;
	j->entry.size = (int64_t)size;
	j->digest = digest;
	remote_submit(r, j);
}

/* Feed a PUT /cas from the local output file. */
static size_t upload_read_file(char *buf, size_t size, size_t nitems, void *arg)
{
	struct job *j = arg;
	ssize_t n;

	do
		n = read(j->fd, buf, size * nitems);
	while (n < 0 && errno == EINTR);
	return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

/* Feed a PUT /ac from the entry line. */
static size_t upload_read_line(char *buf, size_t size, size_t nitems, void *arg)
{
	struct job *j = arg;
	size_t n = GO_ENTRY_LEN - j->line_len;

	if (n > size * nitems)
		n = size * nitems;
	memcpy(buf, j->line + j->line_len, n);
	j->line_len += n;
	return n;
}

/* Swallow a response body nobody needs (stdout is the protocol's alone). */
static size_t upload_write_nothing(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/* Open the local output of an upload job for its PUT /cas. */
static bool upload_open_output(struct remote *r, struct job *j)
{
	char o[STORE_ID_LEN + 1];
	struct store_object obj;

	store_hex(j->entry.output, o);
	if (store_get(r->store, STORE_CAS, o, j->entry.size, &obj) != STORE_OK)
		return false;
	j->fd = obj.fd;
	return true;
}

/* Set up and start the request of j's current step. */
static bool upload_launch(struct remote *r, struct job *j)
{
	CURL *e;

	if (j->step == STEP_PUT_LIST)
		e = remote_prepare(r, j, "ac", preload_key(r->preload));
	else if (j->step == STEP_PUT_AC)
		e = remote_prepare(r, j, "ac", j->action);
	else
		e = remote_prepare(r, j, "cas", j->entry.output);

	if (e == NULL)
		return false;
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, upload_write_nothing);
	switch (j->step) {
	case STEP_HEAD_CAS:
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, REMOTE_SMALL_MS);
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		break;
	case STEP_PUT_CAS:
	case STEP_PUT_LIST:
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, REMOTE_LOW_SPEED);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, REMOTE_LOW_SPEED_S);
		if (j->step == STEP_PUT_CAS && upload_zstd_wanted(r, j) && upload_zstd_setup(r, j, e))
			break;
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->upload_headers);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->entry.size);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, upload_read_file);
		curl_easy_setopt(e, CURLOPT_READDATA, j);
		break;
	default:
		j->line_len = 0;
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, REMOTE_SMALL_MS);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->upload_headers);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)GO_ENTRY_LEN);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, upload_read_line);
		curl_easy_setopt(e, CURLOPT_READDATA, j);
		break;
	}
	return remote_launch(r, j);
}

/* Move an upload job to step, or end it when that cannot start. */
static void upload_step(struct remote *r, struct job *j, enum job_step step)
{
	j->step = step;
	if (step == STEP_PUT_CAS && !upload_open_output(r, j)) {
		remote_finish_job(r, j, false);
		return;
	}
	if (!upload_launch(r, j))
		remote_finish_job(r, j, false);
}

/*
 * A compressed PUT was refused (415: the server takes no zstd after all;
 * 400: it could not read it): say so once, send this output and every
 * later one raw.
 */
static void upload_refused_zstd(struct remote *r, struct job *j, long code)
{
	if (!r->zstd_refused)
		fprintf(stderr, "cachegate-prog: the remote %s refused a compressed upload (HTTP %ld); "
		        "uploading uncompressed for the rest of the run\n", r->url, code);
	r->zstd_refused = true;
	upload_zstd_end(r, j);
	if (lseek(j->fd, 0, SEEK_SET) != 0 || !upload_launch(r, j)) {
		stats_add(&r->stats->uploads_dropped, 1);
		remote_finish_job(r, j, false);
	}
}

void upload_start(struct remote *r, struct job *j)
{
	if (j->step == STEP_PUT_LIST) {
		/* The same entries as the last build's list: nothing to say. */
		if (preload_list_unchanged(r->preload, &j->digest))
			remote_finish_job(r, j, false);
		else if (!upload_launch(r, j))
			remote_finish_job(r, j, false);
		return;
	}
	upload_step(r, j, j->step);
}

bool upload_step_done(struct remote *r, struct job *j, CURLcode result, long code)
{
	switch (j->step) {
	case STEP_HEAD_CAS:
		if (result == CURLE_OK && code == 200) {
			upload_step(r, j, STEP_PUT_AC);
			return true;
		}
		if (code == 404) {
			upload_step(r, j, STEP_PUT_CAS);
			return true;
		}
		return false;
	case STEP_PUT_CAS:
		if (result == CURLE_OK && code / 100 == 2) {
			close(j->fd);
			j->fd = -1;
			upload_zstd_end(r, j);
			upload_step(r, j, STEP_PUT_AC);
			return true;
		}
		if (j->zput != NULL && (code == 415 || code == 400)) {
			upload_refused_zstd(r, j, code);
			return true;
		}
		return false;
	case STEP_PUT_AC:
		if (result == CURLE_OK && code / 100 == 2) {
			stats_add(&r->stats->uploads, 1);
			remote_finish_job(r, j, false);
			return true;
		}
		return false;
	case STEP_PUT_LIST:
		if (result == CURLE_OK && code / 100 == 2) {
			remote_finish_job(r, j, false);
			return true;
		}
		return false;
	default:
		return false;
	}
}
