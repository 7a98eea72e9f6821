/*
 * optvalue.h: the kinds of value an option table row takes (optable.h):
 * each parsed from text and stored in the row's field, or refused with one
 * sentence that names the flag or variable and says what it wants; and the
 * size syntax ("20G") on its own.
 */
#ifndef CACHEGATE_COMMON_OPTVALUE_H
#define CACHEGATE_COMMON_OPTVALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/optable.h"

/*
 * Parse text as a value of row r and store it in r's field of o; how names
 * where the text came from. False with *cause set if the text is not such a
 * value or memory ran out.
 */
bool optvalue_store(const struct optable_row *r, void *o, const char *text, const char *how,
                    char **cause);

/*
 * Parse a size such as "512", "64K", "20G", "1.5T" (powers of 1024, an
 * optional trailing "B" or "iB") into bytes. False on anything else.
 */
bool optvalue_parse_size(const char *text, uint64_t *bytes);

#endif
