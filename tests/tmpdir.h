/*
 * tmpdir.h: private temporary directories for tests.
 */
#ifndef CACHEGATE_TESTS_TMPDIR_H
#define CACHEGATE_TESTS_TMPDIR_H

/* Create a fresh directory under $TMPDIR (or /tmp); the caller frees it with tmpdir_remove. */
char *tmpdir_make(const char *prefix);

/* Delete the directory and everything in it, then free the string. NULL is allowed. */
void tmpdir_remove(char *dir);

#endif
