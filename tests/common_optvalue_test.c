/*
 * common_optvalue_test.c: the kinds of option value (common/optvalue.h):
 * sizes, counts, durations and switches, and the sentence that refuses one.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/optvalue.h"

/* A struct of every kind of field a row may fill. */
struct fields {
	bool on;
	uint64_t bytes;
	unsigned count;
	long ms;
};

/* Store text by row r into f; on refusal, return the sentence (freed by the caller). */
static char *store(const struct optable_row *r, struct fields *f, const char *text)
{
	char *cause = NULL;

	if (optvalue_store(r, f, text, r->flag, &cause)) {
		cr_assert_null(cause);
		return NULL;
	}
	cr_assert_not_null(cause);
	return cause;
}

Test(optvalue_size, parses_units)
{
	uint64_t n = 0;

	cr_assert(optvalue_parse_size("512", &n));
	cr_assert_eq(n, 512);
	cr_assert(optvalue_parse_size("64K", &n));
	cr_assert_eq(n, 64 * 1024);
	cr_assert(optvalue_parse_size("20G", &n));
	cr_assert_eq(n, 20ULL << 30);
	cr_assert(optvalue_parse_size("1.5T", &n));
	cr_assert_eq(n, 3ULL << 39);
	cr_assert(optvalue_parse_size("8MiB", &n));
	cr_assert_eq(n, 8ULL << 20);
	cr_assert(optvalue_parse_size("2gb", &n));
	cr_assert_eq(n, 2ULL << 30);
	cr_assert(optvalue_parse_size("100B", &n));
	cr_assert_eq(n, 100);
}

Test(optvalue_size, rejects_nonsense)
{
	uint64_t n = 7;

	cr_assert_not(optvalue_parse_size("", &n));
	cr_assert_not(optvalue_parse_size("-1G", &n));
	cr_assert_not(optvalue_parse_size("G", &n));
	cr_assert_not(optvalue_parse_size("10X", &n));
	cr_assert_not(optvalue_parse_size("10GG", &n));
	cr_assert_not(optvalue_parse_size("nan", &n));
	cr_assert_not(optvalue_parse_size("99999999E", &n));
	cr_assert_not(optvalue_parse_size(" 20G", &n));
	cr_assert_not(optvalue_parse_size("0x10K", &n));
	cr_assert_not(optvalue_parse_size("1e3", &n));
	cr_assert_not(optvalue_parse_size(".5K", &n));
	cr_assert_not(optvalue_parse_size("1.2.3K", &n));
	cr_assert_eq(n, 7, "a rejected size leaves the output alone");
}

Test(optvalue, counts_keep_to_their_range)
{
	static const struct optable_row r = {.flag = "--n", .arg = "N", .kind = OPTABLE_COUNT,
	                                      .at = offsetof(struct fields, count), .min = 1, .max = 9};
	static const char *const bad[] = {"0", "10", "-1", " 5", "5s", "", "99999999999999999999"};
	struct fields f = {0};
	char want[128];

	cr_assert_null(store(&r, &f, "9"));
	cr_assert_eq(f.count, 9);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *cause = store(&r, &f, bad[i]);

		snprintf(want, sizeof(want), "--n wants a number from 1 to 9, not '%s'", bad[i]);
		cr_assert_str_eq(cause, want);
		free(cause);
	}
	cr_assert_eq(f.count, 9, "a refused value leaves the field alone");
}

Test(optvalue, durations_take_ms_s_and_m_up_to_a_day)
{
	static const struct optable_row r = {.flag = "--t", .arg = "SECS", .kind = OPTABLE_DURATION,
	                                      .at = offsetof(struct fields, ms)};
	static const struct { const char *text; long ms; } good[] = {
		{"10", 10000}, {"500ms", 500}, {"2m", 120000}, {"1.5s", 1500}, {"0", 0}, {"86400", 86400000},
	};
	static const char *const bad[] = {"soon", "-1", "1h", "1441m", "86401", "", "5 s"};
	struct fields f = {0};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_null(store(&r, &f, good[i].text), "%s", good[i].text);
		cr_assert_eq(f.ms, good[i].ms, "%s", good[i].text);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *cause = store(&r, &f, bad[i]);

		cr_assert(strncmp(cause, "--t wants a number of seconds", 29) == 0, "%s", cause);
		free(cause);
	}
}

Test(optvalue, switches_read_on_and_off_words_in_any_case)
{
	static const struct optable_row r = {.flag = "--x", .env = "X", .kind = OPTABLE_FLAG,
	                                      .at = offsetof(struct fields, on)};
	static const char *const on[] = {"1", "true", "YES", "On"};
	static const char *const off[] = {"0", "false", "No", "OFF", ""};
	struct fields f = {0};
	char *cause;

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		f.on = false;
		cr_assert_null(store(&r, &f, on[i]));
		cr_assert(f.on, "%s", on[i]);
	}
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		f.on = true;
		cr_assert_null(store(&r, &f, off[i]));
		cr_assert_not(f.on, "%s", off[i]);
	}
	cause = store(&r, &f, "perhaps");
	cr_assert_str_eq(cause, "--x wants 1 or 0, not 'perhaps'");
	free(cause);
}

Test(optvalue, sizes_keep_to_their_minimum)
{
	static const struct optable_row r = {.flag = "--s", .arg = "SIZE", .kind = OPTABLE_SIZE,
	                                      .at = offsetof(struct fields, bytes), .min = 1};
	struct fields f = {0};
	char *cause;

	cr_assert_null(store(&r, &f, "2K"));
	cr_assert_eq(f.bytes, 2048);
	cause = store(&r, &f, "0");
	cr_assert_str_eq(cause, "--s wants a size such as 20G, not '0'");
	free(cause);
	cr_assert_eq(f.bytes, 2048);
}
