/*
 * prog_actionset_test.c: the table of actions by 64-bit key that the
 * usedlist and the preload share: every record added is found again with
 * what was written into it, through the table's growth, and once only.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "proghelper/actionset.h"

struct rec {
	uint64_t key;
	uint64_t value;
};

/* The action of number i: distinct ids whose first 64 bits differ. */
static void action_of(uint64_t i, unsigned char action[STORE_HASH_LEN])
{
	uint64_t k = i * 0x9e3779b97f4a7c15u;

	memset(action, 0xab, STORE_HASH_LEN);
	memcpy(action, &k, sizeof k);
}

Test(prog_actionset, records_are_found_through_growth_and_added_once)
{
	enum { N = 5000 };
	unsigned char action[STORE_HASH_LEN];
	struct actionset s;
	struct rec *r;
	size_t walked = 0;
	bool added;

	actionset_init(&s, sizeof(struct rec));
	action_of(1, action);
	cr_assert_null(actionset_find(&s, actionset_key(action)), "an empty set finds nothing");
	for (uint64_t i = 0; i < N; i++) {
		action_of(i, action);
		r = actionset_add(&s, actionset_key(action), &added);
		cr_assert_not_null(r);
		cr_assert(added, "action %llu was there before it was added", (unsigned long long)i);
		cr_assert_eq(r->value, 0, "a new record is zeroed");
		r->value = i + 1;
	}
	cr_assert_eq(s.count, N);
	cr_assert_geq(s.cap, 2 * N);
	for (uint64_t i = 0; i < N; i++) {
		action_of(i, action);
		r = actionset_find(&s, actionset_key(action));
		cr_assert_not_null(r, "action %llu was lost as the set grew", (unsigned long long)i);
		cr_assert_eq(r->value, i + 1);
		cr_assert_eq(actionset_add(&s, actionset_key(action), &added), r);
		cr_assert_not(added, "action %llu was added twice", (unsigned long long)i);
	}
	for (size_t i = 0; i < s.cap; i++)
		walked += actionset_slot(&s, i) != NULL;
	cr_assert_eq(walked, N);
	cr_assert_eq(s.count, N);
	actionset_free(&s);
	cr_assert_null(actionset_find(&s, actionset_key(action)), "a freed set is empty");
}

Test(prog_actionset, an_id_starting_with_64_zero_bits_has_a_key)
{
	unsigned char action[STORE_HASH_LEN];
	struct actionset s;
	bool added;

	memset(action, 0, sizeof action);
	cr_assert_neq(actionset_key(action), 0, "0 marks a free slot");
	actionset_init(&s, sizeof(uint64_t));
	cr_assert_not_null(actionset_add(&s, actionset_key(action), &added));
	cr_assert(added);
	cr_assert_not_null(actionset_find(&s, actionset_key(action)));
	actionset_free(&s);
}
