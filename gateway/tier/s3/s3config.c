/*
 * s3config.c: the shared tier's address and credentials (s3config.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "gateway/tier/s3/s3config.h"

/* True when bucket is a name S3 accepts: 3 to 63 of [a-z0-9.-], alphanumeric at both ends. */
static bool bucket_valid(const char *b)
{
	size_t n = strlen(b);

	if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '.' ||
		      b[i] == '-'))
			return false;
	return true;
}

/* Split "s3://BUCKET[/PREFIX]" into c->bucket and c->prefix ("" or ending in '/'). */
static enum s3_config_result parse_url(struct s3_config *c, const char *url, char **cause)
{
	const char *rest, *slash;
	size_t plen;

	if (strncmp(url, "s3://", 5) != 0) {
		cause_set(cause, "--s3 wants s3://BUCKET[/PREFIX], not '%s'", url);
		return S3_CONFIG_INVALID;
	}
	rest = url + 5;
	slash = strchr(rest, '/');
	c->bucket = slash != NULL ? strndup(rest, (size_t)(slash - rest)) : strdup(rest);
	if (c->bucket == NULL || !bucket_valid(c->bucket)) {
		cause_set(cause, "--s3: '%s' is not a bucket name (3 to 63 lowercase letters, "
		          "digits, dots and hyphens)", c->bucket != NULL ? c->bucket : rest);
		return S3_CONFIG_INVALID;
	}
	rest = slash != NULL ? slash + 1 : "";
	while (*rest == '/')
		rest++;
	plen = strlen(rest);
	while (plen > 0 && rest[plen - 1] == '/')
		plen--;
	for (size_t i = 0; i < plen; i++)
		if (!isgraph((unsigned char)rest[i]) || rest[i] == '?' || rest[i] == '#' ||
		    rest[i] == '%') {
			cause_set(cause, "--s3: the prefix may hold no spaces, '?', '#' or '%%'");
			return S3_CONFIG_INVALID;
		}
	if (asprintf(&c->prefix, "%.*s%s", (int)plen, rest, plen > 0 ? "/" : "") < 0) {
		c->prefix = NULL;
		cause_set(cause, "out of memory");
		return S3_CONFIG_INVALID;
	}
	return S3_CONFIG_OK;
}

/* Copy value into *slot unless it is NULL or empty; false only when out of memory. */
static bool take(char **slot, const char *value)
{
	if (value == NULL || *value == '\0')
		return true;
	free(*slot);
	*slot = strdup(value);
	return *slot != NULL;
}

/* Strip blanks at both ends of s, in place. */
static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Read profile's keys from an AWS shared credentials file. */
static enum s3_config_result read_credentials_file(struct s3_config *c, const char *path,
                                                   char **cause)
{
	const char *profile = getenv("AWS_PROFILE");
	FILE *f = fopen(path, "r");
	char line[1024];
	bool in_profile = false, ok = true;

	if (profile == NULL || *profile == '\0')
		profile = "default";
	if (f == NULL) {
		cause_set(cause, "cannot read --s3-credentials-file %s: %s", path, strerror(errno));
		return S3_CONFIG_INVALID;
	}
	while (ok && fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line), *eq;

		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (end != NULL)
				*end = '\0';
			in_profile = strcmp(trim(s + 1), profile) == 0;
			continue;
		}
		eq = strchr(s, '=');
		if (!in_profile || eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(trim(s), "aws_access_key_id") == 0)
			ok = take(&c->access_key, trim(eq + 1));
		else if (strcmp(trim(s), "aws_secret_access_key") == 0)
			ok = take(&c->secret_key, trim(eq + 1));
		else if (strcmp(trim(s), "aws_session_token") == 0)
			ok = take(&c->session_token, trim(eq + 1));
	}
	fclose(f);
	if (!ok)
		cause_set(cause, "out of memory");
	else if (c->access_key == NULL || c->secret_key == NULL)
		cause_set(cause, "--s3-credentials-file %s has no aws_access_key_id and "
		          "aws_secret_access_key in profile [%s]", path, profile);
	return ok && c->access_key != NULL && c->secret_key != NULL ? S3_CONFIG_OK
	                                                          : S3_CONFIG_INVALID;
}

/* Check an endpoint URL and keep it without its trailing slashes. */
static enum s3_config_result set_endpoint(struct s3_config *c, const char *endpoint, char **cause)
{
	size_t n = strlen(endpoint);

	if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) {
		cause_set(cause, "--s3-endpoint wants an http:// or https:// URL, not '%s'", endpoint);
		return S3_CONFIG_INVALID;
	}
	while (n > 0 && endpoint[n - 1] == '/')
		n--;
	c->endpoint = strndup(endpoint, n);
	c->path_style = true;  /* other services than AWS: path-style addressing */
	if (c->endpoint == NULL) {
		cause_set(cause, "out of memory");
		return S3_CONFIG_INVALID;
	}
	return S3_CONFIG_OK;
}

enum s3_config_result s3_config_load(struct s3_config *c, const char *url, const char *endpoint,
                                     const char *region, const char *credentials_file,
                                     char **cause)
{
	memset(c, 0, sizeof(*c));
	if (parse_url(c, url, cause) != S3_CONFIG_OK)
		return S3_CONFIG_INVALID;
	if (region == NULL || *region == '\0')
		region = getenv("AWS_REGION");
	if (region == NULL || *region == '\0')
		region = getenv("AWS_DEFAULT_REGION");
	if (region == NULL || *region == '\0')
		region = "us-east-1";
	if ((c->region = strdup(region)) == NULL)
		goto oom;
	if (endpoint != NULL) {
		if (set_endpoint(c, endpoint, cause) != S3_CONFIG_OK)
			return S3_CONFIG_INVALID;
	} else if (asprintf(&c->endpoint, "https://s3.%s.amazonaws.com", c->region) < 0) {
		c->endpoint = NULL;
		goto oom;
	}
	if (credentials_file != NULL)
		return read_credentials_file(c, credentials_file, cause);
	if (!take(&c->access_key, getenv("AWS_ACCESS_KEY_ID")) ||
	    !take(&c->secret_key, getenv("AWS_SECRET_ACCESS_KEY")) ||
	    !take(&c->session_token, getenv("AWS_SESSION_TOKEN")))
		goto oom;
	if (c->access_key == NULL || c->secret_key == NULL) {
		cause_set(cause, "--s3 needs credentials: set AWS_ACCESS_KEY_ID and "
		          "AWS_SECRET_ACCESS_KEY, or give --s3-credentials-file");
		return S3_CONFIG_INVALID;
	}
	return S3_CONFIG_OK;
oom:
	cause_set(cause, "out of memory");
	return S3_CONFIG_INVALID;
}

void s3_config_free(struct s3_config *c)
{
	free(c->bucket);
	free(c->prefix);
	free(c->endpoint);
	free(c->region);
	free(c->access_key);
	if (c->secret_key != NULL)
		memset(c->secret_key, 0, strlen(c->secret_key));
	free(c->secret_key);
	free(c->session_token);
	memset(c, 0, sizeof(*c));
}

bool s3_config_key(const struct s3_config *c, enum store_kind k, const char *id, char *buf,
                   size_t n)
{
	int len = snprintf(buf, n, "%s%s/%s", c->prefix, store_kind_name(k), id);

	return len >= 0 && (size_t)len < n;
}

bool s3_config_url(const struct s3_config *c, enum store_kind k, const char *id, char *buf,
                   size_t n)
{
	const char *host = strstr(c->endpoint, "://") + 3;
	char key[512] = "";
	int len;

	if (id != NULL && !s3_config_key(c, k, id, key, sizeof(key)))
		return false;
	if (c->path_style)
		len = snprintf(buf, n, "%s/%s/%s", c->endpoint, c->bucket, key);
	else
		len = snprintf(buf, n, "%.*s%s.%s/%s", (int)(host - c->endpoint), c->endpoint,
		               c->bucket, host, key);
	return len >= 0 && (size_t)len < n;
}
