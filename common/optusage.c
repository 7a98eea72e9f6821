/*
 * optusage.c: the --help text made from an option table: each option with
 * its value's name, then its help, variable and default, wrapped to fit
 * 80 columns.
 */
#include "common/optable.h"

#include <string.h>

/* The last column a help line may fill. */
#define USAGE_WIDTH 79

/* Write text's words from column *col on, wrapping at USAGE_WIDTH to indent. */
static void put_words(const char *text, int indent, int *col, FILE *out)
{
	while (*text != '\0') {
		int len = (int)strcspn(text, " ");

		if (len > 0) {
			if (*col > indent && *col + 1 + len > USAGE_WIDTH) {
				fprintf(out, "\n%*s", indent, "");
				*col = indent;
			} else if (*col > indent) {
				fputc(' ', out);
				(*col)++;
			}
			fwrite(text, 1, (size_t)len, out);
			*col += len;
		}
		text += len + (text[len] == ' ');
	}
}

/* Write the parenthesised note after r's help: its variable and its default. */
static void put_note(const struct optable_row *r, int indent, int *col, FILE *out)
{
	const char *def = r->def != NULL ? r->def : r->shown;
	const char *value = r->kind == OPTABLE_FLAG ? "=1" : r->kind == OPTABLE_NOFLAG ? "=0" : "";
	char note[512];

	if (r->env != NULL && def != NULL)
		snprintf(note, sizeof(note), "(%s%s; default: %s)", r->env, value, def);
	else if (r->env != NULL)
		snprintf(note, sizeof(note), "(%s%s)", r->env, value);
	else if (def != NULL)
		snprintf(note, sizeof(note), "(default: %s)", def);
	else
		return;
	put_words(note, indent, col, out);
}

/* Write one option's lines. */
static void put_row(const struct optable *t, const struct optable_row *r, FILE *out)
{
	int col = fprintf(out, "  %s%s%s", r->flag, r->arg != NULL ? " " : "",
	                  r->arg != NULL ? r->arg : "");

	if (col + 1 > t->column) {
		fputc('\n', out);
		col = 0;
	}
	fprintf(out, "%*s", t->column - col, "");
	col = t->column;
	put_words(r->help, t->column, &col, out);
	put_note(r, t->column, &col, out);
	fputc('\n', out);
}

void optable_usage(const struct optable *t, FILE *out)
{
	fputs(t->intro, out);
	for (size_t i = 0; i < t->nrows; i++)
		put_row(t, &t->rows[i], out);
	if (t->outro != NULL)
		fputs(t->outro, out);
}
