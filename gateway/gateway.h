/*
 * gateway.h: the parts of a running cachegate that every request handler
 * uses. main.c owns it and everything it points to.
 */
#ifndef CACHEGATE_GATEWAY_GATEWAY_H
#define CACHEGATE_GATEWAY_GATEWAY_H

#include <stdatomic.h>
#include <time.h>

#include "gateway/access/auth.h"
#include "gateway/jobs/evict.h"
#include "gateway/ops/metrics.h"
#include "gateway/options.h"
#include "store/store.h"

struct watchdog;
struct integrity;
struct http_tier;
struct linger_pool;
struct oidc;

struct gateway {
	const struct options *opt;
	struct store *store;
	struct auth *auth;
	struct oidc *oidc;          /* CI tokens (--oidc-issuer), or NULL */
	struct metrics *metrics;
	struct evict *evict;
	struct integrity *integrity; /* which CAS files hash right; damaged ones */
	struct http_tier *tier;     /* the shared tier behind the store (--s3), or NULL */
	struct watchdog *watchdog;
	struct linger_pool *linger; /* closes connections answered early */
	time_t started;             /* wall clock at start, for /status */
	atomic_uint in_flight;      /* requests begun and not yet completed */
	atomic_uint connections;    /* connections open */
};

#endif
