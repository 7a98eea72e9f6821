/*
 * jwt_fuzz.c: libFuzzer target for a CI token as the gateway reads and
 * checks it (jwt_read, then jwt_verify against two fixed keys, RS256 "r1"
 * and ES256 "e1"). Whatever the bytes, a token is read whole or refused
 * with a reason; only "none"-free RS256/ES256 tokens with a kid and an iss
 * are read; and only the seed signed with r1 (a pull request's claims)
 * verifies: any other claims that pass would be a forgery.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/oidc/jwks.h"
#include "gateway/access/oidc/jwt_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public halves of the keys the seeds were made with. */
static const char keys_json[] =
	"{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"r1\", \"use\": \"sig\", \"al"
	"g\": \"RS256\", \"n\": \"rxf1wBFwx4TatJ3QJyDjG2owVqQhPG5mgzfJjoQ8V5uvL"
	"rtwYE71aSQJXIS4g-RUdKSmAQ0uehEZV9IZPao3QXKSG4tk5tZaq_rwWsogSNPWlPEM4_Z"
	"muOfPg80FtvGz2eFTUmeaY79TFpFKbqJ__4howufyPHh5o5NX-g6B3lVBqj5EX31qTHXOT"
	"mS5sK3DmWzuI1U-PBbKR7zdYQIcmIy-Gr7GHEQZWCf4FsWbcLTw_aJ95cXKdzmYsJpUWw7"
	"2i9YKF3d44a4FBM0UoMqTxaBXXGWkiV21llh9Z1fE0t93faSEpFXhsP5-oWWu8vOPyicHq"
	"7A5YxpCXIdGrMyd_w\", \"e\": \"AQAB\"}, {\"kty\": \"EC\", \"crv\": \"P-"
	"256\", \"kid\": \"e1\", \"use\": \"sig\", \"x\": \"hZMPZlEjYoakIquLOpD"
	"xmghTHdHvtFvxU7fNWq85n_0\", \"y\": \"axMf6JstzmLIuo3IAbsB2C37vxfLrBbUL"
	"UY4xynf_SI\"}, {\"kty\": \"oct\", \"kid\": \"h1\", \"k\": \"c2VjcmV0\""
	"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jwks *keys;
	char *text = malloc(size + 1);
	const char *reason = NULL, *alg;
	struct jwt_token t;
	const struct jwk *key;

	if (keys == NULL && (keys = jwks_parse(keys_json, strlen(keys_json), NULL)) == NULL)
		abort();
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!jwt_read(text, &t, &reason)) {
		if (reason == NULL || strchr(reason, '\n') != NULL)
			abort();
		free(text);
		return 0;
	}
	alg = json_string_value(json_object_get(t.header, "alg"));
	if (t.kid == NULL || t.iss == NULL || alg == NULL ||
	    strcmp(alg, t.kind == JWK_RS256 ? "RS256" : "ES256") != 0)
		abort();
	key = jwks_find(keys, t.kid);
	if (key != NULL && jwt_verify(&t, key, t.iss, "cachegate", 1800000000, &reason)) {
		const char *ref = json_string_value(json_object_get(t.claims, "ref"));

		if (ref == NULL || strcmp(ref, "refs/pull/42/merge") != 0 || key->kind != t.kind)
			abort();
	}
	jwt_token_release(&t);
	free(text);
	return 0;
}
