/*
 * accesslog.c: the access log.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "gateway/ops/accesslog.h"

/* Copy src into dst (size n), with anything unprintable as '?'. */
static void copy_printable(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i] != '\0'; i++)
		dst[i] = src[i] > ' ' && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

void accesslog_note(struct request *r, const char *name, const char *url)
{
	copy_printable(r->method_name, sizeof(r->method_name), name);
	copy_printable(r->path, sizeof(r->path), url);
}

/* The numeric address of a client, or "-". */
static void client_text(const struct sockaddr *sa, char *buf, size_t n)
{
	const void *addr = NULL;

	if (sa != NULL && sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa != NULL && sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (addr == NULL || inet_ntop(sa->sa_family, addr, buf, (socklen_t)n) == NULL)
		snprintf(buf, n, "-");
}

/*
 * The namespaces of r's grant, " ns=<written> reads=<a,b>" ("-" for a
 * read-only grant), or "" when r had none (it stopped before its
 * credentials were checked).
 */
static void grant_text(const struct request *r, char *buf, size_t n)
{
	const struct grant *g = &r->grant;
	int used;

	buf[0] = '\0';
	if (g->nreads == 0)
		return;
	used = snprintf(buf, n, " ns=%s reads=", g->write ? g->ns : "-");
	for (size_t i = 0; i < g->nreads && used >= 0 && (size_t)used < n; i++)
		used += snprintf(buf + used, n - (size_t)used, "%s%s", i ? "," : "", g->reads[i]);
}

void accesslog_write(const struct request *r, const struct sockaddr *client, bool finished)
{
	char when[32], who[INET6_ADDRSTRLEN];
	char grant[sizeof " ns= reads=" + (GRANT_READS_MAX + 1) * (GRANT_NS_MAX + 1)];
	struct tm tm;
	time_t t = time(NULL);
	double ms;

	ms = (double)(clock_us() - r->started_us) / 1e3;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	client_text(client, who, sizeof(who));
	grant_text(r, grant, sizeof(grant));
	fprintf(stderr, "%s %s %s %s %u in=%" PRIu64 " out=%" PRIu64 " %.1fms%s%s\n",
	        when, who, r->method_name, r->path, r->status, r->body_in,
	        finished ? r->body_out : 0, ms, grant, finished ? "" : " aborted");
}
