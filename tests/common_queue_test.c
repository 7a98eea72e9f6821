/*
 * common_queue_test.c: the intrusive FIFO (common/queue.h): elements come
 * out in the order the operations promise, and head and tail stay right
 * through removals, steals and prepends.
 */
#include <criterion/criterion.h>
#include <stddef.h>

#include "common/queue.h"

struct item {
	int value;
	struct queue_link link;  /* not first: queue_entry must step back to the item */
};

static struct item items[6];

/* Number the items 0..5. */
static void setup(void)
{
	for (int i = 0; i < 6; i++)
		items[i].value = i;
}

TestSuite(common_queue, .init = setup);

/* Pop everything from q into out (at most n); returns how many came out. */
static int drain(struct queue *q, int *out, int n)
{
	struct queue_link *l;
	int got = 0;

	while ((l = queue_pop(q)) != NULL) {
		cr_assert_lt(got, n, "more came out than went in");
		out[got++] = queue_entry(l, struct item, link)->value;
	}
	cr_assert(queue_empty(q));
	return got;
}

/* Assert that q holds exactly the values want, in order (and empties it). */
static void assert_holds(struct queue *q, const int *want, int n)
{
	int got[6];

	cr_assert_eq(drain(q, got, 6), n);
	for (int i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "at %d: %d, not %d", i, got[i], want[i]);
}

Test(common_queue, push_and_pop_keep_the_order_and_push_front_goes_first)
{
	struct queue q = {0};

	cr_assert(queue_empty(&q));
	cr_assert_null(queue_pop(&q));
	queue_push(&q, &items[1].link);
	queue_push(&q, &items[2].link);
	queue_push_front(&q, &items[0].link);
	cr_assert_eq(queue_first(&q), &items[0].link);
	assert_holds(&q, (int[]){0, 1, 2}, 3);
	/* Emptied, it takes new elements at both ends again. */
	queue_push_front(&q, &items[3].link);
	queue_push(&q, &items[4].link);
	assert_holds(&q, (int[]){3, 4}, 2);
}

Test(common_queue, steal_takes_everything_in_order)
{
	struct queue q = {0}, all;

	for (int i = 0; i < 3; i++)
		queue_push(&q, &items[i].link);
	all = queue_steal(&q);
	cr_assert(queue_empty(&q));
	queue_push(&q, &items[3].link);
	assert_holds(&all, (int[]){0, 1, 2}, 3);
	assert_holds(&q, (int[]){3}, 1);
}

Test(common_queue, prepend_puts_a_whole_queue_ahead)
{
	struct queue q = {0}, front = {0}, none = {0};

	queue_push(&q, &items[3].link);
	queue_push(&q, &items[4].link);
	queue_push(&front, &items[1].link);
	queue_push(&front, &items[2].link);
	queue_prepend(&q, &front);
	queue_prepend(&q, &none);
	cr_assert(queue_empty(&front));
	queue_push(&q, &items[5].link);
	assert_holds(&q, (int[]){1, 2, 3, 4, 5}, 5);
	/* Onto an empty queue: its tail is front's. */
	queue_push(&front, &items[0].link);
	queue_prepend(&q, &front);
	queue_push(&q, &items[1].link);
	assert_holds(&q, (int[]){0, 1}, 2);
}

Test(common_queue, remove_takes_out_the_head_the_middle_and_the_tail)
{
	struct queue q = {0};

	for (int i = 0; i < 5; i++)
		queue_push(&q, &items[i].link);
	cr_assert(queue_remove(&q, &items[2].link));
	cr_assert(queue_remove(&q, &items[0].link));
	cr_assert(queue_remove(&q, &items[4].link));
	cr_assert_not(queue_remove(&q, &items[4].link), "removed twice");
	cr_assert_not(queue_remove(&q, &items[5].link), "never in it");
	/* The tail moved back: a push lands after the last one left. */
	queue_push(&q, &items[5].link);
	assert_holds(&q, (int[]){1, 3, 5}, 3);
	queue_push(&q, &items[0].link);
	cr_assert(queue_remove(&q, &items[0].link));
	cr_assert(queue_empty(&q));
	queue_push(&q, &items[1].link);
	assert_holds(&q, (int[]){1}, 1);
}
