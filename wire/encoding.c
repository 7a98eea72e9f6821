/*
 * encoding.c: the content codings of a header value (encoding.h).
 */
#include "wire/encoding.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wire/wire.h"

#define ZSTD_LEN (sizeof WIRE_ZSTD - 1)

/* The weight of an element's parameters p[0..n) ("; q=0.5"...): 1 when none. */
static double encoding_weight(const char *p, size_t n)
{
	char q[8];
	size_t i = 0, k = 0;

	while (i < n) {
		while (i < n && (p[i] == ';' || p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i + 2 <= n && (p[i] == 'q' || p[i] == 'Q') && p[i + 1] == '=') {
			/* A copy with its own end: the value need not end in a NUL. */
			for (i += 2; i < n && k < sizeof q - 1 && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'); i++)
				q[k++] = p[i];
			q[k] = '\0';
			return strtod(q, NULL);
		}
		while (i < n && p[i] != ';')
			i++;
	}
	return 1;
}

bool wire_accepts_zstd(const char *v, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t end, name;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',' || v[i] == '\r' || v[i] == '\n'))
			i++;
		for (end = i; end < len && v[end] != ',' && v[end] != '\r' && v[end] != '\n'; end++)
			;
		for (name = i; name < end && v[name] != ';' && v[name] != ' ' && v[name] != '\t'; name++)
			;
		if (name - i == ZSTD_LEN && strncasecmp(v + i, WIRE_ZSTD, ZSTD_LEN) == 0)
			return encoding_weight(v + name, end - name) > 0;
		i = end;
	}
	return false;
}
