/*
 * report.c: the job's report (report.h). The file is read, changed and
 * written back under an exclusive flock, so go commands that end at once
 * each add their numbers exactly once; text around the report's section
 * (other steps' summaries) is kept as it is.
 */
#include "proghelper/report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cause.h"

/* The line that keeps the totals, up to its numbers. */
#define REPORT_TOTALS "<!-- cachegate-prog totals v1:"
/* Bytes at the end of an output searched for a test result's last line. */
#define REPORT_TAIL 1024

/* The totals a report keeps, each under its name in the totals line. */
enum total {
	T_RUNS, T_GETS, T_LOCAL_HITS, T_REMOTE_HITS, T_MISSES, T_PUTS, T_UPLOADS, T_DROPPED,
	T_UP, T_UP_RAW, T_DOWN, T_DOWN_RAW, T_ERRORS, T_WAIT_US, T_PRELOAD_HITS, T_PRELOAD_BYTES,
	T_PRELOAD_UNUSED, T_TESTS_CACHED, T_TESTS_SAVED_MS, T_PATH_HINTS, T_COUNT
};

static const char *const total_names[T_COUNT] = {
	"runs", "gets", "local_hits", "remote_hits", "misses", "puts", "uploads", "dropped",
	"bytes_up", "bytes_up_raw", "bytes_down", "bytes_down_raw", "remote_errors",
	"remote_wait_us", "preload_hits", "preload_bytes", "preload_unused", "tests_cached",
	"tests_saved_ms", "path_hints",
};

/* Read a counter. */
static uint64_t get(atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/*
 * The time in an output's last line if it is the go command's line for a
 * passed test ("ok  \t<package>\t<seconds>s..."), in ms; -1 if not.
 */
static int64_t report_test_ms(const char *tail, size_t n)
{
	const char *line, *tab;
	char *end;
	double secs;

	if (n < 2 || tail[n - 1] != '\n')
		return -1;
	line = memrchr(tail, '\n', n - 1);
	line = line != NULL ? line + 1 : tail;
	if (line == tail && n == REPORT_TAIL)
		return -1;  /* the line may start before the tail */
	if (strncmp(line, "ok  \t", 5) != 0)
		return -1;
	tab = memchr(line + 5, '\t', (size_t)(tail + n - (line + 5)));
	if (tab == NULL)
		return -1;
	errno = 0;
	secs = strtod(tab + 1, &end);
	if (errno != 0 || end == tab + 1 || *end != 's' || secs < 0 || secs > 1e9)
		return -1;
	return (int64_t)(secs * 1000 + 0.5);
}

void report_note_hit(struct stats *st, const char *path, uint64_t size)
{
	char tail[REPORT_TAIL];
	size_t want = size < REPORT_TAIL ? (size_t)size : REPORT_TAIL;
	ssize_t got;
	int64_t ms;
	int fd;

	if (!st->count_saved || size < 8)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	got = pread(fd, tail, want, (off_t)(size - want));
	close(fd);
	if (got != (ssize_t)want)
		return;
	ms = report_test_ms(tail, want);
	if (ms < 0)
		return;
	stats_add(&st->tests_cached, 1);
	stats_add(&st->tests_saved_ms, (uint64_t)ms);
}

/* This run's numbers, as totals. */
static void report_of_run(struct stats *st, uint64_t t[T_COUNT])
{
	const char *flags = getenv("GOFLAGS");

	memset(t, 0, sizeof(uint64_t) * T_COUNT);
	t[T_RUNS] = 1;
	t[T_GETS] = get(&st->gets);
	t[T_LOCAL_HITS] = get(&st->local_hits);
	t[T_REMOTE_HITS] = get(&st->remote_hits);
	t[T_MISSES] = get(&st->misses);
	t[T_PUTS] = get(&st->puts);
	t[T_UPLOADS] = get(&st->uploads);
	t[T_DROPPED] = get(&st->uploads_dropped);
	t[T_UP] = get(&st->bytes_up);
	t[T_UP_RAW] = get(&st->bytes_up_raw);
	t[T_DOWN] = get(&st->bytes_down);
	t[T_DOWN_RAW] = get(&st->bytes_down_raw);
	t[T_ERRORS] = get(&st->remote_errors);
	t[T_WAIT_US] = get(&st->remote_wait_us);
	t[T_PRELOAD_HITS] = get(&st->preload_hits);
	t[T_PRELOAD_BYTES] = get(&st->preload_bytes);
	t[T_PRELOAD_UNUSED] = get(&st->preload_unused);
	t[T_TESTS_CACHED] = get(&st->tests_cached);
	t[T_TESTS_SAVED_MS] = get(&st->tests_saved_ms);
	/*
	 * The preload's list was left by a build of this scope in another
	 * directory, and this build missed: without -trimpath the compiled
	 * packages of a checkout name its path, so another path's cannot hit.
	 */
	t[T_PATH_HINTS] = t[T_MISSES] > 0 && get(&st->preload_other_checkout) > 0 &&
	                  (flags == NULL || strstr(flags, "-trimpath") == NULL);
}

/* Add the totals in the section text (of n bytes) to t; unknown names are skipped. */
static void report_parse(const char *text, size_t n, uint64_t t[T_COUNT])
{
	const char *p = memmem(text, n, REPORT_TOTALS, sizeof REPORT_TOTALS - 1);
	const char *end;
	char name[32];
	uint64_t v;
	int used;

	if (p == NULL)
		return;
	p += sizeof REPORT_TOTALS - 1;
	end = memchr(p, '\n', (size_t)(text + n - p));
	if (end == NULL)
		return;
	while (p < end && sscanf(p, " %31[a-z_] %" SCNu64 "%n", name, &v, &used) == 2) {
		for (int i = 0; i < T_COUNT; i++)
			if (strcmp(name, total_names[i]) == 0)
				t[i] += v;
		p += used;
	}
}

/* Bytes for people: "1.5 MiB". */
static void report_size(uint64_t n, char *out, size_t cap)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, unit[u]);
}

/* Part of the gets, in per cent. */
static double report_share(const uint64_t t[T_COUNT], uint64_t n)
{
	return t[T_GETS] > 0 ? 100.0 * (double)n / (double)t[T_GETS] : 0;
}

/* Write the section for totals t to f. */
static void report_render(FILE *f, const uint64_t t[T_COUNT])
{
	char a[32], b[32];

	fputs(REPORT_BEGIN, f);
	fprintf(f, "### Go build cache (cachegate): %" PRIu64 " go command%s, %.1f%% of %" PRIu64
	        " gets hit\n\n", t[T_RUNS], t[T_RUNS] == 1 ? "" : "s",
	        report_share(t, t[T_LOCAL_HITS] + t[T_REMOTE_HITS]), t[T_GETS]);
	fputs("| what the cache did | count |\n|---|---|\n", f);
	fprintf(f, "| gets | %" PRIu64 " |\n", t[T_GETS]);
	fprintf(f, "| local hits | %" PRIu64 " (%.1f%%) |\n", t[T_LOCAL_HITS],
	        report_share(t, t[T_LOCAL_HITS]));
	fprintf(f, "| preload hits (brought ahead from the gateway) | %" PRIu64 " (%.1f%%) |\n",
	        t[T_PRELOAD_HITS], report_share(t, t[T_PRELOAD_HITS]));
	fprintf(f, "| remote hits (asked one by one) | %" PRIu64 " (%.1f%%) |\n", t[T_REMOTE_HITS],
	        report_share(t, t[T_REMOTE_HITS]));
	fprintf(f, "| misses (built or run here) | %" PRIu64 " (%.1f%%) |\n", t[T_MISSES],
	        report_share(t, t[T_MISSES]));
	fprintf(f, "| puts, uploads (dropped) | %" PRIu64 ", %" PRIu64 " (%" PRIu64 ") |\n",
	        t[T_PUTS], t[T_UPLOADS], t[T_DROPPED]);
	report_size(t[T_DOWN], a, sizeof a);
	report_size(t[T_DOWN_RAW], b, sizeof b);
	fprintf(f, "| bytes down, on the wire (raw) | %" PRIu64 " (%" PRIu64 "): %s (%s) |\n",
	        t[T_DOWN], t[T_DOWN_RAW], a, b);
	report_size(t[T_UP], a, sizeof a);
	report_size(t[T_UP_RAW], b, sizeof b);
	fprintf(f, "| bytes up, on the wire (raw) | %" PRIu64 " (%" PRIu64 "): %s (%s) |\n",
	        t[T_UP], t[T_UP_RAW], a, b);
	report_size(t[T_PRELOAD_BYTES], a, sizeof a);
	report_size(t[T_PRELOAD_UNUSED], b, sizeof b);
	fprintf(f, "| preload bytes (unused) | %" PRIu64 " (%" PRIu64 "): %s (%s) |\n",
	        t[T_PRELOAD_BYTES], t[T_PRELOAD_UNUSED], a, b);
	fprintf(f, "| remote wait (gets waiting on the gateway, summed) | %.3fs |\n",
	        (double)t[T_WAIT_US] / 1e6);
	fprintf(f, "| remote errors | %" PRIu64 " |\n", t[T_ERRORS]);
	fprintf(f, "| test time saved (cached results, their recorded run time) | %.3fs in %" PRIu64
	        " results |\n", (double)t[T_TESTS_SAVED_MS] / 1e3, t[T_TESTS_CACHED]);
	fputs("| compile time saved | not known: the go command's cache entries record none |\n",
	      f);
	if (t[T_PATH_HINTS] > 0)
		fprintf(f, "\n%" PRIu64 " go command%s missed entries and preloaded a list that a "
		        "build at another checkout path left: without `-trimpath` compiled packages "
		        "name their directory, so what another path built cannot hit here. Set "
		        "`GOFLAGS=-trimpath` on every machine that shares the gateway.\n",
		        t[T_PATH_HINTS], t[T_PATH_HINTS] == 1 ? "" : "s");
	fputs("\n" REPORT_TOTALS, f);
	for (int i = 0; i < T_COUNT; i++)
		fprintf(f, " %s %" PRIu64, total_names[i], t[i]);
	fputs(" -->\n" REPORT_END, f);
}

/* Read all of fd (at most REPORT_FILE_MAX bytes) into a new *text of *n bytes. */
static bool report_read(int fd, char **text, size_t *n, char **cause)
{
	struct stat st;
	ssize_t got;

	if (fstat(fd, &st) != 0) {
		cause_set(cause, "%s", strerror(errno));
		return false;
	}
	if (st.st_size > (off_t)REPORT_FILE_MAX) {
		cause_set(cause, "it is larger than %u bytes", REPORT_FILE_MAX);
		return false;
	}
	*text = malloc((size_t)st.st_size + 1);
	if (*text == NULL) {
		cause_set(cause, "out of memory");
		return false;
	}
	got = pread(fd, *text, (size_t)st.st_size, 0);
	if (got < 0) {
		cause_set(cause, "%s", strerror(errno));
		free(*text);
		return false;
	}
	*n = (size_t)got;
	return true;
}

/* Write n bytes of data over the whole file fd. */
static bool report_write(int fd, const char *data, size_t n, char **cause)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = pwrite(fd, data + done, n - done, (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			cause_set(cause, "%s", w < 0 ? strerror(errno) : "nothing written");
			return false;
		}
		done += (size_t)w;
	}
	if (ftruncate(fd, (off_t)n) != 0) {
		cause_set(cause, "%s", strerror(errno));
		return false;
	}
	return true;
}

/* The new contents of a file holding text (n bytes) with run's totals added; NULL: no memory. */
static char *report_merge(const char *text, size_t n, const uint64_t run[T_COUNT], size_t *len)
{
	const char *begin = memmem(text, n, REPORT_BEGIN, sizeof REPORT_BEGIN - 1);
	const char *end = NULL;
	size_t head = n, tail_at = n;
	uint64_t t[T_COUNT];
	char *out = NULL;
	FILE *f;

	memcpy(t, run, sizeof t);
	if (begin != NULL)
		end = memmem(begin, (size_t)(text + n - begin), REPORT_END, sizeof REPORT_END - 1);
	if (end != NULL) {
		head = (size_t)(begin - text);
		tail_at = (size_t)(end - text) + sizeof REPORT_END - 1;
		report_parse(begin, (size_t)(end - begin), t);
	}
	f = open_memstream(&out, len);
	if (f == NULL)
		return NULL;
	fwrite(text, 1, head, f);
	/* A section after other text starts a paragraph of its own. */
	if (head > 0 && end == NULL)
		fputs(text[head - 1] == '\n' ? "\n" : "\n\n", f);
	report_render(f, t);
	fwrite(text + tail_at, 1, n - tail_at, f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

bool report_add(const char *path, struct stats *st, char **cause)
{
	uint64_t run[T_COUNT];
	char *text = NULL, *out;
	size_t n = 0, len = 0;
	bool ok;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		cause_set(cause, "cannot open the report %s: %s", path, strerror(errno));
		return false;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			cause_set(cause, "cannot lock the report %s: %s", path, strerror(errno));
			close(fd);
			return false;
		}
	}
	if (!report_read(fd, &text, &n, cause)) {
		char *why = *cause;
		*cause = NULL;
		cause_set(cause, "cannot read the report %s: %s", path, cause_text(why));
		free(why);
		close(fd);
		return false;
	}
	report_of_run(st, run);
	out = report_merge(text, n, run, &len);
	ok = out != NULL && report_write(fd, out, len, cause);
	if (!ok) {
		char *why = *cause;
		*cause = NULL;
		cause_set(cause, "cannot write the report %s: %s", path,
		          why != NULL ? why : "out of memory");
		free(why);
	}
	free(out);
	free(text);
	close(fd);  /* and the lock with it */
	return ok;
}

/* The step summary file GitHub Actions names, or NULL. */
static const char *report_step_summary(void)
{
	const char *s = getenv("GITHUB_STEP_SUMMARY");

	return s != NULL && s[0] != '\0' ? s : NULL;
}

bool report_wanted(const char *file)
{
	return file != NULL || report_step_summary() != NULL;
}

/* True when paths a and b name one existing file. */
static bool report_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

void report_end(const char *file, struct stats *st)
{
	const char *summary = report_step_summary();
	char *cause = NULL;

	if (file != NULL && !report_add(file, st, &cause))
		fprintf(stderr, "cachegate-prog: %s\n", cause_text(cause));
	free(cause);
	cause = NULL;
	if (summary == NULL || (file != NULL && report_same_file(file, summary)))
		return;
	if (!report_add(summary, st, &cause))
		fprintf(stderr, "cachegate-prog: %s\n", cause_text(cause));
	free(cause);
}
