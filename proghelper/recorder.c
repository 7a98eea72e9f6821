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
	struct local_entry entry;
};

struct recorder {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock;  /* guards the queue and stopping; held while an entry is written */
	pthread_cond_t wake;
	struct record *head, *tail;
	bool stopping;
};

/*
 * The thread: write entries as they come, and all that are left when
 * stopping. The lock is held during each write, so recorder_record_now
 * never overlaps a write of its action.
 */
static void *
recorder_main(void *arg)
{
	struct recorder *rec = arg;
	struct record *r;

	pthread_mutex_lock(&rec->lock);
	for (;;) {
		while (!rec->stopping && rec->head == NULL)
			pthread_cond_wait(&rec->wake, &rec->lock);
		r = rec->head;
		if (r == NULL)
			break;
		rec->head = r->next;
		if (rec->head == NULL)
			rec->tail = NULL;
		local_record(rec->store, &r->entry);
		free(r);
	}
	pthread_mutex_unlock(&rec->lock);
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
	pthread_cond_init(&rec->wake, NULL);
	if (pthread_create(&rec->thread, NULL, recorder_main, rec) != 0) {
		pthread_cond_destroy(&rec->wake);
		pthread_mutex_destroy(&rec->lock);
		free(rec);
		return NULL;
	}
	return rec;
}

void
recorder_add(struct recorder *rec, const struct local_entry *e)
{
	struct record *r = malloc(sizeof *r);

	if (r == NULL) {
		pthread_mutex_lock(&rec->lock);
		local_record(rec->store, e);
		pthread_mutex_unlock(&rec->lock);
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

enum local_result
recorder_record_now(struct recorder *rec, const struct local_entry *e)
{
	struct record **link, *r, *prev = NULL;
	enum local_result result;

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
	result = local_record(rec->store, e);
	pthread_mutex_unlock(&rec->lock);
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
	pthread_mutex_destroy(&rec->lock);
	free(rec);
}
