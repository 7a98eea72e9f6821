/*
 * usedlist.c: append entry lines to an unlinked temp file, adding them to
 * the list's digest on the way; an action asked for again is listed once
 * (an actionset of 8 bytes per action, the first 64 bits of its id). The
 * finished list ends with the checkout record (wire/wire.h).
 */
#include "proghelper/usedlist.h"
#include "proghelper/actionset.h"
#include "proghelper/scope.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

/* The end of an entry line that holds its time: " <unixnano, %20d>\n". */
#define USEDLIST_TIME_FIELD (1 + 20 + 1)

struct usedlist {
	pthread_mutex_t lock;  /* guards everything below */
	FILE *file;            /* NULL once a write failed */
	struct usedlist_digest digest;
	uint64_t entries;
	struct actionset seen; /* actions listed: keys only */
	bool finished;         /* usedlist_finish ran: nothing more is added */
};

/*
 * Note action as listed (u->lock held): false when it was already, or when
 * the set cannot grow (then the list takes no more).
 */
static bool seen_add(struct usedlist *u, const unsigned char action[STORE_HASH_LEN])
{
	bool added;

	return actionset_add(&u->seen, actionset_key(action), &added) != NULL && added;
}

struct usedlist *usedlist_open(void)
{
	struct usedlist *u = calloc(1, sizeof *u);

	if (u == NULL)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	actionset_init(&u->seen, sizeof(uint64_t));
	u->file = tmpfile();
	if (u->file == NULL ||
	    fwrite(WIRE_LIST_HEADER, 1, WIRE_LIST_HEADER_LEN, u->file) != WIRE_LIST_HEADER_LEN) {
		usedlist_free(u);
		return NULL;
	}
	return u;
}

void usedlist_add(struct usedlist *u, const struct go_entry *e)
{
	char line[GO_ENTRY_LEN + 1];

	if (u == NULL)
		return;
	go_entry_format(e, line);
	pthread_mutex_lock(&u->lock);
	if (u->file != NULL && !u->finished && u->entries < WIRE_LIST_MAX_ENTRIES &&
	    seen_add(u, e->action)) {
		if (fwrite(line, 1, GO_ENTRY_LEN, u->file) == GO_ENTRY_LEN) {
			usedlist_digest_add(&u->digest, line);
			u->entries++;
		} else {
			fclose(u->file);
			u->file = NULL;
		}
	}
	pthread_mutex_unlock(&u->lock);
}

void usedlist_digest_add(struct usedlist_digest *d, const char line[GO_ENTRY_LEN])
{
	unsigned char h[STORE_HASH_LEN];
	uint64_t v;

	/*
	 * A sum of the lines' hashes, lane by lane: the order does not count.
	 * Neither does the time at the end of a line: an output put again is
	 * the same entry for the next build.
	 */
	EVP_Digest(line, GO_ENTRY_LEN - USEDLIST_TIME_FIELD, h, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 4; i++) {
		memcpy(&v, h + 8 * i, sizeof v);
		d->lane[i] += v;
	}
}

bool usedlist_finish(struct usedlist *u, int *fd, uint64_t *size, struct usedlist_digest *d)
{
	char rec[GO_ENTRY_LEN];
	bool ok;

	scope_checkout_record(rec);
	pthread_mutex_lock(&u->lock);
	u->finished = true;
	ok = u->file != NULL && u->entries > 0 &&
	     fwrite(rec, 1, GO_ENTRY_LEN, u->file) == GO_ENTRY_LEN && fflush(u->file) == 0;
	usedlist_digest_add(&u->digest, rec);
	*d = u->digest;
	if (ok) {
		*size = WIRE_LIST_HEADER_LEN + (u->entries + 1) * GO_ENTRY_LEN;
		*fd = fcntl(fileno(u->file), F_DUPFD_CLOEXEC, 0);
		ok = *fd >= 0 && lseek(*fd, 0, SEEK_SET) == 0;
		if (!ok && *fd >= 0)
			close(*fd);
	}
	pthread_mutex_unlock(&u->lock);
	return ok;
}

void usedlist_free(struct usedlist *u)
{
	if (u == NULL)
		return;
	if (u->file != NULL)
		fclose(u->file);
	pthread_mutex_destroy(&u->lock);
	actionset_free(&u->seen);
	free(u);
}
