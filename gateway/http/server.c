/*
 * server.c: run libmicrohttpd and route each request.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/cause.h"
#include "common/clock.h"
#include "gateway/ops/accesslog.h"
#include "gateway/access/clientcert.h"
#include "gateway/http/framing.h"
#include "gateway/objects/http_go.h"
#include "gateway/objects/http_objects.h"
#include "gateway/tier/http_tier.h"
#include "gateway/http/linger.h"
#include "gateway/http/respond.h"
#include "gateway/http/route.h"
#include "gateway/http/server.h"
#include "gateway/ops/status.h"
#include "gateway/jobs/watchdog.h"

/* Connections beyond --max-connections still accepted, to be told 503. */
#define CONNECTION_SLACK 64

/* Largest PEM file read for --tls-cert, --tls-key or --tls-client-ca. */
#define TLS_FILE_MAX (1024 * 1024)

struct server {
	struct gateway *gw;
	struct MHD_Daemon *daemon;
	char *tls_cert, *tls_key;  /* PEM text; must outlive the daemon */
	char *tls_client_ca;       /* PEM text or NULL; must outlive the daemon */
	MHD_socket listener;       /* quiesced by server_drain, closed by server_stop */
};

/* A new request record, or NULL when out of memory. */
static struct request *request_new(struct gateway *gw, struct MHD_Connection *c,
                                   const char *url, const char *method)
{
	struct request *r = calloc(1, sizeof(*r));
	const union MHD_ConnectionInfo *info;

	if (r == NULL)
		return NULL;
	r->gw = gw;
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	r->watch = info != NULL ? info->socket_context : NULL;
	watchdog_request_started(gw->watchdog, r->watch);
	r->method = route_method(method);
	r->route = ENDPOINT_UNKNOWN;
	r->content_length = -1;
	r->tier_fd = -1;
	r->started_us = clock_us();
	if (gw->opt->log)
		accesslog_note(r, method, url);
	atomic_fetch_add(&gw->in_flight, 1);
	return r;
}

/* The methods a route accepts, for 405 and its Allow header. */
static const char *allowed_methods(enum endpoint route)
{
	switch (route) {
	case ENDPOINT_AC:
	case ENDPOINT_CAS:
		return "GET, HEAD, PUT";
	case ENDPOINT_GO_BATCH:
		return "POST";
	default:
		return "GET, HEAD";
	}
}

/* True when route takes method. */
static bool method_allowed(enum endpoint route, enum method method)
{
	switch (method) {
	case METHOD_GET:
	case METHOD_HEAD:
		return route != ENDPOINT_GO_BATCH;
	case METHOD_PUT:
		return route == ENDPOINT_AC || route == ENDPOINT_CAS;
	case METHOD_POST:
		return route == ENDPOINT_GO_BATCH;
	default:
		return false;
	}
}

/* Route a request on its first call: answer it, or let an upload start. */
static enum MHD_Result dispatch(struct MHD_Connection *c, struct request *r, const char *url)
{
	struct gateway *gw = r->gw;
	enum route_result rr = route_parse(url, &r->route, r->id);
	enum auth_result ar;
	bool put = r->method == METHOD_PUT;

	if (atomic_load(&gw->connections) > gw->opt->max_connections)
		return respond_text(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
		                    "server overloaded: too many connections (--max-connections)");
	if (rr == ROUTE_NOT_FOUND)
		return respond_text(c, r, MHD_HTTP_NOT_FOUND, route_result_str(rr));
	if (rr == ROUTE_TRAVERSAL)
		return respond_text(c, r, MHD_HTTP_BAD_REQUEST, route_result_str(rr));
	if (!method_allowed(r->route, r->method))
		return respond_not_allowed(c, r, allowed_methods(r->route));
	if (rr == ROUTE_BAD_ID)
		return respond_text(c, r, MHD_HTTP_BAD_REQUEST, route_result_str(rr));
	if (r->route == ENDPOINT_HEALTHZ)
		return status_healthz(c, r);

	ar = auth_check(gw->auth,
	                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	                put, &r->grant);
	if (ar == AUTH_MISSING || ar == AUTH_INVALID)
		return respond_unauthorized(c, r, auth_result_str(ar));
	if (ar == AUTH_FORBIDDEN)
		return respond_text(c, r, MHD_HTTP_FORBIDDEN, auth_result_str(ar));
	/* Once: a request waiting on the tier comes through here again. */
	if ((r->route == ENDPOINT_AC || r->route == ENDPOINT_GO || r->route == ENDPOINT_GO_BATCH) &&
	    r->ac.base == NULL && !ac_ns_open(&r->ac, gw->store, &r->grant))
		return respond_text(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");

	switch (r->route) {
	case ENDPOINT_METRICS:
		return status_metrics(c, r);
	case ENDPOINT_STATUS:
		return status_json(c, r);
	case ENDPOINT_GO:
		return go_serve(c, r);
	case ENDPOINT_GO_BATCH:
		return go_batch_serve(c, r);
	default:
		return objects_begin(c, r);
	}
}

/*
 * libmicrohttpd's access handler: called once the headers are in, for each
 * body chunk, and once more at the end. A PUT is routed at once, so that a
 * refusal goes out before any body byte (and the connection then closes,
 * lingering: linger.h).
 * Other requests are answered on the last call: a response queued before
 * the request is complete would cost the connection its keep-alive.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	struct request *r = *con_cls;
	enum MHD_Result ret;
	const char *why;
	char *cause = NULL;
	unsigned refuse;

	(void)version;
	if (r == NULL) {
		r = request_new(cls, c, url, method);
		if (r == NULL)
			return MHD_NO;
		*con_cls = r;
		/* --tls-client-ca: no certificate, no answer but this one, whatever the path. */
		if (r->gw->opt->tls_client_ca != NULL &&
		    clientcert_check(c, &cause) != CLIENTCERT_OK) {
			ret = respond_text(c, r, MHD_HTTP_FORBIDDEN, cause_text(cause));
			free(cause);
			watchdog_answered_early(r->watch);
			return ret;
		}
		/* Answered before any body byte is read, so the connection closes after it. */
		refuse = framing_check(c, r->method, &why);
		if (refuse != 0) {
			ret = respond_text(c, r, refuse, why);
			watchdog_answered_early(r->watch);
			return ret;
		}
		if (r->method != METHOD_PUT)
			return MHD_YES;
		ret = dispatch(c, r, url);
		if (r->status != 0 && r->content_length != 0)
			watchdog_answered_early(r->watch);
		return ret;
	}
	if (*upload_data_size > 0) {
		/* A POST's body is kept for /go/batch (bounded); any other body but a PUT's is dropped. */
		ret = r->method == METHOD_PUT    ? objects_upload(r, upload_data, *upload_data_size)
		      : r->method == METHOD_POST ? go_batch_collect(r, upload_data, *upload_data_size)
		                                 : MHD_YES;
		*upload_data_size = 0;
		return ret;
	}
	if (r->method == METHOD_PUT && r->tier_answered)
		return http_tier_answer_upload(c, r);
	return r->method == METHOD_PUT ? objects_finish(c, r) : dispatch(c, r, url);
}

/* libmicrohttpd's request-completed callback: account, log, and free. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct gateway *gw = cls;
	struct request *r = *con_cls;
	const union MHD_ConnectionInfo *info;
	bool finished = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;

	if (r == NULL)
		return;
	*con_cls = NULL;
	objects_done(r);
	go_done(r);
	if (r->tier_fd >= 0)
		close(r->tier_fd);
	http_tier_request_done(r);
	ac_ns_close(&r->ac);
	if (finished)
		metrics_add_bytes_out(gw->metrics, r->body_out);
	if (gw->opt->log) {
		info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		accesslog_write(r, info != NULL ? info->client_addr : NULL, finished);
	}
	watchdog_request_done(gw->watchdog, r->watch);
	free(r);
	atomic_fetch_sub(&gw->in_flight, 1);
}

/* libmicrohttpd's connection callback: watch each connection's deadline. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct gateway *gw = cls;
	const union MHD_ConnectionInfo *info;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		atomic_fetch_add(&gw->connections, 1);
		info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = info != NULL ? watchdog_open(gw->watchdog, info->connect_fd) : NULL;
		return;
	}
	atomic_fetch_sub(&gw->connections, 1);
	/* The socket is still open here: libmicrohttpd closes it after this call. */
	if (watchdog_close(gw->watchdog, *socket_context)) {
		info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (info != NULL)
			linger_add(gw->linger, info->connect_fd);
	}
	*socket_context = NULL;
}

/* libmicrohttpd's own messages, marked as such on stderr. */
__attribute__((format(printf, 2, 0)))
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	static atomic_llong limit_said;  /* when a connection refusal was last logged */
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* A flood of refused connections is told once every ten seconds. */
	if (strstr(msg, "connection limit") != NULL) {
		long long now = (long long)time(NULL), last = atomic_load(&limit_said);
		if (now - last < 10 || !atomic_compare_exchange_strong(&limit_said, &last, now))
			return;
	}
	fprintf(stderr, "cachegate: libmicrohttpd: %s\n", msg);
}

/* Leave paths as sent: no percent-decoding, so "%2f" never becomes a slash. */
static size_t unescape_nothing(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* Read the small text file of option (e.g. "--tls-cert") into a fresh NUL-terminated buffer. */
static char *read_text_file(const char *option, const char *path, char **cause)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL) {
		cause_set(cause, "cannot read %s %s: %s", option, path, strerror(errno));
		return NULL;
	}
	buf = malloc(TLS_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		cause_set(cause, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, TLS_FILE_MAX + 1, f);
	if (ferror(f) || n > TLS_FILE_MAX || n == 0) {
		cause_set(cause, "cannot read %s %s: %s", option, path,
		          ferror(f) ? strerror(errno) : n == 0 ? "empty file" : "file too large");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Resolve host:port to one socket address. */
static bool resolve(const char *host, uint16_t port, struct sockaddr_storage *ss,
                    char **cause)
{
	struct addrinfo hints, *res = NULL;
	char service[8];
	int err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	err = getaddrinfo(host, service, &hints, &res);
	if (err != 0) {
		cause_set(cause, "cannot resolve --listen host %s: %s", host, gai_strerror(err));
		return false;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return true;
}

struct server *server_start(struct gateway *gw, char **cause)
{
	const struct options *o = gw->opt;
	struct sockaddr_storage addr;
	struct MHD_OptionItem opts[16];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
	                 MHD_USE_ERROR_LOG;
	struct server *s;
	size_t n = 0;

	*cause = NULL;
	if (!resolve(o->listen_host, o->listen_port, &addr, cause))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	s->gw = gw;
	s->listener = MHD_INVALID_SOCKET;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Requests waiting on the shared tier are suspended meanwhile (http_tier.h). */
	if (gw->tier != NULL)
		flags |= MHD_ALLOW_SUSPEND_RESUME;
	/* First, so that libmicrohttpd's messages about the options below go through it too. */
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_mhd, NULL};
	if (o->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			cause_set(cause, "--tls-cert: this libmicrohttpd was built without TLS support");
			goto fail;
		}
		s->tls_cert = read_text_file("--tls-cert", o->tls_cert, cause);
		if (s->tls_cert == NULL)
			goto fail;
		s->tls_key = read_text_file("--tls-key", o->tls_key, cause);
		if (s->tls_key == NULL)
			goto fail;
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
	}
	if (o->tls_client_ca != NULL) {
		s->tls_client_ca = read_text_file("--tls-client-ca", o->tls_client_ca, cause);
		if (s->tls_client_ca == NULL ||
		    clientcert_ca_valid(s->tls_client_ca, o->tls_client_ca, cause) != CLIENTCERT_OK)
			goto fail;
		/* Clients are asked for a certificate; on_request checks it. */
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, s->tls_client_ca};
	}
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &addr};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)o->threads, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
	                                    (intptr_t)o->idle_timeout, NULL};
	/* Past --max-connections requests get a 503; past this, connections are refused. */
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
	                                    (intptr_t)o->max_connections + CONNECTION_SLACK, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	                                    (intptr_t)o->max_connections_per_ip, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
	/*
	 * A connection's buffers: room for a stream (a batch, say) to leave in
	 * sends of RESPOND_STREAM_BLOCK. No more: libmicrohttpd 0.9.75 zeroes
	 * the whole pool after every request of a kept-alive connection, and
	 * with 512 KiB that memset was 90% of the instructions of a 1 KiB GET
	 * (callgrind), for streams that, compressed now, are a quarter of
	 * their raw size.
	 */
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	                                    2 * RESPOND_STREAM_BLOCK, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
	                                    (intptr_t)on_completed, gw};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
	                                    (intptr_t)on_connection, gw};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK,
	                                    (intptr_t)unescape_nothing, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

	s->daemon = MHD_start_daemon(flags, o->listen_port, NULL, NULL, on_request, gw,
	                             MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (s->daemon == NULL) {
		cause_set(cause, "cannot listen on %s:%u (in use, or not an address of this machine?)",
		          o->listen_host, o->listen_port);
		goto fail;
	}
	return s;
fail:
	free(s->tls_cert);
	free(s->tls_key);
	free(s->tls_client_ca);
	free(s);
	return NULL;
}

uint16_t server_port(const struct server *s)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon,
	                                                       MHD_DAEMON_INFO_BIND_PORT);

	return info != NULL ? info->port : 0;
}

void server_drain(struct server *s, unsigned grace)
{
	struct timespec nap = {0, 20 * 1000 * 1000};
	long naps = (long)grace * 50;

	s->listener = MHD_quiesce_daemon(s->daemon);
	/* New connections are refused from here on; the descriptor stays ours until stop. */
	if (s->listener != MHD_INVALID_SOCKET)
		shutdown(s->listener, SHUT_RDWR);
	while (atomic_load(&s->gw->in_flight) > 0 && naps-- > 0)
		nanosleep(&nap, NULL);
}

void server_stop(struct server *s)
{
	MHD_stop_daemon(s->daemon);
	if (s->listener != MHD_INVALID_SOCKET)
		close(s->listener);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->tls_client_ca);
	free(s);
}
