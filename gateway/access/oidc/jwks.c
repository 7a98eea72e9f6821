/*
 * jwks.c: JWKS documents into PEM public keys. jansson reads the JSON;
 * OpenSSL 3 builds each key from its numbers (EVP_PKEY_fromdata, which also
 * refuses an EC point off the curve) and writes it as PEM, the form libjwt
 * takes. A set either parses whole or not at all.
 */
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "common/b64url.h"
#include "gateway/access/oidc/jwks.h"

/* The smallest RSA modulus accepted, in bits. */
#define RSA_MIN_BITS 2048
/* The largest, in bytes: 8192 bits. */
#define RSA_MAX_BYTES 1024
/* Longest kid kept. */
#define KID_MAX 256

/* The base64url member name of o decoded, or NULL; *len its length. */
static unsigned char *member_bytes(json_t *o, const char *name, size_t *len)
{
	const char *text = json_string_value(json_object_get(o, name));

	if (text == NULL || text[0] == '\0')
		return NULL;
	return b64url_decode(text, strlen(text), len);
}

/* The PEM text of pkey, or NULL. */
static char *pkey_pem(EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	long len;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_PUBKEY(bio, pkey) == 1) {
		len = BIO_get_mem_data(bio, &data);
		if (len > 0)
			pem = strndup(data, (size_t)len);
	}
	BIO_free(bio);
	return pem;
}

/* Build a public key from params with OpenSSL's keytype; NULL if it refuses. */
static EVP_PKEY *pkey_from(const char *keytype, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, keytype, NULL);
	EVP_PKEY *pkey = NULL;

	if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* The PEM of an RSA JWK (n, e), or NULL with *cause. */
static char *rsa_pem(json_t *k, char **cause)
{
	size_t nlen = 0, elen = 0;
	unsigned char *n = member_bytes(k, "n", &nlen), *e = member_bytes(k, "e", &elen);
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;
	char *pem = NULL;

	if (n == NULL || e == NULL || nlen > RSA_MAX_BYTES || elen > 8) {
		cause_set(cause, "an RSA key without a valid \"n\" and \"e\"");
		goto out;
	}
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	if (bn == NULL || be == NULL || BN_num_bits(bn) < RSA_MIN_BITS || !BN_is_odd(be) ||
	    BN_is_one(be)) {
		cause_set(cause, "an RSA key shorter than %d bits or with a bad exponent",
		          RSA_MIN_BITS);
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		cause_set(cause, "out of memory");
		goto out;
	}
	pkey = pkey_from("RSA", params);
	pem = pkey != NULL ? pkey_pem(pkey) : NULL;
	if (pem == NULL)
		cause_set(cause, "an RSA key OpenSSL refuses");
out:
	EVP_PKEY_free(pkey);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return pem;
}

/* The PEM of an EC P-256 JWK (x, y), or NULL with *cause. */
static char *ec_pem(json_t *k, char **cause)
{
	size_t xlen = 0, ylen = 0;
	unsigned char *x = member_bytes(k, "x", &xlen), *y = member_bytes(k, "y", &ylen);
	unsigned char point[65];
	char group[] = "prime256v1";
	OSSL_PARAM params[3];
	EVP_PKEY *pkey = NULL;
	char *pem = NULL;

	if (x == NULL || y == NULL || xlen != 32 || ylen != 32) {
		cause_set(cause, "a P-256 key without 32-byte \"x\" and \"y\"");
		goto out;
	}
	point[0] = 0x04; /* uncompressed: x then y */
	memcpy(point + 1, x, 32);
	memcpy(point + 33, y, 32);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point,
	                                              sizeof(point));
	params[2] = OSSL_PARAM_construct_end();
	pkey = pkey_from("EC", params);
	pem = pkey != NULL ? pkey_pem(pkey) : NULL;
	if (pem == NULL)
		cause_set(cause, "a P-256 key whose point is not on the curve");
out:
	EVP_PKEY_free(pkey);
	free(x);
	free(y);
	return pem;
}

/* Is k a signature key of a kind we accept? Sets *kind. Others are skipped. */
static bool wanted(json_t *k, enum jwk_kind *kind)
{
	const char *kty = json_string_value(json_object_get(k, "kty"));
	const char *use = json_string_value(json_object_get(k, "use"));
	const char *alg = json_string_value(json_object_get(k, "alg"));
	const char *crv = json_string_value(json_object_get(k, "crv"));

	if (kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
		return false;
	if (strcmp(kty, "RSA") == 0 && (alg == NULL || strcmp(alg, "RS256") == 0)) {
		*kind = JWK_RS256;
		return true;
	}
	if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0 &&
	    (alg == NULL || strcmp(alg, "ES256") == 0)) {
		*kind = JWK_ES256;
		return true;
	}
	return false;
}

struct jwks *jwks_parse(const char *text, size_t len, char **cause)
{
	json_error_t error;
	json_t *doc, *keys, *k;
	struct jwks *set;
	size_t i;

	if (len > JWKS_MAX_BYTES) {
		cause_set(cause, "a JWKS over %d bytes", JWKS_MAX_BYTES);
		return NULL;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys)) {
		cause_set(cause, "not a JWKS: no \"keys\" array");
		json_decref(doc);
		return NULL;
	}
	set = calloc(1, sizeof(*set));
	if (set == NULL) {
		cause_set(cause, "out of memory");
		json_decref(doc);
		return NULL;
	}
	json_array_foreach(keys, i, k) {
		const char *kid = json_string_value(json_object_get(k, "kid"));
		struct jwk *key = &set->keys[set->n];
		enum jwk_kind kind;
		char *why = NULL;

		if (!json_is_object(k) || !wanted(k, &kind) || kid == NULL ||
		    strlen(kid) > KID_MAX)
			continue;
		if (set->n == JWKS_MAX_KEYS) {
			cause_set(cause, "a JWKS of more than %d keys", JWKS_MAX_KEYS);
			goto fail;
		}
		if (jwks_find(set, kid) != NULL) {
			cause_set(cause, "a JWKS naming kid \"%.64s\" twice", kid);
			goto fail;
		}
		key->pem = kind == JWK_RS256 ? rsa_pem(k, &why) : ec_pem(k, &why);
		if (key->pem == NULL) {
			cause_set(cause, "JWKS key \"%.64s\": %s", kid, cause_text(why));
			free(why);
			goto fail;
		}
		key->kid = strdup(kid);
		key->kind = kind;
		set->n++;
		if (key->kid == NULL) {
			cause_set(cause, "out of memory");
			goto fail;
		}
	}
	json_decref(doc);
	return set;
fail:
	json_decref(doc);
	jwks_free(set);
	return NULL;
}

const struct jwk *jwks_find(const struct jwks *set, const char *kid)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->keys[i].kid != NULL && strcmp(set->keys[i].kid, kid) == 0)
			return &set->keys[i];
	return NULL;
}

void jwks_free(struct jwks *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->keys[i].kid);
		free(set->keys[i].pem);
	}
	free(set);
}
