/*
 * store_fixture.h: a fresh store in a private directory for each test.
 */
#ifndef CACHEGATE_TESTS_STORE_FIXTURE_H
#define CACHEGATE_TESTS_STORE_FIXTURE_H

#include <stddef.h>

#include "store/store.h"

extern char *fixture_dir;
extern struct store *fixture_store;

/* Criterion init/fini: open fixture_store on a new directory, then remove it all. */
void fixture_open(void);
void fixture_close(void);

/* fixture_open, then the store opened again, as by a later run (store_is_new is false). */
void fixture_open_existing(void);

/* fixture_open with writes through named temp files in tmp/ (store_options.named_temps). */
void fixture_open_named(void);

/* The lowercase hex SHA-256 of buf. */
void fixture_sha256(const void *buf, size_t n, char hex[STORE_ID_LEN + 1]);

/* Number of entries in <fixture_dir>/tmp. */
int fixture_temp_count(void);

#endif
