/*
 * preload.h: what the two halves of the preload share. preload.c fetches the
 * list and streams batches of it; preload_items.c keeps what the preload
 * knows of each action and the gets that wait for one.
 */
#ifndef CACHEGATE_PROG_PRELOAD_H
#define CACHEGATE_PROG_PRELOAD_H

#include "proghelper/remote_job.h"
#include "proghelper/actionset.h"

#include <stdio.h>

/* Actions the table keeps at most: a whole list, and as many asked besides. */
#define PRELOAD_MAX_ITEMS (2 * WIRE_LIST_MAX_ENTRIES)

/*
 * A get for an action on its way waits for it as long as the preload's
 * streams keep coming: once they have brought nothing for this long (by
 * default), it asks for itself. Asking at once would fetch the output twice
 * (the batch brings it all the same), on a link the batches already fill.
 */
#define PRELOAD_WAIT_MS 1000
/*
 * ... and it never waits more than this many times that in all: a stream
 * that trickles, or a stale list whose batch holds much the build does not
 * need ahead of it, never holds the go command up for longer.
 */
#define PRELOAD_WAIT_TIMES 10

/* Where an action stands, as far as the preload knows. */
enum item_state {
	ITEM_FREE = 0,  /* not in the table */
	ITEM_ASKED,     /* the go command asked first: the preload leaves it alone */
	ITEM_COMING,    /* in a batch in flight */
	ITEM_BROUGHT,   /* stored by the preload, not asked for yet */
	ITEM_USED,      /* brought, then asked for */
	ITEM_FAILED,    /* its batch did not bring it */
};

/* One record of the table (an actionset). */
struct item {
	uint64_t key;    /* actionset_key of the action: first, as actionset.h wants */
	uint64_t size;   /* of its output, once COMING */
	enum item_state state;
};

/* How far the preload has come. */
enum preload_phase {
	PHASE_START,     /* the list is still to be asked for */
	PHASE_LISTING,   /* the list is on its way */
	PHASE_BATCHES,   /* batches go out as the list is read */
	PHASE_DONE,
};

struct preload {
	unsigned char key[STORE_HASH_LEN];  /* the list's /ac id */
	uint64_t budget;                    /* output bytes the preload may still ask for */
	int64_t wait_us;                    /* a get waits for a COMING action while streams come */
	int64_t wait_max_us;                /* ... and never longer in all */
	int64_t progress_us;                /* clock_us when a batch was sent or brought bytes */
	enum preload_phase phase;
	FILE *list;                         /* the fetched list, read in order */
	bool list_end;                      /* everything in it has been looked at */
	struct usedlist_digest list_digest; /* of the fetched list's entries */
	bool have_list;                     /* list_digest is the fetched list's */
	char checkout[GO_ENTRY_LEN];        /* this build's checkout record (wire/wire.h) */
	bool other_checkout;                /* the list ended with another checkout's record */
	struct queue waiting;               /* gets waiting for a COMING action, newest first */
	struct queue parked;                /* gets that came before the list, in order */

	pthread_mutex_t lock;               /* guards the rest: the main thread counts hits */
	struct actionset items;             /* of struct item */
	uint64_t hits, bytes;
};

/* The record of action, or NULL; the caller holds p->lock. */
struct item *item_find(struct preload *p, const unsigned char action[STORE_HASH_LEN]);

/* The record of action, added (ASKED) if new; NULL when the table is full. Holding p->lock. */
struct item *item_add(struct preload *p, const unsigned char action[STORE_HASH_LEN]);

/* Set a known action's state; BROUGHT adds size to the bytes brought. */
void preload_set(struct preload *p, const unsigned char action[STORE_HASH_LEN],
                 enum item_state s, uint64_t size);

/*
 * An action's fate is known: answer the gets waiting for it with e (NULL:
 * it did not come), or put them back in the queue to ask for themselves.
 */
void preload_settle(struct remote *r, const unsigned char action[STORE_HASH_LEN],
                    const struct go_entry *e);

/* The list's first batches are out (or there is none): parked gets go on. */
void preload_unpark(struct remote *r);

/*
 * Gets whose wait is over go back to the queue to ask for themselves (the
 * action, if it still comes, is stored once and counted unused): those
 * asked p->wait_us after the last progress of the preload's streams, and
 * those asked p->wait_max_us ago. Returns the milliseconds until the next
 * waiting get is due, at most wait_ms.
 */
int preload_expire(struct remote *r, int wait_ms);

#endif
