/*
 * http_go.c: an action with its output in one answer, or many in one
 * stream (http_go.h). An /ac body that does not begin with a Go entry line
 * for its own action (a Bazel or ccache entry, say) is simply a miss here.
 * In a stream, an output not known to be intact is hashed on its way and
 * the stream is cut before its last bytes if it is damaged. Outputs go out
 * raw: a compressed one is decoded on its way (a broken frame is damage).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cause.h"
#include "wire/wire.h"
#include "gateway/gateway.h"
#include "gateway/objects/http_go.h"
#include "gateway/tier/http_tier.h"
#include "gateway/jobs/integrity.h"
#include "gateway/http/respond.h"

#define TIER_ASKS_MAX 64            /* objects one batch asks the shared tier for, per round */
#define TIER_OUTPUT_MAX (32u << 20) /* larger outputs a batch leaves to the client's own get */

/* A POST /go/batch: the list asked for, then the state of its stream. */
struct go_batch {
	struct gateway *gw;
	size_t len;                  /* bytes of body */
	bool too_long;               /* the body had more than WIRE_BATCH_MAX lines */
	int tier_rounds;             /* times the shared tier was asked for what is missing */
	uint64_t asked[WIRE_BATCH_MAX / 64];  /* lines whose entry the first round asked for */
	size_t next;                 /* the next line to look up */
	char head[GO_ENTRY_LEN];     /* the current hit's entry line */
	size_t head_sent;            /* bytes of head sent; GO_ENTRY_LEN once all are */
	int fd;                      /* the current hit's output, or -1 */
	struct store_reader *rd;     /* its raw bytes, with fd */
	uint64_t left;               /* bytes of it still to send */
	struct stat st;              /* the output's file */
	char output[STORE_ID_LEN + 1];
	struct store_check *check;   /* hashes the output on its way, unless known good */
	uint64_t *sent;              /* the request's body_out: bytes of the stream so far */
	char body[WIRE_BATCH_MAX * WIRE_BATCH_LINE];
};

/* What a lookup of an action found. */
enum go_found {
	GO_FOUND,        /* the entry and its output */
	GO_NO_ENTRY,     /* no entry for the action */
	GO_NOT_GO,       /* an entry, but not a Go one for this action */
	GO_NO_OUTPUT,    /* a Go entry whose output is missing (its id is known) */
};

/*
 * Look action up: its entry line (into line), its output's id (into output)
 * and the output, opened into *obj.
 */
static enum go_found go_find(struct store *s, const char *action, char line[GO_ENTRY_LEN],
                             char output[STORE_ID_LEN + 1], struct store_object *obj)
{
	struct store_object ac;
	struct go_entry e;
	char want[STORE_HASH_LEN];
	ssize_t n;

	if (store_get(s, STORE_AC, action, -1, &ac) != STORE_OK)
		return GO_NO_ENTRY;
	do
		n = pread(ac.fd, line, GO_ENTRY_LEN, 0);
	while (n < 0 && errno == EINTR);
	close(ac.fd);
	if (n != GO_ENTRY_LEN || !go_entry_parse(line, GO_ENTRY_LEN, &e) ||
	    !store_unhex(action, (unsigned char *)want) ||
	    memcmp(e.action, want, STORE_HASH_LEN) != 0)
		return GO_NOT_GO;
	store_hex(e.output, output);
	return store_get(s, STORE_CAS, output, e.size, obj) == STORE_OK ? GO_FOUND : GO_NO_OUTPUT;
}

/* go_find, true only when both the entry and its output were found. */
static bool go_lookup(struct store *s, const char *action, char line[GO_ENTRY_LEN],
                      char output[STORE_ID_LEN + 1], struct store_object *obj)
{
	return go_find(s, action, line, output, obj) == GO_FOUND;
}

enum MHD_Result go_serve(struct MHD_Connection *c, struct request *r)
{
	struct store_object obj;
	char line[GO_ENTRY_LEN], output[STORE_ID_LEN + 1];
	enum go_found found = go_find(r->gw->store, r->id, line, output, &obj);

	/* With a shared tier, what is missing here is asked of it: the entry, then the output. */
	if (found == GO_NO_ENTRY && http_tier_may_ask(r, STORE_AC))
		return http_tier_fetch(c, r, STORE_AC, r->id);
	if (found == GO_NO_OUTPUT && http_tier_may_ask(r, STORE_CAS))
		return http_tier_fetch(c, r, STORE_CAS, output);
	if (found != GO_FOUND) {
		metrics_count_lookup(r->gw->metrics, STORE_AC, false);
		return respond_text(c, r, MHD_HTTP_NOT_FOUND, "not found");
	}
	metrics_count_lookup(r->gw->metrics, STORE_AC, true);
	line[GO_ENTRY_LEN - 1] = '\0';  /* the header value: the line without its newline */
	return respond_object(c, r, &obj, output, line);
}

enum MHD_Result go_batch_collect(struct request *r, const char *data, size_t n)
{
	struct go_batch *b = r->batch;

	if (b == NULL) {
		b = r->batch = calloc(1, sizeof(*b));
		if (b == NULL)
			return MHD_NO;
		b->gw = r->gw;
		b->fd = -1;
	}
	if (n > sizeof(b->body) - b->len) {
		b->too_long = true;
		return MHD_YES;  /* drained; answered 413 at the end */
	}
	memcpy(b->body + b->len, data, n);
	b->len += n;
	return MHD_YES;
}

/* True when the body is whole lines, each an id. */
static bool go_batch_valid(const struct go_batch *b)
{
	if (b->len % WIRE_BATCH_LINE != 0)
		return false;
	for (size_t i = 0; i < b->len; i += WIRE_BATCH_LINE)
		if (!store_id_valid(b->body + i, STORE_ID_LEN) || b->body[i + STORE_ID_LEN] != '\n')
			return false;
	return true;
}

/* Look up lines until one is a hit (true, ready to send) or the list is over. */
static bool go_batch_advance(struct go_batch *b)
{
	char action[STORE_ID_LEN + 1];
	struct store_object obj;

	while (b->next * WIRE_BATCH_LINE < b->len) {
		memcpy(action, b->body + b->next++ * WIRE_BATCH_LINE, STORE_ID_LEN);
		action[STORE_ID_LEN] = '\0';
		if (go_lookup(b->gw->store, action, b->head, b->output, &obj)) {
			if ((b->rd = store_reader_new(&obj)) == NULL) {
				close(obj.fd);
				continue;  /* out of memory: a miss, the client asks for it itself */
			}
			metrics_count_lookup(b->gw->metrics, STORE_AC, true);
			b->head_sent = 0;
			b->fd = obj.fd;
			b->left = obj.size;
			b->st = obj.st;
			if (!integrity_known_good(b->gw->integrity, b->output, &obj.st))
				b->check = store_check_new(b->output);
			return true;
		}
		metrics_count_lookup(b->gw->metrics, STORE_AC, false);
	}
	return false;
}

/*
 * The current output is read whole: close it, and false when its hash shows
 * it damaged (then its last bytes must not leave).
 */
static bool go_batch_output_done(struct go_batch *b)
{
	bool intact;

	close(b->fd);
	b->fd = -1;
	store_reader_free(b->rd);
	b->rd = NULL;
	if (b->check == NULL)
		return true;
	intact = store_check_intact(b->check);
	store_check_free(b->check);
	b->check = NULL;
	if (intact)
		integrity_mark_good(b->gw->integrity, b->output, &b->st);
	else
		integrity_damaged(b->gw->integrity, b->output, &b->st, DAMAGE_READ);
	return intact;
}

/*
 * With a shared tier that answers, ask it for what the local store lacks
 * before the stream starts: first the missing entries and the outputs of
 * entries that are here, then the outputs of the entries that came; at most
 * TIER_ASKS_MAX objects each time, none over TIER_OUTPUT_MAX (those, and
 * what did not come, are misses the client asks for itself). True when r
 * now waits on the tier (its handler runs again once all have ended).
 */
static bool go_batch_ask_tier(struct MHD_Connection *c, struct request *r, struct go_batch *b)
{
	char action[STORE_ID_LEN + 1], line[GO_ENTRY_LEN], output[STORE_ID_LEN + 1];
	struct tier_group *g = NULL;
	struct store_object obj;
	struct go_entry e;
	int round = b->tier_rounds++, asked = 0;

	if (r->gw->tier == NULL || round > 1 || !http_tier_healthy(r->gw->tier))
		return false;
	for (size_t i = 0; i < b->len && asked < TIER_ASKS_MAX; i += WIRE_BATCH_LINE) {
		size_t n = i / WIRE_BATCH_LINE;
		bool asked_entry = (b->asked[n / 64] >> (n % 64)) & 1;
		enum store_kind k;
		const char *id;

		if (round == 1 && !asked_entry)
			continue;  /* its output, if missing, was asked for in the first round */
		memcpy(action, b->body + i, STORE_ID_LEN);
		action[STORE_ID_LEN] = '\0';
		switch (go_find(r->gw->store, action, line, output, &obj)) {
		case GO_FOUND:
			close(obj.fd);
			continue;
		case GO_NO_ENTRY:
			if (round == 1)
				continue;
			k = STORE_AC;
			id = action;
			b->asked[n / 64] |= (uint64_t)1 << (n % 64);
			break;
		case GO_NO_OUTPUT:
			if (!go_entry_parse(line, GO_ENTRY_LEN, &e) || (uint64_t)e.size > TIER_OUTPUT_MAX)
				continue;
			k = STORE_CAS;
			id = output;
			break;
		default:
			continue;
		}
		if (g == NULL && (g = http_tier_group_begin(c, r)) == NULL)
			return false;
		http_tier_group_add(g, k, id);
		asked++;
	}
	if (g == NULL)
		return false;
	http_tier_group_end(g);
	return true;
}

/* libmicrohttpd asks for the next bytes of the stream. */
static ssize_t go_batch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct go_batch *b = cls;
	size_t out = 0;

	(void)pos;
	while (out < max) {
		if (b->fd < 0 && !go_batch_advance(b))
			break;
		if (b->head_sent < GO_ENTRY_LEN) {
			size_t n = GO_ENTRY_LEN - b->head_sent;
			if (n > max - out)
				n = max - out;
			memcpy(buf + out, b->head + b->head_sent, n);
			b->head_sent += n;
			out += n;
			continue;
		}
		if (b->left > 0) {
			size_t want = b->left < max - out ? (size_t)b->left : max - out, n = 0;
			enum store_result res = store_reader_read(b->rd, buf + out, want, &n);
			if (res == STORE_BAD_ENCODING) {
				integrity_damaged(b->gw->integrity, b->output, &b->st, DAMAGE_READ);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			if (res != STORE_OK || n == 0) {
				/* The object shrank under us: the stream cannot go on framed. */
				if (out > 0)
					break;
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			if (b->check != NULL)
				store_check_update(b->check, buf + out, n);
			b->left -= (uint64_t)n;
			out += n;
		}
		if (b->left == 0 && !go_batch_output_done(b))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (out == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	*b->sent += out;
	return (ssize_t)out;
}

/* The response is done with the batch. */
static void go_batch_free(void *cls)
{
	struct go_batch *b = cls;

	if (b->fd >= 0)
		close(b->fd);
	store_reader_free(b->rd);
	store_check_free(b->check);
	free(b);
}

enum MHD_Result go_batch_serve(struct MHD_Connection *c, struct request *r)
{
	struct go_batch *b = r->batch;
	enum MHD_Result ret;
	char *why = NULL;

	if (b != NULL && b->too_long) {
		cause_set(&why, "too many actions: a batch asks for at most %d", WIRE_BATCH_MAX);
		ret = respond_text(c, r, MHD_HTTP_CONTENT_TOO_LARGE, cause_text(why));
		free(why);
		return ret;
	}
	if (b == NULL || !go_batch_valid(b))
		return respond_text(c, r, MHD_HTTP_BAD_REQUEST,
		                    "bad batch: the body is action ids, one per line");
	if (go_batch_ask_tier(c, r, b))
		return MHD_YES;
	r->batch = NULL;
	/*
	 * libmicrohttpd reads the stream only before the request's end (which
	 * frees r), so only go_batch_read may use this, never go_batch_free.
	 */
	b->sent = &r->body_out;
	return respond_stream(c, r, go_batch_read, b, go_batch_free);
}

void go_done(struct request *r)
{
	if (r->batch != NULL)
		go_batch_free(r->batch);
	r->batch = NULL;
}
