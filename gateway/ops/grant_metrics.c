/*
 * grant_metrics.c: counters by grant label (grant_metrics.h). Labels are
 * added under a lock, once each; counting is an atomic add.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/grant.h"
#include "gateway/ops/grant_metrics.h"

/* The label of the counters every label past GRANT_METRICS_MAX shares. */
#define OTHER "other"

struct grant_counts {
	char label[GRANT_NS_MAX + 1];
	atomic_uint_fast64_t n[GRANT_EVENTS];
};

struct grant_metrics {
	pthread_mutex_t lock;     /* guards used and the labels */
	size_t used;              /* labels in counts[], "other" (the last) not included */
	struct grant_counts counts[GRANT_METRICS_MAX + 1];
};

struct grant_metrics *grant_metrics_new(void)
{
	struct grant_metrics *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	pthread_mutex_init(&g->lock, NULL);
	for (size_t i = 0; i <= GRANT_METRICS_MAX; i++)
		for (size_t e = 0; e < GRANT_EVENTS; e++)
			atomic_init(&g->counts[i].n[e], 0);
	strcpy(g->counts[GRANT_METRICS_MAX].label, OTHER);
	return g;
}

void grant_metrics_free(struct grant_metrics *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* The counters of label, added while there is room, else "other". Takes the lock. */
static struct grant_counts *counts_of(struct grant_metrics *g, const char *label)
{
	struct grant_counts *c = &g->counts[GRANT_METRICS_MAX];
	size_t len = strnlen(label, GRANT_NS_MAX + 1);

	if (len == 0 || len > GRANT_NS_MAX)
		return c;
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->used; i++)
		if (strcmp(g->counts[i].label, label) == 0) {
			c = &g->counts[i];
			break;
		}
	if (c == &g->counts[GRANT_METRICS_MAX] && g->used < GRANT_METRICS_MAX) {
		c = &g->counts[g->used++];
		memcpy(c->label, label, len + 1);
	}
	pthread_mutex_unlock(&g->lock);
	return c;
}

void grant_metrics_count(struct grant_metrics *g, const char *label, enum grant_event e)
{
	atomic_fetch_add_explicit(&counts_of(g, label)->n[e], 1, memory_order_relaxed);
}

void grant_metrics_render(struct grant_metrics *g, FILE *f)
{
	size_t used;

	pthread_mutex_lock(&g->lock);
	used = g->used;
	pthread_mutex_unlock(&g->lock);
	fprintf(f, "# HELP cachegate_ac_lookups_total Action entries looked up (/ac, /go, "
	        "/go/batch), by the credential's grant and result.\n"
	        "# TYPE cachegate_ac_lookups_total counter\n");
	for (size_t i = 0; i <= GRANT_METRICS_MAX; i++) {
		const struct grant_counts *c = &g->counts[i];
		if (i >= used && i < GRANT_METRICS_MAX)
			continue;
		for (size_t e = GRANT_HIT; e <= GRANT_MISS; e++)
			fprintf(f, "cachegate_ac_lookups_total{grant=\"%s\",result=\"%s\"} %llu\n",
			        c->label, e == GRANT_HIT ? "hit" : "miss",
			        (unsigned long long)atomic_load(&c->n[e]));
	}
	fprintf(f, "# HELP cachegate_ac_writes_total Action entries stored, by the credential's "
	        "grant.\n# TYPE cachegate_ac_writes_total counter\n");
	for (size_t i = 0; i <= GRANT_METRICS_MAX; i++) {
		if (i >= used && i < GRANT_METRICS_MAX)
			continue;
		fprintf(f, "cachegate_ac_writes_total{grant=\"%s\"} %llu\n", g->counts[i].label,
		        (unsigned long long)atomic_load(&g->counts[i].n[GRANT_WRITE]));
	}
}
