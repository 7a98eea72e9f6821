/*
 * s3config.h: where the shared tier lives (--s3, --s3-endpoint,
 * --s3-region) and the credentials to reach it, from the standard AWS
 * variables or a credentials file. The secrets are never logged.
 */
#ifndef CACHEGATE_GATEWAY_S3CONFIG_H
#define CACHEGATE_GATEWAY_S3CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

struct s3_config {
	char *bucket;
	char *prefix;          /* "" or "a/b/": keys are <prefix><kind>/<id> */
	char *endpoint;        /* scheme://host[:port], no trailing slash */
	char *region;
	bool path_style;       /* <endpoint>/<bucket>/<key>, else <bucket>.<host>/<key> */
	char *access_key;
	char *secret_key;
	char *session_token;   /* NULL when there is none */
};

enum s3_config_result {
	S3_CONFIG_OK = 0,
	S3_CONFIG_INVALID,  /* an option or the credentials cannot be used (or out of memory) */
};

/*
 * Fill c from the options' values: url is "s3://BUCKET[/PREFIX]"; endpoint
 * (NULL: AWS in region) and region (NULL: $AWS_REGION, $AWS_DEFAULT_REGION,
 * else us-east-1); credentials from credentials_file (an AWS shared
 * credentials file, profile $AWS_PROFILE or "default") when given, else
 * from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
 * On failure returns S3_CONFIG_INVALID and sets *cause (the caller frees
 * it); c must be freed either way.
 */
enum s3_config_result s3_config_load(struct s3_config *c, const char *url, const char *endpoint,
                                     const char *region, const char *credentials_file,
                                     char **cause);

void s3_config_free(struct s3_config *c);

/*
 * The URL of object id of kind k into buf (n bytes); id NULL names the
 * bucket itself. False when it does not fit.
 */
bool s3_config_url(const struct s3_config *c, enum store_kind k, const char *id, char *buf,
                   size_t n);

/* "<prefix><kind>/<id>", the object's key (for messages). */
bool s3_config_key(const struct s3_config *c, enum store_kind k, const char *id, char *buf,
                   size_t n);

#endif
