/*
 * oidc_fixture.h: what tests of OIDC tokens need: RSA and P-256 keys made
 * with OpenSSL, their JWKs and JWKS documents, tokens signed with libjwt
 * (or put together by hand, for the forged ones), and a stand-in issuer on
 * 127.0.0.1 serving a discovery document and a JWKS that a test can change.
 */
#ifndef CACHEGATE_TESTS_OIDC_FIXTURE_H
#define CACHEGATE_TESTS_OIDC_FIXTURE_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

struct test_key {
	bool ec;          /* P-256 (ES256); else RSA 2048 (RS256) */
	char kid[32];
	EVP_PKEY *pkey;
	char *priv_pem;   /* PKCS#8 PEM, for libjwt's signing */
	char *pub_pem;    /* SubjectPublicKeyInfo PEM */
};

/* A new key pair named kid. */
void test_key_make(struct test_key *k, bool ec, const char *kid);
void test_key_free(struct test_key *k);

/* A JWKS document holding the public halves of keys (the caller frees it). */
char *test_jwks(const struct test_key *const *keys, size_t n);

/* The base64url form of len bytes (the caller frees it). */
char *test_b64url(const void *data, size_t len);

/* A token with claims (a JSON object's text) signed by k with its algorithm. */
char *test_token(const struct test_key *k, const char *claims);

/*
 * A token signed by k with OpenSSL's EVP directly, not libjwt, as the JWS
 * spec says (ES256: r and s as two 32-byte numbers), to check libjwt
 * against an independent signer.
 */
char *test_token_evp(const struct test_key *k, const char *claims);

/* A token put together by hand: header and claims as JSON text, sig as is. */
char *test_token_raw(const char *header, const char *claims, const char *sig);

/* Write text to path atomically (through a temporary file and a rename). */
void test_write_file(const char *path, const char *text);

/*
 * The stand-in issuer: /.well-known/openid-configuration names itself
 * (http://127.0.0.1:PORT) as issuer and /jwks as jwks_uri, which answers
 * the JWKS last set. Returns the port; its URL is in issuer_url.
 */
uint16_t stand_in_issuer_start(const char *jwks, char url[64]);
void stand_in_issuer_set_jwks(const char *jwks);
/* Requests so far whose path is path. */
int stand_in_issuer_hits(const char *path);
void stand_in_issuer_stop(void);

#endif
