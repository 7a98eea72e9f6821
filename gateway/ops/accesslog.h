/*
 * accesslog.h: one line per request on stderr (--log). Never any header,
 * so never a token.
 */
#ifndef CACHEGATE_GATEWAY_ACCESSLOG_H
#define CACHEGATE_GATEWAY_ACCESSLOG_H

#include <stdbool.h>
#include <sys/socket.h>

#include "gateway/http/request.h"

/* Copy name and url into r for the log, printable and truncated. */
void accesslog_note(struct request *r, const char *name, const char *url);

/*
 * Write r's line: time, client, method, path, status (0 when none was
 * sent), bytes in and out, duration, the namespaces of its grant (ns= the
 * one written, "-" when read only; reads= those read, in order) once its
 * credentials passed, and "aborted" when it did not finish.
 */
void accesslog_write(const struct request *r, const struct sockaddr *client, bool finished);

#endif
