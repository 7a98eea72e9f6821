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
 * Stop accepting connections, let requests in flight finish for at most
 * grace seconds, then close everything and free s.
 */
void server_stop(struct server *s, unsigned grace);

#endif
