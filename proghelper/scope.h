/*
 * scope.h: what a build is, for preloading: the same scope names the same
 * kind of build (the same module, packages, flags, platform and Go
 * version), whose list of used entries the next build of it fetches ahead.
 */
#ifndef CACHEGATE_PROG_SCOPE_H
#define CACHEGATE_PROG_SCOPE_H

#include <stdbool.h>

#include "store/store.h"
#include "wire/goentry.h"

/*
 * The default scope of the go command that started this helper (the parent
 * process): its main module's path and the directory inside the module it
 * runs in, its arguments, GOOS/GOARCH and the build-affecting variables it
 * passed on, and its Go version. A newly allocated text, or NULL when out
 * of memory. Machines with the module checked out anywhere agree.
 */
char *scope_default(void);

/*
 * The checkout record of preload lists (wire/wire.h) for the directory the
 * go command that started this helper runs in: GO_ENTRY_LEN bytes into rec.
 */
void scope_checkout_record(char rec[GO_ENTRY_LEN]);

/* The /ac id under which the list of a scope is kept; false when out of memory. */
bool scope_key(const char *scope, unsigned char key[STORE_HASH_LEN]);

#endif
