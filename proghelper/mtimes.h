/*
 * mtimes.h: modification times from content, for CI checkouts. The go
 * command keys a cached test result on the size and mtime of every file the
 * test opened, and a fresh checkout gives every file a new mtime; setting
 * each mtime from a hash of the file's content makes equal trees look equal
 * on every machine, so test results cached on one hit on the others.
 */
#ifndef CACHEGATE_PROG_MTIMES_H
#define CACHEGATE_PROG_MTIMES_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "store/store.h"

/*
 * The window every file's time falls in: 2^58 ns (about 9 years) from
 * 2000-01-01T00:00:00Z, far older than the go command's "modified too
 * recently" cut-off. Directories get its first instant.
 */
#define MTIMES_WINDOW_START 946684800
#define MTIMES_WINDOW_BITS 58

/* What a walk did. */
struct mtimes_count {
	uint64_t files;    /* regular files given the time of their content */
	uint64_t links;    /* symbolic links given the time of their target's name (not followed) */
	uint64_t dirs;     /* directories given the fixed time */
	uint64_t skipped;  /* .git, devices, fifos and sockets, left alone */
	uint64_t errors;   /* entries that could not be read or set, one line each on stderr */
};

enum mtimes_result {
	MTIMES_OK = 0,   /* every entry was set or skipped */
	MTIMES_PARTLY,   /* some entries could not be set: n->errors lines were written */
	MTIMES_NO_DIR,   /* the directory itself cannot be opened: *cause says why */
};

/* The time of content whose SHA-256 is digest: anywhere in the window, to the nanosecond. */
struct timespec mtimes_of_digest(const unsigned char digest[STORE_HASH_LEN]);

/*
 * Set the mtime of everything under dir (dir included) from its content:
 * regular files from the SHA-256 of their bytes (read once, streamed),
 * symbolic links (not followed) from that of their target's name,
 * directories to the window's start. Entries named .git are left alone,
 * and so is every access time. Each failure is one line on err; the walk
 * goes on.
 */
enum mtimes_result mtimes_canonicalize(const char *dir, struct mtimes_count *n, FILE *err,
                                       char **cause);

#endif
