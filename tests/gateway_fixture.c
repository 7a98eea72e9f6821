/*
 * gateway_fixture.c: a real cachegate per test, on loopback.
 */
#include "tests/gateway_fixture.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/tmpdir.h"

/* How long the server may take to start or to stop, even under ASan. */
#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 30000

/* Sleep for ms milliseconds. */
static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Make g's private directory once. */
static void prepare(struct gw *g)
{
	if (g->dir != NULL)
		return;
	g->dir = tmpdir_make("cachegate-gw");
	cr_assert_not_null(g->dir, "cannot make a temp directory");
	snprintf(g->store, sizeof(g->store), "%s/store", g->dir);
	snprintf(g->log, sizeof(g->log), "%s/server.log", g->dir);
}

char *gw_write_file(struct gw *g, const char *name, const char *text)
{
	char *path;
	FILE *f;

	prepare(g);
	cr_assert_geq(asprintf(&path, "%s/%s", g->dir, name), 0);
	f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Print the server's log to stderr, to explain a failure. */
static void dump_log(const struct gw *g)
{
	char line[1024];
	FILE *f = fopen(g->log, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "  server: %s", line);
	fclose(f);
}

void gw_start(struct gw *g, const char *const *extra, const char *const *env)
{
	const char *bin = getenv("CACHEGATE");
	char portfile[600];
	const char *argv[64];
	size_t n = 0;
	long waited;

	cr_assert_not_null(bin, "CACHEGATE is not set (run through make check)");
	prepare(g);
	snprintf(portfile, sizeof(portfile), "%s/port", g->dir);
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	if (!g->default_dir) {
		argv[n++] = "--dir";
		argv[n++] = g->store;
	}
	argv[n++] = "--threads";
	argv[n++] = "2";
	argv[n++] = "--log";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 63; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	g->pid = fork();
	cr_assert_geq(g->pid, 0, "fork failed");
	if (g->pid == 0) {
		FILE *log = freopen(g->log, "w", stderr);
		if (log == NULL)
			_exit(126);
		for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
			if (strchr(env[i], '=') != NULL)
				putenv((char *)env[i]);
			else
				unsetenv(env[i]);
		}
		execv(bin, (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	for (waited = 0; waited < START_TIMEOUT_MS; waited += 10) {
		FILE *f = fopen(portfile, "r");
		int status;

		if (f != NULL) {
			int got = fscanf(f, "%u", &g->port);
			fclose(f);
			if (got == 1 && g->port > 0)
				break;
		}
		if (waitpid(g->pid, &status, WNOHANG) == g->pid) {
			g->pid = 0;
			dump_log(g);
			cr_assert_fail("cachegate exited at start (status %d)", status);
		}
		nap(10);
	}
	if (g->port == 0) {
		dump_log(g);
		cr_assert_fail("cachegate did not write its port file in time");
	}
	snprintf(g->base, sizeof(g->base), "http://127.0.0.1:%u", g->port);
}

int gw_stop(struct gw *g)
{
	int status = 0, result = -1;
	long waited;

	if (g->pid > 0) {
		kill(g->pid, SIGTERM);
		for (waited = 0; waited < STOP_TIMEOUT_MS; waited += 10) {
			if (waitpid(g->pid, &status, WNOHANG) == g->pid)
				break;
			nap(10);
		}
		if (waited >= STOP_TIMEOUT_MS) {
			kill(g->pid, SIGKILL);
			waitpid(g->pid, &status, 0);
		} else if (WIFEXITED(status)) {
			result = WEXITSTATUS(status);
		}
		if (result != 0 || getenv("GW_DUMP_LOG") != NULL)
			dump_log(g);
		g->pid = 0;
	} else {
		result = 0;
	}
	if (g->dir != NULL) {
		tmpdir_remove(g->dir);
		g->dir = NULL;
	}
	return result;
}

int gw_run(const char *const *args, const char *const *env, char *out, size_t n)
{
	const char *bin = getenv("CACHEGATE");
	const char *argv[32] = {bin};
	int pipefd[2], status;
	size_t len = 0, i;
	ssize_t r;
	pid_t pid;

	cr_assert_not_null(bin, "CACHEGATE is not set (run through make check)");
	for (i = 0; args[i] != NULL && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		for (i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)env[i]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (len + 1 < n && (r = read(pipefd[0], out + len, n - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct buffer {
	char *data;
	size_t len;
};

/* libcurl write callback: append to a growing buffer. */
static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buffer *b = userdata;
	size_t n = size * nmemb;
	char *grown = realloc(b->data, b->len + n + 1);

	if (grown == NULL)
		return 0;
	memcpy(grown + b->len, ptr, n);
	b->len += n;
	grown[b->len] = '\0';
	b->data = grown;
	return n;
}

long gw_http(const struct gw *g, const char *method, const char *path, const void *body,
             size_t len, const char *const *headers, struct gw_reply *out)
{
	struct buffer resp = {NULL, 0}, head = {NULL, 0};
	struct curl_slist *list = NULL;
	char url[1024];
	CURL *curl = curl_easy_init();
	long status = 0;

	cr_assert_not_null(curl);
	snprintf(url, sizeof(url), "%s%s", g->base, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	list = curl_slist_append(list, "Expect:");  /* send bodies at once unless a test asks */
	list = curl_slist_append(list, "Content-Type: application/octet-stream");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		list = curl_slist_append(list, headers[i]);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &head);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
	if (out != NULL) {
		out->status = status;
		out->body = resp.data != NULL ? resp.data : strdup("");
		out->len = resp.len;
		out->headers = head.data != NULL ? head.data : strdup("");
	} else {
		free(resp.data);
		free(head.data);
	}
	return status;
}

void gw_reply_free(struct gw_reply *r)
{
	free(r->body);
	free(r->headers);
	r->body = r->headers = NULL;
}

bool gw_header_value(const struct gw_reply *r, const char *name, char *out, size_t n)
{
	size_t len = strlen(name);

	for (const char *p = r->headers; p != NULL && *p != '\0'; ) {
		const char *eol = strstr(p, "\r\n");
		if (strncasecmp(p, name, len) == 0 && p[len] == ':') {
			const char *v = p + len + 1;
			size_t vlen;
			while (*v == ' ')
				v++;
			vlen = eol != NULL ? (size_t)(eol - v) : strlen(v);
			snprintf(out, n, "%.*s", (int)vlen, v);
			return true;
		}
		p = eol != NULL ? eol + 2 : NULL;
	}
	return false;
}

void gw_assert_one_line(const struct gw_reply *r)
{
	cr_assert_gt(r->len, 1, "error body is empty");
	cr_assert_eq(r->body[r->len - 1], '\n', "error body does not end its line: %s", r->body);
	cr_assert_null(memchr(r->body, '\n', r->len - 1), "error body has several lines: %s",
	               r->body);
}

long long gw_metric(const struct gw *g, const char *sample)
{
	struct gw_reply r;
	long long v = -1;
	size_t n = strlen(sample);
	char *save = NULL;

	cr_assert_eq(gw_http(g, "GET", "/metrics", NULL, 0, NULL, &r), 200);
	for (char *line = strtok_r(r.body, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, sample, n) == 0 && line[n] == ' ')
			v = atoll(line + n + 1);
	gw_reply_free(&r);
	return v;
}

void gw_fill(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (char)(seed >> 16);
	}
}

void gw_sha256_hex(const void *buf, size_t n, char hex[65])
{
	unsigned char d[32];

	cr_assert_eq(EVP_Digest(buf, n, d, NULL, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

int gw_connect(const struct gw *g)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)g->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
	             strerror(errno));
	return fd;
}

bool gw_send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* True when buf holds whole headers and as much body as they announce. */
static bool response_complete(const char *buf, size_t len)
{
	const char *end = strstr(buf, "\r\n\r\n"), *cl;
	unsigned long body;

	if (end == NULL)
		return false;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl == NULL || cl > end)
		return true;
	body = strtoul(cl + 17, NULL, 10);
	return len >= (size_t)(end + 4 - buf) + body;
}

size_t gw_read_response(int fd, char *buf, size_t cap, int timeout_ms)
{
	size_t len = 0;
	long waited = 0;

	buf[0] = '\0';
	while (len + 1 < cap && waited < timeout_ms) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t r;

		if (poll(&p, 1, 100) == 0) {
			waited += 100;
			continue;
		}
		r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		if (response_complete(buf, len))
			break;
	}
	return len;
}

long gw_proc_kib(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t n = strlen(name);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Count regular files under path, recursively. */
static size_t count_files(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char sub[1024];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (lstat(sub, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			n += count_files(sub);
		else if (S_ISREG(st.st_mode))
			n++;
	}
	closedir(d);
	return n;
}

size_t gw_count_files(const struct gw *g, const char *sub)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", g->store, sub);
	return count_files(path);
}
