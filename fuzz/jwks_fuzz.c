/*
 * jwks_fuzz.c: libFuzzer target for a JWKS document (jwks_parse): a set or
 * one sentence, never both; every key kept has a kid found by jwks_find and
 * a PEM public key that OpenSSL reads back as the kind it claims.
 */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/oidc/jwks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cause = NULL;
	struct jwks *set = jwks_parse((const char *)data, size, &cause);

	if ((set == NULL) == (cause == NULL))
		abort();
	for (size_t i = 0; set != NULL && i < set->n; i++) {
		const struct jwk *k = &set->keys[i];
		BIO *bio = BIO_new_mem_buf(k->pem, -1);
		EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;

		if (k->kid == NULL || jwks_find(set, k->kid) != k || pkey == NULL ||
		    EVP_PKEY_get_base_id(pkey) != (k->kind == JWK_RS256 ? EVP_PKEY_RSA : EVP_PKEY_EC))
			abort();
		EVP_PKEY_free(pkey);
		BIO_free(bio);
	}
	jwks_free(set);
	free(cause);
	return 0;
}
