/*
 * oidc_fixture.c: keys, JWKS, tokens and a stand-in issuer for the OIDC
 * tests (see oidc_fixture.h). Failures abort the test: they are the
 * fixture's, not the code under test's.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <jwt.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/oidc_fixture.h"

/* Stop the test run with a message: the fixture itself failed. */
static void die(const char *what)
{
	fprintf(stderr, "oidc fixture: %s\n", what);
	abort();
}

char *test_b64url(const void *data, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	char *out = malloc(len / 3 * 4 + 5), *o = out;

	if (out == NULL)
		die("out of memory");
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		*o++ = abc[(v >> 18) & 63];
		*o++ = abc[(v >> 12) & 63];
		if (left > 1)
			*o++ = abc[(v >> 6) & 63];
		if (left > 2)
			*o++ = abc[v & 63];
	}
	*o = '\0';
	return out;
}

/* The PEM text pkey writes, private or public. */
static char *pem_of(EVP_PKEY *pkey, bool priv)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem;
	long len;

	if (bio == NULL || (priv ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
	                         : PEM_write_bio_PUBKEY(bio, pkey)) != 1)
		die("PEM");
	len = BIO_get_mem_data(bio, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(bio);
	return pem;
}

void test_key_make(struct test_key *k, bool ec, const char *kid)
{
	memset(k, 0, sizeof(*k));
	k->ec = ec;
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	k->pkey = ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
	             : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (k->pkey == NULL)
		die("keygen");
	k->priv_pem = pem_of(k->pkey, true);
	k->pub_pem = pem_of(k->pkey, false);
}

void test_key_free(struct test_key *k)
{
	EVP_PKEY_free(k->pkey);
	free(k->priv_pem);
	free(k->pub_pem);
	memset(k, 0, sizeof(*k));
}

/* The base64url of a BIGNUM parameter of pkey, big-endian, no leading zeros. */
static char *bn_b64(EVP_PKEY *pkey, const char *param, int pad_to)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int len;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		die("get_bn_param");
	len = pad_to > 0 ? BN_bn2binpad(bn, buf, pad_to) : BN_bn2bin(bn, buf);
	BN_free(bn);
	if (len <= 0)
		die("bn2bin");
	return test_b64url(buf, (size_t)len);
}

/* The public JWK of k as a jansson object. */
static json_t *jwk_of(const struct test_key *k)
{
	char *a, *b;
	json_t *j;

	if (k->ec) {
		a = bn_b64(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		b = bn_b64(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256",
		              "kid", k->kid, "use", "sig", "x", a, "y", b);
	} else {
		a = bn_b64(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
		b = bn_b64(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
		j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "alg", "RS256",
		              "kid", k->kid, "use", "sig", "n", a, "e", b);
	}
	free(a);
	free(b);
	if (j == NULL)
		die("json_pack");
	return j;
}

char *test_jwks(const struct test_key *const *keys, size_t n)
{
	json_t *arr = json_array(), *doc;
	char *text;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, jwk_of(keys[i]));
	doc = json_pack("{s:o}", "keys", arr);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (text == NULL)
		die("json_dumps");
	return text;
}

char *test_token(const struct test_key *k, const char *claims)
{
	jwt_t *jwt = NULL;
	char *token;

	if (jwt_new(&jwt) != 0 || jwt_add_grants_json(jwt, claims) != 0 ||
	    jwt_add_header(jwt, "kid", k->kid) != 0 ||
	    jwt_set_alg(jwt, k->ec ? JWT_ALG_ES256 : JWT_ALG_RS256,
	                (const unsigned char *)k->priv_pem, (int)strlen(k->priv_pem)) != 0)
		die("libjwt signing setup");
	token = jwt_encode_str(jwt);
	jwt_free(jwt);
	if (token == NULL)
		die("jwt_encode_str");
	return token;
}

char *test_token_evp(const struct test_key *k, const char *claims)
{
	char header[96], *unsigned_part, *sig64, *token;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[512], raw[64];
	const unsigned char *p = der;
	size_t len = sizeof(der);
	ECDSA_SIG *es = NULL;

	snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
	         k->ec ? "ES256" : "RS256", k->kid);
	token = test_token_raw(header, claims, "");
	unsigned_part = strndup(token, strlen(token) - 1); /* without the last '.' */
	if (md == NULL || unsigned_part == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(md, der, &len, (const unsigned char *)unsigned_part,
	                   strlen(unsigned_part)) != 1)
		die("EVP_DigestSign");
	if (k->ec) {
		/* DER's SEQUENCE { r, s } into the fixed-width r || s of JWS. */
		es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		if (es == NULL || BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32) != 32 ||
		    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32) != 32)
			die("ECDSA_SIG");
		sig64 = test_b64url(raw, sizeof(raw));
		ECDSA_SIG_free(es);
	} else {
		sig64 = test_b64url(der, len);
	}
	free(token);
	if (asprintf(&token, "%s.%s", unsigned_part, sig64) < 0)
		die("asprintf");
	free(sig64);
	free(unsigned_part);
	EVP_MD_CTX_free(md);
	return token;
}

char *test_token_raw(const char *header, const char *claims, const char *sig)
{
	char *h = test_b64url(header, strlen(header)), *c = test_b64url(claims, strlen(claims));
	char *token;

	if (asprintf(&token, "%s.%s.%s", h, c, sig) < 0)
		die("asprintf");
	free(h);
	free(c);
	return token;
}

void test_write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		die("write file");
}

/* The stand-in issuer's state. */
static struct {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	char url[64];
	char *jwks;
	int discovery_hits, jwks_hits;
} iss = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Answer one request of the stand-in issuer. */
static enum MHD_Result issuer_answer(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version,
                                     const char *upload, size_t *upload_size, void **state)
{
	struct MHD_Response *r;
	char *body = NULL;
	unsigned status = 200;
	enum MHD_Result ret;

	(void)cls, (void)method, (void)version, (void)upload, (void)upload_size, (void)state;
	pthread_mutex_lock(&iss.lock);
	if (strcmp(url, "/.well-known/openid-configuration") == 0) {
		iss.discovery_hits++;
		if (asprintf(&body, "{\"issuer\":\"%s\",\"jwks_uri\":\"%s/jwks\"}", iss.url,
		             iss.url) < 0)
			body = NULL;
	} else if (strcmp(url, "/jwks") == 0) {
		iss.jwks_hits++;
		body = strdup(iss.jwks);
	} else {
		status = 404;
		body = strdup("not here\n");
	}
	pthread_mutex_unlock(&iss.lock);
	if (body == NULL)
		die("out of memory");
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

uint16_t stand_in_issuer_start(const char *jwks, char url[64])
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	uint16_t port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	stand_in_issuer_set_jwks(jwks);
	iss.discovery_hits = iss.jwks_hits = 0;
	iss.daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	                              MHD_USE_INTERNAL_POLLING_THREAD,
	                              0, NULL, NULL, issuer_answer, NULL,
	                              MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	if (iss.daemon == NULL)
		die("MHD_start_daemon");
	port = MHD_get_daemon_info(iss.daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
	pthread_mutex_lock(&iss.lock);
	snprintf(iss.url, sizeof(iss.url), "http://127.0.0.1:%u", port);
	pthread_mutex_unlock(&iss.lock);
	snprintf(url, 64, "http://127.0.0.1:%u", port);
	return port;
}

void stand_in_issuer_set_jwks(const char *jwks)
{
	char *copy = strdup(jwks);

	if (copy == NULL)
		die("out of memory");
	pthread_mutex_lock(&iss.lock);
	free(iss.jwks);
	iss.jwks = copy;
	pthread_mutex_unlock(&iss.lock);
}

int stand_in_issuer_hits(const char *path)
{
	int n;

	pthread_mutex_lock(&iss.lock);
	n = strcmp(path, "/jwks") == 0 ? iss.jwks_hits : iss.discovery_hits;
	pthread_mutex_unlock(&iss.lock);
	return n;
}

void stand_in_issuer_stop(void)
{
	if (iss.daemon != NULL)
		MHD_stop_daemon(iss.daemon);
	iss.daemon = NULL;
	free(iss.jwks);
	iss.jwks = NULL;
}
