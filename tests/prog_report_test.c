/*
 * prog_report_test.c: the job's report adds each run's numbers to the
 * totals it keeps, shows them as the stats line counts them, keeps the text
 * around its section, counts each run once when runs end at once, and
 * tells the test time of cached test results from their "ok" line.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proghelper/report.h"
#include "tests/tmpdir.h"

static char *dir;
static char path[PATH_MAX];

static void setup(void)
{
	dir = tmpdir_make("cachegate-report");
	snprintf(path, sizeof path, "%s/report.md", dir);
	unsetenv("GITHUB_STEP_SUMMARY");
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(prog_report, .init = setup, .fini = teardown);

/* A run's counters: gets 10, 6 local hits, 3 remote, 1 miss, and so on. */
static void run_of(struct stats *st)
{
	memset(st, 0, sizeof *st);
	stats_add(&st->gets, 10);
	stats_add(&st->local_hits, 6);
	stats_add(&st->remote_hits, 3);
	stats_add(&st->misses, 1);
	stats_add(&st->puts, 2);
	stats_add(&st->uploads, 2);
	stats_add(&st->bytes_up, 700);
	stats_add(&st->bytes_up_raw, 2000);
	stats_add(&st->bytes_down, 5000);
	stats_add(&st->bytes_down_raw, 9000);
	stats_add(&st->remote_wait_us, 250000);
	stats_add(&st->preload_hits, 5);
	stats_add(&st->preload_bytes, 4096);
}

/* The whole file at p, NUL-terminated. */
static char *slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	char *text = calloc(1, 1 << 20);
	size_t n;

	cr_assert_not_null(f);
	n = fread(text, 1, (1 << 20) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* True when the report's table has the row "| name | value". */
static bool has_row(const char *text, const char *name, const char *value)
{
	char row[256];

	snprintf(row, sizeof row, "| %s | %s", name, value);
	return strstr(text, row) != NULL;
}

Test(prog_report, runs_add_up_in_one_table)
{
	struct stats st;
	char *cause = NULL, *text;

	run_of(&st);
	cr_assert(report_add(path, &st, &cause), "%s", cause);
	text = slurp(path);
	cr_assert(has_row(text, "gets", "10 |"), "%s", text);
	cr_assert(has_row(text, "local hits", "6 (60.0%)"), "%s", text);
	cr_assert(has_row(text, "remote hits (asked one by one)", "3 (30.0%)"), "%s", text);
	cr_assert(has_row(text, "bytes down, on the wire (raw)", "5000 (9000)"), "%s", text);
	cr_assert(has_row(text, "remote wait (gets waiting on the gateway, summed)", "0.250s"));
	cr_assert_not_null(strstr(text, "1 go command, 90.0% of 10 gets hit"), "%s", text);
	free(text);

	cr_assert(report_add(path, &st, &cause), "%s", cause);
	cr_assert(report_add(path, &st, &cause), "%s", cause);
	text = slurp(path);
	cr_assert(has_row(text, "gets", "30 |"), "%s", text);
	cr_assert(has_row(text, "misses (built or run here)", "3 (10.0%)"), "%s", text);
	cr_assert(has_row(text, "bytes up, on the wire (raw)", "2100 (6000)"), "%s", text);
	cr_assert(has_row(text, "preload hits (brought ahead from the gateway)", "15 (50.0%)"));
	cr_assert(has_row(text, "remote wait (gets waiting on the gateway, summed)", "0.750s"));
	cr_assert_not_null(strstr(text, "3 go commands"), "%s", text);
	cr_assert_eq(strstr(strstr(text, REPORT_BEGIN) + 1, REPORT_BEGIN), NULL, "one section");
	free(text);
}

Test(prog_report, the_text_around_the_section_is_kept)
{
	struct stats st;
	char *cause = NULL, *text;
	FILE *f = fopen(path, "w");

	fputs("# Step one\nsome other tool's summary\n", f);
	fclose(f);
	run_of(&st);
	cr_assert(report_add(path, &st, &cause), "%s", cause);
	f = fopen(path, "a");
	fputs("## written after\n", f);
	fclose(f);
	cr_assert(report_add(path, &st, &cause), "%s", cause);
	text = slurp(path);
	cr_assert_eq(strncmp(text, "# Step one\nsome other tool's summary\n\n" REPORT_BEGIN,
	                     strlen("# Step one\nsome other tool's summary\n\n" REPORT_BEGIN)), 0,
	             "%s", text);
	cr_assert_not_null(strstr(text, REPORT_END "## written after\n"), "%s", text);
	cr_assert(has_row(text, "gets", "20 |"), "%s", text);
	free(text);
}

Test(prog_report, runs_that_end_at_once_are_each_counted_once)
{
	struct stats st;
	char *text;
	int status;

	run_of(&st);
	for (int i = 0; i < 16; i++) {
		pid_t pid = fork();
		cr_assert_neq(pid, -1);
		if (pid == 0) {
			char *cause = NULL;
			_exit(report_add(path, &st, &cause) ? 0 : 1);
		}
	}
	for (int i = 0; i < 16; i++) {
		cr_assert_neq(wait(&status), -1);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	text = slurp(path);
	cr_assert_not_null(strstr(text, "16 go commands"), "%s", text);
	cr_assert(has_row(text, "gets", "160 |"), "%s", text);
	free(text);
}

Test(prog_report, the_step_summary_gets_the_report_too_but_never_twice)
{
	struct stats st;
	char summary[PATH_MAX], *text;

	snprintf(summary, sizeof summary, "%s/summary.md", dir);
	setenv("GITHUB_STEP_SUMMARY", summary, 1);
	cr_assert(report_wanted(NULL));
	run_of(&st);
	report_end(path, &st);
	report_end(NULL, &st);
	text = slurp(summary);
	cr_assert(has_row(text, "gets", "20 |"), "%s", text);
	free(text);
	text = slurp(path);
	cr_assert(has_row(text, "gets", "10 |"), "%s", text);
	free(text);
	/* --report naming the step summary itself: added once. */
	report_end(summary, &st);
	text = slurp(summary);
	cr_assert(has_row(text, "gets", "30 |"), "%s", text);
	free(text);
	unsetenv("GITHUB_STEP_SUMMARY");
	cr_assert_not(report_wanted(NULL));
}

/* Write text to dir/name; its path into out. */
static void output(const char *name, const char *text, char *out, size_t cap)
{
	FILE *f;

	snprintf(out, cap, "%s/%s", dir, name);
	f = fopen(out, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(prog_report, cached_test_results_tell_the_time_they_saved)
{
	static const char *const test_output[] = {
		"=== RUN   TestA\n--- PASS: TestA (1.20s)\nPASS\nok  \texample.com/a\t1.250s\n",
		"ok  \texample.com/b\t0.040s\tcoverage: 80.0% of statements\n",
		"ok  \texample.com/c\t2.000s [no tests to run]\n",
	};
	static const char *const not_test[] = {
		"!<arch>\n__.PKGDEF  0 0 0 644 1234 `\ngo object linux amd64\n",
		"ok  \texample.com/a\t1.250s",      /* no final newline */
		"FAIL\texample.com/d\t1.000s\n",
		"ok  \texample.com/e\tabc\n",
		"",
	};
	char p[PATH_MAX], name[16];
	struct stats st;

	memset(&st, 0, sizeof st);
	st.count_saved = true;
	for (size_t i = 0; i < sizeof test_output / sizeof *test_output; i++) {
		snprintf(name, sizeof name, "t%zu", i);
		output(name, test_output[i], p, sizeof p);
		report_note_hit(&st, p, strlen(test_output[i]));
	}
	for (size_t i = 0; i < sizeof not_test / sizeof *not_test; i++) {
		snprintf(name, sizeof name, "n%zu", i);
		output(name, not_test[i], p, sizeof p);
		report_note_hit(&st, p, strlen(not_test[i]));
	}
	cr_assert_eq(atomic_load(&st.tests_cached), 3);
	cr_assert_eq(atomic_load(&st.tests_saved_ms), 3290);

	st.count_saved = false;
	output("t", test_output[0], p, sizeof p);
	report_note_hit(&st, p, strlen(test_output[0]));
	cr_assert_eq(atomic_load(&st.tests_cached), 3, "counted only for a report");
}

Test(prog_report, an_unwritable_report_is_one_sentence)
{
	struct stats st;
	char *cause = NULL, bad[PATH_MAX];

	snprintf(bad, sizeof bad, "%s/no/such/dir/report.md", dir);
	run_of(&st);
	cr_assert_not(report_add(bad, &st, &cause));
	cr_assert_not_null(strstr(cause, bad));
	cr_assert_null(strchr(cause, '\n'));
	free(cause);
}

Test(prog_report, misses_after_another_checkout_paths_list_suggest_trimpath)
{
	struct stats st;
	char *cause = NULL, *text;

	unsetenv("GOFLAGS");
	run_of(&st);
	cr_assert(report_add(path, &st, &cause), "%s", cause);
	text = slurp(path);
	cr_assert_null(strstr(text, "-trimpath"), "the list came from this path: %s", text);
	free(text);

	stats_add(&st.preload_other_checkout, 1);
	cr_assert(report_add(path, &st, &cause), "%s", cause);
	text = slurp(path);
	cr_assert_not_null(strstr(text, "1 go command missed entries"), "%s", text);
	cr_assert_not_null(strstr(text, "`GOFLAGS=-trimpath`"), "%s", text);
	free(text);

	setenv("GOFLAGS", "-mod=mod -trimpath", 1);
	cr_assert(report_add(path, &st, &cause), "%s", cause);
	unsetenv("GOFLAGS");
	text = slurp(path);
	cr_assert_not_null(strstr(text, "1 go command missed entries"), "not again with -trimpath");
	free(text);

	atomic_store(&st.misses, 0);
	cr_assert(report_add(path, &st, &cause), "%s", cause);
	text = slurp(path);
	cr_assert_not_null(strstr(text, "1 go command missed entries"), "nor without misses");
	free(text);
}
