/*
 * linger.h: close answered connections gracefully (a "lingering close").
 *
 * When the server refuses an upload before reading its body (401, 403,
 * 413, ...), the client may still be sending that body. Closing a socket
 * with unread bytes makes the kernel send a reset, and a reset can destroy
 * the answer before the client reads it. So such a socket is handed here
 * once libmicrohttpd is done with it: its answer has been sent and its
 * sending side shut down; one thread reads and drops what the client still
 * sends, and closes the socket when the client closes, or at the latest
 * after LINGER_MAX_BYTES, LINGER_IDLE_SECONDS of silence or
 * LINGER_TOTAL_SECONDS in all (nginx's lingering_close does the same).
 */
#ifndef CACHEGATE_GATEWAY_LINGER_H
#define CACHEGATE_GATEWAY_LINGER_H

#define LINGER_MAX_BYTES (32 * 1024 * 1024)
#define LINGER_IDLE_SECONDS 5
#define LINGER_TOTAL_SECONDS 30
#define LINGER_MAX_SOCKETS 512  /* beyond this, sockets are closed at once */

struct linger_pool;

/*
 * Start the lingering thread. On failure returns NULL and sets *cause to a
 * sentence the caller frees.
 */
struct linger_pool *linger_start(char **cause);

/*
 * Linger on a duplicate of socket fd (the caller keeps and closes fd as
 * usual). Never blocks; when there is no room the socket is not kept.
 */
void linger_add(struct linger_pool *l, int fd);

/* Stop the thread, close every socket still lingering, free l. NULL is allowed. */
void linger_stop(struct linger_pool *l);

#endif
