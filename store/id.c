/*
 * id.c: ids, hex and result names.
 */
#include "store/internal.h"

#include <errno.h>
#include <string.h>

const char *store_result_str(enum store_result r)
{
	switch (r) {
	case STORE_OK: return "ok";
	case STORE_NOT_FOUND: return "not found";
	case STORE_BAD_ID: return "id must be 64 lowercase hex characters";
	case STORE_HASH_MISMATCH: return "body's SHA-256 does not match the id";
	case STORE_SIZE_MISMATCH: return "body length does not match the expected size";
	case STORE_TOO_LARGE: return "body is larger than allowed";
	case STORE_NO_SPACE: return "the store's file system is full";
	case STORE_BAD_ENCODING: return "the compressed bytes do not decode (a broken zstd frame)";
	case STORE_IO_ERROR: return "the store could not read or write a file";
	}
	return "unknown store result";
}

const char *store_kind_name(enum store_kind k)
{
	return k == STORE_AC ? "ac" : "cas";
}

enum store_result store_errno_result(void)
{
	if (errno == ENOSPC || errno == EDQUOT)
		return STORE_NO_SPACE;
	if (errno == ENOENT)
		return STORE_NOT_FOUND;
	return STORE_IO_ERROR;
}

/* Value of one lowercase hex digit, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool store_id_valid(const char *id, size_t len)
{
	if (id == NULL || len != STORE_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (hex_value(id[i]) < 0)
			return false;
	return true;
}

void store_hex(const unsigned char hash[STORE_HASH_LEN], char hex[STORE_ID_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < STORE_HASH_LEN; i++) {
		hex[2 * i] = digits[hash[i] >> 4];
		hex[2 * i + 1] = digits[hash[i] & 0xf];
	}
	hex[STORE_ID_LEN] = '\0';
}

bool store_unhex(const char *hex, unsigned char hash[STORE_HASH_LEN])
{
	if (hex == NULL || !store_id_valid(hex, strnlen(hex, STORE_ID_LEN + 1)))
		return false;
	for (size_t i = 0; i < STORE_HASH_LEN; i++)
		hash[i] = (unsigned char)(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
	return true;
}
