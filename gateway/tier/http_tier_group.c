/*
 * http_tier_group.c: one request waiting on many fetches from the shared
 * tier at once (http_tier.h), as a POST /go/batch does for the actions its
 * gateway lacks. Each fetch the group joins holds a link to it; the group
 * counts the fetches not yet ended, plus one until its end is said, and
 * resumes its request when the count falls to zero. The fetches a group
 * starts are bounded in time and in number (http_tier.h).
 */
#include <pthread.h>
#include <stdlib.h>

#include "gateway/gateway.h"
#include "gateway/tier/http_tier_fetch.h"

struct tier_group {
	struct http_tier *t;
	struct request *r;
	int pending;                 /* under the tier's lock */
};

/* The group's place among one fetch's waiters. */
struct tier_group_wait {
	struct tier_group *g;
	struct tier_group_wait *next;
};

struct tier_group *http_tier_group_begin(struct MHD_Connection *c, struct request *r)
{
	struct tier_group *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->t = r->gw->tier;
	g->r = r;
	g->pending = 1;
	tier_suspend(c, r);
	return g;
}

/* Count one wait of g over; the last one frees g and resumes its request. */
static void group_settle(struct tier_group *g)
{
	struct tier_reply ok = { .result = TIER_OK };
	struct request *r;
	bool last;

	pthread_mutex_lock(&g->t->lock);
	last = --g->pending == 0;
	pthread_mutex_unlock(&g->t->lock);
	if (!last)
		return;
	r = g->r;
	free(g);
	tier_resume(r, &ok);
}

void http_tier_group_add(struct tier_group *g, enum store_kind k, const char *ns, const char *id)
{
	struct http_tier *t = g->t;
	struct tier_group_wait *w = malloc(sizeof(*w));
	struct tier_reply why = { .result = TIER_OK };  /* a failed start's why is dropped */
	struct tier_fetch *f;
	bool start = false;

	if (w == NULL)
		return;  /* that object stays a miss */
	w->g = g;
	pthread_mutex_lock(&t->lock);
	f = tier_fetch_find(t, k, ns, id);
	if (f == NULL && t->group_fetches < TIER_GROUP_FETCHES) {
		f = tier_fetch_new(t, g->r->gw, k, ns, id, &why);
		start = f != NULL;
		if (start) {
			f->grouped = true;
			f->stall_seconds = TIER_GROUP_STALL_S;
			t->group_fetches++;
		}
	}
	if (f == NULL) {
		pthread_mutex_unlock(&t->lock);
		free(why.why);
		free(w);
		return;
	}
	w->next = f->groups;
	f->groups = w;
	g->pending++;
	pthread_mutex_unlock(&t->lock);
	if (start)
		tier_fetch_launch(t, f);
}

void http_tier_group_end(struct tier_group *g)
{
	group_settle(g);
}

void tier_settle_groups(struct tier_group_wait *list)
{
	while (list != NULL) {
		struct tier_group_wait *next = list->next;
		group_settle(list->g);
		free(list);
		list = next;
	}
}
