/*
 * http_tier.c: requests waiting on the shared tier (http_tier.h).
 *
 * A waiting request's connection is suspended before its tier request is
 * made, so that the tier's answer, which may come at once on the tier's
 * thread, always finds it suspended. Fetches in flight are kept in a list
 * under a lock; a GET that misses an object already on its way joins it
 * (and may stream it: http_tier_stream.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cause.h"
#include "gateway/gateway.h"
#include "gateway/tier/http_tier_fetch.h"
#include "gateway/jobs/integrity.h"
#include "gateway/http/respond.h"

struct http_tier *http_tier_new(const struct tier *tier)
{
	struct http_tier *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->tier = *tier;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void http_tier_free(struct http_tier *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

bool http_tier_healthy(const struct http_tier *t)
{
	return t->tier.ops->healthy(t->tier.backend, NULL);
}

void http_tier_health(const struct http_tier *t, char **health)
{
	char *why = NULL;

	if (t->tier.ops->healthy(t->tier.backend, &why))
		cause_set(health, "%s: ok", t->tier.ops->name);
	else
		cause_set(health, "%s failing: %s", t->tier.ops->name, cause_text(why));
	free(why);
}

bool http_tier_may_ask(const struct request *r, enum store_kind k)
{
	if (k == STORE_AC)
		return r->gw->tier != NULL && r->tier_ac_asked < r->ac.nreads;
	return r->gw->tier != NULL && (r->tier_asked & (1u << k)) == 0;
}

void tier_resume(struct request *r, const struct tier_reply *reply)
{
	free(r->tier_reply.why);  /* an earlier reply's (a request may ask twice) */
	r->tier_reply = *reply;
	r->tier_reply.why = NULL;
	if (reply->why != NULL)
		cause_set(&r->tier_reply.why, "%s", reply->why);
	r->tier_answered = true;
	MHD_resume_connection(r->conn);
}

void tier_resume_all(struct request *list, const struct tier_reply *reply)
{
	while (list != NULL) {
		struct request *next = list->tier_next;
		tier_resume(list, reply);
		list = next;
	}
}

void tier_suspend(struct MHD_Connection *c, struct request *r)
{
	r->conn = c;
	r->tier_answered = false;
	MHD_suspend_connection(c);
}

/*
 * The tier's fetch f is over: keep what it brought if it is whole and
 * right (a CAS object must hash to its id), then resume every waiter.
 * Runs on the tier's thread.
 */
static void fetch_done(void *ctx, const struct tier_reply *reply)
{
	struct tier_fetch *f = ctx;
	struct http_tier *t = f->tier;
	struct gateway *gw = f->gw;
	struct tier_reply out = *reply;  /* its why stays reply's, unless set here */
	char *why = NULL;                /* out's own why, when it has one */
	struct request *w;
	struct tier_stream *readers;
	struct tier_group_wait *groups;
	enum store_result res;

	if (reply->result == TIER_OK) {
		res = store_put_commit(f->put, -1);
		if (res == STORE_HASH_MISMATCH || res == STORE_BAD_ENCODING) {
			metrics_count_damaged(gw->metrics, DAMAGE_S3);
			fprintf(stderr, "cachegate: cas/%s in the bucket %s; neither kept nor served\n",
			        f->id, res == STORE_HASH_MISMATCH ? "does not hash to its id"
			                                          : "is zstd that does not decode");
			cause_set(&why, "the object in the bucket does not hash to its id");
			out.why = why;
			out.result = TIER_NOT_FOUND;
		} else if (res != STORE_OK) {
			cause_set(&why, "cannot keep the object: %s", store_result_str(res));
			out.why = why;
			out.result = TIER_FAILED;
		} else {
			/* A CAS object's bytes on disk are known once stored (compressed or not). */
			uint64_t on_disk = reply->size;
			if (f->kind == STORE_CAS)
				on_disk = integrity_mark_stored(gw->integrity, gw->store, f->id);
			evict_note_put(gw->evict, f->kind, on_disk, -1);
		}
	} else {
		store_put_abort(f->put);
	}
	/* Off the list, no request joins any more: the waiters are all known. */
	pthread_mutex_lock(&t->lock);
	for (struct tier_fetch **p = &t->fetches; *p != NULL; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	if (f->grouped)
		t->group_fetches--;
	f->state = out.result == TIER_OK ? FETCH_DONE : FETCH_FAILED;
	w = f->waiters;
	readers = f->readers;
	groups = f->groups;
	f->waiters = NULL;
	f->readers = NULL;
	f->groups = NULL;
	tier_fetch_unref(f);
	pthread_mutex_unlock(&t->lock);
	tier_resume_all(w, &out);
	free(why);
	tier_wake_readers(readers);
	tier_settle_groups(groups);
}

/* The HEAD asked for r is over: resume r. Runs on the tier's thread. */
static void head_done(void *ctx, const struct tier_reply *reply)
{
	tier_resume(ctx, reply);
}

struct tier_fetch *tier_fetch_find(struct http_tier *t, enum store_kind k, const char *ns,
                                   const char *id)
{
	struct tier_fetch *f;

	for (f = t->fetches; f != NULL; f = f->next)
		if (f->kind == k && strcmp(f->id, id) == 0 &&
		    (k != STORE_AC || strcmp(f->ns, ns) == 0))
			return f;
	return NULL;
}

/* Begin a put of object id of kind k into the store, an action entry into namespace ns. */
static enum store_result fetch_put_begin(struct gateway *gw, enum store_kind k, const char *ns,
                                         const char *id, struct store_put **put)
{
	struct store *s = gw->store;
	enum store_result res;

	if (k == STORE_AC && strcmp(ns, STORE_NS_DEFAULT) != 0 &&
	    (s = store_namespace(gw->store, ns)) == NULL)
		return STORE_IO_ERROR;
	res = store_put_begin(s, k, id, gw->opt->max_object_size, put);
	if (s != gw->store)
		store_close(s);  /* the put keeps what it needs */
	return res;
}

struct tier_fetch *tier_fetch_new(struct http_tier *t, struct gateway *gw, enum store_kind k,
                                  const char *ns, const char *id, struct tier_reply *why)
{
	struct tier_fetch *f = calloc(1, sizeof(*f));
	enum store_result res;

	if (f == NULL) {
		*why = (struct tier_reply){ .result = TIER_FAILED };
		cause_set(&why->why, "out of memory");
		return NULL;
	}
	res = fetch_put_begin(gw, k, ns, id, &f->put);
	if (res != STORE_OK) {
		free(f);
		*why = (struct tier_reply){ .result = TIER_FAILED };
		cause_set(&why->why, "%s", store_result_str(res));
		return NULL;
	}
	f->tier = t;
	f->gw = gw;
	f->state = FETCH_RUNNING;
	f->length = -1;
	f->refs = 1;
	f->fd = dup(store_put_fd(f->put));
	f->kind = k;
	snprintf(f->ns, sizeof(f->ns), "%s", k == STORE_AC ? ns : "");
	snprintf(f->id, sizeof(f->id), "%s", id);
	f->next = t->fetches;
	t->fetches = f;
	return f;
}

void tier_fetch_launch(struct http_tier *t, struct tier_fetch *f)
{
	struct tier_reply fail = { .result = TIER_FAILED };

	if (!t->tier.ops->get(t->tier.backend, f->kind, f->kind == STORE_AC ? f->ns : NULL,
	                      f->id, f->put, f->stall_seconds,
	                      tier_fetch_progress, fetch_done, f)) {
		cause_set(&fail.why, "the shared tier is stopping");
		fetch_done(f, &fail);
		free(fail.why);
	}
}

/*
 * Join the fetch of object id of kind k (ns as for tier_fetch_find) in
 * flight, or start one; r is suspended.
 */
static void fetch_join(struct http_tier *t, struct request *r, enum store_kind k, const char *ns,
                       const char *id)
{
	struct tier_fetch *f;
	struct tier_reply fail;

	pthread_mutex_lock(&t->lock);
	f = tier_fetch_find(t, k, ns, id);
	if (f != NULL) {
		bool now = f->length >= 0 && tier_can_stream(r);
		if (now) {
			tier_stream_from(r, f);
		} else {
			r->tier_next = f->waiters;
			f->waiters = r;
		}
		pthread_mutex_unlock(&t->lock);
		if (now) {
			struct tier_reply ok = { .result = TIER_OK };
			tier_resume(r, &ok);
		}
		return;
	}
	f = tier_fetch_new(t, r->gw, k, ns, id, &fail);
	if (f == NULL) {
		pthread_mutex_unlock(&t->lock);
		tier_resume(r, &fail);
		free(fail.why);
		return;
	}
	f->waiters = r;
	r->tier_next = NULL;
	pthread_mutex_unlock(&t->lock);
	tier_fetch_launch(t, f);
}

enum MHD_Result http_tier_fetch(struct MHD_Connection *c, struct request *r, enum store_kind k,
                                const char *id)
{
	struct http_tier *t = r->gw->tier;
	struct tier_reply fail = { .result = TIER_FAILED };
	const char *ns = NULL;

	if (k == STORE_AC)
		ns = store_ns(r->ac.reads[r->tier_ac_asked++]);
	else
		r->tier_asked |= 1u << k;
	tier_suspend(c, r);
	if (r->method != METHOD_HEAD || r->route == ENDPOINT_GO) {
		fetch_join(t, r, k, ns, id);
	} else if (!t->tier.ops->head(t->tier.backend, k, ns, id, head_done, r)) {
		cause_set(&fail.why, "the shared tier is stopping");
		tier_resume(r, &fail);
		free(fail.why);
	}
	return MHD_YES;
}

/* libmicrohttpd never reads the body of a HEAD's answer. */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls, (void)pos, (void)buf, (void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

enum MHD_Result http_tier_answer_head(struct MHD_Connection *c, struct request *r)
{
	struct MHD_Response *resp;

	if (!r->tier_answered || r->tier_reply.result != TIER_OK)
		return respond_text(c, r, MHD_HTTP_NOT_FOUND, "not found");
	resp = MHD_create_response_from_callback(r->tier_reply.size, 4096, no_body, NULL, NULL);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	return respond_queue(c, r, MHD_HTTP_OK, resp, 0);
}

/* The upload asked for r is over: resume r. Runs on the tier's thread. */
static void upload_done(void *ctx, const struct tier_reply *reply)
{
	tier_resume(ctx, reply);
}

/*
 * A compressed object goes to the tier as stored, so it must be whole: known
 * good, or checked now. One that is not is damage (closed, removed, so the
 * client's retry stores it anew); false then.
 */
static bool upload_checked(struct request *r, struct store_object *obj)
{
	enum store_result res = STORE_OK;

	if (!integrity_known_good(r->gw->integrity, r->id, &obj->st))
		res = store_verify_object(obj, r->id);
	if (res == STORE_OK)
		return true;
	close(obj->fd);
	if (res == STORE_HASH_MISMATCH || res == STORE_BAD_ENCODING)
		integrity_damaged(r->gw->integrity, r->id, &obj->st, DAMAGE_READ);
	return false;
}

enum MHD_Result http_tier_upload(struct MHD_Connection *c, struct request *r, unsigned status)
{
	struct http_tier *t = r->gw->tier;
	enum store_kind k = r->route == ENDPOINT_AC ? STORE_AC : STORE_CAS;
	struct store *s = k == STORE_AC ? r->ac.write : r->gw->store;
	struct store_object obj;
	char hash[STORE_ID_LEN + 1];
	struct tier_reply fail = { .result = TIER_FAILED };

	r->put_status = status;
	if (store_get(s, k, r->id, -1, &obj) != STORE_OK)
		return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "the object left the local store before it reached S3");
	if (obj.encoding == STORE_ZSTD && !upload_checked(r, &obj))
		return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "store error: the object is damaged; send it again");
	r->tier_fd = obj.fd;
	if (k == STORE_CAS && obj.encoding != STORE_ZSTD)
		memcpy(hash, r->id, sizeof(hash));
	else if (store_sha256_fd(obj.fd, 0, obj.stored_size, hash) != STORE_OK)
		return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "store error: cannot read the object back");
	tier_suspend(c, r);
	if (!t->tier.ops->put(t->tier.backend, k, k == STORE_AC ? store_ns(s) : NULL, r->id,
	                      obj.fd, obj.stored_size,
	                      obj.encoding == STORE_ZSTD ? (int64_t)obj.size : -1, hash,
	                      upload_done, r)) {
		cause_set(&fail.why, "the shared tier is stopping");
		tier_resume(r, &fail);
		free(fail.why);
	}
	return MHD_YES;
}

enum MHD_Result http_tier_answer_upload(struct MHD_Connection *c, struct request *r)
{
	char *why = NULL;
	enum MHD_Result ret;

	if (r->tier_fd >= 0)
		close(r->tier_fd);
	r->tier_fd = -1;
	if (r->tier_reply.result == TIER_OK)
		return respond_text(c, r, r->put_status,
		                    r->put_status == MHD_HTTP_CREATED ? "stored" : "already stored");
	cause_set(&why, "not stored in the shared tier (S3): %s", cause_text(r->tier_reply.why));
	ret = respond_text(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, cause_text(why));
	free(why);
	return ret;
}
