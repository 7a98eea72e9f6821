/*
 * store_id_test.c: ids and hex.
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
