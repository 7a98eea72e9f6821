/*
 * main.c: cachegate-prog, the go command's GOCACHEPROG helper.
 *
 * The main thread reads requests from stdin and answers what it can at
 * once: puts go into the local store, gets that hit locally are answered
 * from it. Gets that miss are handed to the network thread (remote.c),
 * which answers them when the remote has spoken. Puts are then uploaded in
 * the background.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "proghelper/body.h"
#include "proghelper/diskpath.h"
#include "proghelper/options.h"
#include "proghelper/input.h"
#include "proghelper/local.h"
#include "proghelper/mtimes.h"
#include "proghelper/protocol.h"
#include "proghelper/remote.h"
#include "proghelper/reply.h"
#include "proghelper/report.h"
#include "proghelper/scope.h"
#include "proghelper/stats.h"
#include "proghelper/usedlist.h"
#include "common/cause.h"
#include "store/store.h"

/* Buffer for stdin: the longest request line, and the unit bodies stream in. */
#define PROG_INPUT_BUFFER (256 * 1024)

/* How serving the go command's requests went. */
enum prog_result {
	PROG_OK = 0,  /* a request was answered: go on */
	PROG_CLOSE,   /* the go command sent close */
	PROG_EOF,     /* the input ended between requests */
	PROG_LOST,    /* the input cannot be understood any more: *cause says why */
};

/* Everything one run uses. */
struct prog {
	struct options cfg;
	struct store *store;
	struct reply *reply;
	struct input *in;
	struct remote *remote;
	struct recorder *recorder;  /* writes the entries of remote hits (recorder.h) */
	struct usedlist *used;      /* what this build used, for the next one; or NULL */
	struct citoken *citoken;    /* the CI token sent to the remote (citoken.h), or NULL */
	struct stats stats;
	char *root;       /* DiskPaths start with this (diskpath.h) */
	char *path;       /* scratch for DiskPaths, path_max bytes */
	size_t path_max;
	bool told_store_error;  /* a local write failure was printed on stderr */
};

/*
 * Get the CI token when --oidc-audience or --oidc-token-var asks for one;
 * false, after one line on stderr, when the CI offers none: the build then
 * goes on with the local cache only.
 */
static bool prog_ci_token(struct prog *p)
{
	char *cause = NULL;

	if (p->cfg.oidc_audience == NULL && p->cfg.oidc_token_var == NULL)
		return true;
	p->citoken = citoken_start(p->cfg.oidc_audience, p->cfg.oidc_token_var, time(NULL), &cause);
	if (p->citoken == NULL)
		fprintf(stderr, "cachegate-prog: no CI token (%s); building with the local cache "
		        "only\n", cause_text(cause));
	free(cause);
	return p->citoken != NULL;
}

/* Answer request id with an error sentence. */
static void prog_err(struct prog *p, int64_t id, const char *msg)
{
	struct protocol_reply rep;

	memset(&rep, 0, sizeof rep);
	rep.id = id;
	rep.err = cause_text(msg);
	reply_send(p->reply, &rep);
}

/*
 * Answer request id with a local store write failure r. The go command may
 * not show a put's error, so the first one is also printed on stderr.
 */
static void prog_store_err(struct prog *p, int64_t id, enum store_result r)
{
	char *why = NULL;

	local_write_error(p->store, r, &why);
	if (!p->told_store_error) {
		fprintf(stderr, "cachegate-prog: %s\n", why);
		p->told_store_error = true;
	}
	prog_err(p, id, why);
	free(why);
}

/* Answer a get: from the local store, else through the remote, else a miss. */
static void prog_get(struct prog *p, const struct protocol_request *req)
{
	struct protocol_reply rep;
	struct go_entry e;

	stats_add(&p->stats.gets, 1);
	memset(&rep, 0, sizeof rep);
	rep.id = req->id;
	if (local_get(p->store, req->action, &e) == LOCAL_OK &&
	    diskpath_format(p->root, e.output, p->path, p->path_max)) {
		stats_add(&p->stats.local_hits, 1);
		report_note_hit(&p->stats, p->path, e.size);
		remote_note_local_hit(p->remote, req->action);
		usedlist_add(p->used, &e);
		rep.hit = true;
		memcpy(rep.output, e.output, STORE_HASH_LEN);
		rep.size = e.size;
		rep.time_ns = e.time_ns;
		rep.disk_path = p->path;
		reply_send(p->reply, &rep);
		return;
	}
	if (p->remote != NULL && remote_get(p->remote, req->id, req->action) == REMOTE_QUEUED)
		return;
	stats_add(&p->stats.misses, 1);
	rep.miss = true;
	reply_send(p->reply, &rep);
}

/*
 * Store a put's body and entry locally, answer with its DiskPath, and queue
 * its upload. Returns PROG_LOST when the input stream is lost (*cause set).
 */
static enum prog_result prog_put(struct prog *p, const struct protocol_request *req, char **cause)
{
	char o[STORE_ID_LEN + 1];
	struct store_put *put = NULL;
	struct go_entry e;
	struct protocol_reply rep;
	enum store_result sr;
	enum body_result br;
	char *why = NULL;

	stats_add(&p->stats.puts, 1);
	store_hex(req->output, o);
	sr = store_put_begin(p->store, STORE_CAS, o, (uint64_t)req->body_size, &put);
	if (sr != STORE_OK)
		put = NULL;
	if (req->body_size > 0) {
		br = body_read(p->in, put, req->body_size, &why);
		if (br == BODY_BROKEN) {
			store_put_abort(put);
			*cause = why;
			return PROG_LOST;
		}
		if (br == BODY_STORE_ERROR && put != NULL) {
			prog_store_err(p, req->id, store_put_error(put));
			store_put_abort(put);
			free(why);
			return PROG_OK;
		}
		if (br != BODY_OK && put != NULL) {
			store_put_abort(put);
			prog_err(p, req->id, why);
			free(why);
			return PROG_OK;
		}
		free(why);
	}
	if (put == NULL) {
		prog_store_err(p, req->id, sr);
		return PROG_OK;
	}
	sr = store_put_commit(put, req->body_size);
	if (sr == STORE_HASH_MISMATCH || sr == STORE_SIZE_MISMATCH) {
		prog_err(p, req->id, "the body does not match its OutputID and BodySize");
		return PROG_OK;
	}
	if (sr != STORE_OK) {
		prog_store_err(p, req->id, sr);
		return PROG_OK;
	}
	memcpy(e.action, req->action, STORE_HASH_LEN);
	memcpy(e.output, req->output, STORE_HASH_LEN);
	e.size = req->body_size;
	e.time_ns = local_now_ns();
	if ((p->recorder != NULL ? recorder_record_now(p->recorder, &e)
	                         : local_record(p->store, &e)) != LOCAL_OK ||
	    !diskpath_format(p->root, e.output, p->path, p->path_max)) {
		prog_err(p, req->id, "cannot write the entry to the local store");
		return PROG_OK;
	}
	memset(&rep, 0, sizeof rep);
	rep.id = req->id;
	rep.disk_path = p->path;
	reply_send(p->reply, &rep);
	usedlist_add(p->used, &e);
	if (p->remote != NULL)
		remote_upload(p->remote, &e);
	return PROG_OK;
}

/* The preload list's key: of --scope, else of the go command's default scope. */
static bool prog_scope_key(const struct options *cfg, unsigned char key[STORE_HASH_LEN])
{
	char *scope = cfg->scope != NULL ? strdup(cfg->scope) : scope_default();
	bool ok = scope != NULL && scope_key(scope, key);

	free(scope);
	return ok;
}

/*
 * Serve requests until close (PROG_CLOSE, *close_id set to its ID), the end
 * of input (PROG_EOF), or the loss of the stream (PROG_LOST, *cause says
 * why).
 */
static enum prog_result prog_serve(struct prog *p, int64_t *close_id, char **cause)
{
	struct protocol_request req;
	enum protocol_result pr;
	enum input_result ir;
	char *line, *why = NULL;
	size_t len;

	for (;;) {
		ir = input_line(p->in, PROTOCOL_LINE_MAX, &line, &len);
		if (ir == INPUT_EOF)
			return PROG_EOF;
		if (ir != INPUT_OK) {
			cause_set(cause, "%s", ir == INPUT_TOO_LONG ? "a request line is too long" :
			          ir == INPUT_TRUNCATED ? "input ended inside a request" :
			          "cannot read stdin");
			return PROG_LOST;
		}
		if (len == 0)
			continue;  /* the empty line after each request */
		pr = protocol_decode_request(line, len, &req, &why);
		if (pr == PROTOCOL_UNPARSABLE) {
			*cause = why;
			return PROG_LOST;
		}
		if (pr == PROTOCOL_BAD_REQUEST) {
			char *skip = NULL;
			if (req.body_size > 0 && body_read(p->in, NULL, req.body_size, &skip) == BODY_BROKEN) {
				free(why);
				*cause = skip;
				return PROG_LOST;
			}
			free(skip);
			prog_err(p, req.id, why);
			free(why);
			continue;
		}
		switch (req.cmd) {
		case COMMAND_GET:
			prog_get(p, &req);
			break;
		case COMMAND_PUT:
			if (prog_put(p, &req, cause) == PROG_LOST)
				return PROG_LOST;
			break;
		case COMMAND_CLOSE:
			*close_id = req.id;
			return PROG_CLOSE;
		case COMMAND_UNKNOWN:
			break;
		}
	}
}

/*
 * --canonicalize-mtimes: the exit status, 0 when every entry was set, 1
 * when some were not (each said on stderr), 2 when DIR cannot be opened.
 */
static int prog_canonicalize(const struct options *cfg)
{
	struct mtimes_count n;
	struct timespec t0, t1;
	char *cause = NULL;
	enum mtimes_result r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = mtimes_canonicalize(cfg->canonicalize, &n, stderr, &cause);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == MTIMES_NO_DIR) {
		fprintf(stderr, "cachegate-prog: %s\n", cause_text(cause));
		free(cause);
		return 2;
	}
	if (cfg->verbose)
		fprintf(stderr, "cachegate-prog: canonicalized %s: files %" PRIu64 ", links %" PRIu64
		        ", directories %" PRIu64 ", skipped %" PRIu64 ", errors %" PRIu64
		        ", in %.3fs\n", cfg->canonicalize, n.files, n.links, n.dirs, n.skipped,
		        n.errors, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return r == MTIMES_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct prog p;
	struct protocol_reply rep;
	char *cause = NULL;
	int64_t close_id = -1;
	enum prog_result served;
	time_t start = time(NULL);
	int status = 1;

	memset(&p, 0, sizeof p);
	switch (options_parse(argc, argv, &p.cfg, &cause)) {
	case OPTIONS_OK:
		break;
	case OPTIONS_EXIT:
		options_free(&p.cfg);
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "cachegate-prog: %s\n", cause_text(cause));
		free(cause);
		options_free(&p.cfg);
		return 2;
	}
	if (p.cfg.canonicalize != NULL) {
		status = prog_canonicalize(&p.cfg);
		options_free(&p.cfg);
		return status;
	}
	signal(SIGPIPE, SIG_IGN);
	p.stats.count_saved = report_wanted(p.cfg.report);
	/* TLS and the rest of libcurl cost start-up time: only with a remote. */
	if (p.cfg.remote != NULL)
		curl_global_init(CURL_GLOBAL_DEFAULT);

	p.store = store_open(p.cfg.dir, NULL, &cause);
	if (p.store == NULL) {
		fprintf(stderr, "cachegate-prog: %s\n", cause_text(cause));
		goto out;
	}
	/* The go command passes its GOCACHE on to the helper. */
	p.root = diskpath_root(store_dir(p.store), getenv("GOCACHE"));
	p.path_max = p.root != NULL ? diskpath_max(p.root) : 0;
	p.path = p.root != NULL ? malloc(p.path_max) : NULL;
	p.reply = reply_open(STDOUT_FILENO);
	p.in = input_open(STDIN_FILENO, PROG_INPUT_BUFFER);
	if (p.path == NULL || p.reply == NULL || p.in == NULL) {
		fprintf(stderr, "cachegate-prog: out of memory\n");
		goto out;
	}
	if (p.cfg.remote != NULL && prog_ci_token(&p)) {
		struct remote_options ro = {
			.url = p.cfg.remote,
			.token = p.cfg.token,
			.token_source = p.citoken != NULL ? "the CI token" : p.cfg.token_source,
			.read_only = p.cfg.read_only,
			.cacert = p.cfg.cacert,
			.cert = p.cfg.cert,
			.key = p.cfg.key,
			.diskpath_root = p.root,
			.preload_max = p.cfg.preload_max,
			.no_compression = !p.cfg.compression,
			.compression_level = (int)p.cfg.compression_level,
			.citoken = p.citoken,
		};
		unsigned char key[STORE_HASH_LEN];

		if (p.cfg.preload && prog_scope_key(&p.cfg, key)) {
			ro.preload_key = key;
			/* Readers only fetch lists; writers also leave theirs for the next build. */
			if (!p.cfg.read_only)
				p.used = ro.used = usedlist_open();
		}
		p.recorder = ro.recorder = recorder_start(p.store);
		if (p.recorder != NULL)
			p.remote = remote_start(&ro, p.store, p.reply, &p.stats, &cause);
		if (p.remote == NULL) {
			fprintf(stderr, "cachegate-prog: %s; continuing without the remote\n",
			        cause_text(cause));
			free(cause);
			cause = NULL;
		}
	}

	memset(&rep, 0, sizeof rep);
	rep.known_commands = true;
	reply_send(p.reply, &rep);

	served = prog_serve(&p, &close_id, &cause);
	if (served == PROG_LOST) {
		remote_abort(p.remote);
	} else {
		remote_upload_list(p.remote, p.used);
		remote_stop(p.remote, p.cfg.close_timeout_ms);
	}
	p.remote = NULL;
	if (p.cfg.verbose)
		stats_print(&p.stats, stderr);
	report_end(p.cfg.report, &p.stats);
	if (served == PROG_LOST) {
		fprintf(stderr, "cachegate-prog: cannot understand the go command: %s\n",
		        cause_text(cause));
		goto out;
	}
	/*
	 * Every write is done before the go command hears back: a script that
	 * saves or removes the store when go exits must find it complete.
	 */
	recorder_stop(p.recorder);
	p.recorder = NULL;
	free(cause);
	cause = NULL;
	if (local_trim(p.store, p.cfg.max_size, start, &cause) != LOCAL_OK)
		fprintf(stderr, "cachegate-prog: %s\n", cause);
	if (served == PROG_CLOSE) {
		memset(&rep, 0, sizeof rep);
		rep.id = close_id;
		reply_send(p.reply, &rep);
	}
	status = 0;
out:
	free(cause);
	remote_abort(p.remote);
	recorder_stop(p.recorder);
	usedlist_free(p.used);
	citoken_free(p.citoken);
	input_free(p.in);
	reply_free(p.reply);
	free(p.path);
	free(p.root);
	store_close(p.store);
	if (p.cfg.remote != NULL)
		curl_global_cleanup();
	options_free(&p.cfg);
	return status;
}
