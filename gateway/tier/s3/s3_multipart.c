/*
 * s3_multipart.c: a large object goes up to S3 in parts. CreateMultipartUpload
 * gives an upload id; each part is read from the object's file, hashed,
 * and sent signed with that hash; CompleteMultipartUpload lists the parts'
 * ETags. A failure on the way aborts the upload, so the bucket keeps no
 * stray parts, and the job ends with the first failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "gateway/tier/s3/s3_job.h"

bool s3_multipart_wanted(const struct s3_job *j)
{
	return j->op == OP_PUT && j->size > S3_MULTIPART_MIN;
}

bool s3_multipart_query(const struct s3_job *j, char *buf, size_t n)
{
	char *id = NULL;
	int len;

	if (j->phase < OP_CREATE) {
		buf[0] = '\0';
		return true;
	}
	if (j->phase == OP_CREATE)
		return snprintf(buf, n, "?uploads=") < (int)n;
	/* libcurl signs the query as written: the id goes in encoded as S3 expects. */
	id = curl_easy_escape(j->easy, j->upload_id, 0);
	if (id == NULL)
		return false;
	if (j->phase == OP_PART)
		len = snprintf(buf, n, "?partNumber=%u&uploadId=%s", j->part, id);
	else
		len = snprintf(buf, n, "?uploadId=%s", id);
	curl_free(id);
	return len >= 0 && (size_t)len < n;
}

/* libcurl hands over a header line of a part's answer: keep its ETag. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct s3_job *j = arg;
	size_t len = size * n, v;

	if (len > 5 && strncasecmp(line, "ETag:", 5) == 0) {
		for (v = 5; v < len && (line[v] == ' ' || line[v] == '\t'); v++)
			;
		while (len > v && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
			len--;
		snprintf(j->etags[j->part - 1], sizeof(j->etags[0]), "%.*s", (int)(len - v), line + v);
	}
	return size * n;
}

/* The hex SHA-256 of n bytes of memory into hex. */
static bool sha256_hex(const char *buf, size_t n, char hex[STORE_ID_LEN + 1])
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_Digest(buf, n, hash, &len, EVP_sha256(), NULL) != 1 || len != STORE_HASH_LEN)
		return false;
	store_hex(hash, hex);
	return true;
}

/* The body of CompleteMultipartUpload: every part's number and ETag. */
static char *complete_body(const struct s3_job *j)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);

	if (f == NULL)
		return NULL;
	fputs("<CompleteMultipartUpload>", f);
	for (uint32_t i = 0; i < j->parts; i++)
		fprintf(f, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", i + 1,
		        j->etags[i]);
	fputs("</CompleteMultipartUpload>", f);
	if (fclose(f) != 0) {
		free(body);
		return NULL;
	}
	return body;
}

bool s3_multipart_prepare(struct s3_job *j, char sha256[STORE_ID_LEN + 1])
{
	CURL *e = j->easy;

	switch (j->phase) {
	case OP_CREATE:
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		return true;
	case OP_PART:
		j->part_off = (uint64_t)(j->part - 1) * S3_PART_SIZE;
		j->part_len = j->size - j->part_off < S3_PART_SIZE ? j->size - j->part_off : S3_PART_SIZE;
		j->sent = 0;
		if (store_sha256_fd(j->fd, j->part_off, j->part_len, j->part_sha256) != STORE_OK)
			return false;
		memcpy(sha256, j->part_sha256, STORE_ID_LEN + 1);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->part_len);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
		return true;
	case OP_COMPLETE:
		free(j->complete_body);
		if ((j->complete_body = complete_body(j)) == NULL ||
		    !sha256_hex(j->complete_body, strlen(j->complete_body), sha256))
			return false;
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(j->complete_body));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->complete_body);
		return true;
	case OP_ABORT:
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
		return true;
	default:
		return false;
	}
}

/* The text between <tag> and </tag> in body, newly allocated; NULL if absent. */
static char *xml_text(const char *body, const char *tag)
{
	char open[64], close[64];
	const char *at, *end;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((at = strstr(body, open)) == NULL || (end = strstr(at += strlen(open), close)) == NULL)
		return NULL;
	return strndup(at, (size_t)(end - at));
}

/* Begin sending part 1 of j once its upload has an id. */
static bool start_parts(struct s3_job *j)
{
	j->parts = (uint32_t)((j->size + S3_PART_SIZE - 1) / S3_PART_SIZE);
	j->etags = calloc(j->parts, sizeof(j->etags[0]));
	j->part = 1;
	j->phase = OP_PART;
	return j->etags != NULL;
}

bool s3_multipart_judge(struct s3_job *j, CURLcode cc, struct tier_reply *r)
{
	bool answered = cc == CURLE_OK && j->status == 200;

	if (j->phase == OP_ABORT) {
		*r = j->failure;  /* the abort's own outcome changes nothing */
		j->failure.why = NULL;  /* now r's */
		return true;
	}
	/* S3 may answer a completion 200 and put its error in the body. */
	if (answered && j->phase == OP_COMPLETE && strstr(j->error_body, "<Error>") != NULL)
		answered = false;
	if (answered && j->phase == OP_CREATE) {
		j->upload_id = xml_text(j->error_body, "UploadId");
		answered = j->upload_id != NULL && start_parts(j);
		return answered ? false : (s3_job_failure(j, cc, r), true);
	}
	if (answered && j->phase == OP_PART && j->etags[j->part - 1][0] == '\0')
		answered = false;  /* a part S3 did not name cannot be listed */
	if (!answered) {
		s3_job_failure(j, cc, r);
		if (j->upload_id == NULL)
			return true;
		j->failure = *r;  /* r's why becomes the job's until the abort ends */
		r->why = NULL;
		j->phase = OP_ABORT;
		return false;
	}
	if (j->phase == OP_PART) {
		if (j->part < j->parts)
			j->part++;
		else
			j->phase = OP_COMPLETE;
		return false;
	}
	r->result = TIER_OK;
	r->size = j->size;
	return true;
}
