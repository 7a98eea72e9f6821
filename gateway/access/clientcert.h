/*
 * clientcert.h: client certificates (--tls-client-ca). libmicrohttpd asks
 * every HTTPS client for a certificate once it has a CA to trust, but lets
 * the handshake go on without one or with a bad one; the check of each
 * request is ours, before any body byte is read or any object served.
 */
#ifndef CACHEGATE_GATEWAY_CLIENTCERT_H
#define CACHEGATE_GATEWAY_CLIENTCERT_H

#include <microhttpd.h>

enum clientcert_result {
	CLIENTCERT_OK = 0,
	CLIENTCERT_MISSING,   /* the client sent no certificate (or the connection is not TLS) */
	CLIENTCERT_INVALID,   /* one not signed by the CA, expired, or not for TLS clients */
	CLIENTCERT_BAD_CA,    /* the CA file (--tls-client-ca) holds no PEM certificate */
};

/*
 * CLIENTCERT_OK when pem holds at least one PEM certificate; else
 * CLIENTCERT_BAD_CA and *cause (the caller frees) names path and what is
 * wrong.
 */
enum clientcert_result clientcert_ca_valid(const char *pem, const char *path, char **cause);

/*
 * Check the certificate the client of c presented against the CA given to
 * libmicrohttpd. On a refusal, *cause (the caller frees) is one line (no
 * newline) saying why.
 */
enum clientcert_result clientcert_check(struct MHD_Connection *c, char **cause);

#endif
