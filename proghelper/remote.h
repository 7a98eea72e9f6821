/*
 * remote.h: the helper's client of a cachegate server.
 *
 * One network thread drives a libcurl multi handle: gets that missed
 * locally are fetched and answered when done (in any order; fetch.c), puts
 * are uploaded behind the build's back (upload.c), and what the last build
 * of the same scope used is fetched ahead (preload.c). The caller's thread
 * never waits on the network: submitting only queues a job and wakes the
 * thread (remote.c).
 */
#ifndef CACHEGATE_PROG_REMOTE_H
#define CACHEGATE_PROG_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "proghelper/citoken.h"
#include "proghelper/local.h"
#include "proghelper/recorder.h"
#include "proghelper/reply.h"
#include "proghelper/stats.h"
#include "proghelper/usedlist.h"
#include "store/store.h"

struct remote_options {
	const char *url;           /* base URL, no trailing '/' */
	const char *token;         /* bearer token, or NULL */
	const char *token_source;  /* "the token from ..." for messages */
	bool read_only;            /* never upload */
	const char *cacert;        /* PEM CAs to trust for https://, or NULL: the system's */
	const char *cert;          /* PEM client certificate, or NULL */
	const char *key;           /* its private key, or NULL: in the cert file */
	struct recorder *recorder; /* records the entries of remote hits; NULL: at once */
	const char *diskpath_root; /* DiskPaths start with this (diskpath.h); NULL: the store */
	struct usedlist *used;     /* remote hits are added to it; NULL: none */
	const unsigned char *preload_key;  /* preload the list under this key; NULL: no preload */
	uint64_t preload_max;      /* bytes the preload may fetch */
	long preload_wait_ms;      /* a get waits for what the preload brings while its streams have */
	                           /* not stalled this long, PRELOAD_WAIT_TIMES that at most; 0: PRELOAD_WAIT_MS */
	bool no_compression;       /* neither ask for zstd answers nor send zstd uploads */
	int compression_level;     /* the zstd level of uploads; 0: UPLOAD_ZSTD_LEVEL */
	struct citoken *citoken;   /* a CI token, sent instead of token and renewed before it */
	                           /* expires, on the network thread; NULL: none */
};

enum remote_result {
	REMOTE_QUEUED = 0,   /* the job will be done (a get will be answered) */
	REMOTE_OFF,          /* the remote is not in use (any more): answer a get as a miss */
	REMOTE_DROPPED,      /* the upload queue is full: the upload was skipped */
};

/* The client and its thread; created by remote_start, freed by remote_stop. */
struct remote;

/*
 * Start the network thread. Answers to gets go through w; counters to st.
 * Returns NULL and sets *cause (caller frees) on failure.
 */
struct remote *remote_start(const struct remote_options *o, struct store *s, struct reply *w,
                            struct stats *st, char **cause);

/*
 * Look action up remotely; request id is answered later (a hit after the
 * output is verified and stored locally, else a miss).
 */
enum remote_result remote_get(struct remote *r, int64_t id,
                              const unsigned char action[STORE_HASH_LEN]);

/* Upload e's output (from the local store), then e itself, in the background. */
enum remote_result remote_upload(struct remote *r, const struct go_entry *e);

/*
 * A get of action hit the local store (any thread): counts it as answered
 * by the preload when the preload brought it.
 */
void remote_note_local_hit(struct remote *r, const unsigned char action[STORE_HASH_LEN]);

/*
 * Queue the upload of this build's list under the preload key (close
 * calls it after the last put), unless it equals the list fetched at start.
 */
void remote_upload_list(struct remote *r, struct usedlist *u);

/*
 * Finish queued work for at most timeout_ms, answer any get still open as a
 * miss, stop the thread and free r. NULL is allowed.
 */
void remote_stop(struct remote *r, long timeout_ms);

/*
 * Stop at once: gets still open are answered as misses, uploads are dropped
 * without a word (the caller is reporting a worse problem). NULL is allowed.
 */
void remote_abort(struct remote *r);

#endif
