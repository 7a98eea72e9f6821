/*
 * issuer.c: an issuer's keys, cached and loaded again when needed. The lock
 * guards the cached set and the load bookkeeping only: loads run outside
 * it, one at a time (the loading flag), while other threads keep using the
 * cached keys; a thread whose kid is not cached waits for a load under way,
 * so the first tokens of a burst (or of a rotation) all see the new keys.
 * A failed load keeps the keys already cached.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "gateway/access/oidc/fetch.h"
#include "gateway/access/oidc/issuer.h"

/* The largest discovery document read. */
#define DISCOVERY_MAX_BYTES (64 * 1024)

struct issuer {
	char *url;               /* the iss, as configured */
	char *jwks_file;         /* or NULL: discovery */
	pthread_mutex_t lock;    /* guards what follows */
	pthread_cond_t loaded;   /* signalled when a load ends */
	struct jwks *keys;       /* the cached set, or NULL */
	time_t loaded_at;        /* when keys were last loaded well */
	time_t tried_at;         /* when the last load started; 0: never */
	bool loading;            /* a thread is loading now */
	unsigned loads;          /* loads tried */
	unsigned generation;     /* loads that replaced the keys */
	char *error;             /* the last load's failure, or NULL */
};

struct issuer *issuer_new(const char *url, const char *jwks_file)
{
	struct issuer *is = calloc(1, sizeof(*is));

	if (is == NULL)
		return NULL;
	is->url = strdup(url);
	is->jwks_file = jwks_file != NULL ? strdup(jwks_file) : NULL;
	if (is->url == NULL || (jwks_file != NULL && is->jwks_file == NULL) ||
	    pthread_mutex_init(&is->lock, NULL) != 0) {
		free(is->url);
		free(is->jwks_file);
		free(is);
		return NULL;
	}
	if (pthread_cond_init(&is->loaded, NULL) != 0) {
		pthread_mutex_destroy(&is->lock);
		free(is->url);
		free(is->jwks_file);
		free(is);
		return NULL;
	}
	return is;
}

const char *issuer_url(const struct issuer *is)
{
	return is->url;
}

/* Read the whole JWKS file path into memory (it is small), or NULL with *cause. */
static char *read_file(const char *path, size_t *len, char **cause)
{
	FILE *f = fopen(path, "rb");
	char *text;

	if (f == NULL) {
		cause_set(cause, "%s: cannot open", path);
		return NULL;
	}
	text = malloc(JWKS_MAX_BYTES + 1);
	*len = text != NULL ? fread(text, 1, JWKS_MAX_BYTES + 1, f) : 0;
	if (text == NULL || ferror(f) || *len > JWKS_MAX_BYTES) {
		cause_set(cause, "%s: unreadable or over %d bytes", path, JWKS_MAX_BYTES);
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* The jwks_uri of the issuer's discovery document, or NULL with *cause. */
static char *discover(const char *url, char **cause)
{
	size_t ulen = strlen(url), len;
	char *where, *doc, *jwks_uri = NULL;
	json_t *j;
	const char *iss, *uri;

	while (ulen > 0 && url[ulen - 1] == '/')
		ulen--;
	if (asprintf(&where, "%.*s/.well-known/openid-configuration", (int)ulen, url) < 0) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	doc = oidc_fetch(where, DISCOVERY_MAX_BYTES, &len, cause);
	j = doc != NULL ? json_loadb(doc, len, 0, NULL) : NULL;
	iss = json_string_value(json_object_get(j, "issuer"));
	uri = json_string_value(json_object_get(j, "jwks_uri"));
	if (doc != NULL && (iss == NULL || strcmp(iss, url) != 0))
		cause_set(cause, "%s: its \"issuer\" is not %s", where, url);
	else if (doc != NULL && uri == NULL)
		cause_set(cause, "%s: no \"jwks_uri\"", where);
	else if (doc != NULL && (jwks_uri = strdup(uri)) == NULL)
		cause_set(cause, "out of memory");
	json_decref(j);
	free(doc);
	free(where);
	return jwks_uri;
}

/* Load the issuer's keys from its file or through discovery; NULL with *cause. */
static struct jwks *load(const struct issuer *is, char **cause)
{
	char *text = NULL, *uri = NULL, *why = NULL;
	const char *from = is->jwks_file;
	struct jwks *set = NULL;
	size_t len = 0;

	if (from != NULL) {
		text = read_file(from, &len, cause);
	} else {
		uri = discover(is->url, cause);
		from = uri;
		if (uri != NULL)
			text = oidc_fetch(uri, JWKS_MAX_BYTES, &len, cause);
	}
	if (text != NULL) {
		set = jwks_parse(text, len, &why);
		if (set == NULL)
			cause_set(cause, "%s: %s", from, cause_text(why));
	}
	free(why);
	free(text);
	free(uri);
	return set;
}

/* Copy key into *out; false on out of memory. */
static bool copy_key(const struct jwk *key, struct jwk *out)
{
	out->kind = key->kind;
	out->kid = strdup(key->kid);
	out->pem = strdup(key->pem);
	if (out->kid == NULL || out->pem == NULL) {
		free(out->kid);
		free(out->pem);
		out->kid = out->pem = NULL;
		return false;
	}
	return true;
}

/* Should a load start now? Caller holds is->lock. */
static bool do_should_load(const struct issuer *is, const char *kid, time_t now)
{
	if (is->tried_at != 0 && now - is->tried_at < ISSUER_REFETCH_SECONDS && now >= is->tried_at)
		return false;
	return is->keys == NULL || jwks_find(is->keys, kid) == NULL ||
	       now - is->loaded_at >= ISSUER_KEYS_MAX_AGE;
}

enum issuer_key_result issuer_key(struct issuer *is, const char *kid, time_t now,
                                  struct jwk *out, unsigned *generation)
{
	enum issuer_key_result r;
	const struct jwk *key;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&is->lock);
	/* A token whose key is not cached waits for a load under way (OIDC_FETCH_TIMEOUT at most). */
	while (is->loading && (is->keys == NULL || jwks_find(is->keys, kid) == NULL))
		pthread_cond_wait(&is->loaded, &is->lock);
	if (!is->loading && do_should_load(is, kid, now)) {
		struct jwks *fresh;
		char *cause = NULL;

		is->loading = true;
		is->tried_at = now;
		is->loads++;
		pthread_mutex_unlock(&is->lock);
		fresh = load(is, &cause);
		pthread_mutex_lock(&is->lock);
		is->loading = false;
		pthread_cond_broadcast(&is->loaded);
		if (fresh != NULL) {
			jwks_free(is->keys);
			is->keys = fresh;
			is->generation++;
			is->loaded_at = now;
		}
		free(is->error);
		is->error = cause;
	}
	key = is->keys != NULL ? jwks_find(is->keys, kid) : NULL;
	*generation = is->generation;
	if (key != NULL)
		r = copy_key(key, out) ? ISSUER_KEY_FOUND : ISSUER_KEY_UNAVAILABLE;
	else
		r = is->keys != NULL ? ISSUER_KEY_UNKNOWN : ISSUER_KEY_UNAVAILABLE;
	pthread_mutex_unlock(&is->lock);
	return r;
}

unsigned issuer_generation(struct issuer *is)
{
	unsigned n;

	pthread_mutex_lock(&is->lock);
	n = is->generation;
	pthread_mutex_unlock(&is->lock);
	return n;
}

unsigned issuer_loads(struct issuer *is)
{
	unsigned n;

	pthread_mutex_lock(&is->lock);
	n = is->loads;
	pthread_mutex_unlock(&is->lock);
	return n;
}

char *issuer_last_error(struct issuer *is)
{
	char *copy;

	pthread_mutex_lock(&is->lock);
	copy = is->error != NULL ? strdup(is->error) : NULL;
	pthread_mutex_unlock(&is->lock);
	return copy;
}

void issuer_free(struct issuer *is)
{
	if (is == NULL)
		return;
	pthread_cond_destroy(&is->loaded);
	pthread_mutex_destroy(&is->lock);
	jwks_free(is->keys);
	free(is->error);
	free(is->url);
	free(is->jwks_file);
	free(is);
}
