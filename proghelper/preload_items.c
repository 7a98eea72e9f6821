/*
 * preload_items.c: what the preload knows of each action the run has seen
 * (an actionset of 24 bytes per action: a 64-bit prefix of its id, its
 * size, its state), and the gets that wait: for the list (parked), or for an action
 * on its way (waiting), until it comes or does not.
 */
#include "proghelper/preload.h"

#include <string.h>

/* ---- the table (the caller holds p->lock) ------------------------------ */

struct item *item_find(struct preload *p, const unsigned char action[STORE_HASH_LEN])
{
	return actionset_find(&p->items, actionset_key(action));
}

struct item *item_add(struct preload *p, const unsigned char action[STORE_HASH_LEN])
{
	struct item *it = item_find(p, action);
	bool added;

	if (it != NULL || p->items.count >= PRELOAD_MAX_ITEMS)
		return it;
	it = actionset_add(&p->items, actionset_key(action), &added);
	if (it != NULL && added)
		it->state = ITEM_ASKED;
	return it;
}

/* A brought action is asked for: count the hit once. */
static void preload_used(struct preload *p, const unsigned char action[STORE_HASH_LEN])
{
	struct item *it;

	pthread_mutex_lock(&p->lock);
	it = item_find(p, action);
	if (it != NULL && it->state == ITEM_BROUGHT) {
		it->state = ITEM_USED;
		p->hits++;
	}
	pthread_mutex_unlock(&p->lock);
}

/* Set action's state; true when it was known. */
void preload_set(struct preload *p, const unsigned char action[STORE_HASH_LEN], enum item_state s,
                 uint64_t size)
{
	struct item *it;

	pthread_mutex_lock(&p->lock);
	it = item_find(p, action);
	if (it != NULL) {
		it->state = s;
		if (s == ITEM_BROUGHT)
			p->bytes += size;
	}
	pthread_mutex_unlock(&p->lock);
}

/* ---- gets ---------------------------------------------------------------- */

/*
 * An action's fate is known: answer the gets waiting for it with e (NULL:
 * it did not come), or put them back in the queue to ask for themselves
 * (also those whose id only shares the table's prefix with it).
 */
void preload_settle(struct remote *r, const unsigned char action[STORE_HASH_LEN],
                    const struct go_entry *e)
{
	struct preload *p = r->preload;
	struct queue all = queue_steal(&p->waiting);
	struct job *j;

	while ((j = job_pop(&all)) != NULL) {
		if (actionset_key(j->action) != actionset_key(action)) {
			queue_push(&p->waiting, &j->link);
			continue;
		}
		if (e != NULL && memcmp(j->action, action, STORE_HASH_LEN) == 0) {
			j->entry = *e;
			preload_used(p, action);
			fetch_got(r, j, false);
		} else {
			queue_push_front(&r->gets, &j->link);
		}
	}
}

int preload_expire(struct remote *r, int wait_ms)
{
	struct preload *p = r->preload;
	struct queue all = queue_steal(&p->waiting);
	int64_t now = clock_us();
	struct job *j;

	while ((j = job_pop(&all)) != NULL) {
		int64_t since = j->queued_us > p->progress_us ? j->queued_us : p->progress_us;
		int64_t due = since + p->wait_us;

		if (due > j->queued_us + p->wait_max_us)
			due = j->queued_us + p->wait_max_us;

		if (now < due) {
			wait_ms = clock_poll_ms(now, due, wait_ms);
			queue_push(&p->waiting, &j->link);
			continue;
		}
		j->past_preload = true;
		queue_push_front(&r->gets, &j->link);
	}
	return wait_ms;
}

/* The list's first batches are out (or there is none): parked gets go on. */
void preload_unpark(struct remote *r)
{
	struct preload *p = r->preload;

	queue_prepend(&r->gets, &p->parked);
}

bool preload_take_get(struct remote *r, struct job *j)
{
	struct preload *p = r->preload;
	enum item_state s;
	struct item *it;

	if (p == NULL)
		return false;
	if (p->phase == PHASE_START || p->phase == PHASE_LISTING) {
		queue_push(&p->parked, &j->link);
		return true;
	}
	pthread_mutex_lock(&p->lock);
	it = item_find(p, j->action);
	s = it != NULL ? it->state : ITEM_FREE;
	if (it == NULL && p->phase != PHASE_DONE)
		item_add(p, j->action);  /* ASKED: the preload will leave it alone */
	pthread_mutex_unlock(&p->lock);
	if (s == ITEM_COMING) {
		queue_push_front(&p->waiting, &j->link);
		return true;
	}
	/* Brought: its entry is in the recorder's queue or in the store (else ask). */
	if ((s == ITEM_BROUGHT || s == ITEM_USED) &&
	    ((r->recorder != NULL && recorder_find(r->recorder, j->action, &j->entry)) ||
	     local_get(r->store, j->action, &j->entry) == LOCAL_OK)) {
		preload_used(p, j->action);
		fetch_got(r, j, false);
		return true;
	}
	return false;
}

void remote_note_local_hit(struct remote *r, const unsigned char action[STORE_HASH_LEN])
{
	if (r != NULL && r->preload != NULL)
		preload_used(r->preload, action);
}
