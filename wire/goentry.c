/*
 * goentry.c: format and parse Go cache entry lines.
 */
#include "wire/goentry.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void go_entry_format(const struct go_entry *e, char buf[GO_ENTRY_LEN + 1])
{
	char a[STORE_ID_LEN + 1], o[STORE_ID_LEN + 1];

	store_hex(e->action, a);
	store_hex(e->output, o);
	snprintf(buf, GO_ENTRY_LEN + 1, "v1 %s %s %20" PRId64 " %20" PRId64 "\n",
	         a, o, e->size, e->time_ns);
}

/* Parse a right-aligned, non-negative %20d field. */
static bool number(const char *f, int64_t *v)
{
	int i = 0;
	int64_t n = 0;

	while (i < 20 && f[i] == ' ')
		i++;
	if (i == 20)
		return false;
	for (; i < 20; i++) {
		int digit = f[i] - '0';

		/* n * 10 + digit must fit, up to INT64_MAX itself. */
		if (f[i] < '0' || f[i] > '9' || n > (INT64_MAX - digit) / 10)
			return false;
		n = n * 10 + digit;
	}
	*v = n;
	return true;
}

bool go_entry_parse(const char *buf, size_t len, struct go_entry *e)
{
	const char *p = buf;
	char hex[STORE_ID_LEN + 1];

	if (len != GO_ENTRY_LEN || memcmp(p, "v1 ", 3) != 0)
		return false;
	p += 3;
	memcpy(hex, p, STORE_ID_LEN);
	hex[STORE_ID_LEN] = '\0';
	if (!store_unhex(hex, e->action) || p[STORE_ID_LEN] != ' ')
		return false;
	p += STORE_ID_LEN + 1;
	memcpy(hex, p, STORE_ID_LEN);
	if (!store_unhex(hex, e->output) || p[STORE_ID_LEN] != ' ')
		return false;
	p += STORE_ID_LEN + 1;
	if (!number(p, &e->size) || p[20] != ' ')
		return false;
	p += 21;
	return number(p, &e->time_ns) && p[20] == '\n';
}
