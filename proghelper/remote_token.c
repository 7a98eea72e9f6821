/*
 * remote_token.c: the CI token renewed on the network thread. Requests copy
 * their headers when they start, so between transfers the Authorization
 * line of the two header lists can be replaced in place: every request
 * that starts later sends the new token, and nothing in flight is touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cause.h"
#include "proghelper/remote_job.h"

/* Replace the Authorization line of list by line; false on out of memory. */
static bool swap_auth(struct curl_slist *list, const char *line)
{
	for (; list != NULL; list = list->next) {
		if (strncasecmp(list->data, "Authorization:", 14) == 0) {
			char *copy = strdup(line);

			if (copy == NULL)
				return false;
			explicit_bzero(list->data, strlen(list->data));
			free(list->data);
			list->data = copy;
			return true;
		}
	}
	return false;
}

void remote_renew_token(struct remote *r)
{
	time_t now = time(NULL);
	char *cause = NULL, *line = NULL;

	if (r->citoken == NULL || !citoken_due(r->citoken, now))
		return;
	if (!citoken_renew(r->citoken, now, &cause)) {
		/* One line for the first failure; later tries are quiet until one works. */
		if (citoken_failures(r->citoken) == 1 && !atomic_load(&r->quiet))
			fprintf(stderr, "cachegate-prog: cannot renew the CI token (%s); the current "
			        "one is kept until it expires\n", cause_text(cause));
		free(cause);
		return;
	}
	if (asprintf(&line, "Authorization: Bearer %s", citoken_value(r->citoken)) < 0)
		return;
	swap_auth(r->headers, line);
	swap_auth(r->upload_headers, line);
	explicit_bzero(line, strlen(line));
	free(line);
}
