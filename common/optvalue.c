/*
 * optvalue.c: parse and store one option value by its kind.
 */
#include "common/optvalue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cause.h"

/* The longest duration, in seconds: a day. */
#define DURATION_MAX 86400

bool optvalue_parse_size(const char *text, uint64_t *bytes)
{
	static const char units[] = "KMGTPE";
	char *end;
	double value;
	double scale = 1;

	/* Plain decimal digits only: strtod alone would take " 1", "0x10", "1e3". */
	if (text == NULL || *text < '0' || *text > '9')
		return false;
	errno = 0;
	value = strtod(text, &end);
	if (errno != 0 || end != text + strspn(text, "0123456789.") || !(value >= 0))
		return false;
	if (*end != '\0') {
		const char *unit = strchr(units, *end >= 'a' ? *end - 'a' + 'A' : *end);
		if (*end == 'b' || *end == 'B') {
			end++;
		} else if (unit != NULL) {
			for (const char *u = units; u <= unit; u++)
				scale *= 1024;
			end++;
			if (*end == 'i')
				end++;
			if (*end == 'B' || *end == 'b')
				end++;
		}
		if (*end != '\0')
			return false;
	}
	value *= scale;
	if (value >= 18446744073709551616.0)
		return false;
	*bytes = (uint64_t)value;
	return true;
}

/* Parse an on/off word in any case; false if it is neither. */
static bool parse_bool(const char *text, bool *v)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"", "0", "false", "no", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*v = true;
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (strcasecmp(text, no[i]) == 0) {
			*v = false;
			return true;
		}
	}
	return false;
}

/* Parse a whole decimal number from min to max. */
static bool parse_unsigned(const char *text, unsigned long min, unsigned long max,
                           unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*text < '0' || *text > '9')
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Parse a duration up to a day: seconds, or a number with an "ms", "s" or "m" suffix. */
static bool parse_duration(const char *text, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || !(v >= 0) || v > DURATION_MAX)
		return false;
	if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (strcmp(end, "m") == 0)
		v *= 60;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return false;
	if (v > DURATION_MAX)
		return false;
	*ms = (long)(v * 1000);
	return true;
}

/* Set *cause to what row r wants instead of text, which how gave. */
static void say_wanted(const struct optable_row *r, const char *text, const char *how,
                       char **cause)
{
	const char *example = r->def != NULL ? r->def : "20G";

	switch (r->kind) {
	case OPTABLE_SIZE:
		cause_set(cause, "%s wants a size such as %s, not '%s'", how, example, text);
		break;
	case OPTABLE_RATE:
		cause_set(cause, "%s wants bytes per second such as %s (0: off), not '%s'", how,
		          example, text);
		break;
	case OPTABLE_COUNT:
		cause_set(cause, "%s wants a number from %lu to %lu, not '%s'", how, r->min, r->max,
		          text);
		break;
	case OPTABLE_SECONDS:
		cause_set(cause, "%s wants a number of seconds from %lu to %lu, not '%s'", how, r->min,
		          r->max, text);
		break;
	case OPTABLE_DURATION:
		cause_set(cause, "%s wants a number of seconds, or one with ms, s or m, up to a day, "
		          "not '%s'", how, text);
		break;
	case OPTABLE_CUSTOM:
		if (r->def != NULL)
			cause_set(cause, "%s wants %s such as %s, not '%s'", how, r->arg, r->def, text);
		else
			cause_set(cause, "%s wants %s, not '%s'", how, r->arg, text);
		break;
	default:
		cause_set(cause, "%s wants 1 or 0, not '%s'", how, text);
		break;
	}
}

/* Parse text by r's kind into r's field of o; false if it is not such a value. */
static bool parse_into(const struct optable_row *r, void *o, const char *text)
{
	void *field = (char *)o + r->at;
	unsigned long n;
	uint64_t size;
	bool on;

	switch (r->kind) {
	case OPTABLE_FLAG:
	case OPTABLE_NOFLAG:
		if (!parse_bool(text, &on))
			return false;
		*(bool *)field = on;
		return true;
	case OPTABLE_SIZE:
	case OPTABLE_RATE:
		if (!optvalue_parse_size(text, &size) || size < r->min)
			return false;
		*(uint64_t *)field = size;
		return true;
	case OPTABLE_COUNT:
	case OPTABLE_SECONDS:
		if (!parse_unsigned(text, r->min, r->max, &n))
			return false;
		*(unsigned *)field = (unsigned)n;
		return true;
	case OPTABLE_DURATION:
		return parse_duration(text, (long *)field);
	case OPTABLE_CUSTOM:
		return r->set(o, text);
	default:
		return false;
	}
}

bool optvalue_store(const struct optable_row *r, void *o, const char *text, const char *how,
                    char **cause)
{
	if (r->kind == OPTABLE_TEXT) {
		char **slot = (char **)(void *)((char *)o + r->at);

		free(*slot);
		*slot = strdup(text);
		if (*slot == NULL)
			cause_set(cause, "out of memory");
		return *slot != NULL;
	}
	if (!parse_into(r, o, text)) {
		say_wanted(r, text, how, cause);
		return false;
	}
	return true;
}
