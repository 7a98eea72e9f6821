/*
 * report.h: a Markdown report of what the cache did for a CI job. Each run
 * of the helper adds its numbers (the stats line's, and the test time its
 * hits saved) to the totals kept in the report itself, in an HTML comment
 * a reader never sees, and renders the table again; several go commands,
 * one after another or at once, add up to one report.
 */
#ifndef CACHEGATE_PROG_REPORT_H
#define CACHEGATE_PROG_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "proghelper/stats.h"

/* The first and last lines of the report's section in a file. */
#define REPORT_BEGIN "<!-- cachegate-prog report: rewritten by each go command -->\n"
#define REPORT_END "<!-- end of the cachegate-prog report -->\n"
/* A report file larger than this is not read (GitHub keeps 1 MiB of a step summary). */
#define REPORT_FILE_MAX (4u << 20)

/*
 * If st counts test time (st->count_saved), and the output at path, of size
 * bytes, that a hit hands to the go command is a cached test result, add its
 * run time to st. Any thread.
 */
void report_note_hit(struct stats *st, const char *path, uint64_t size);

/*
 * Add this run's numbers to the report section in the file at path (made if
 * missing; the rest of the file is kept), under an exclusive flock of the
 * file. False with *cause set when it cannot be read or written.
 */
bool report_add(const char *path, struct stats *st, char **cause);

/* True when a run should count for a report: file is set, or $GITHUB_STEP_SUMMARY is. */
bool report_wanted(const char *file);

/*
 * At the end of a run: add st to file (if not NULL) and to the file named by
 * $GITHUB_STEP_SUMMARY (if set and not the same file). A failure is one line
 * on stderr, never more.
 */
void report_end(const char *file, struct stats *st);

#endif
