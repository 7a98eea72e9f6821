/*
 * status.c: answer /healthz, /status and /metrics.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cause.h"
#include "gateway/gateway.h"
#include "gateway/tier/http_tier.h"
#include "gateway/http/respond.h"
#include "gateway/ops/status.h"

enum MHD_Result status_healthz(struct MHD_Connection *c, struct request *r)
{
	char tmp[4096], *why = NULL, *tier = NULL;
	const char *dir = store_dir(r->gw->store);
	enum MHD_Result ret;

	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	if (access(tmp, W_OK | X_OK) != 0) {
		cause_set(&why, "store unusable: cannot write %s: %s", tmp, strerror(errno));
		ret = respond_text(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, cause_text(why));
		free(why);
		return ret;
	}
	if (r->gw->tier == NULL)
		return respond_text(c, r, MHD_HTTP_OK, "ok");
	/* Still 200 with S3 failing: this gateway serves what its local store holds. */
	http_tier_health(r->gw->tier, &tier);
	cause_set(&why, "ok (%s)", cause_text(tier));
	ret = respond_text(c, r, MHD_HTTP_OK, cause_text(why));
	free(tier);
	free(why);
	return ret;
}

enum MHD_Result status_json(struct MHD_Connection *c, struct request *r)
{
	struct gateway *gw = r->gw;
	uint64_t limit = evict_limit(gw->evict);
	struct metrics_compression z;
	struct store_usage u;
	json_t *doc;
	char *text;

	evict_usage(gw->evict, &u);
	metrics_compression(gw->metrics, &z);
	doc = json_pack("{s:s, s:I, s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I}}",
	                "version", PACKAGE_VERSION,
	                "uptime_seconds", (json_int_t)(time(NULL) - gw->started),
	                "store_path", store_dir(gw->store),
	                "bytes_used", (json_int_t)u.bytes,
	                "bytes_limit", limit > 0 ? json_integer((json_int_t)limit) : json_null(),
	                "objects", (json_int_t)u.objects,
	                "ac_objects", (json_int_t)u.ac_objects,
	                "cas_objects", (json_int_t)u.cas_objects,
	                "cas_stored_raw_bytes", (json_int_t)z.stored_raw,
	                "cas_stored_disk_bytes", (json_int_t)z.stored_disk,
	                "sent_object_bytes", "identity", (json_int_t)z.sent[0],
	                "zstd", (json_int_t)z.sent[1]);
	if (doc == NULL)
		return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot build the status");
	text = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	if (text == NULL)
		return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot build the status");
	return respond_buffer(c, r, MHD_HTTP_OK, text, strlen(text), "application/json");
}

enum MHD_Result status_metrics(struct MHD_Connection *c, struct request *r)
{
	struct gateway *gw = r->gw;
	struct store_usage u;
	size_t len = 0;
	char *text;

	evict_usage(gw->evict, &u);
	text = metrics_render(gw->metrics, &u, evict_limit(gw->evict), &len);
	if (text == NULL)
		return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the metrics");
	return respond_buffer(c, r, MHD_HTTP_OK, text, len,
	                      "text/plain; version=0.0.4; charset=utf-8");
}
