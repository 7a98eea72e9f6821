/*
 * recorder.c: a queue of action entries and the thread that stores them.
 */
#include "proghelper/recorder.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One entry waiting to be written. */
struct record {
	struct record *next;
	struct go_entry entry;
};

struct recorder {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock;        /* guards the queue and stopping, never held for disk work */
	pthread_mutex_t write_lock;  /* held while an entry is taken and written */
	pthread_cond_t wake;
	struct record *head, *tail;
	struct record *current;      /* taken from the queue and being written */
	bool stopping;
};

/* Take the oldest queued entry, or NULL (rec->lock held). */
static struct record *
recorder_pop(struct recorder *rec)
{
	struct record *r = rec->head;

	if (r != NULL) {
		rec->head = r->next;
		if (rec->head == NULL)
			rec->tail = NULL;
	}
	return r;
}

/*
 * The thread: write entries as they come, and all that are left when
 * stopping. An entry is taken and written under write_lock, so
 * recorder_record_now never overlaps the write of its action, while
 * recorder_add only ever waits for the short queue lock.
 */
static void *
recorder_main(void *arg)
{
	struct recorder *rec = arg;
	struct record *r;
	bool done;

	for (;;) {
		pthread_mutex_lock(&rec->lock);
		while (!rec->stopping && rec->head == NULL)
			pthread_cond_wait(&rec->wake, &rec->lock);
		done = rec->head == NULL;
		pthread_mutex_unlock(&rec->lock);
		if (done)
			break;
		pthread_mutex_lock(&rec->write_lock);
		pthread_mutex_lock(&rec->lock);
		r = rec->current = recorder_pop(rec);  /* NULL if recorder_record_now dropped it */
		pthread_mutex_unlock(&rec->lock);
		if (r != NULL)
			local_record(rec->store, &r->entry);
		pthread_mutex_lock(&rec->lock);
		rec->current = NULL;
		pthread_mutex_unlock(&rec->lock);
		pthread_mutex_unlock(&rec->write_lock);
		free(r);
	}
	return NULL;
}

struct recorder *
recorder_start(struct store *s)
{
	struct recorder *rec = calloc(1, sizeof *rec);

	if (rec == NULL)
		return NULL;
	rec->store = s;
	pthread_mutex_init(&rec->lock, NULL);
	pthread_mutex_init(&rec->write_lock, NULL);
	pthread_cond_init(&rec->wake, NULL);
	if (pthread_create(&rec->thread, NULL, recorder_main, rec) != 0) {
		pthread_cond_destroy(&rec->wake);
		pthread_mutex_destroy(&rec->write_lock);
		pthread_mutex_destroy(&rec->lock);
		free(rec);
		return NULL;
	}
	return rec;
}

void
recorder_add(struct recorder *rec, const struct go_entry *e)
{
	struct record *r = malloc(sizeof *r);

	if (r == NULL) {
		pthread_mutex_lock(&rec->write_lock);
		local_record(rec->store, e);
		pthread_mutex_unlock(&rec->write_lock);
		return;
	}
	r->next = NULL;
	r->entry = *e;
	pthread_mutex_lock(&rec->lock);
	if (rec->tail != NULL)
		rec->tail->next = r;
	else
		rec->head = r;
	rec->tail = r;
	pthread_cond_signal(&rec->wake);
	pthread_mutex_unlock(&rec->lock);
}

bool
recorder_find(struct recorder *rec, const unsigned char action[STORE_HASH_LEN], struct go_entry *e)
{
	struct record *r;
	bool found = false;

	pthread_mutex_lock(&rec->lock);
	if (rec->current != NULL && memcmp(rec->current->entry.action, action, STORE_HASH_LEN) == 0) {
		*e = rec->current->entry;
		found = true;
	}
	for (r = rec->head; r != NULL && !found; r = r->next)
		if (memcmp(r->entry.action, action, STORE_HASH_LEN) == 0) {
			*e = r->entry;
			found = true;
		}
	pthread_mutex_unlock(&rec->lock);
	return found;
}

enum local_result
recorder_record_now(struct recorder *rec, const struct go_entry *e)
{
	struct record **link, *r, *prev = NULL;
	enum local_result result;

	pthread_mutex_lock(&rec->write_lock);
	pthread_mutex_lock(&rec->lock);
	for (link = &rec->head; (r = *link) != NULL;) {
		if (memcmp(r->entry.action, e->action, STORE_HASH_LEN) == 0) {
			*link = r->next;
			free(r);
		} else {
			prev = r;
			link = &r->next;
		}
	}
	rec->tail = prev;
	pthread_mutex_unlock(&rec->lock);
	result = local_record(rec->store, e);
	pthread_mutex_unlock(&rec->write_lock);
	return result;
}

void
recorder_stop(struct recorder *rec)
{
	if (rec == NULL)
		return;
	pthread_mutex_lock(&rec->lock);
	rec->stopping = true;
	pthread_cond_signal(&rec->wake);
	pthread_mutex_unlock(&rec->lock);
	pthread_join(rec->thread, NULL);
	pthread_cond_destroy(&rec->wake);
	pthread_mutex_destroy(&rec->write_lock);
	pthread_mutex_destroy(&rec->lock);
	free(rec);
}
