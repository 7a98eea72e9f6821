/*
 * verdicts.c: the table of accepted tokens (see verdicts.h). A slot is
 * chosen by the hash's first bytes; a newer token takes the slot of an
 * older one. One lock: every operation copies one grant at most.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/oidc/verdicts.h"

struct slot {
	unsigned char hash[32];  /* SHA-256 of the token */
	time_t from, until;      /* good from from, before until; until 0: empty */
	uint64_t tag;            /* the owner's */
	struct grant grant;
};

struct verdicts {
	pthread_mutex_t lock;
	struct slot slots[VERDICTS_SLOTS];
};

struct verdicts *verdicts_new(void)
{
	struct verdicts *v = calloc(1, sizeof(*v));

	if (v != NULL && pthread_mutex_init(&v->lock, NULL) != 0) {
		free(v);
		v = NULL;
	}
	return v;
}

/* The SHA-256 of token into hash, and its slot; false if OpenSSL fails. */
static bool slot_of(const char *token, unsigned char hash[32], size_t *slot)
{
	uint32_t first;

	if (EVP_Digest(token, strlen(token), hash, NULL, EVP_sha256(), NULL) != 1)
		return false;
	memcpy(&first, hash, sizeof(first));
	*slot = first % VERDICTS_SLOTS;
	return true;
}

bool verdicts_get(struct verdicts *v, const char *token, time_t now, struct grant *g,
                  uint64_t *tag)
{
	unsigned char hash[32];
	size_t i;
	bool found;

	if (!slot_of(token, hash, &i))
		return false;
	pthread_mutex_lock(&v->lock);
	found = v->slots[i].from <= now && now < v->slots[i].until &&
	        memcmp(v->slots[i].hash, hash, sizeof(hash)) == 0;
	if (found) {
		*g = v->slots[i].grant;
		*tag = v->slots[i].tag;
	}
	pthread_mutex_unlock(&v->lock);
	return found;
}

void verdicts_put(struct verdicts *v, const char *token, time_t from, time_t until,
                  uint64_t tag, const struct grant *g)
{
	unsigned char hash[32];
	size_t i;

	if (!slot_of(token, hash, &i))
		return;
	pthread_mutex_lock(&v->lock);
	memcpy(v->slots[i].hash, hash, sizeof(hash));
	v->slots[i].from = from;
	v->slots[i].until = until;
	v->slots[i].tag = tag;
	v->slots[i].grant = *g;
	pthread_mutex_unlock(&v->lock);
}

void verdicts_free(struct verdicts *v)
{
	if (v == NULL)
		return;
	pthread_mutex_destroy(&v->lock);
	free(v);
}
