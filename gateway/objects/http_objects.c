/*
 * http_objects.c: serve objects from the store and stream uploads into it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/cause.h"
#include "gateway/gateway.h"
#include "gateway/objects/http_objects.h"
#include "wire/wire.h"
#include "gateway/tier/http_tier.h"
#include "gateway/jobs/integrity.h"
#include "gateway/http/respond.h"
#include "gateway/jobs/watchdog.h"

/* The store kind a route names. */
static enum store_kind route_kind(const struct request *r)
{
	return r->route == ENDPOINT_AC ? STORE_AC : STORE_CAS;
}

/* The store r's writes go to: for /ac its grant's namespace, else the one CAS pool. */
static struct store *write_store(const struct request *r)
{
	return r->route == ENDPOINT_AC ? r->ac.write : r->gw->store;
}

/*
 * Open r's object: an action entry from the first namespace r reads that
 * has it (of those it may look in before asking the tier for the next).
 */
static enum store_result lookup(struct request *r, struct store_object *obj)
{
	if (r->route == ENDPOINT_AC) {
		struct ac_ns seen = ac_ns_first(&r->ac, ac_ns_local_reads(&r->ac, r->gw->tier != NULL,
		                                                         r->tier_ac_asked));
		return ac_ns_get(&seen, r->id, obj, NULL);
	}
	return store_get(r->gw->store, STORE_CAS, r->id, -1, obj);
}

/* A store failure as a status and sentence; also counts a rejected upload. */
static enum MHD_Result respond_store_error(struct MHD_Connection *c, struct request *r,
                                           enum store_result res)
{
	char *why = NULL;
	enum MHD_Result ret;

	switch (res) {
	case STORE_NO_SPACE:
		return respond_text(c, r, MHD_HTTP_INSUFFICIENT_STORAGE,
		                    "the store's file system is full");
	case STORE_TOO_LARGE:
		return respond_text(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
		                    "body is over the object size limit (--max-object-size)");
	case STORE_HASH_MISMATCH:
		return respond_text(c, r, MHD_HTTP_BAD_REQUEST,
		                    "hash mismatch: the body's SHA-256 is not the id; nothing stored");
	case STORE_SIZE_MISMATCH:
		return respond_text(c, r, MHD_HTTP_BAD_REQUEST,
		                    "bad length: the body's length differs from Content-Length");
	case STORE_BAD_ID:
		return respond_text(c, r, MHD_HTTP_BAD_REQUEST,
		                    "bad id: an id is exactly 64 lowercase hex characters");
	case STORE_BAD_ENCODING:
		return respond_text(c, r, MHD_HTTP_BAD_REQUEST,
		                    "broken zstd body: it does not decode; nothing stored");
	default:
		cause_set(&why, "store error: %s", store_result_str(res));
		ret = respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, cause_text(why));
		free(why);
		return ret;
	}
}

/* The reason a store result refuses an upload, for the metrics. */
static enum metrics_reject reject_reason(enum store_result res)
{
	switch (res) {
	case STORE_TOO_LARGE:
		return REJECT_TOO_LARGE;
	case STORE_HASH_MISMATCH:
		return REJECT_HASH_MISMATCH;
	case STORE_SIZE_MISMATCH:
		return REJECT_SIZE_MISMATCH;
	case STORE_NO_SPACE:
		return REJECT_STORE_FULL;
	case STORE_BAD_ENCODING:
		return REJECT_BAD_ENCODING;
	default:
		return REJECT_ERROR;
	}
}

/* GET or HEAD: the object's bytes (sendfile for all but small ones), or 404. */
static enum MHD_Result serve(struct MHD_Connection *c, struct request *r)
{
	struct gateway *gw = r->gw;
	struct store_object obj;
	enum store_result res;

	if (r->tier_stream != NULL)
		return http_tier_stream(c, r);
	res = lookup(r, &obj);
	/* A HEAD the tier answered yes, in some namespace, is answered so. */
	if (res == STORE_NOT_FOUND && r->method == METHOD_HEAD && r->tier_answered &&
	    r->tier_reply.result == TIER_OK)
		return http_tier_answer_head(c, r);
	if (res == STORE_NOT_FOUND && http_tier_may_ask(r, route_kind(r)))
		return http_tier_fetch(c, r, route_kind(r), r->id);
	if (res == STORE_NOT_FOUND && r->method == METHOD_HEAD && r->tier_answered)
		return http_tier_answer_head(c, r);
	if (res == STORE_NOT_FOUND) {
		metrics_count_lookup(gw->metrics, route_kind(r), false);
		if (r->route == ENDPOINT_AC)
			metrics_count_grant(gw->metrics, &r->grant, GRANT_MISS);
		return respond_text(c, r, MHD_HTTP_NOT_FOUND, "not found");
	}
	if (res != STORE_OK)
		return respond_store_error(c, r, res);
	metrics_count_lookup(gw->metrics, route_kind(r), true);
	if (r->route == ENDPOINT_AC)
		metrics_count_grant(gw->metrics, &r->grant, GRANT_HIT);
	return respond_object(c, r, &obj, r->route == ENDPOINT_CAS ? r->id : NULL, NULL);
}

/* Parse a length header into *out (-1 when absent); false when it is not a length. */
static bool read_length(struct MHD_Connection *c, const char *header, int64_t *out)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, header);
	char *end;
	uintmax_t n;

	*out = -1;
	if (v == NULL)
		return true;
	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	n = strtoumax(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > INT64_MAX)
		return false;
	*out = (int64_t)n;
	return true;
}

/* The sentence of a 415: a body in an encoding the path does not take. */
static const char unsupported_encoding[] =
	"unsupported Content-Encoding: only /cas takes zstd; nothing stored";

/*
 * Read the PUT's lengths: Content-Length, and for a CAS body with
 * Content-Encoding: zstd (r->zstd_body), X-Digest-SizeBytes. Sets *raw to
 * the body's uncompressed length when known, else -1. NULL, or the
 * sentence of a 400 (or 415).
 */
static const char *read_lengths(struct MHD_Connection *c, struct request *r, int64_t *raw)
{
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                              MHD_HTTP_HEADER_CONTENT_ENCODING);

	r->raw_length = -1;
	if (!read_length(c, MHD_HTTP_HEADER_CONTENT_LENGTH, &r->content_length))
		return "bad Content-Length header";
	*raw = r->content_length;
	if (enc == NULL || strcasecmp(enc, "identity") == 0)
		return NULL;
	if (r->route != ENDPOINT_CAS || strcasecmp(enc, WIRE_ZSTD) != 0)
		return unsupported_encoding;
	if (!read_length(c, WIRE_RAW_SIZE_HEADER, &r->raw_length))
		return "bad X-Digest-SizeBytes header";
	*raw = r->raw_length;
	r->zstd_body = true;
	return NULL;
}

/*
 * Start r's put. A zstd body goes to the store as it comes (kept as the
 * client's frames where that pays, store_put_take_zstd), its decoded bytes
 * capped at the most any object may be (--max-object-size, the store's
 * cap), so no small body unpacks past them; one that decodes to another
 * size than X-Digest-SizeBytes fails at commit.
 */
static enum store_result put_start(struct request *r, uint64_t limit, uint64_t cap)
{
	enum store_result res;

	if (r->zstd_body && cap > 0 && (limit == 0 || cap < limit))
		limit = cap;
	res = store_put_begin(write_store(r), route_kind(r), r->id, limit, &r->put);
	if (res == STORE_OK && r->zstd_body)
		res = store_put_take_zstd(r->put);
	if (res != STORE_OK) {
		store_put_abort(r->put);
		r->put = NULL;
	}
	return res;
}

/* True when the client waits for "100 Continue" before sending its body. */
static bool expects_continue(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

	return v != NULL && strcasecmp(v, "100-continue") == 0;
}

/* Refuse r with status, counting it as a rejected upload. */
static enum MHD_Result refuse(struct MHD_Connection *c, struct request *r, unsigned status,
                              enum metrics_reject why, const char *text)
{
	metrics_count_reject(r->gw->metrics, why);
	return respond_text(c, r, status, text);
}

/*
 * True when CAS object id is present, with the given length (any when < 0),
 * and hashes to its id; a damaged one is removed, so that the upload
 * replaces it. Opening it counts as a use, so a re-uploaded object is
 * recent for eviction.
 */
static bool cas_present(struct gateway *gw, const char *id, int64_t length)
{
	struct store_object obj;
	enum store_result res = STORE_OK;

	if (store_get(gw->store, STORE_CAS, id, -1, &obj) != STORE_OK)
		return false;
	if (length >= 0 && obj.size != (uint64_t)length) {
		close(obj.fd);
		return false;
	}
	if (!integrity_known_good(gw->integrity, id, &obj.st))
		res = store_verify_object(&obj, id);
	close(obj.fd);
	if (res == STORE_OK)
		integrity_mark_good(gw->integrity, id, &obj.st);
	else if (res == STORE_HASH_MISMATCH)
		integrity_damaged(gw->integrity, id, &obj.st, DAMAGE_PUT);
	return res == STORE_OK;
}

/* PUT, first call: every check that needs no body, then open the temp file. */
static enum MHD_Result put_begin(struct MHD_Connection *c, struct request *r)
{
	struct gateway *gw = r->gw;
	uint64_t limit = gw->opt->max_object_size, cap = evict_limit(gw->evict);
	enum store_result res;
	const char *bad;
	int64_t length;
	enum MHD_Result ret;
	char *why = NULL;

	if ((bad = read_lengths(c, r, &length)) != NULL)
		return respond_text(c, r, bad == unsupported_encoding ? MHD_HTTP_UNSUPPORTED_MEDIA_TYPE
		                                                      : MHD_HTTP_BAD_REQUEST, bad);
	if (limit > 0 && length > 0 && (uint64_t)length > limit) {
		cause_set(&why, "body of %" PRId64 " bytes is over the %" PRIu64
		          "-byte object limit (--max-object-size)", length, limit);
		ret = refuse(c, r, MHD_HTTP_CONTENT_TOO_LARGE, REJECT_TOO_LARGE, cause_text(why));
		free(why);
		return ret;
	}
	if (cap > 0 && length > 0 && (uint64_t)length > cap) {
		cause_set(&why, "body of %" PRId64 " bytes cannot fit in the %" PRIu64
		          "-byte store (--max-size)", length, cap);
		ret = refuse(c, r, MHD_HTTP_INSUFFICIENT_STORAGE, REJECT_STORE_FULL, cause_text(why));
		free(why);
		return ret;
	}
	if (cap > 0 && evict_store_full(gw->evict))
		return refuse(c, r, MHD_HTTP_INSUFFICIENT_STORAGE, REJECT_STORE_FULL,
		              "the store is full and cannot be trimmed enough");
	/* With a shared tier the body is taken all the same: it may be the tier's only copy. */
	if (r->route == ENDPOINT_CAS && gw->tier == NULL &&
	    cas_present(gw, r->id, length)) {
		/*
		 * A client waiting for 100 Continue is answered at once. One that
		 * sends its body regardless must have it read (and dropped): closing
		 * on unread bytes would reset the connection under the answer.
		 */
		if (expects_continue(c))
			return respond_text(c, r, MHD_HTTP_OK, "already stored");
		r->already_stored = true;
		watchdog_receiving(r->watch, true);
		return MHD_YES;
	}
	res = put_start(r, limit, cap);
	if (res != STORE_OK) {
		metrics_count_reject(gw->metrics, reject_reason(res));
		return respond_store_error(c, r, res);
	}
	watchdog_receiving(r->watch, true);
	return MHD_YES;
}

enum MHD_Result objects_begin(struct MHD_Connection *c, struct request *r)
{
	if (r->method == METHOD_PUT)
		return put_begin(c, r);
	return serve(c, r);
}

enum MHD_Result objects_upload(struct request *r, const char *data, size_t n)
{
	enum store_result res;

	r->body_in += n;
	metrics_add_bytes_in(r->gw->metrics, n);
	watchdog_body(r->watch, n);
	if (r->put == NULL)
		return MHD_YES;  /* the answer is decided: drain the rest */
	res = store_put_write(r->put, data, n);
	if (res == STORE_OK)
		return MHD_YES;
	store_put_abort(r->put);
	r->put = NULL;
	metrics_count_reject(r->gw->metrics, reject_reason(res));
	r->write_error = res;
	return MHD_YES;
}

enum MHD_Result objects_finish(struct MHD_Connection *c, struct request *r)
{
	struct gateway *gw = r->gw;
	enum store_kind k = route_kind(r);
	uint64_t size, old = 0;
	int64_t old_size = -1;
	enum store_result res;

	watchdog_receiving(r->watch, false);
	if (r->put == NULL) {
		if (r->already_stored)
			return respond_text(c, r, MHD_HTTP_OK, "already stored");
		if (r->write_error != STORE_OK)
			return respond_store_error(c, r, r->write_error);
		return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "upload lost");
	}
	size = store_put_size(r->put);
	if (store_stat(write_store(r), k, r->id, &old) == STORE_OK)
		old_size = (int64_t)old;
	res = store_put_commit(r->put, r->zstd_body ? r->raw_length : r->content_length);
	r->put = NULL;
	if (res != STORE_OK) {
		metrics_count_reject(gw->metrics, reject_reason(res));
		return respond_store_error(c, r, res);
	}
	if (k == STORE_CAS)
		size = integrity_mark_stored(gw->integrity, gw->store, r->id);
	else
		metrics_count_grant(gw->metrics, &r->grant, GRANT_WRITE);
	evict_note_put(gw->evict, k, size, old_size);
	if (gw->tier != NULL)
		return http_tier_upload(c, r, MHD_HTTP_CREATED);
	return respond_text(c, r, MHD_HTTP_CREATED, "stored");
}

void objects_done(struct request *r)
{
	if (r->put == NULL)
		return;
	store_put_abort(r->put);
	r->put = NULL;
	metrics_count_reject(r->gw->metrics, REJECT_TRUNCATED);
}
