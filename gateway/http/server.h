/*
 * server.h: the libmicrohttpd daemon (a thread pool over epoll) and the
 * routing of each request to its handler.
 */
#ifndef CACHEGATE_GATEWAY_SERVER_H
#define CACHEGATE_GATEWAY_SERVER_H

#include <stdint.h>

#include "gateway/gateway.h"

struct server;

/*
 * Listen as gw->opt says and serve gw until server_stop. On failure
 * returns NULL and sets *cause to a sentence the caller frees.
 */
struct server *server_start(struct gateway *gw, char **cause);

/* The TCP port listened on (the one picked when port 0 was asked for). */
uint16_t server_port(const struct server *s);

/*
 * Stop accepting connections and let requests in flight finish for at most
 * grace seconds. Requests still waiting on the shared tier must then be let
 * go (by stopping the tier) before server_stop.
 */
void server_drain(struct server *s, unsigned grace);

/* Close every connection and free s (after server_drain). */
void server_stop(struct server *s);

#endif
