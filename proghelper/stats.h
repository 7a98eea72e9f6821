/*
 * stats.h: counters of one helper run, shared by both threads.
 */
#ifndef CACHEGATE_PROG_STATS_H
#define CACHEGATE_PROG_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct stats {
	atomic_uint_fast64_t gets;
	atomic_uint_fast64_t local_hits;
	atomic_uint_fast64_t remote_hits;
	atomic_uint_fast64_t misses;
	atomic_uint_fast64_t puts;
	atomic_uint_fast64_t uploads;          /* entries written to the remote */
	atomic_uint_fast64_t uploads_dropped;  /* not sent: queue full, remote gone, timeout */
	atomic_uint_fast64_t bytes_up;         /* request bodies on the wire (compressed or not) */
	atomic_uint_fast64_t bytes_up_raw;     /* ... their bytes uncompressed */
	atomic_uint_fast64_t bytes_down;       /* answer bodies on the wire */
	atomic_uint_fast64_t bytes_down_raw;   /* ... their bytes decoded */
	atomic_uint_fast64_t remote_errors;
	atomic_uint_fast64_t remote_wait_us;   /* summed time gets spent waiting on the remote */
	atomic_uint_fast64_t preload_hits;     /* gets answered with what the preload brought */
	atomic_uint_fast64_t preload_bytes;    /* output bytes the preload brought */
	atomic_uint_fast64_t preload_unused;   /* ... of which no get asked for */
	atomic_uint_fast64_t preload_other_checkout;  /* 1: the list came from another path */
	/* For the report (report.h), counted only when count_saved is set before the run: */
	bool count_saved;
	atomic_uint_fast64_t tests_cached;     /* hits that were test results */
	atomic_uint_fast64_t tests_saved_ms;   /* ... the run time they record */
};

/* Add n to a counter. */
void stats_add(atomic_uint_fast64_t *counter, uint64_t n);

/* Write the one-line summary to f. */
void stats_print(struct stats *st, FILE *f);

#endif
