/*
 * recorder.h: write action entries to the local store on a thread of their
 * own, so a remote hit is answered without waiting for that file.
 */
#ifndef CACHEGATE_PROG_RECORDER_H
#define CACHEGATE_PROG_RECORDER_H

#include "proghelper/local.h"

/* The thread and its queue; made by recorder_start, freed by recorder_stop. */
struct recorder;

/* Start the thread writing into s; NULL on failure. */
struct recorder *recorder_start(struct store *s);

/* Queue e to be recorded (copied). Writes it at once when out of memory. */
void recorder_add(struct recorder *rec, const struct local_entry *e);

/* Write everything still queued, stop the thread and free rec. NULL is allowed. */
void recorder_stop(struct recorder *rec);

#endif
