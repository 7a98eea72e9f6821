/*
 * http_tier_fetch.h: a fetch from the shared tier and the requests on it,
 * shared by http_tier.c (waiting, fetching, uploading) and
 * http_tier_stream.c (streaming a fetch as it arrives). Not part of the
 * tier's interface (http_tier.h).
 */
#ifndef CACHEGATE_GATEWAY_HTTP_TIER_FETCH_H
#define CACHEGATE_GATEWAY_HTTP_TIER_FETCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway/tier/http_tier.h"

struct tier_stream;
struct tier_group_wait;

/* Where a fetch stands. */
enum fetch_state { FETCH_RUNNING, FETCH_DONE, FETCH_FAILED };

/*
 * One object on its way from the tier into the local store. GETs may
 * stream it as it arrives (from a descriptor of the temp file); all but
 * its last byte go out before it is whole and checked.
 */
struct tier_fetch {
	struct http_tier *tier;
	struct gateway *gw;
	enum store_kind kind;
	char ns[STORE_NS_MAX + 1];   /* an action entry's namespace; "" for CAS */
	char id[STORE_ID_LEN + 1];
	struct store_put *put;
	unsigned stall_seconds;      /* passed to the tier's get (0: its own bound) */
	bool grouped;                /* started for a group: counted in group_fetches */
	struct tier_fetch *next;
	/* Under the tier's lock: */
	struct request *waiters;     /* waiting for the end (or to stream), linked by tier_next */
	struct tier_stream *readers; /* streams waiting for bytes, suspended */
	struct tier_group_wait *groups; /* groups of fetches waiting for its end */
	enum fetch_state state;
	uint64_t written;            /* bytes in the temp file */
	int64_t length;              /* the object's length, -1 until known */
	int refs;                    /* the fetch itself, and each stream */
	int fd;                      /* the temp file, for the streams */
};

struct http_tier {
	struct tier tier;
	pthread_mutex_t lock;        /* guards fetches and their waiters */
	struct tier_fetch *fetches;
	int group_fetches;           /* fetches on the list started for groups */
};

/* Suspend c for r, which waits on the tier; do it before asking the tier. */
void tier_suspend(struct MHD_Connection *c, struct request *r);

/* Give r (a copy of) the tier's reply and let its connection run again. */
void tier_resume(struct request *r, const struct tier_reply *reply);

/* tier_resume every request of list (linked by tier_next) with reply. */
void tier_resume_all(struct request *list, const struct tier_reply *reply);

/*
 * The fetch of object id of kind k (of namespace ns, for an action entry;
 * NULL for CAS) in flight, or NULL. Call with the tier's lock.
 */
struct tier_fetch *tier_fetch_find(struct http_tier *t, enum store_kind k, const char *ns,
                                   const char *id);

/*
 * A new fetch of object id of kind k (ns as for tier_fetch_find, the
 * namespace the entry is written into), on the list but not started
 * (tier_fetch_launch, once the lock is let go); NULL with *why set (its
 * why the caller's to free) when the local store cannot take it. Call with
 * the tier's lock.
 */
struct tier_fetch *tier_fetch_new(struct http_tier *t, struct gateway *gw, enum store_kind k,
                                  const char *ns, const char *id, struct tier_reply *why);

/* Ask the tier for f's object (made by tier_fetch_new); all waiting on it learn its end. */
void tier_fetch_launch(struct http_tier *t, struct tier_fetch *f);

/* A fetch the groups in list waited on has ended: free list, resume groups now complete. */
void tier_settle_groups(struct tier_group_wait *list);

/* Drop a reference to f, freeing it with the last one. Call with the tier's lock. */
void tier_fetch_unref(struct tier_fetch *f);

/* Let suspended streams read again (their fetch moved on). */
void tier_wake_readers(struct tier_stream *s);

/* True when r is a GET that can take the object as it arrives. */
bool tier_can_stream(const struct request *r);

/* r will stream f: take a reference for it. Call with the tier's lock. */
void tier_stream_from(struct request *r, struct tier_fetch *f);

/*
 * The tier wrote more of f (a tier_progress): once its length is known the
 * GETs waiting on it start streaming. Runs on the tier's thread.
 */
void tier_fetch_progress(void *ctx, uint64_t written, int64_t length);

#endif
