/*
 * stats.c: the run's counters and their summary line.
 */
#include "proghelper/stats.h"

#include <inttypes.h>

void stats_add(atomic_uint_fast64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* Read a counter. */
static uint64_t stats_get(atomic_uint_fast64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

void stats_print(struct stats *st, FILE *f)
{
	fprintf(f,
	        "cachegate-prog: gets %" PRIu64 ", local hits %" PRIu64 ", remote hits %" PRIu64
	        ", misses %" PRIu64 ", puts %" PRIu64 ", uploads %" PRIu64 " (dropped %" PRIu64
	        "), bytes up %" PRIu64 " (raw %" PRIu64 "), bytes down %" PRIu64 " (raw %" PRIu64
	        "), remote errors %" PRIu64
	        ", remote wait %.3fs, preload hits %" PRIu64 ", preload bytes %" PRIu64
	        " (unused %" PRIu64 ")\n",
	        stats_get(&st->gets), stats_get(&st->local_hits), stats_get(&st->remote_hits),
	        stats_get(&st->misses), stats_get(&st->puts), stats_get(&st->uploads),
	        stats_get(&st->uploads_dropped), stats_get(&st->bytes_up), stats_get(&st->bytes_up_raw),
	        stats_get(&st->bytes_down), stats_get(&st->bytes_down_raw), stats_get(&st->remote_errors),
	        (double)stats_get(&st->remote_wait_us) / 1e6, stats_get(&st->preload_hits),
	        stats_get(&st->preload_bytes), stats_get(&st->preload_unused));
}
