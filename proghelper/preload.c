/*
 * preload.c: fetch ahead what the last build of this scope used.
 *
 * At start the network thread fetches the scope's list (usedlist.h) from
 * /ac/<list key> into a temp file, then walks it in order and asks
 * POST /go/batch for the entries whose output the local store lacks,
 * PRELOAD_BATCH at a time and PRELOAD_JOBS requests at once, until the list
 * or the byte budget is spent. Each record of an answer streams into a
 * store write that checks its size and SHA-256, as any fetched output, and
 * its entry is then recorded. A get for an action on its way waits for it
 * while the streams keep coming (preload.h, PRELOAD_WAIT_MS), so that its
 * output is not fetched twice, then asks for itself (preload_expire); one
 * the preload brought is a local hit. Gets that come while the list is
 * on its way wait for it and its first batches, which likely hold them
 * (preload_items.c). The list is only advice: a missing, stale or wrong
 * one, a server without /go, or a failed request only ends the preload or
 * leaves some gets to ask for themselves.
 *
 * Memory stays small: the list is read from its file as batches go out,
 * and preload_items.c keeps 24 bytes per action the run has seen.
 */
#include "proghelper/preload.h"
#include "proghelper/scope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PRELOAD_BATCH 64                  /* actions one POST /go/batch asks for */
_Static_assert(PRELOAD_BATCH <= WIRE_BATCH_MAX, "a batch the gateway would refuse");
#define PRELOAD_BATCH_BYTES (16u << 20)   /* output bytes one batch asks for, about */
#define PRELOAD_LIST_MAX (WIRE_LIST_HEADER_LEN + (uint64_t)WIRE_LIST_MAX_ENTRIES * GO_ENTRY_LEN)
#define PRELOAD_LIST_MS 5000L             /* the list, or the gets parked for it, wait no longer */
#define PRELOAD_LOW_SPEED 1024L           /* bytes/s below which a transfer ... */
#define PRELOAD_LOW_SPEED_S 10L           /* ... for this long is given up */
#define PRELOAD_BUFFER (1L << 20)         /* curl's receive buffer for a batch (4 MiB in all) */

/* One POST /go/batch: what it asked, and how far its answer has come. */
struct batch {
	int n, seen;                        /* actions asked; records accounted for */
	unsigned char actions[PRELOAD_BATCH][STORE_HASH_LEN];
	uint64_t sizes[PRELOAD_BATCH];      /* their sizes in the list, charged to the budget */
	char body[PRELOAD_BATCH * (STORE_ID_LEN + 1)];
	char head[GO_ENTRY_LEN];            /* the record's entry line, as it arrives */
	size_t head_len;
	bool in_body;                       /* the record's output is arriving */
	bool had_output;                    /* the store has it already: its bytes are dropped */
	struct go_entry entry;              /* the record's entry */
	uint64_t left;                      /* its output bytes still to come */
};

/* ---- the list ---------------------------------------------------------- */

/* Keep what GET /ac/<list key> returns in the list's file. */
static size_t preload_write_list(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	struct preload *p = j->remote->preload;
	size_t n = size * nmemb;

	remote_took(j->remote, n);
	return fwrite(data, 1, n, p->list) == n ? n : 0;
}

/* Set up j as a preload job for step, a request to <kind>[/<hash>]; its handle, or NULL. */
static CURL *preload_prepare(struct remote *r, struct job *j, enum job_step step, const char *kind,
                             const unsigned char *hash)
{
	CURL *e;

	j->kind = JOB_PRELOAD;
	j->step = step;
	j->remote = r;
	j->fd = -1;
	e = remote_prepare(r, j, kind, hash);
	if (e != NULL) {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, PRELOAD_LOW_SPEED);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, PRELOAD_LOW_SPEED_S);
		/* Big reads: a batch is megabytes, and each piece costs a call and a write. */
		curl_easy_setopt(e, CURLOPT_BUFFERSIZE, PRELOAD_BUFFER);
	}
	return e;
}

/* Ask for the list. */
static void preload_fetch_list(struct remote *r)
{
	struct preload *p = r->preload;
	struct job *j = calloc(1, sizeof *j);
	CURL *e;

	p->phase = PHASE_DONE;
	p->list = tmpfile();
	if (j == NULL || p->list == NULL) {
		free(j);
		return;
	}
	e = preload_prepare(r, j, STEP_GET_LIST, "ac", p->key);
	if (e != NULL) {
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, PRELOAD_LIST_MS);
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PRELOAD_LIST_MAX);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, preload_write_list);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	}
	p->phase = PHASE_LISTING;
	if (e == NULL || !remote_launch(r, j))
		remote_free_job(r, j);
}

/* The list is in: check its header, take its digest, and start reading it. */
static void preload_got_list(struct preload *p)
{
	char head[WIRE_LIST_HEADER_LEN], line[GO_ENTRY_LEN];

	p->phase = PHASE_DONE;
	rewind(p->list);
	if (fread(head, 1, sizeof head, p->list) != sizeof head ||
	    memcmp(head, WIRE_LIST_HEADER, sizeof head) != 0)
		return;
	while (fread(line, 1, sizeof line, p->list) == sizeof line)
		usedlist_digest_add(&p->list_digest, line);
	p->have_list = true;
	if (fseek(p->list, (long)sizeof head, SEEK_SET) == 0)
		p->phase = PHASE_BATCHES;
}

/* True when the local store has action's entry and its output (then marked used). */
static bool preload_have(struct store *s, const struct go_entry *e)
{
	char a[STORE_ID_LEN + 1];

	store_hex(e->action, a);
	return store_stat(s, STORE_AC, a, NULL) == STORE_OK && local_has_output(s, e);
}

/* The next batch from the list (its actions marked COMING), or NULL at its end. */
static struct batch *preload_next_batch(struct remote *r)
{
	struct preload *p = r->preload;
	struct batch *b = calloc(1, sizeof *b);
	char line[GO_ENTRY_LEN], hex[STORE_ID_LEN + 1];
	uint64_t bytes = 0;
	struct go_entry e;
	struct item *it;

	if (b == NULL) {
		p->list_end = true;
		return NULL;
	}
	while (b->n < PRELOAD_BATCH && bytes < PRELOAD_BATCH_BYTES) {
		size_t got = fread(line, 1, sizeof line, p->list);

		if (got != sizeof line || !go_entry_parse(line, sizeof line, &e)) {
			/* A list left where this build is not ends with another record. */
			p->other_checkout = got == sizeof line &&
			                    memcmp(line, WIRE_LIST_CHECKOUT, WIRE_LIST_CHECKOUT_LEN) == 0 &&
			                    memcmp(line, p->checkout, sizeof line) != 0;
			p->list_end = true;
			break;
		}
		if ((uint64_t)e.size > p->budget || preload_have(r->store, &e))
			continue;
		pthread_mutex_lock(&p->lock);
		it = item_find(p, e.action);
		if (it == NULL && (it = item_add(p, e.action)) != NULL) {
			it->state = ITEM_COMING;
			it->size = (uint64_t)e.size;
		} else {
			it = NULL;  /* asked already, listed twice, or no room */
		}
		pthread_mutex_unlock(&p->lock);
		if (it == NULL)
			continue;
		p->budget -= (uint64_t)e.size;
		bytes += (uint64_t)e.size;
		memcpy(b->actions[b->n], e.action, STORE_HASH_LEN);
		b->sizes[b->n] = (uint64_t)e.size;
		store_hex(e.action, hex);
		memcpy(b->body + b->n * (STORE_ID_LEN + 1), hex, STORE_ID_LEN);
		b->body[b->n * (STORE_ID_LEN + 1) + STORE_ID_LEN] = '\n';
		b->n++;
	}
	if (b->n == 0) {
		free(b);
		return NULL;
	}
	return b;
}

/* ---- batches ------------------------------------------------------------ */

/* A record's entry line is in: find its action in the batch, start its write. */
static bool preload_record_begins(struct remote *r, struct job *j)
{
	struct batch *b = j->batch;
	char o[STORE_ID_LEN + 1];
	int k;

	if (!go_entry_parse(b->head, GO_ENTRY_LEN, &b->entry))
		return false;
	for (k = b->seen; k < b->n; k++)
		if (memcmp(b->actions[k], b->entry.action, STORE_HASH_LEN) == 0)
			break;
	if (k == b->n)
		return false;  /* not asked, or out of order: the stream cannot be trusted */
	/* Records skipped are actions the server lacks: their bytes go back to the budget. */
	for (; b->seen < k; b->seen++) {
		r->preload->budget += b->sizes[b->seen];
		preload_set(r->preload, b->actions[b->seen], ITEM_FAILED, 0);
		preload_settle(r, b->actions[b->seen], NULL);
	}
	/*
	 * The server's entry may name a larger output than the list: the budget
	 * still holds. Refused, the record is the first of those the batch's end
	 * settles as not coming.
	 */
	if ((uint64_t)b->entry.size > b->sizes[k]) {
		uint64_t more = (uint64_t)b->entry.size - b->sizes[k];
		if (more > r->preload->budget)
			return false;
		r->preload->budget -= more;
	}
	b->seen = k + 1;
	store_hex(b->entry.output, o);
	/* Outputs many actions share (an empty one, say) are written once. */
	b->had_output = local_has_output(r->store, &b->entry);
	if (b->had_output ||
	    store_put_begin(r->store, STORE_CAS, o, (uint64_t)b->entry.size, &j->put) != STORE_OK)
		j->put = NULL;  /* its bytes are read and dropped */
	b->in_body = true;
	b->left = (uint64_t)b->entry.size;
	return true;
}

/* A record's output is all in: keep it if it is right, and settle its gets. */
static void preload_record_ends(struct remote *r, struct job *j)
{
	struct batch *b = j->batch;
	bool ok = b->had_output ||
	          (j->put != NULL && store_put_commit(j->put, b->entry.size) == STORE_OK);

	j->put = NULL;
	b->in_body = false;
	if (!ok) {
		stats_add(&r->stats->remote_errors, 1);
		preload_set(r->preload, b->entry.action, ITEM_FAILED, 0);
		preload_settle(r, b->entry.action, NULL);
		return;
	}
	if (r->recorder != NULL)
		recorder_add(r->recorder, &b->entry);
	else
		local_record(r->store, &b->entry);
	preload_set(r->preload, b->entry.action, ITEM_BROUGHT, (uint64_t)b->entry.size);
	preload_settle(r, b->entry.action, &b->entry);
}

/* Take the stream of a POST /go/batch: entry lines, each followed by its output. */
static size_t preload_write_batch(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	struct batch *b = j->batch;
	size_t n = size * nmemb, off = 0, take;

	remote_took(j->remote, n);
	j->remote->preload->progress_us = clock_us();
	while (off < n) {
		if (!b->in_body) {
			take = GO_ENTRY_LEN - b->head_len;
			if (take > n - off)
				take = n - off;
			memcpy(b->head + b->head_len, data + off, take);
			b->head_len += take;
			off += take;
			if (b->head_len < GO_ENTRY_LEN)
				break;
			b->head_len = 0;
			if (!preload_record_begins(j->remote, j))
				return 0;
		} else {
			take = b->left < n - off ? (size_t)b->left : n - off;
			if (j->put != NULL && store_put_write(j->put, data + off, take) != STORE_OK) {
				store_put_abort(j->put);
				j->put = NULL;
			}
			b->left -= take;
			off += take;
		}
		if (b->in_body && b->left == 0)
			preload_record_ends(j->remote, j);
	}
	return n;
}

/* Send a batch. */
static void preload_send(struct remote *r, struct batch *b)
{
	struct job *j = calloc(1, sizeof *j);
	CURL *e;
	int k;

	if (j == NULL) {
		for (k = 0; k < b->n; k++)
			preload_set(r->preload, b->actions[k], ITEM_FAILED, 0);
		free(b);
		return;
	}
	j->batch = b;
	e = preload_prepare(r, j, STEP_GET_BATCH, "go/batch", NULL);
	if (e != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->upload_headers);  /* no Expect */
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, b->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(b->n * (STORE_ID_LEN + 1)));
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
		remote_accept_zstd(r, e);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, preload_write_batch);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	}
	r->preload->progress_us = clock_us();  /* its first bytes are a round trip away */
	if (e == NULL || !remote_launch(r, j))
		remote_free_job(r, j);
}

void preload_job_ended(struct remote *r, struct job *j)
{
	struct preload *p = r->preload;
	struct batch *b = j->batch;

	if (j->step == STEP_GET_LIST) {
		if (p->phase == PHASE_LISTING)
			p->phase = PHASE_DONE;
		return;
	}
	if (b == NULL)
		return;
	if (b->in_body) {
		preload_set(p, b->entry.action, ITEM_FAILED, 0);
		preload_settle(r, b->entry.action, NULL);
	}
	for (; b->seen < b->n; b->seen++) {
		p->budget += b->sizes[b->seen];  /* not brought: the budget may spend it on others */
		preload_set(p, b->actions[b->seen], ITEM_FAILED, 0);
		preload_settle(r, b->actions[b->seen], NULL);
	}
	free(b);
	j->batch = NULL;
}

bool preload_step_done(struct remote *r, struct job *j, CURLcode result, long code)
{
	struct preload *p = r->preload;

	if (j->step == STEP_GET_LIST) {
		if (result == CURLE_OK && code == 200)
			preload_got_list(p);
		else if (code != 404)
			return false;
		remote_free_job(r, j);  /* 404: nobody has built this scope yet */
		return true;
	}
	if (result == CURLE_OK && code == 200) {
		remote_free_job(r, j);
		return true;
	}
	if (fetch_no_go(code, j)) {
		/* A server without /go: no batches; gets will find out for themselves. */
		p->phase = PHASE_DONE;
		remote_free_job(r, j);
		return true;
	}
	return false;
}

/* ---- driving it --------------------------------------------------------- */

int preload_pump(struct remote *r, int wait_ms)
{
	struct preload *p = r->preload;
	struct batch *b;

	if (p == NULL)
		return wait_ms;
	if (p->phase != PHASE_DONE && (atomic_load(&r->off) || r->no_go)) {
		preload_cancel(r);  /* which also lets the parked gets go on */
		return wait_ms;
	}
	wait_ms = preload_expire(r, wait_ms);
	if (p->phase == PHASE_LISTING)
		return wait_ms;
	if (p->phase == PHASE_START) {
		preload_fetch_list(r);
		if (p->phase == PHASE_LISTING)
			return wait_ms;
	}
	if (p->phase == PHASE_BATCHES) {
		while (r->running_preloads < PRELOAD_JOBS && !p->list_end &&
		       (b = preload_next_batch(r)) != NULL)
			preload_send(r, b);
		if (p->list_end && r->running_preloads == 0)
			p->phase = PHASE_DONE;
	}
	preload_unpark(r);
	return wait_ms;
}

void preload_cancel(struct remote *r)
{
	int i;

	if (r->preload == NULL)
		return;
	r->preload->phase = PHASE_DONE;
	preload_unpark(r);
	/* Freeing swaps the last active job into i: walking down sees each once. */
	for (i = r->nactive - 1; i >= 0; i--)
		if (i < r->nactive && r->active[i]->kind == JOB_PRELOAD)
			remote_free_job(r, r->active[i]);
}

/* ---- setting up and ending --------------------------------------------- */

struct preload *preload_new(const unsigned char key[STORE_HASH_LEN], uint64_t max_bytes, long wait_ms)
{
	struct preload *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	memcpy(p->key, key, STORE_HASH_LEN);
	p->budget = max_bytes;
	p->wait_us = (int64_t)(wait_ms > 0 ? wait_ms : PRELOAD_WAIT_MS) * 1000;
	p->wait_max_us = PRELOAD_WAIT_TIMES * p->wait_us;
	p->phase = PHASE_START;
	scope_checkout_record(p->checkout);
	actionset_init(&p->items, sizeof(struct item));
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

const unsigned char *preload_key(const struct preload *p)
{
	return p->key;
}

bool preload_list_unchanged(const struct preload *p, const struct usedlist_digest *d)
{
	return p != NULL && p->have_list && memcmp(&p->list_digest, d, sizeof *d) == 0;
}

void preload_free(struct preload *p, struct stats *st)
{
	uint64_t unused = 0;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->items.cap; i++) {
		const struct item *it = actionset_slot(&p->items, i);
		if (it != NULL && it->state == ITEM_BROUGHT)
			unused += it->size;
	}
	stats_add(&st->preload_hits, p->hits);
	stats_add(&st->preload_bytes, p->bytes);
	stats_add(&st->preload_unused, unused);
	stats_add(&st->preload_other_checkout, p->other_checkout);
	if (p->list != NULL)
		fclose(p->list);
	pthread_mutex_destroy(&p->lock);
	actionset_free(&p->items);
	free(p);
}
