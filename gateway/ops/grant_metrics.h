/*
 * grant_metrics.h: action-cache hits, misses and writes by the label of
 * the credential's grant (grant.h: a static token's namespace, an OIDC
 * rule's name), for /metrics. Cardinality is bounded: the first
 * GRANT_METRICS_MAX labels are counted apart, any later one as "other".
 */
#ifndef CACHEGATE_GATEWAY_GRANT_METRICS_H
#define CACHEGATE_GATEWAY_GRANT_METRICS_H

#include <stdio.h>

#define GRANT_METRICS_MAX 64

enum grant_event {
	GRANT_HIT = 0,  /* an action entry found (/ac, /go, /go/batch) */
	GRANT_MISS,     /* one not found */
	GRANT_WRITE,    /* one stored */
	GRANT_EVENTS,
};

struct grant_metrics;

/* Zeroed counters, or NULL when out of memory. */
struct grant_metrics *grant_metrics_new(void);

/* Free g. NULL is allowed. */
void grant_metrics_free(struct grant_metrics *g);

/* Count one event for label (any thread). */
void grant_metrics_count(struct grant_metrics *g, const char *label, enum grant_event e);

/* Write the families cachegate_ac_lookups_total and cachegate_ac_writes_total to f. */
void grant_metrics_render(struct grant_metrics *g, FILE *f);

#endif
