/*
 * remote_job.h: what the parts of the remote client share (remote.h is the
 * public side). remote.c runs the network thread and its job queue;
 * outcome.c judges finished transfers; fetch.c does gets, upload.c
 * uploads, preload.c fetches ahead. Everything here is used by the network thread only,
 * unless a field says otherwise.
 */
#ifndef CACHEGATE_PROG_REMOTE_JOB_H
#define CACHEGATE_PROG_REMOTE_JOB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <zstd.h>

#include "common/clock.h"
#include "common/queue.h"
#include "common/worker.h"
#include "proghelper/remote.h"
#include "proghelper/usedlist.h"

#define REMOTE_MAX_GETS 16         /* gets in flight at once */
#define REMOTE_MAX_UPLOADS 6       /* uploads in flight at once */
#define UPLOAD_ZSTD_LEVEL 6        /* zstd level of uploads when the options give none */
#define PRELOAD_JOBS 4              /* preload requests in flight at once */
#define REMOTE_MAX_HANDLES (REMOTE_MAX_GETS + REMOTE_MAX_UPLOADS + PRELOAD_JOBS)

enum job_kind {
	JOB_GET,      /* a get the go command waits for (fetch.c) */
	JOB_UPLOAD,   /* an entry, or this build's list, to write (upload.c) */
	JOB_PRELOAD,  /* the last build's list, or a batch of it (preload.c) */
};

/* The request a job is making now. */
enum job_step {
	STEP_GET_GO,    /* GET /go/<action>: entry and output in one answer */
	STEP_GET_AC,    /* without /go: GET /ac/<action>, then ... */
	STEP_GET_CAS,   /* ... GET /cas/<output> */
	STEP_HEAD_CAS,  /* upload: does the server have the output? */
	STEP_PUT_CAS,
	STEP_PUT_AC,
	STEP_PUT_LIST,   /* PUT /ac/<list key>: this build's list, from a file */
	STEP_GET_LIST,   /* GET /ac/<list key>: the last build's list */
	STEP_GET_BATCH,  /* POST /go/batch: many entries and outputs in one stream */
};

struct preload;
struct batch;
struct upload_zstd;

/* One get or upload, owned by the network thread once queued. */
struct job {
	struct queue_link link;            /* in one queue of jobs (struct queue of struct job) */
	enum job_kind kind;
	enum job_step step;
	int64_t req_id;                    /* get: the request to answer */
	int64_t queued_us;                 /* clock_us when asked */
	struct go_entry entry;             /* upload: what to send; get: what was found */
	unsigned char action[STORE_HASH_LEN];
	char line[GO_ENTRY_LEN + 1];       /* the entry line received or being sent */
	size_t line_len;                   /* bytes received, or bytes sent */
	bool go_answer;                    /* STEP_GET_GO: the answer came from a /go server */
	bool have_entry;                   /* STEP_GET_GO: entry holds the answer's entry */
	bool had_output;                   /* STEP_GET_GO: the store has the output; body dropped */
	uint64_t body_bytes;               /* STEP_GET_GO and _CAS: output bytes received */
	struct store_put *put;             /* STEP_GET_*: the local write of the output */
	bool put_failed;                   /* the local write could not start */
	bool past_preload;                 /* get: waited its time for the preload, asks itself */
	int fd;                            /* STEP_PUT_CAS/LIST: the file sent, or -1 */
	struct upload_zstd *zput;          /* STEP_PUT_CAS: compressing it on the way, or NULL */
	struct curl_slist *put_headers;    /* ... and the headers that say so, or NULL */
	struct batch *batch;               /* STEP_GET_BATCH: what it asks, how far it got */
	struct usedlist_digest digest;     /* STEP_PUT_LIST: the list's digest */
	CURL *easy;
	char error[CURL_ERROR_SIZE];       /* libcurl's own words on a failure, or "" */
	struct remote *remote;             /* for callbacks */
};

/* Take the job at the head of q (a queue of jobs), or NULL. */
static inline struct job *job_pop(struct queue *q)
{
	struct queue_link *l = queue_pop(q);

	return l != NULL ? queue_entry(l, struct job, link) : NULL;
}

struct remote {
	char *url;
	char *diskpath_root;                /* DiskPaths start with this */
	char *token_source;
	bool have_token;
	char *cacert, *cert, *key;          /* TLS files, or NULL (remote_options) */
	bool read_only;                     /* --read-only: writes_off from the start */
	struct curl_slist *headers;         /* Authorization */
	struct curl_slist *upload_headers;  /* Authorization, no Expect, octet-stream */
	struct citoken *citoken;            /* the CI token renewed here (remote_token.c), or NULL */
	struct store *store;
	struct reply *reply;
	struct stats *stats;
	CURLM *multi;
	struct recorder *recorder;          /* writes fetched entries locally (not ours) */
	struct usedlist *used;              /* this build's list, or NULL (not ours) */
	struct preload *preload;            /* fetching ahead, or NULL */
	struct worker worker;               /* sleeps in curl_multi_poll: a wake pokes multi */

	pthread_mutex_t lock;               /* guards the fields up to the next comment */
	struct queue incoming;
	size_t uploads_pending;             /* queued or running uploads */
	int64_t deadline_us;                /* clock_us by which close gives up; set before the stop */

	atomic_bool off;                    /* nothing more goes to the remote */
	atomic_bool quiet;                  /* remote_abort: drop work without a word */
	atomic_bool writes_off;             /* no more uploads */

	/* Used by the network thread only. */
	bool no_go;                         /* the server has no /go paths: gets use /ac, /cas */
	bool zstd_down;                     /* gets ask for zstd answers (set before the thread) */
	bool zstd_up;                       /* an answer said Accept-Encoding: zstd: PUT /cas so */
	bool zstd_refused;                  /* a compressed PUT was refused: raw for the run */
	bool compression;                   /* --compression zstd (set before the thread) */
	int compression_level;              /* of zstd uploads (set before the thread) */
	ZSTD_CCtx *cctx[REMOTE_MAX_UPLOADS];  /* compressors not in use, for the next PUTs */
	int ncctx;
	struct queue gets, uploads;
	int running_gets, running_uploads, running_preloads;
	int failures;                       /* consecutive */
	struct job *active[REMOTE_MAX_HANDLES];  /* jobs holding a handle */
	int nactive;
	CURL *spare[REMOTE_MAX_HANDLES];
	int nspare;
};

/* ---- remote.c ---------------------------------------------------------- */

/* Hand a new job to the network thread and wake it (any thread). */
void remote_submit(struct remote *r, struct job *j);

/*
 * Give j an easy handle (its own, a spare or a new one) set up for a request
 * to <url>/<kind>/<hex of hash> (<url>/<kind> when hash is NULL), with the
 * options every request shares.
 * Returns the handle for the caller to finish setting up, or NULL.
 */
CURL *remote_prepare(struct remote *r, struct job *j, const char *kind,
                     const unsigned char hash[STORE_HASH_LEN]);

/* Have a get's request on e ask for a zstd answer, when the helper may (curl decodes it). */
void remote_accept_zstd(struct remote *r, CURL *e);

/*
 * Note what an answer's header line data[0..n) says of the server: an
 * Accept-Encoding that names zstd (RFC 7694) lets uploads be compressed.
 */
void remote_note_header(struct remote *r, const char *data, size_t n);

/* Count n bytes a write callback took (decoded: the raw bytes down). */
void remote_took(struct remote *r, size_t n);

/* Start the transfer prepared on j's handle; false if it cannot start. */
bool remote_launch(struct remote *r, struct job *j);

/* Release what a job holds (its handle is kept for reuse) and free it. */
void remote_free_job(struct remote *r, struct job *j);

/* End a job: a get is answered (hit or miss), an upload just ends. */
void remote_finish_job(struct remote *r, struct job *j, bool hit);

/* ---- outcome.c --------------------------------------------------------- */

/* One transfer of job j ended with result and HTTP code: take its next step or end it. */
void remote_done(struct remote *r, struct job *j, CURLcode result, long code);

/* ---- fetch.c ----------------------------------------------------------- */

/* Start a get job's first request; it is answered as a miss if that fails. */
void fetch_start(struct remote *r, struct job *j);

/*
 * A get's request ended with result and HTTP code: take the next step or
 * answer. False when the outcome is a failure for remote.c to judge.
 */
bool fetch_step_done(struct remote *r, struct job *j, CURLcode result, long code);

/*
 * libcurl's header callback for answers from /go paths: notes whether the
 * server knows them (j->go_answer) and the entry of GET /go/<action>
 * (j->entry, j->have_entry), and whether the local store has its output
 * already (j->had_output; it is then marked used, and the body dropped).
 */
size_t fetch_header(char *data, size_t size, size_t nmemb, void *arg);

/* True when an answer with code to a /go request says the server has no /go paths. */
bool fetch_no_go(long code, const struct job *j);

/* Answer a get job: a hit names the output's local file. */
void fetch_answer(struct remote *r, struct job *j, bool hit);

/*
 * Answer a get as a hit on j->entry, whose output is in the local store, and
 * have the entry recorded (unless the store has it) and the job freed.
 */
void fetch_got(struct remote *r, struct job *j, bool record);

/* ---- upload.c ---------------------------------------------------------- */

/* Start an upload job at its step; it ends quietly if that fails. */
void upload_start(struct remote *r, struct job *j);

/* As fetch_step_done, for an upload's request. */
bool upload_step_done(struct remote *r, struct job *j, CURLcode result, long code);

/* ---- upload_zstd.c ----------------------------------------------------- */

/* True when j's PUT /cas goes out compressed: the server takes zstd, the output pays. */
bool upload_zstd_wanted(const struct remote *r, const struct job *j);

/*
 * Set up e, prepared for j's PUT /cas of the open j->fd, to send its bytes
 * zstd-compressed as they are read (chunked, with Content-Encoding and
 * X-Digest-SizeBytes); false when out of memory (e is then left raw).
 */
bool upload_zstd_setup(struct remote *r, struct job *j, CURL *e);

/* The uncompressed bytes j's compressed PUT has read so far (0 without one). */
uint64_t upload_zstd_raw(const struct job *j);

/* End j's compressed PUT, if any: its compressor is kept for the next one. */
void upload_zstd_end(struct remote *r, struct job *j);

/* Free the compressors kept (the thread has stopped). */
void upload_zstd_free_all(struct remote *r);

/* ---- preload.c --------------------------------------------------------- */

/*
 * Set up preloading under list key, within max_bytes, gets waiting for an
 * action on its way until the streams have stalled for wait_ms (0:
 * PRELOAD_WAIT_MS), PRELOAD_WAIT_TIMES that at most; NULL when out of memory.
 */
struct preload *preload_new(const unsigned char key[STORE_HASH_LEN], uint64_t max_bytes,
                            long wait_ms);

/* Add the run's preload counters to st and free p. NULL is allowed. */
void preload_free(struct preload *p, struct stats *st);

/*
 * Start what can start now: the list's fetch, then batches, within the
 * limits. Gets that have waited their time for an action on its way
 * go back to the queue to ask for themselves. Returns the milliseconds
 * until the next of them is due (at most wait_ms), for the loop's poll.
 */
int preload_pump(struct remote *r, int wait_ms);

/*
 * Close has begun, or the remote is off or has no /go paths: stop every
 * preload request (which settles what each was bringing, so no get is
 * left waiting) and start no more.
 */
void preload_cancel(struct remote *r);

/*
 * A get job is about to start: true when the preload took it (it waits for
 * an action on its way, or was answered from what the preload brought).
 */
bool preload_take_get(struct remote *r, struct job *j);

/* As fetch_step_done, for a preload request. */
bool preload_step_done(struct remote *r, struct job *j, CURLcode result, long code);

/* A preload job is being freed: what it did not bring is left to plain gets. */
void preload_job_ended(struct remote *r, struct job *j);

/* The /ac id of the scope's list. */
const unsigned char *preload_key(const struct preload *p);

/* True when d is the digest of the list fetched at start (no need to send it again). */
bool preload_list_unchanged(const struct preload *p, const struct usedlist_digest *d);

/*
 * On the network thread, between transfers: when the CI token is due, renew
 * it and put the new one in the Authorization lines every later request
 * sends (remote_token.c).
 */
void remote_renew_token(struct remote *r);

#endif
