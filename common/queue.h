/*
 * queue.h: an intrusive FIFO. An element embeds a struct queue_link and is
 * in at most one queue at a time through it; the queue owns nothing (whoever
 * frees an element takes it out first) and takes no lock (the queue's owner
 * says which lock guards it). A zeroed struct queue is empty.
 *
 *	struct job { struct queue_link link; ... };
 *	queue_push(&q, &j->link);
 *	while ((l = queue_pop(&q)) != NULL)
 *		run(queue_entry(l, struct job, link));
 */
#ifndef CACHEGATE_COMMON_QUEUE_H
#define CACHEGATE_COMMON_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct queue_link {
	struct queue_link *next;  /* toward the tail; NULL at it */
};

struct queue {
	struct queue_link *head, *tail;  /* both NULL when empty */
};

/* The element of type that holds link as its member (link is not NULL). */
#define queue_entry(link, type, member) ((type *)(void *)((char *)(link) - offsetof(type, member)))

/* True when q holds nothing. */
static inline bool queue_empty(const struct queue *q)
{
	return q->head == NULL;
}

/* The oldest element of q, or NULL; the others follow by ->next. */
static inline struct queue_link *queue_first(const struct queue *q)
{
	return q->head;
}

/* Add l at the tail of q. */
static inline void queue_push(struct queue *q, struct queue_link *l)
{
	l->next = NULL;
	if (q->tail != NULL)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
}

/* Add l at the head of q: it comes out next. */
static inline void queue_push_front(struct queue *q, struct queue_link *l)
{
	l->next = q->head;
	q->head = l;
	if (q->tail == NULL)
		q->tail = l;
}

/* Take the element at the head of q, or NULL when it is empty. */
static inline struct queue_link *queue_pop(struct queue *q)
{
	struct queue_link *l = q->head;

	if (l != NULL) {
		q->head = l->next;
		if (q->head == NULL)
			q->tail = NULL;
		l->next = NULL;
	}
	return l;
}

/* Take every element of q, in order, into the queue returned; q is left empty. */
static inline struct queue queue_steal(struct queue *q)
{
	struct queue all = *q;

	q->head = q->tail = NULL;
	return all;
}

/* Move every element of front, in order, ahead of q's own; front is left empty. */
static inline void queue_prepend(struct queue *q, struct queue *front)
{
	if (front->head == NULL)
		return;
	front->tail->next = q->head;
	if (q->tail == NULL)
		q->tail = front->tail;
	q->head = front->head;
	front->head = front->tail = NULL;
}

/* Take l out of q wherever it stands (a walk from the head); false when it is not in q. */
static inline bool queue_remove(struct queue *q, struct queue_link *l)
{
	struct queue_link *prev = NULL;

	for (struct queue_link *at = q->head; at != NULL; prev = at, at = at->next) {
		if (at != l)
			continue;
		if (prev != NULL)
			prev->next = l->next;
		else
			q->head = l->next;
		if (q->tail == l)
			q->tail = prev;
		l->next = NULL;
		return true;
	}
	return false;
}

#endif
