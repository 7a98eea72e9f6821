/*
 * cause.c: error sentences that travel to the caller.
 */
#include "common/cause.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cause_vset(char **cause, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (cause == NULL)
		return;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	*cause = msg != NULL ? msg : strdup("out of memory");
}

void cause_set(char **cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cause_vset(cause, fmt, ap);
	va_end(ap);
}

const char *cause_text(const char *cause)
{
	return cause != NULL ? cause : "out of memory";
}
