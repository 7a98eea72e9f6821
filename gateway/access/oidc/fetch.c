/*
 * fetch.c: GET of an issuer's documents with libcurl, into memory (they are
 * small JSON texts, capped), on the calling thread.
 */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "gateway/access/oidc/fetch.h"

/* The body as it arrives, refused once it passes max. */
struct body {
	char *data;
	size_t len, max;
	bool too_big;
};

/* libcurl's write callback: append, or stop the transfer past max. */
static size_t take(char *chunk, size_t size, size_t n, void *opaque)
{
	struct body *b = opaque;
	size_t add = size * n;
	char *grown;

	if (add > b->max - b->len) {
		b->too_big = true;
		return 0;
	}
	grown = realloc(b->data, b->len + add + 1);
	if (grown == NULL)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, chunk, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

char *oidc_fetch(const char *url, size_t max, size_t *len, char **cause)
{
	struct body b = {.max = max};
	CURL *curl = curl_easy_init();
	CURLcode rc;
	long status = 0;

	if (curl == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)OIDC_FETCH_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (rc == CURLE_OK && status == 200 && b.data == NULL)
		b.data = calloc(1, 1);
	if (rc != CURLE_OK || status != 200 || b.data == NULL) {
		if (b.too_big)
			cause_set(cause, "%s: answer over %zu bytes", url, max);
		else if (rc != CURLE_OK)
			cause_set(cause, "%s: %s", url, curl_easy_strerror(rc));
		else
			cause_set(cause, "%s: status %ld", url, status);
		free(b.data);
		return NULL;
	}
	*len = b.len;
	return b.data;
}
