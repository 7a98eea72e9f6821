/*
 * watchdog.h: deadlines per connection. The connection timeout of
 * libmicrohttpd only catches a silent peer; a peer that trickles one byte
 * now and then is cut off here: while a request's head has not arrived
 * whole, --header-timeout after the connection's start or its last
 * request (which also ends idle keep-alive connections); once it has, when
 * the request has run longer than --request-timeout.
 * An upload whose client has hung up is cut off too, within a second, and
 * so is one whose body brings less than --min-body-rate bytes per second
 * over a window of WATCHDOG_BODY_WINDOW_MS (the first one is its grace).
 * libmicrohttpd 0.9.75 cannot queue an answer while a body arrives, so such
 * a cut is a closed connection, not a 408.
 */
#ifndef CACHEGATE_GATEWAY_WATCHDOG_H
#define CACHEGATE_GATEWAY_WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The span over which a body's rate is judged. */
#define WATCHDOG_BODY_WINDOW_MS 10000

struct watchdog;
struct conn_watch;

/*
 * Start the thread that closes overdue connections (checked each second).
 * On failure returns NULL and sets *cause to a sentence the caller frees.
 */
struct watchdog *watchdog_start(unsigned request_timeout, unsigned header_timeout,
                                uint64_t min_body_rate, char **cause);

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

/*
 * Whether the connection's request still expects body bytes; a body that
 * starts is counted from zero. NULL is allowed.
 */
void watchdog_receiving(struct conn_watch *cw, bool receiving);

/* n more body bytes arrived. NULL is allowed. */
void watchdog_body(struct conn_watch *cw, size_t n);

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
