/*
 * recorder.c: a queue of action entries and the thread that stores them.
 */
#include "proghelper/recorder.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/queue.h"
#include "common/worker.h"

/* One entry waiting to be written. */
struct record {
	struct queue_link link;
	struct go_entry entry;
};

struct recorder {
	struct store *store;
	struct worker worker;        /* woken by every entry queued */
	pthread_mutex_t lock;        /* guards the queue and current, never held for disk work */
	pthread_mutex_t write_lock;  /* held while an entry is taken and written */
	struct queue queue;          /* of struct record, oldest first */
	struct record *current;      /* taken from the queue and being written */
};

/*
 * Take the oldest queued entry and write it; false when the queue was
 * empty. It is taken and written under write_lock, so recorder_record_now
 * never overlaps the write of its action, while recorder_add only ever
 * waits for the short queue lock.
 */
static bool recorder_write_next(struct recorder *rec)
{
	struct queue_link *l;
	struct record *r = NULL;

	pthread_mutex_lock(&rec->write_lock);
	pthread_mutex_lock(&rec->lock);
	if ((l = queue_pop(&rec->queue)) != NULL)
		r = rec->current = queue_entry(l, struct record, link);
	pthread_mutex_unlock(&rec->lock);
	if (r != NULL)
		local_record(rec->store, &r->entry);
	pthread_mutex_lock(&rec->lock);
	rec->current = NULL;
	pthread_mutex_unlock(&rec->lock);
	pthread_mutex_unlock(&rec->write_lock);
	free(r);
	return r != NULL;
}

/*
 * The thread: write entries as they come and, once stopping, all that
 * are left (every recorder_add came before recorder_stop).
 */
static void recorder_main(void *arg)
{
	struct recorder *rec = arg;
	bool stopping;

	do {
		stopping = worker_wait(&rec->worker, CLOCK_NEVER) == WORKER_STOPPING;
		while (recorder_write_next(rec))
			;
	} while (!stopping);
}

struct recorder *recorder_start(struct store *s)
{
	struct recorder *rec = calloc(1, sizeof *rec);

	if (rec == NULL)
		return NULL;
	rec->store = s;
	pthread_mutex_init(&rec->lock, NULL);
	pthread_mutex_init(&rec->write_lock, NULL);
	if (worker_start(&rec->worker, recorder_main, NULL, rec) != 0) {
		pthread_mutex_destroy(&rec->write_lock);
		pthread_mutex_destroy(&rec->lock);
		free(rec);
		return NULL;
	}
	return rec;
}

void recorder_add(struct recorder *rec, const struct go_entry *e)
{
	struct record *r = malloc(sizeof *r);

	if (r == NULL) {
		pthread_mutex_lock(&rec->write_lock);
		local_record(rec->store, e);
		pthread_mutex_unlock(&rec->write_lock);
		return;
	}
	r->entry = *e;
	pthread_mutex_lock(&rec->lock);
	queue_push(&rec->queue, &r->link);
	pthread_mutex_unlock(&rec->lock);
	worker_wake(&rec->worker);
}

bool recorder_find(struct recorder *rec, const unsigned char action[STORE_HASH_LEN], struct go_entry *e)
{
	struct queue_link *l;
	bool found = false;

	pthread_mutex_lock(&rec->lock);
	if (rec->current != NULL && memcmp(rec->current->entry.action, action, STORE_HASH_LEN) == 0) {
		*e = rec->current->entry;
		found = true;
	}
	for (l = queue_first(&rec->queue); l != NULL && !found; l = l->next) {
		struct record *r = queue_entry(l, struct record, link);

		if (memcmp(r->entry.action, action, STORE_HASH_LEN) == 0) {
			*e = r->entry;
			found = true;
		}
	}
	pthread_mutex_unlock(&rec->lock);
	return found;
}

enum local_result recorder_record_now(struct recorder *rec, const struct go_entry *e)
{
	struct queue all;
	struct queue_link *l;
	enum local_result result;

	pthread_mutex_lock(&rec->write_lock);
	pthread_mutex_lock(&rec->lock);
	all = queue_steal(&rec->queue);
	while ((l = queue_pop(&all)) != NULL) {
		struct record *r = queue_entry(l, struct record, link);

		if (memcmp(r->entry.action, e->action, STORE_HASH_LEN) == 0)
			free(r);
		else
			queue_push(&rec->queue, l);
	}
	pthread_mutex_unlock(&rec->lock);
	result = local_record(rec->store, e);
	pthread_mutex_unlock(&rec->write_lock);
	return result;
}

void recorder_stop(struct recorder *rec)
{
	if (rec == NULL)
		return;
	worker_stop(&rec->worker);
	worker_destroy(&rec->worker);
	pthread_mutex_destroy(&rec->write_lock);
	pthread_mutex_destroy(&rec->lock);
	free(rec);
}
