/*
 * usedlist.c: append entry lines to an unlinked temp file, hashing them
 * on the way.
 */
#include "proghelper/usedlist.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

struct usedlist {
	pthread_mutex_t lock;  /* guards everything below */
	FILE *file;            /* NULL once a write failed */
	EVP_MD_CTX *hash;
	uint64_t entries;
	bool finished;         /* usedlist_finish ran: nothing more is added */
};

struct usedlist *
usedlist_open(void)
{
	struct usedlist *u = calloc(1, sizeof *u);

	if (u == NULL)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	u->file = tmpfile();
	u->hash = EVP_MD_CTX_new();
	if (u->file == NULL || u->hash == NULL || !EVP_DigestInit_ex(u->hash, EVP_sha256(), NULL) ||
	    fwrite(USEDLIST_HEADER, 1, USEDLIST_HEADER_LEN, u->file) != USEDLIST_HEADER_LEN) {
		usedlist_free(u);
		return NULL;
	}
	EVP_DigestUpdate(u->hash, USEDLIST_HEADER, USEDLIST_HEADER_LEN);
	return u;
}

void
usedlist_add(struct usedlist *u, const struct go_entry *e)
{
	char line[GO_ENTRY_LEN + 1];

	if (u == NULL)
		return;
	go_entry_format(e, line);
	pthread_mutex_lock(&u->lock);
	if (u->file != NULL && !u->finished && u->entries < USEDLIST_MAX_ENTRIES) {
		if (fwrite(line, 1, GO_ENTRY_LEN, u->file) == GO_ENTRY_LEN) {
			EVP_DigestUpdate(u->hash, line, GO_ENTRY_LEN);
			u->entries++;
		} else {
			fclose(u->file);
			u->file = NULL;
		}
	}
	pthread_mutex_unlock(&u->lock);
}

bool
usedlist_finish(struct usedlist *u, int *fd, uint64_t *size, unsigned char hash[STORE_HASH_LEN])
{
	bool ok;

	pthread_mutex_lock(&u->lock);
	u->finished = true;
	ok = u->file != NULL && u->entries > 0 && fflush(u->file) == 0 &&
	     EVP_DigestFinal_ex(u->hash, hash, NULL);
	if (ok) {
		*size = USEDLIST_HEADER_LEN + u->entries * GO_ENTRY_LEN;
		*fd = fcntl(fileno(u->file), F_DUPFD_CLOEXEC, 0);
		ok = *fd >= 0 && lseek(*fd, 0, SEEK_SET) == 0;
		if (!ok && *fd >= 0)
			close(*fd);
	}
	pthread_mutex_unlock(&u->lock);
	return ok;
}

void
usedlist_free(struct usedlist *u)
{
	if (u == NULL)
		return;
	if (u->file != NULL)
		fclose(u->file);
	EVP_MD_CTX_free(u->hash);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
