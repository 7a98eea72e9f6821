/*
 * store_id_test.c: ids, hex and size parsing.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "store/store.h"

static const char good[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Test(store_id, accepts_64_lowercase_hex)
{
	cr_assert(store_id_valid(good, strlen(good)));
}

Test(store_id, rejects_everything_else)
{
	char upper[sizeof good];
	memcpy(upper, good, sizeof good);
	upper[10] = 'A';

	cr_assert_not(store_id_valid(upper, strlen(upper)), "uppercase hex");
	cr_assert_not(store_id_valid(good, 63), "too short");
	cr_assert_not(store_id_valid(NULL, 0), "NULL");
	cr_assert_not(store_id_valid("", 0), "empty");
	cr_assert_not(store_id_valid("../../../../etc/passwd", 22), "traversal");

	char longer[66];
	memcpy(longer, good, 64);
	longer[64] = '0';
	longer[65] = '\0';
	cr_assert_not(store_id_valid(longer, 65), "too long");

	char with_slash[sizeof good];
	memcpy(with_slash, good, sizeof good);
	with_slash[2] = '/';
	cr_assert_not(store_id_valid(with_slash, 64), "slash");

	char with_nul[sizeof good];
	memcpy(with_nul, good, sizeof good);
	with_nul[5] = '\0';
	cr_assert_not(store_id_valid(with_nul, 64), "embedded NUL");
}

Test(store_id, hex_round_trip)
{
	unsigned char raw[STORE_HASH_LEN];
	char hex[STORE_ID_LEN + 1];

	cr_assert(store_unhex(good, raw));
	cr_assert_eq(raw[0], 0x01);
	cr_assert_eq(raw[31], 0xef);
	store_hex(raw, hex);
	cr_assert_str_eq(hex, good);
	cr_assert_not(store_unhex("abc", raw));
}

Test(store_size, parses_units)
{
	uint64_t n = 0;

	cr_assert(store_parse_size("512", &n));
	cr_assert_eq(n, 512);
	cr_assert(store_parse_size("64K", &n));
	cr_assert_eq(n, 64 * 1024);
	cr_assert(store_parse_size("20G", &n));
	cr_assert_eq(n, 20ULL << 30);
	cr_assert(store_parse_size("1.5T", &n));
	cr_assert_eq(n, 3ULL << 39);
	cr_assert(store_parse_size("8MiB", &n));
	cr_assert_eq(n, 8ULL << 20);
	cr_assert(store_parse_size("2gb", &n));
	cr_assert_eq(n, 2ULL << 30);
	cr_assert(store_parse_size("100B", &n));
	cr_assert_eq(n, 100);
}

Test(store_size, rejects_nonsense)
{
	uint64_t n = 7;

	cr_assert_not(store_parse_size("", &n));
	cr_assert_not(store_parse_size("-1G", &n));
	cr_assert_not(store_parse_size("G", &n));
	cr_assert_not(store_parse_size("10X", &n));
	cr_assert_not(store_parse_size("10GG", &n));
	cr_assert_not(store_parse_size("nan", &n));
	cr_assert_not(store_parse_size("99999999E", &n));
	cr_assert_not(store_parse_size(" 20G", &n));
	cr_assert_not(store_parse_size("0x10K", &n));
	cr_assert_not(store_parse_size("1e3", &n));
	cr_assert_not(store_parse_size(".5K", &n));
	cr_assert_not(store_parse_size("1.2.3K", &n));
	cr_assert_eq(n, 7, "a rejected size leaves the output alone");
}
