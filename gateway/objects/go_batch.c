/*
 * go_batch.c: POST /go/batch (http_go.h): the list of actions asked for,
 * the shared tier asked for what is missing, then the stream of hits. An
 * output not known to be intact is hashed on its way and the stream is cut
 * before its last bytes if it is damaged. The plain stream carries outputs
 * raw (a compressed one is decoded on its way; a broken frame is damage);
 * a client that accepts zstd gets the zstd form (go_batch_zst.c).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cause.h"
#include "gateway/gateway.h"
#include "gateway/objects/go_batch.h"
#include "gateway/objects/http_go.h"
#include "gateway/objects/respond_zst.h"
#include "gateway/tier/http_tier.h"
#include "gateway/jobs/integrity.h"
#include "gateway/http/respond.h"

#define TIER_ASKS_MAX 64            /* objects one batch asks the shared tier for, per round */
#define TIER_OUTPUT_MAX (32u << 20) /* larger outputs a batch leaves to the client's own get */

enum MHD_Result go_batch_collect(struct request *r, const char *data, size_t n)
{
	struct go_batch *b = r->batch;

	if (b == NULL) {
		b = r->batch = calloc(1, sizeof(*b));
		if (b == NULL)
			return MHD_NO;
		b->gw = r->gw;
		b->ac = &r->ac;
		b->grant = &r->grant;
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

bool go_batch_advance(struct go_batch *b)
{
	char action[STORE_ID_LEN + 1];

	while (b->next * WIRE_BATCH_LINE < b->len) {
		memcpy(action, b->body + b->next++ * WIRE_BATCH_LINE, STORE_ID_LEN);
		action[STORE_ID_LEN] = '\0';
		if (go_find(b->ac, action, b->head, b->output, &b->obj) == GO_FOUND) {
			metrics_count_lookup(b->gw->metrics, STORE_AC, true);
			metrics_count_grant(b->gw->metrics, b->grant, GRANT_HIT);
			b->head_sent = 0;
			b->fd = b->obj.fd;
			b->left = b->obj.size;
			if (!integrity_known_good(b->gw->integrity, b->output, &b->obj.st))
				b->check = store_check_new(b->output);
			return true;
		}
		metrics_count_lookup(b->gw->metrics, STORE_AC, false);
		metrics_count_grant(b->gw->metrics, b->grant, GRANT_MISS);
	}
	return false;
}

bool go_batch_output_done(struct go_batch *b, bool decoded_whole)
{
	bool intact = decoded_whole;

	close(b->fd);
	b->fd = -1;
	store_reader_free(b->rd);
	b->rd = NULL;
	if (b->check == NULL && intact)
		return true;
	if (b->check != NULL)
		intact = intact && store_check_intact(b->check);
	store_check_free(b->check);
	b->check = NULL;
	if (intact)
		integrity_mark_good(b->gw->integrity, b->output, &b->obj.st);
	else
		integrity_damaged(b->gw->integrity, b->output, &b->obj.st, DAMAGE_READ);
	return intact;
}

/*
 * With a shared tier that answers, ask it for what the local store lacks
 * before the stream starts: first the missing entries (in every namespace r
 * reads) and the outputs of entries that are here, then the outputs of the
 * entries that came; at most
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
		const char *id;

		if (round == 1 && !asked_entry)
			continue;  /* its output, if missing, was asked for in the first round */
		memcpy(action, b->body + i, STORE_ID_LEN);
		action[STORE_ID_LEN] = '\0';
		switch (go_find(&r->ac, action, line, output, &obj)) {
		case GO_FOUND:
			close(obj.fd);
			continue;
		case GO_NO_ENTRY:
			if (round == 1)
				continue;
			if (g == NULL && (g = http_tier_group_begin(c, r)) == NULL)
				return false;
			for (size_t ns = 0; ns < r->ac.nreads && asked < TIER_ASKS_MAX; ns++, asked++)
				http_tier_group_add(g, STORE_AC, store_ns(r->ac.reads[ns]), action);
			b->asked[n / 64] |= (uint64_t)1 << (n % 64);
			continue;
		case GO_NO_OUTPUT:
			if (!go_entry_parse(line, GO_ENTRY_LEN, &e) || (uint64_t)e.size > TIER_OUTPUT_MAX)
				continue;
			id = output;
			break;
		default:
			continue;
		}
		if (g == NULL && (g = http_tier_group_begin(c, r)) == NULL)
			return false;
		http_tier_group_add(g, STORE_CAS, NULL, id);
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
		if (b->rd == NULL && (b->rd = store_reader_new(&b->obj)) == NULL)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (b->left > 0) {
			size_t want = b->left < max - out ? (size_t)b->left : max - out, n = 0;
			enum store_result res = store_reader_read(b->rd, buf + out, want, &n);
			if (res == STORE_BAD_ENCODING) {
				go_batch_output_done(b, false);
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
		if (b->left == 0 && !go_batch_output_done(b, true))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (out == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	*b->sent += out;
	metrics_count_sent(b->gw->metrics, STORE_IDENTITY, out);
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
	go_batch_zst_free(b->zst);
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
	if (r->gw->opt->compression && zst_accepted(c)) {
		if ((b->zst = go_batch_zst_new()) == NULL) {
			go_batch_free(b);
			return MHD_NO;
		}
		return respond_stream(c, r, go_batch_zst_read, b, go_batch_free, WIRE_ZSTD);
	}
	return respond_stream(c, r, go_batch_read, b, go_batch_free, NULL);
}

void go_done(struct request *r)
{
	if (r->batch != NULL)
		go_batch_free(r->batch);
	r->batch = NULL;
}
