/*
 * s3_job.h: one request to S3 and the client that runs it, shared by the
 * client's thread (s3.c) and the transfer of one request (s3_job.c). Not
 * part of the client's interface (s3.h).
 */
#ifndef CACHEGATE_GATEWAY_S3_JOB_H
#define CACHEGATE_GATEWAY_S3_JOB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/queue.h"
#include "common/worker.h"
#include "gateway/tier/s3/s3.h"

#define S3_CONNECT_MS 3000L      /* to open a connection */
#define S3_STALL_SECONDS 10L     /* a transfer that moves no byte this long fails */
#define S3_HEAD_MS 10000L        /* a HEAD, whole */
#define S3_URL_MAX 1024
#define S3_BUFFER (256L * 1024)   /* bytes a body arrives in at most per callback */
#define S3_ERROR_BODY 2048       /* bytes of an answer's body kept (error code, upload id) */

/*
 * A compressed object (a .zst file as the store keeps it) is stored with
 * "Content-Encoding: zstd" and its uncompressed size in this user metadata
 * (S3 and SeaweedFS keep both and answer them on GET and HEAD).
 */
#define S3_RAW_SIZE_HEADER "x-amz-meta-raw-size"

/* Objects larger than this are uploaded in parts of S3_PART_SIZE (s3_multipart.c). */
#define S3_MULTIPART_MIN (64ULL * 1024 * 1024)
#define S3_PART_SIZE (32ULL * 1024 * 1024)

/* What a job asks, and the steps of a multipart upload. */
enum s3_op { OP_GET, OP_HEAD, OP_PUT, OP_CREATE, OP_PART, OP_COMPLETE, OP_ABORT };

struct s3_job {
	struct s3 *s3;
	enum s3_op op;
	enum s3_op phase;            /* the request now: OP_HEAD while a PUT asks if it is needed */
	enum store_kind kind;
	/* The key after "<prefix><kind>/": the id, or "<namespace>/<id>" for an
	 * action entry of any namespace but default (whose keys are as before). */
	char id[STORE_NS_MAX + 1 + STORE_ID_LEN + 1];
	struct store_put *into;      /* OP_GET */
	tier_progress progress;      /* OP_GET: told after each piece written, or NULL */
	unsigned stall_seconds;      /* OP_GET: no byte this long fails it; 0: S3_STALL_SECONDS */
	int fd;                      /* OP_PUT: the body, read with pread */
	uint64_t size, sent;
	/* OP_PUT: the body's uncompressed size when it is zstd, else -1; OP_GET, OP_HEAD: the
	 * object's, from its S3_RAW_SIZE_HEADER, once its answer's headers say it is zstd. */
	int64_t raw_size;
	bool zstd;                   /* OP_GET, OP_HEAD: the answer says Content-Encoding: zstd */
	bool started;                /* OP_GET: the body of its 200 has begun */
	char sha256[STORE_ID_LEN + 1];
	/* A multipart upload (s3_multipart.c). */
	char *upload_id;
	uint32_t part, parts;        /* the part being sent (from 1) and how many */
	uint64_t part_off, part_len;
	char part_sha256[STORE_ID_LEN + 1];
	char (*etags)[96];           /* each part's ETag as S3 gave it */
	char *complete_body;
	struct tier_reply failure;   /* why, while the upload is aborted (its why is the job's) */
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
	int64_t started_us;          /* clock_us when made */
	struct queue_link link;      /* in incoming, or in running */
};

struct s3 {
	struct s3_config cfg;
	struct metrics *metrics;
	char *userpwd;               /* "key:secret" for libcurl; never logged */
	char *sigv4;                 /* "aws:amz:<region>:s3" */
	char *token_header;          /* "x-amz-security-token: ..." or NULL */
	CURLM *multi;
	struct worker worker;        /* sleeps in curl_multi_poll: a wake pokes multi */
	pthread_mutex_t lock;        /* guards incoming; jobs come no more once stopping */
	struct queue incoming;       /* of s3_job, oldest first */
	struct queue running;        /* jobs on the multi handle (the thread's own) */
	pthread_mutex_t health_lock; /* guards last_failure */
	char *last_failure;          /* why the last request failed (a cause); NULL: answered */
};

/*
 * A new job of op for object id (of namespace ns, an action entry's, or
 * NULL), or NULL when out of memory.
 */
struct s3_job *s3_job_new(struct s3 *s, enum s3_op op, enum store_kind k, const char *ns,
                          const char *id,
                          tier_done done, void *ctx);

/* Set up j's handle for its current phase; false when out of memory. */
bool s3_job_prepare(struct s3_job *j);

/* Judge j's finished transfer into r; false when it goes on (a PUT after its HEAD). */
bool s3_job_judge(struct s3_job *j, CURLcode cc, struct tier_reply *r);

/* The text between <Code> and </Code> of an S3 error answer, into buf; "" if none. */
void s3_error_code(const char *body, char *buf, size_t n);

/* Free j and its handle (already out of the multi handle). */
void s3_job_free(struct s3_job *j);

/*
 * j's failure into r (r->why set; the caller frees it): a transfer error,
 * or S3's status and error code.
 */
void s3_job_failure(const struct s3_job *j, CURLcode cc, struct tier_reply *r);

/* ---- multipart uploads (s3_multipart.c) ---- */

/* True when j's body goes up in parts. */
bool s3_multipart_wanted(const struct s3_job *j);

/* The query of j's multipart phase ("" for others) into buf; false if it does not fit. */
bool s3_multipart_query(const struct s3_job *j, char *buf, size_t n);

/* Set up the method and body of j's multipart phase; its payload hash into sha256. */
bool s3_multipart_prepare(struct s3_job *j, char sha256[STORE_ID_LEN + 1]);

/*
 * Judge j's finished multipart phase: true when the upload is over (r
 * filled), false when j->phase is set to the next step.
 */
bool s3_multipart_judge(struct s3_job *j, CURLcode cc, struct tier_reply *r);

#endif
