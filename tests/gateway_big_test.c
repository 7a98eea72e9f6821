/*
 * gateway_big_test.c: a 1 GiB object goes up and comes back down streamed,
 * while the server's resident memory stays under 64 MiB.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/gateway_fixture.h"

static struct gw g;

static void teardown(void)
{
	gw_stop(&g);
}

TestSuite(gateway_big, .fini = teardown, .timeout = 900);

#define BIG_SIZE (1024ULL * 1024 * 1024)
#define RSS_LIMIT_KIB (64L * 1024)
#define BLOCK 65536

/* A deterministic byte stream (xorshift64*), produced a block at a time. */
struct stream {
	uint64_t state;
	uint64_t left;           /* bytes still to produce */
	unsigned char block[BLOCK];
	size_t pos, len;         /* unread part of block */
	EVP_MD_CTX *sha;         /* hashes every byte produced */
};

static void stream_init(struct stream *s)
{
	s->state = 0x9e3779b97f4a7c15ULL;
	s->left = BIG_SIZE;
	s->pos = s->len = 0;
	s->sha = EVP_MD_CTX_new();
	cr_assert_not_null(s->sha);
	cr_assert_eq(EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL), 1);
}

/* Copy up to n next bytes of the stream into out; returns how many. */
static size_t stream_read(struct stream *s, void *out, size_t n)
{
	if (s->pos == s->len) {
		if (s->left == 0)
			return 0;
		for (size_t i = 0; i < BLOCK; i += 8) {
			uint64_t x = s->state;
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			s->state = x;
			x *= 0x2545f4914f6cdd1dULL;
			memcpy(s->block + i, &x, 8);
		}
		s->len = s->left < BLOCK ? (size_t)s->left : BLOCK;
		s->left -= s->len;
		s->pos = 0;
		EVP_DigestUpdate(s->sha, s->block, s->len);
	}
	if (n > s->len - s->pos)
		n = s->len - s->pos;
	memcpy(out, s->block + s->pos, n);
	s->pos += n;
	return n;
}

/* Finish the stream's hash as hex and free its context. */
static void stream_hex(struct stream *s, char hex[65])
{
	unsigned char d[32];

	cr_assert_eq(EVP_DigestFinal_ex(s->sha, d, NULL), 1);
	EVP_MD_CTX_free(s->sha);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* libcurl read callback: the next bytes of the stream. */
static size_t upload_read(char *buf, size_t size, size_t nitems, void *userdata)
{
	return stream_read(userdata, buf, size * nitems);
}

struct sink {
	EVP_MD_CTX *sha;
	uint64_t bytes;
};

/* libcurl write callback: hash what comes down, keep nothing. */
static size_t download_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;

	EVP_DigestUpdate(s->sha, ptr, size * nmemb);
	s->bytes += size * nmemb;
	return size * nmemb;
}

struct sampler {
	pid_t pid;
	atomic_bool stop;
	long max_rss_kib;
	pthread_t thread;
};

/* Poll the server's VmRSS every 20 ms, keeping the highest value. */
static void *sample_rss(void *arg)
{
	struct sampler *s = arg;
	struct timespec nap = {0, 20 * 1000 * 1000};

	while (!atomic_load(&s->stop)) {
		long rss = gw_proc_kib(s->pid, "VmRSS");
		if (rss > s->max_rss_kib)
			s->max_rss_kib = rss;
		nanosleep(&nap, NULL);
	}
	return NULL;
}

Test(gateway_big, one_gib_streams_in_little_memory)
{
	struct stream pre, up;
	struct sink down = {NULL, 0};
	struct sampler smp = {0};
	char id[65], sent_hex[65], got_hex[65], url[256];
	unsigned char d[32];
	long status = 0, hwm;
	CURL *curl;
	struct curl_slist *hdrs = NULL;

	/*
	 * Under ASan, freed memory sits in a quarantine (256 MiB by default)
	 * before reuse, which would count as resident here though the server
	 * never holds it; a small quarantine measures the server itself.
	 */
	static const char *const env[] = {
		"ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=8:malloc_context_size=5", NULL,
	};

	gw_start(&g, NULL, env);

	/* The id is the stream's SHA-256: one pass to learn it. */
	stream_init(&pre);
	{
		static unsigned char sink_buf[BLOCK];
		while (stream_read(&pre, sink_buf, sizeof(sink_buf)) > 0)
			;
	}
	stream_hex(&pre, id);

	smp.pid = g.pid;
	atomic_init(&smp.stop, false);
	cr_assert_eq(pthread_create(&smp.thread, NULL, sample_rss, &smp), 0);

	/* Up: generated on the fly, hashed while sent. */
	stream_init(&up);
	snprintf(url, sizeof(url), "%s/cas/%s", g.base, id);
	curl = curl_easy_init();
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)BIG_SIZE);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, download_write);
	down.sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(down.sha, EVP_sha256(), NULL);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &down);
	cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	cr_assert_eq(status, 201);
	stream_hex(&up, sent_hex);
	cr_assert_str_eq(sent_hex, id);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hdrs);

	/* Down: hashed as it arrives, never kept. */
	EVP_MD_CTX_free(down.sha);
	down.sha = EVP_MD_CTX_new();
	down.bytes = 0;
	EVP_DigestInit_ex(down.sha, EVP_sha256(), NULL);
	curl = curl_easy_init();
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, download_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &down);
	cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	cr_assert_eq(status, 200);
	cr_assert_eq(down.bytes, BIG_SIZE);
	EVP_DigestFinal_ex(down.sha, d, NULL);
	EVP_MD_CTX_free(down.sha);
	for (int i = 0; i < 32; i++)
		snprintf(got_hex + 2 * i, 3, "%02x", d[i]);
	cr_assert_str_eq(got_hex, id, "downloaded bytes differ from the upload");

	atomic_store(&smp.stop, true);
	pthread_join(smp.thread, NULL);
	hwm = gw_proc_kib(g.pid, "VmHWM");
	fprintf(stderr, "cachegate peak resident memory over 1 GiB up and down: "
	        "VmHWM %ld KiB, highest VmRSS sampled %ld KiB\n", hwm, smp.max_rss_kib);
	cr_assert_gt(hwm, 0, "cannot read the server's VmHWM");
	cr_assert_lt(hwm, RSS_LIMIT_KIB, "server peaked at %ld KiB resident", hwm);
	cr_assert_lt(smp.max_rss_kib, RSS_LIMIT_KIB);
	cr_assert_eq(gw_stop(&g), 0);
}
