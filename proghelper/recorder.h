/*
 * recorder.h: write the entries of remote hits to the local store on a
 * thread of their own. A remote hit is answered as soon as its output is
 * stored; its entry is only needed by later builds, so the go command never
 * waits for it to be written. recorder_stop writes what is left.
 */
#ifndef CACHEGATE_PROG_RECORDER_H
#define CACHEGATE_PROG_RECORDER_H

#include "proghelper/local.h"

/* The thread and its queue; made by recorder_start, freed by recorder_stop. */
struct recorder;

/* Start the thread writing into s; NULL on failure. */
struct recorder *recorder_start(struct store *s);

/* Queue e to be recorded (copied). Writes it at once when out of memory. */
void recorder_add(struct recorder *rec, const struct go_entry *e);

/*
 * True, with its entry in e, when action's entry is queued or being
 * written: its output is in the store already, so the entry answers a get.
 */
bool recorder_find(struct recorder *rec, const unsigned char action[STORE_HASH_LEN],
                   struct go_entry *e);

/*
 * Record e (a put's entry) at once, dropping any queued entry of the same
 * action first, so a remote hit's older entry never overwrites it later.
 */
enum local_result recorder_record_now(struct recorder *rec, const struct go_entry *e);

/* Write everything still queued, stop the thread and free rec. NULL is allowed. */
void recorder_stop(struct recorder *rec);

#endif
