/*
 * watchdog.h: deadlines per connection. The connection timeout of
 * libmicrohttpd only catches a silent peer; a peer that trickles one byte
 * now and then is cut off here: while a request's head has not arrived
 * whole, --header-timeout after the connection's start or its last
 * request (which also ends idle keep-alive connections); once it has, when
 * the request has run longer than --request-timeout.
 * An upload whose client has hung up is cut off too, within a second.
 */
#ifndef CACHEGATE_GATEWAY_WATCHDOG_H
#define CACHEGATE_GATEWAY_WATCHDOG_H

#include <stdbool.h>

struct watchdog;
struct conn_watch;

/*
 * Start the thread that closes overdue connections (checked each second).
 * On failure returns NULL and sets *cause to a sentence the caller frees.
 */
struct watchdog *watchdog_start(unsigned request_timeout, unsigned header_timeout, char **cause);

/* Stop the thread and free w; every connection must be closed. NULL is allowed. */
void watchdog_stop(struct watchdog *w);

/*
 * Watch the connection on socket fd; its first request's head must arrive
 * within the header timeout from now.
 * Returns NULL when out of memory (the connection is then not watched).
 */
struct conn_watch *watchdog_open(struct watchdog *w, int fd);

/* A request's head is in: its total deadline starts now. NULL is allowed. */
void watchdog_request_started(struct watchdog *w, struct conn_watch *cw);

/* A request ended: the next one's head must come within the header timeout. NULL is allowed. */
void watchdog_request_done(struct watchdog *w, struct conn_watch *cw);

/* Whether the connection's request still expects body bytes. NULL is allowed. */
void watchdog_receiving(struct conn_watch *cw, bool receiving);

/*
 * The connection's request was answered before its body was read; the
 * client may still be sending it. NULL is allowed.
 */
void watchdog_answered_early(struct conn_watch *cw);

/*
 * Forget a connection before its socket is closed. True when it was
 * answered early, so its socket should linger (linger.h). NULL is allowed.
 */
bool watchdog_close(struct watchdog *w, struct conn_watch *cw);

#endif
