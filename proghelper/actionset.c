/*
 * actionset.c: the table of actions by 64-bit key (actionset.h).
 */
#include "proghelper/actionset.h"

#include <stdlib.h>
#include <string.h>

void actionset_init(struct actionset *s, size_t size)
{
	memset(s, 0, sizeof *s);
	s->size = size;
}

uint64_t actionset_key(const unsigned char action[STORE_HASH_LEN])
{
	uint64_t k;

	memcpy(&k, action, sizeof k);
	return k != 0 ? k : 1;
}

static uint64_t slot_key(const unsigned char *slots, size_t size, size_t i)
{
	uint64_t k;

	memcpy(&k, slots + i * size, sizeof k);
	return k;
}

/* The slot of key among cap slots: its own, or the free one where it belongs. */
static size_t slot_of(const unsigned char *slots, size_t size, size_t cap, uint64_t key)
{
	size_t i = key & (cap - 1);
	uint64_t k;

	while ((k = slot_key(slots, size, i)) != 0 && k != key)
		i = (i + 1) & (cap - 1);
	return i;
}

void *actionset_find(const struct actionset *s, uint64_t key)
{
	size_t i;

	if (s->cap == 0)
		return NULL;
	i = slot_of(s->slots, s->size, s->cap, key);
	return slot_key(s->slots, s->size, i) == key ? s->slots + i * s->size : NULL;
}

/* Double the slots (1024 at first); false when out of memory. */
static bool actionset_grow(struct actionset *s)
{
	size_t cap = s->cap > 0 ? s->cap * 2 : 1024;
	unsigned char *grown = calloc(cap, s->size);

	if (grown == NULL)
		return false;
	for (size_t i = 0; i < s->cap; i++) {
		uint64_t k = slot_key(s->slots, s->size, i);
		if (k != 0)
			memcpy(grown + slot_of(grown, s->size, cap, k) * s->size, s->slots + i * s->size,
			       s->size);
	}
	free(s->slots);
	s->slots = grown;
	s->cap = cap;
	return true;
}

void *actionset_add(struct actionset *s, uint64_t key, bool *added)
{
	unsigned char *rec = actionset_find(s, key);

	*added = false;
	if (rec != NULL)
		return rec;
	if ((s->count + 1) * 2 > s->cap && !actionset_grow(s))
		return NULL;
	rec = s->slots + slot_of(s->slots, s->size, s->cap, key) * s->size;
	memcpy(rec, &key, sizeof key);
	s->count++;
	*added = true;
	return rec;
}

void *actionset_slot(const struct actionset *s, size_t i)
{
	return slot_key(s->slots, s->size, i) != 0 ? s->slots + i * s->size : NULL;
}

void actionset_free(struct actionset *s)
{
	free(s->slots);
	actionset_init(s, s->size);
}
