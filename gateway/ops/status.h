/*
 * status.h: the informational endpoints GET /healthz, /status and /metrics.
 */
#ifndef CACHEGATE_GATEWAY_STATUS_H
#define CACHEGATE_GATEWAY_STATUS_H

#include <microhttpd.h>

#include "gateway/http/request.h"

/* 200 "ok" when the store can be written, else 503 saying why. */
enum MHD_Result status_healthz(struct MHD_Connection *c, struct request *r);

/* JSON: version, uptime, store path, bytes used, limit, object counts. */
enum MHD_Result status_json(struct MHD_Connection *c, struct request *r);

/* Every counter in the Prometheus text format. */
enum MHD_Result status_metrics(struct MHD_Connection *c, struct request *r);

#endif
