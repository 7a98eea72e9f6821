/*
 * s3_job.c: one request to S3 on a libcurl handle: its setup for each
 * phase (signed by libcurl's SigV4 with the payload hash given), its body
 * going into the local store or coming from a file, and the judging of
 * its answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/cause.h"
#include "common/clock.h"
#include "gateway/tier/s3/s3_job.h"

/* The value of header line (len bytes) if it is the header name, trimmed into buf; else false. */
static bool header_value(const char *line, size_t len, const char *name, char *buf, size_t n)
{
	size_t at = strlen(name);

	if (len <= at || strncasecmp(line, name, at) != 0 || line[at] != ':')
		return false;
	for (at++; at < len && (line[at] == ' ' || line[at] == '\t'); at++)
		;
	while (len > at && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	snprintf(buf, n, "%.*s", (int)(len - at), line + at);
	return true;
}

/* libcurl hands over a header line of a GET's or HEAD's answer: note a compressed object's. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct s3_job *j = arg;
	size_t len = size * n;
	char value[64], *end;
	unsigned long long raw;

	if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {  /* a new answer: forget an earlier's */
		j->zstd = false;
		j->raw_size = -1;
	} else if (header_value(line, len, "Content-Encoding", value, sizeof(value))) {
		j->zstd = strcasecmp(value, "zstd") == 0;
	} else if (header_value(line, len, S3_RAW_SIZE_HEADER, value, sizeof(value)) &&
	           value[0] >= '0' && value[0] <= '9') {
		errno = 0;
		raw = strtoull(value, &end, 10);
		if (errno == 0 && *end == '\0' && raw <= INT64_MAX)
			j->raw_size = (int64_t)raw;
	}
	return len;
}

/* The first bytes of a GET's 200 have come: a compressed object goes in as a zstd stream. */
static bool body_starts(struct s3_job *j)
{
	j->started = true;
	return !j->zstd || store_put_take_zstd(j->into) == STORE_OK;
}

/* libcurl hands over response bytes: into the store on a 200, else kept for the error. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct s3_job *j = arg;
	size_t len = size * n;

	if (j->status == 0)
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
	if (j->status == 200 && j->phase == OP_GET) {
		if ((!j->started && !body_starts(j)) ||
		    store_put_write(j->into, data, len) != STORE_OK) {
			j->write_failed = true;
			return 0;  /* aborts the transfer */
		}
		j->got += len;
		if (j->progress != NULL) {
			curl_off_t length = -1;
			curl_easy_getinfo(j->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
			j->progress(j->ctx, j->got, j->zstd ? -1 : (int64_t)length);
		}
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

	uint64_t len = j->phase == OP_PART ? j->part_len : j->size;
	uint64_t off = j->phase == OP_PART ? j->part_off : 0;

	if (want > len - j->sent)
		want = (size_t)(len - j->sent);
	do
		got = pread(j->fd, buf, want, (off_t)(off + j->sent));
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return CURL_READFUNC_ABORT;
	j->sent += (uint64_t)got;
	return (size_t)got;
}

bool s3_job_prepare(struct s3_job *j)
{
	struct s3 *s = j->s3;
	char url[S3_URL_MAX], query[S3_URL_MAX], header[128], sha256[STORE_ID_LEN + 1];
	char encoded[96];
	bool sending = j->phase == OP_PUT;
	size_t len;

	if (j->easy == NULL && (j->easy = curl_easy_init()) == NULL)
		return false;
	curl_easy_reset(j->easy);
	curl_slist_free_all(j->headers);
	j->headers = NULL;
	j->status = 0;
	j->error_len = 0;
	j->errbuf[0] = '\0';
	if (!s3_config_url(&s->cfg, j->kind, j->id, url, sizeof(url)) ||
	    !s3_multipart_query(j, query, sizeof(query)) ||
	    (len = strlen(url)) + strlen(query) >= sizeof(url))
		return false;
	memcpy(url + len, query, strlen(query) + 1);
	/* The payload's hash; a GET or HEAD sends none, the hash of no bytes. */
	snprintf(sha256, sizeof(sha256), "%s", sending ? j->sha256 : STORE_EMPTY_ID);
	if (j->phase >= OP_CREATE && !s3_multipart_prepare(j, sha256))
		return false;
	snprintf(header, sizeof(header), "x-amz-content-sha256: %s", sha256);
	/* No "Expect:" to drop that header: libcurl 7.88 would sign it, unsent, and S3 refuses. */
	j->headers = curl_slist_append(j->headers, header);
	if (s->token_header != NULL)
		j->headers = curl_slist_append(j->headers, s->token_header);
	if ((sending || j->phase == OP_CREATE) && j->raw_size >= 0) {  /* kept with the object */
		snprintf(encoded, sizeof(encoded), "%s: %" PRId64, S3_RAW_SIZE_HEADER, j->raw_size);
		j->headers = curl_slist_append(j->headers, "Content-Encoding: zstd");
		j->headers = curl_slist_append(j->headers, encoded);
	}
	if (j->headers == NULL)
		return false;
	curl_easy_setopt(j->easy, CURLOPT_URL, url);
	curl_easy_setopt(j->easy, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(j->easy, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
	curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS, S3_CONNECT_MS);
	curl_easy_setopt(j->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(j->easy, CURLOPT_LOW_SPEED_TIME,
	                 j->stall_seconds > 0 ? (long)j->stall_seconds : S3_STALL_SECONDS);
	curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->easy, CURLOPT_BUFFERSIZE, S3_BUFFER);
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
	if (j->op != OP_PUT && (j->phase == OP_GET || j->phase == OP_HEAD)) {
		curl_easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(j->easy, CURLOPT_HEADERDATA, j);
	}
	if (j->phase == OP_HEAD) {
		curl_easy_setopt(j->easy, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, S3_HEAD_MS);
	} else if (sending) {
		j->sent = 0;
		curl_easy_setopt(j->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(j->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->size);
	}
	if (sending || j->phase == OP_PART) {
		curl_easy_setopt(j->easy, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(j->easy, CURLOPT_READDATA, j);
	}
	return true;
}

void s3_error_code(const char *body, char *buf, size_t n)
{
	const char *at = strstr(body, "<Code>"), *end;

	buf[0] = '\0';
	if (at == NULL || (end = strstr(at += 6, "</Code>")) == NULL)
		return;
	snprintf(buf, n, "%.*s", (int)(end - at), at);
}

void s3_job_failure(const struct s3_job *j, CURLcode cc, struct tier_reply *r)
{
	char code[64];

	r->result = TIER_FAILED;
	if (j->write_failed) {
		cause_set(&r->why, "the local store could not take the object: %s",
		          store_result_str(store_put_error(j->into)));
	} else if (cc != CURLE_OK) {
		cause_set(&r->why, "S3 did not answer: %s",
		          j->errbuf[0] != '\0' ? j->errbuf : curl_easy_strerror(cc));
	} else {
		s3_error_code(j->error_body, code, sizeof(code));
		cause_set(&r->why, "S3 answered HTTP %ld%s%s", j->status,
		          code[0] != '\0' ? " " : "", code);
	}
}

bool s3_job_judge(struct s3_job *j, CURLcode cc, struct tier_reply *r)
{
	curl_off_t length = -1;

	memset(r, 0, sizeof(*r));
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
	if (j->phase >= OP_CREATE)
		return s3_multipart_judge(j, cc, r);
	if (cc != CURLE_OK || j->write_failed ||
	    (j->status != 200 && !(j->status == 404 && j->phase != OP_PUT))) {
		s3_job_failure(j, cc, r);
		return true;
	}
	if (j->status == 404) {
		if (j->op == OP_PUT) {  /* not there: send it */
			j->phase = s3_multipart_wanted(j) ? OP_CREATE : OP_PUT;
			return false;
		}
		r->result = TIER_NOT_FOUND;
		return true;
	}
	r->result = TIER_OK;
	if (j->phase == OP_HEAD && j->op == OP_HEAD && j->zstd) {
		/* A compressed object: its uncompressed size is the one recorded. */
		r->result = j->raw_size >= 0 ? TIER_OK : TIER_NOT_FOUND;
		r->size = j->raw_size >= 0 ? (uint64_t)j->raw_size : 0;
	} else if (j->phase == OP_HEAD) {
		curl_easy_getinfo(j->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
		r->size = length >= 0 ? (uint64_t)length : 0;
		r->skipped = j->op == OP_PUT;
	} else {
		r->size = j->phase == OP_GET ? j->got : j->size;
	}
	return true;
}

void s3_job_free(struct s3_job *j)
{
	if (j->easy != NULL)
		curl_easy_cleanup(j->easy);
	curl_slist_free_all(j->headers);
	free(j->upload_id);
	free(j->etags);
	free(j->complete_body);
	free(j->failure.why);
	free(j);
}

struct s3_job *s3_job_new(struct s3 *s, enum s3_op op, enum store_kind k, const char *ns,
                          const char *id,
                          tier_done done, void *ctx)
{
	struct s3_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->s3 = s;
	j->op = j->phase = op;
	j->kind = k;
	if (k == STORE_AC && ns != NULL && strcmp(ns, STORE_NS_DEFAULT) != 0)
		snprintf(j->id, sizeof(j->id), "%s/%s", ns, id);
	else
		snprintf(j->id, sizeof(j->id), "%s", id);
	j->fd = -1;
	j->raw_size = -1;
	j->done = done;
	j->ctx = ctx;
	j->started_us = clock_us();
	return j;
}
