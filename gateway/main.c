/*
 * main.c: cachegate's start, signal handling and orderly shutdown.
 */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/cause.h"
#include "gateway/gateway.h"
#include "gateway/tier/http_tier.h"
#include "gateway/jobs/integrity.h"
#include "gateway/http/linger.h"
#include "gateway/tier/s3/s3.h"
#include "gateway/jobs/scrub.h"
#include "gateway/http/server.h"
#include "gateway/jobs/watchdog.h"

/* Write "<port>\n" to path through a temp file and a rename, so readers never see half. */
static bool write_port_file(const char *path, uint16_t port)
{
	char *tmp;
	FILE *f;
	bool ok;

	if (asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) < 0)
		return false;
	f = fopen(tmp, "w");
	if (f == NULL) {
		free(tmp);
		return false;
	}
	ok = fprintf(f, "%u\n", port) > 0;
	ok = fclose(f) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok;
}

/* Allow as many open files as connections need (each GET holds a file too). */
static void raise_file_limit(unsigned connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)connections * 2 + LINGER_MAX_SOCKETS + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		fprintf(stderr, "cachegate: warning: only %llu open files allowed; "
		        "--max-connections %u may run out\n", (unsigned long long)rl.rlim_cur,
		        connections);
}

/* Print "cachegate: <cause>" and free it. */
static void report(char *cause)
{
	fprintf(stderr, "cachegate: %s\n", cause_text(cause));
	free(cause);
}

/* store_verify callback: name a damaged object on stdout. */
static void print_damaged(void *ctx, const char *id, const struct stat *st)
{
	(void)ctx;
	printf("damaged: cas/%.2s/%s (%lld bytes), removed\n", id, id, (long long)st->st_size);
}

/*
 * --verify: hash every CAS object once, as fast as the disk goes, removing
 * damaged ones. Returns the exit status: 0 all intact, 1 some damaged, 2 error.
 */
static int verify_store(struct store *s)
{
	struct store_verify_options o = { .damaged = print_damaged };
	struct store_verify_result res;
	enum store_result r = store_verify(s, &o, &res);

	if (r != STORE_OK) {
		fprintf(stderr, "cachegate: --verify: cannot read %s: %s\n", store_dir(s),
		        store_result_str(r));
		return 2;
	}
	printf("verified %llu CAS objects (%llu bytes) in %s: %llu damaged\n",
	       (unsigned long long)res.objects, (unsigned long long)res.bytes, store_dir(s),
	       (unsigned long long)res.damaged);
	return res.damaged > 0 ? 1 : 0;
}

/*
 * With --s3: check the bucket and start its client, and the request side of
 * the shared tier. False (with *cause) when it cannot be used.
 */
static bool start_tier(struct gateway *gw, struct s3 **s3, char **cause)
{
	const struct options *o = gw->opt;
	struct s3_config cfg;
	struct tier tier = { .ops = &s3_tier_ops };

	if (o->s3 == NULL)
		return true;
	if (s3_config_load(&cfg, o->s3, o->s3_endpoint, o->s3_region, o->s3_credentials_file,
	                   cause) != S3_CONFIG_OK) {
		s3_config_free(&cfg);
		return false;
	}
	if ((*s3 = s3_start(&cfg, gw->metrics, cause)) == NULL)
		return false;
	tier.backend = *s3;
	if ((gw->tier = http_tier_new(&tier)) == NULL) {
		cause_set(cause, "out of memory");
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct store_options so = {0};
	struct gateway gw = {0};
	struct server *server = NULL;
	struct scrub *scrub = NULL;
	struct s3 *s3 = NULL;
	struct options opt;
	char *cause = NULL;
	sigset_t stop_signals;
	int status = 1, sig = 0;

	switch (options_parse(&opt, argc, argv, &cause)) {
	case OPTIONS_OK:
		break;
	case OPTIONS_EXIT:
		options_free(&opt);
		return 0;
	case OPTIONS_ERROR:
		report(cause);
		options_free(&opt);
		return 2;
	}

	/* Every thread started below inherits the mask; only sigwait sees the signals. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

	raise_file_limit(opt.max_connections);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	gw.opt = &opt;
	gw.started = time(NULL);
	atomic_init(&gw.in_flight, 0);
	atomic_init(&gw.connections, 0);
	so.fsync = opt.fsync;
	so.compression_level = opt.compression ? (int)opt.compression_level : 0;
	so.compress_raw_puts = opt.compress_raw_uploads;
	if ((gw.auth = auth_load(opt.auth_file, opt.anonymous_read, &cause)) == NULL ||
	    (gw.store = store_open(opt.dir, &so, &cause)) == NULL)
		goto out;
	if ((gw.metrics = metrics_new()) == NULL)
		goto out;
	if (opt.verify) {
		status = verify_store(gw.store);
		goto out;
	}
	if ((gw.integrity = integrity_new(gw.store, gw.metrics)) == NULL)
		goto out;
	if (!start_tier(&gw, &s3, &cause))
		goto out;
	if ((gw.evict = evict_start(gw.store, gw.metrics, opt.max_size, &cause)) == NULL ||
	    (scrub = scrub_start(gw.store, gw.integrity, gw.metrics, opt.scrub_rate,
	                         opt.scrub_interval, &cause)) == NULL ||
	    (gw.watchdog = watchdog_start(opt.request_timeout, opt.header_timeout,
	                                   opt.min_body_rate, &cause)) == NULL ||
	    (gw.linger = linger_start(&cause)) == NULL ||
	    (server = server_start(&gw, &cause)) == NULL)
		goto out;

	fprintf(stderr, "cachegate: listening on %s://%s%s%s:%u, store %s%s%s\n",
	        opt.tls_cert != NULL ? "https" : "http",
	        strchr(opt.listen_host, ':') != NULL ? "[" : "", opt.listen_host,
	        strchr(opt.listen_host, ':') != NULL ? "]" : "",
	        server_port(server), store_dir(gw.store), opt.s3 != NULL ? " in front of " : "",
	        opt.s3 != NULL ? opt.s3 : "");
	if (opt.port_file != NULL && !write_port_file(opt.port_file, server_port(server))) {
		cause_set(&cause, "cannot write --port-file %s: %s", opt.port_file, strerror(errno));
		goto out;
	}

	while (sigwait(&stop_signals, &sig) != 0)
		;
	fprintf(stderr, "cachegate: %s received, finishing requests in flight\n",
	        sig == SIGINT ? "SIGINT" : "SIGTERM");
	status = 0;
out:
	if (status != 0 && !opt.verify)
		report(cause);
	if (server != NULL)
		server_drain(server, opt.shutdown_timeout);
	s3_stop(s3);  /* lets go every request still waiting on S3 */
	if (server != NULL)
		server_stop(server);
	http_tier_free(gw.tier);
	s3_free(s3);
	linger_stop(gw.linger);
	watchdog_stop(gw.watchdog);
	scrub_stop(scrub);
	evict_stop(gw.evict);
	integrity_free(gw.integrity);
	metrics_free(gw.metrics);
	auth_free(gw.auth);
	store_close(gw.store);
	if (status == 0 && !opt.verify)
		fprintf(stderr, "cachegate: stopped\n");
	options_free(&opt);
	curl_global_cleanup();
	return status;
}
