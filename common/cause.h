/*
 * cause.h: error sentences that travel to the caller, tmux style: a
 * function that fails returns its result and sets *cause, which the caller
 * prints and frees.
 */
#ifndef CACHEGATE_COMMON_CAUSE_H
#define CACHEGATE_COMMON_CAUSE_H

#include <stdarg.h>

/*
 * Set *cause to a newly allocated sentence (the caller frees it); on out of
 * memory, to a copy of "out of memory" or NULL. A NULL cause is ignored.
 */
__attribute__((format(printf, 2, 3)))
void cause_set(char **cause, const char *fmt, ...);

/* cause_set with the arguments in a va_list. */
__attribute__((format(printf, 2, 0)))
void cause_vset(char **cause, const char *fmt, va_list ap);

/* A cause as text to print: cause itself, or "out of memory" when it is NULL. */
const char *cause_text(const char *cause);

#endif
