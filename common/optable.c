/*
 * optable.c: parse the environment and the command line by a table of
 * options. Every value is gathered first (the environment, then argv; the
 * last one given wins, but for a row that repeats), then each row is parsed
 * exactly once, so a message names the flag or variable whose value is wrong.
 */
#include "config.h"
#include "common/optable.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "common/optvalue.h"

/* getopt_long's code for row i. */
#define ROW_CODE(i) (256 + (int)(i))

/* What the environment or the command line gave one row. */
struct given {
	const char *text;  /* the value; NULL: nothing given */
	const char *how;   /* the flag or variable that gave it */
};

/* Set *cause to why getopt_long refused the option argv[optind - 1]. */
static void say_refused(const struct optable *t, char **argv, char **cause)
{
	if (optopt >= ROW_CODE(0) && optopt < ROW_CODE(t->nrows)) {
		const struct optable_row *r = &t->rows[optopt - ROW_CODE(0)];

		if (r->arg != NULL)
			cause_set(cause, "%s needs a value (see %s --help)", r->flag, t->program);
		else
			cause_set(cause, "%s takes no value (see %s --help)", r->flag, t->program);
	} else if (optopt > 0 && optopt < ROW_CODE(0)) {
		cause_set(cause, "unknown option '-%c' (see %s --help)", optopt, t->program);
	} else {
		cause_set(cause, "unknown option '%s' (see %s --help)", argv[optind - 1], t->program);
	}
}

/* Read argv into g (over what the environment gave); --help and --version act here. */
static enum optable_result gather_argv(const struct optable *t, struct given *g, void *o,
                                       int argc, char **argv, char **cause)
{
	struct option *longs = calloc(t->nrows + 1, sizeof(*longs));
	enum optable_result res = OPTABLE_OK;
	int code;

	if (longs == NULL) {
		cause_set(cause, "out of memory");
		return OPTABLE_ERROR;
	}
	for (size_t i = 0; i < t->nrows; i++) {
		longs[i].name = t->rows[i].flag + 2;
		longs[i].has_arg = t->rows[i].arg != NULL ? required_argument : no_argument;
		longs[i].val = ROW_CODE(i);
	}
	opterr = 0;
	optind = 1;
	while (res == OPTABLE_OK && (code = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		size_t i = (size_t)(code - ROW_CODE(0));
		const struct optable_row *r;

		if (code < ROW_CODE(0)) {
			say_refused(t, argv, cause);
			res = OPTABLE_ERROR;
			break;
		}
		r = &t->rows[i];
		if (r->kind == OPTABLE_HELP) {
			optable_usage(t, stdout);
			res = OPTABLE_EXIT;
		} else if (r->kind == OPTABLE_VERSION) {
			printf("%s %s\n", t->program, PACKAGE_VERSION);
			res = OPTABLE_EXIT;
		} else if (r->repeat && g[i].text != NULL &&
		           !optvalue_store(r, o, g[i].text, g[i].how, cause)) {
			res = OPTABLE_ERROR; /* a repeated row sets each value before the next comes */
		} else {
			g[i].text = r->kind == OPTABLE_FLAG ? "1" : r->kind == OPTABLE_NOFLAG ? "0" : optarg;
			g[i].how = r->flag;
		}
	}
	if (res == OPTABLE_OK && optind < argc) {
		cause_set(cause, "unexpected argument '%s' (see %s --help)", argv[optind], t->program);
		res = OPTABLE_ERROR;
	}
	free(longs);
	return res;
}

/* Gather what the environment and argv give each row into g. */
static enum optable_result gather(const struct optable *t, struct given *g, void *o, int argc,
                                  char **argv, char **cause)
{
	enum optable_result res;

	for (size_t i = 0; i < t->nrows; i++) {
		const char *env = t->rows[i].env;

		if (env != NULL && (g[i].text = getenv(env)) != NULL)
			g[i].how = env;
	}
	res = gather_argv(t, g, o, argc, argv, cause);
	for (size_t i = 0; res == OPTABLE_OK && t->empty_is_unset && i < t->nrows; i++) {
		enum optable_kind kind = t->rows[i].kind;

		if (g[i].text != NULL && g[i].text[0] == '\0' && kind != OPTABLE_FLAG &&
		    kind != OPTABLE_NOFLAG)
			g[i] = (struct given){NULL, NULL};
	}
	return res;
}

/* Set every row from what was given, else from its default, then compute the others. */
static enum optable_result apply(const struct optable *t, const struct given *g, void *o,
                                 char **cause)
{
	for (size_t i = 0; i < t->nrows; i++) {
		const struct optable_row *r = &t->rows[i];

		if (g[i].text != NULL) {
			if (!optvalue_store(r, o, g[i].text, g[i].how, cause))
				return OPTABLE_ERROR;
		} else if (r->def != NULL) {
			if (!optvalue_store(r, o, r->def, r->flag, cause))
				return OPTABLE_ERROR;
		} else if (r->kind == OPTABLE_NOFLAG) {
			*(bool *)(void *)((char *)o + r->at) = true;
		}
	}
	for (size_t i = 0; i < t->nrows; i++) {
		if (g[i].text == NULL && t->rows[i].fill != NULL && !t->rows[i].fill(o, cause))
			return OPTABLE_ERROR;
	}
	return OPTABLE_OK;
}

enum optable_result optable_parse(const struct optable *t, void *o, int argc, char **argv,
                                  const char **how, char **cause)
{
	struct given *g = calloc(t->nrows, sizeof(*g));
	enum optable_result res;

	*cause = NULL;
	if (g == NULL) {
		cause_set(cause, "out of memory");
		return OPTABLE_ERROR;
	}
	res = gather(t, g, o, argc, argv, cause);
	if (res == OPTABLE_OK)
		res = apply(t, g, o, cause);
	for (size_t i = 0; how != NULL && i < t->nrows; i++)
		how[i] = g[i].how;
	free(g);
	return res;
}

const char *optable_how(const struct optable *t, const char *const *how, const char *flag)
{
	for (size_t i = 0; i < t->nrows; i++) {
		if (strcmp(t->rows[i].flag, flag) == 0)
			return how[i];
	}
	return NULL;
}
