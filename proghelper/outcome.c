/*
 * outcome.c: what a finished transfer means. Its bytes are counted, its
 * job is handed back to its own pipeline (fetch.c, upload.c, preload.c),
 * and what that does not take is judged here: a refused token ends uploads
 * or the whole remote, as does a TLS setup that cannot work (an untrusted
 * server certificate, an unusable CA file or client certificate, a client
 * certificate refused), three failures of the remote itself in a row end
 * it for the run (said once on stderr), a refused or bad answer ends only
 * its job.
 */
#include "proghelper/remote_job.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/cause.h"

#define REMOTE_MAX_FAILURES 3      /* consecutive failures before the remote is skipped */

/* Stop using the remote, saying why (a cause, freed here) once. */
static void remote_turn_off(struct remote *r, char *why)
{
	if (!atomic_exchange(&r->off, true))
		fprintf(stderr, "cachegate-prog: %s; continuing without the remote for this run\n",
		        cause_text(why));
	free(why);
}

/* Count one failure of the remote itself; enough in a row turn it off. */
static void remote_failed(struct remote *r, const char *what)
{
	char *why = NULL;

	stats_add(&r->stats->remote_errors, 1);
	if (++r->failures >= REMOTE_MAX_FAILURES && !atomic_load(&r->off)) {
		cause_set(&why, "the remote %s failed %d times in a row (last: %s)",
		          r->url, r->failures, cause_text(what));
		remote_turn_off(r, why);
	}
}

/*
 * A TLS failure that the next request would meet again (the server's
 * certificate is not trusted, a CA file or client certificate curl cannot
 * use) ends the remote at once; true when result is one.
 */
static bool remote_tls_setup_failed(struct remote *r, struct job *j, CURLcode result)
{
	char *why = NULL;
	const char *detail = j->error[0] != '\0' ? j->error : curl_easy_strerror(result);

	switch (result) {
	case CURLE_PEER_FAILED_VERIFICATION:
		if (r->cacert != NULL)
			cause_set(&why, "cannot trust the remote %s with the CAs of %s: %s",
			          r->url, r->cacert, detail);
		else
			cause_set(&why, "cannot trust the remote %s with the system's CAs "
			          "(--cacert names a private CA): %s", r->url, detail);
		break;
	case CURLE_SSL_CACERT_BADFILE:
		cause_set(&why, "cannot use the CA file %s: %s",
		          r->cacert != NULL ? r->cacert : "(the system's)", detail);
		break;
	case CURLE_SSL_CERTPROBLEM:
		cause_set(&why, "cannot use the client certificate %s%s%s: %s",
		          r->cert != NULL ? r->cert : "", r->key != NULL ? " with the key " : "",
		          r->key != NULL ? r->key : "", detail);
		break;
	default:
		return false;
	}
	stats_add(&r->stats->remote_errors, 1);
	remote_turn_off(r, why);
	return true;
}

/*
 * The server rejected our credentials with code. A refused upload only ends
 * uploads (reads may be open to all, or to a read token); a refused read,
 * or a token rejected outright, ends all use of the remote.
 */
static void remote_denied(struct remote *r, long code, bool write)
{
	char *why = NULL;

	stats_add(&r->stats->remote_errors, 1);
	if (code == 403 && !write) {
		/* A token never costs a read a 403 (that is a 401): a client certificate does. */
		if (r->cert != NULL)
			cause_set(&why, "the remote %s refused the client certificate %s "
			          "(HTTP 403 on a read)", r->url, r->cert);
		else
			cause_set(&why, "the remote %s refused a read (HTTP 403): it may "
			          "require a client certificate (--cert, --key)", r->url);
		remote_turn_off(r, why);
		return;
	}
	if (write && (code == 403 || !r->have_token)) {
		if (atomic_exchange(&r->writes_off, true))
			return;
		if (r->have_token)
			fprintf(stderr, "cachegate-prog: the remote %s refused an upload with %s "
			        "(HTTP 403: a read-only token); continuing without uploads\n",
			        r->url, r->token_source);
		else
			fprintf(stderr, "cachegate-prog: the remote %s wants a token for uploads "
			        "(HTTP %ld): set --token-file or CACHEGATE_TOKEN; continuing "
			        "without uploads\n", r->url, code);
		return;
	}
	if (!r->have_token && atomic_load(&r->writes_off) && !r->read_only) {
		/* The missing token was already named; stop reading too, quietly. */
		atomic_store(&r->off, true);
		return;
	}
	if (r->have_token)
		cause_set(&why, "the remote %s rejected %s (HTTP %ld)", r->url,
		          r->token_source, code);
	else
		cause_set(&why, "the remote %s wants a token (HTTP %ld): "
		          "set --token-file or CACHEGATE_TOKEN", r->url, code);
	remote_turn_off(r, why);
}

void remote_done(struct remote *r, struct job *j, CURLcode result, long code)
{
	bool write = j->step == STEP_PUT_CAS || j->step == STEP_PUT_AC || j->step == STEP_PUT_LIST;
	bool handled;
	char *what = NULL;
	curl_off_t n = 0;

	if (write) {
		if (curl_easy_getinfo(j->easy, CURLINFO_SIZE_UPLOAD_T, &n) != CURLE_OK || n < 0)
			n = 0;
		stats_add(&r->stats->bytes_up, (uint64_t)n);
		/* What was read to send: the same bytes, unless they went compressed. */
		stats_add(&r->stats->bytes_up_raw, j->zput != NULL ? upload_zstd_raw(j) : (uint64_t)n);
	} else if (j->step != STEP_HEAD_CAS) {
		if (curl_easy_getinfo(j->easy, CURLINFO_SIZE_DOWNLOAD_T, &n) == CURLE_OK && n > 0)
			stats_add(&r->stats->bytes_down, (uint64_t)n);
	}
	if (code == 401 || code == 403) {
		remote_denied(r, code, write);
		remote_finish_job(r, j, false);
		return;
	}
	if (remote_tls_setup_failed(r, j, result)) {
		if (j->kind == JOB_UPLOAD)
			stats_add(&r->stats->uploads_dropped, 1);
		remote_finish_job(r, j, false);
		return;
	}
	if (result == CURLE_OK || code == 404)
		r->failures = 0;
	switch (j->kind) {
	case JOB_UPLOAD:
		handled = upload_step_done(r, j, result, code);
		break;
	case JOB_PRELOAD:
		handled = preload_step_done(r, j, result, code);
		break;
	default:
		handled = fetch_step_done(r, j, result, code);
		break;
	}
	if (handled)
		return;
	if (code == 404) {
		/* Not there (or evicted between the entry and the output): a plain miss. */
		remote_finish_job(r, j, false);
		return;
	}
	if (code >= 500 || (result != CURLE_OK && result != CURLE_HTTP_RETURNED_ERROR &&
	                    result != CURLE_WRITE_ERROR && result != CURLE_READ_ERROR &&
	                    result != CURLE_ABORTED_BY_CALLBACK &&
	                    result != CURLE_FILESIZE_EXCEEDED &&
	                    result != CURLE_BAD_CONTENT_ENCODING)) {
		if (code >= 500)
			cause_set(&what, "HTTP %ld", code);
		else
			cause_set(&what, "%s",
			          j->error[0] != '\0' ? j->error : curl_easy_strerror(result));
		remote_failed(r, what);
		free(what);
	} else {
		/* Refused or bad data (400, 413, 507, a broken zstd answer...), a local write error: this job only. */
		stats_add(&r->stats->remote_errors, 1);
	}
	if (j->kind == JOB_UPLOAD)
		stats_add(&r->stats->uploads_dropped, 1);
	remote_finish_job(r, j, false);
}
