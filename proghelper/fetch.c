/*
 * fetch.c: gets that missed locally. One request per hit: GET /go/<action>
 * brings the entry line (a header) and the output (the body). Against a
 * server without /go (its 404 lacks the Cachegate-Go header: an older
 * cachegate, or any plain /ac + /cas server) the helper switches for the
 * rest of the run to two: GET /ac/<action> for the entry line, then, unless
 * the output is already in the local store, GET /cas/<output>. Either way
 * an output the store lacks streams into a store write that checks its size
 * and SHA-256 before the entry is recorded and the go command answered; one
 * it has (an output many actions share) is not written again.
 */
#include "proghelper/remote_job.h"
#include "proghelper/diskpath.h"
#include "proghelper/report.h"
#include "wire/wire.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FETCH_SMALL_MS 10000L      /* whole-request limit for entries */
#define FETCH_LOW_SPEED 1024L      /* bytes/s below which a body transfer ... */
#define FETCH_LOW_SPEED_S 10L      /* ... for this long is given up */

#define GO_HEADER WIRE_GO_HEADER ":"
#define ENTRY_HEADER WIRE_ENTRY_HEADER ":"

enum remote_result remote_get(struct remote *r, int64_t id, const unsigned char action[STORE_HASH_LEN])
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
	j->queued_us = clock_us();
	memcpy(j->action, action, STORE_HASH_LEN);
	remote_submit(r, j);
	return REMOTE_QUEUED;
}

void fetch_answer(struct remote *r, struct job *j, bool hit)
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
		usedlist_add(r->used, &j->entry);
		rep.hit = true;
		memcpy(rep.output, j->entry.output, STORE_HASH_LEN);
		rep.size = j->entry.size;
		rep.time_ns = j->entry.time_ns;
		rep.disk_path = path;
		stats_add(&r->stats->remote_hits, 1);
		report_note_hit(r->stats, path, j->entry.size);
	} else {
		rep.miss = true;
		stats_add(&r->stats->misses, 1);
	}
	stats_add(&r->stats->remote_wait_us, (uint64_t)(clock_us() - j->queued_us));
	reply_send(r->reply, &rep);
	free(path);
}

/* True when j->line holds a well-formed entry line for j's own action; fills j->entry. */
static bool fetch_parse_entry(struct job *j)
{
	return go_entry_parse(j->line, j->line_len, &j->entry) &&
	       memcmp(j->entry.action, j->action, STORE_HASH_LEN) == 0;
}

/* Store what a GET /ac returns, up to one entry line (more fails the transfer). */
static size_t fetch_write_line(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb;

	if (n > sizeof j->line - 1 - j->line_len)
		return 0;
	remote_took(j->remote, n);
	memcpy(j->line + j->line_len, data, n);
	j->line_len += n;
	return n;
}

/* Start the local write of a job's output, once; false if it cannot start. */
static bool fetch_begin_put(struct remote *r, struct job *j)
{
	char o[STORE_ID_LEN + 1];

	if (j->put == NULL && !j->put_failed) {
		store_hex(j->entry.output, o);
		if (store_put_begin(r->store, STORE_CAS, o, (uint64_t)j->entry.size, &j->put) !=
		    STORE_OK) {
			j->put = NULL;
			j->put_failed = true;
		}
	}
	return j->put != NULL;
}

size_t fetch_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb, skip = sizeof ENTRY_HEADER - 1;

	remote_note_header(j->remote, data, n);
	if (n >= sizeof GO_HEADER - 1 && strncasecmp(data, GO_HEADER, sizeof GO_HEADER - 1) == 0)
		j->go_answer = true;
	if (n > skip && strncasecmp(data, ENTRY_HEADER, skip) == 0) {
		while (skip < n && data[skip] == ' ')
			skip++;
		j->line_len = 0;
		if (n - skip >= GO_ENTRY_LEN - 1) {
			memcpy(j->line, data + skip, GO_ENTRY_LEN - 1);
			j->line[GO_ENTRY_LEN - 1] = '\n';
			j->line_len = GO_ENTRY_LEN;
		}
		j->have_entry = fetch_parse_entry(j);
		/* Outputs many actions share (an empty one, say) are written once. */
		j->had_output = j->have_entry && local_has_output(j->remote->store, &j->entry);
	}
	return n;
}

/* Hand an output's bytes to the store write (a /go body needs its entry first). */
static size_t fetch_write_output(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb;

	if (j->step == STEP_GET_GO && !j->have_entry)
		return 0;
	/* No more than the entry says (a store write of an empty output sets no limit). */
	if (n > (uint64_t)j->entry.size - j->body_bytes)
		return 0;
	remote_took(j->remote, n);
	j->body_bytes += n;
	if (j->step == STEP_GET_GO && j->had_output)
		return n;  /* a copy of what the store has */
	if (!fetch_begin_put(j->remote, j))
		return 0;
	return store_put_write(j->put, data, n) == STORE_OK ? n : 0;
}

/* Set up and start the request of j's current step. */
static bool fetch_launch(struct remote *r, struct job *j)
{
	CURL *e;

	switch (j->step) {
	case STEP_GET_GO:
		e = remote_prepare(r, j, "go", j->action);
		if (e == NULL)
			return false;
		j->go_answer = j->have_entry = j->had_output = false;
		remote_accept_zstd(r, e);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
		break;
	case STEP_GET_AC:
		e = remote_prepare(r, j, "ac", j->action);
		if (e == NULL)
			return false;
		j->line_len = 0;
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, FETCH_SMALL_MS);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_line);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
		return remote_launch(r, j);
	default:
		e = remote_prepare(r, j, "cas", j->entry.output);
		if (e == NULL)
			return false;
		/* A limit on the bytes on the wire: a zstd answer holds at most its frames' bound. */
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		                 (curl_off_t)(r->zstd_down ? STORE_ZST_HEADER +
		                                             ZSTD_compressBound((size_t)j->entry.size)
		                                           : (uint64_t)j->entry.size));
		remote_accept_zstd(r, e);
		break;
	}
	/* Both carry an output: stream it into the store, giving up on a stalled body. */
	j->body_bytes = 0;
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, FETCH_LOW_SPEED);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, FETCH_LOW_SPEED_S);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_output);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	return remote_launch(r, j);
}

/* The entry is recorded locally later, off the go command's path (recorder.h). */
void fetch_got(struct remote *r, struct job *j, bool record)
{
	if (record && r->recorder != NULL)
		recorder_add(r->recorder, &j->entry);
	else if (record)
		local_record(r->store, &j->entry);
	remote_finish_job(r, j, true);
}

/* The output's bytes are all in (none for an empty one): verify, keep, answer. */
static void fetch_got_output(struct remote *r, struct job *j)
{
	enum store_result sr;

	if (!fetch_begin_put(r, j)) {
		remote_finish_job(r, j, false);
		return;
	}
	sr = store_put_commit(j->put, j->entry.size);
	j->put = NULL;
	if (sr == STORE_OK) {
		fetch_got(r, j, true);
		return;
	}
	/* Wrong size or hash: the server's copy is bad; a miss. */
	stats_add(&r->stats->remote_errors, 1);
	remote_finish_job(r, j, false);
}

/* A GET /ac returned an entry line: check it, then fetch or reuse its output. */
static void fetch_got_entry(struct remote *r, struct job *j)
{
	int running;

	if (!fetch_parse_entry(j)) {
		stats_add(&r->stats->remote_errors, 1);
		remote_finish_job(r, j, false);
		return;
	}
	if (local_has_output(r->store, &j->entry)) {
		fetch_got(r, j, true);
		return;
	}
	if (j->entry.size == 0) {
		/* Nothing to download: the empty output is its own proof. */
		fetch_got_output(r, j);
		return;
	}
	j->step = STEP_GET_CAS;
	if (!fetch_launch(r, j)) {
		remote_finish_job(r, j, false);
		return;
	}
	/* Send the request first, then make the temp file while the server answers. */
	curl_multi_perform(r->multi, &running);
	fetch_begin_put(r, j);
}

bool fetch_no_go(long code, const struct job *j)
{
	/* Only "no such path" answers: a proxy's 408, 413 or 429 says nothing of /go. */
	return !j->go_answer && (code == 400 || code == 404 || code == 405 || code == 501);
}

void fetch_start(struct remote *r, struct job *j)
{
	/* A get restarted without /go has asked already: the preload is past it. */
	if (j->easy == NULL && !j->past_preload && preload_take_get(r, j))
		return;
	j->step = r->no_go ? STEP_GET_AC : STEP_GET_GO;
	if (!fetch_launch(r, j))
		remote_finish_job(r, j, false);
}

bool fetch_step_done(struct remote *r, struct job *j, CURLcode result, long code)
{
	switch (j->step) {
	case STEP_GET_GO:
		if (result == CURLE_OK && code == 200 && j->have_entry) {
			if (!j->had_output) {
				fetch_got_output(r, j);
			} else if (j->body_bytes == (uint64_t)j->entry.size) {
				fetch_got(r, j, true);
			} else {
				/* A body its own entry does not match. */
				stats_add(&r->stats->remote_errors, 1);
				remote_finish_job(r, j, false);
			}
			return true;
		}
		if (fetch_no_go(code, j)) {
			/* A server that does not know /go: ask it /ac and /cas from now on. */
			r->no_go = true;
			store_put_abort(j->put);
			j->put = NULL;
			j->put_failed = false;
			fetch_start(r, j);
			return true;
		}
		if (j->put_failed) {
			remote_finish_job(r, j, false);
			return true;
		}
		return false;
	case STEP_GET_AC:
		if (result == CURLE_OK && code == 200) {
			fetch_got_entry(r, j);
			return true;
		}
		return false;
	case STEP_GET_CAS:
		if (j->put_failed) {
			remote_finish_job(r, j, false);
			return true;
		}
		if (result == CURLE_OK && code == 200) {
			fetch_got_output(r, j);
			return true;
		}
		return false;
	default:
		return false;
	}
}
