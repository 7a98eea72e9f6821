/*
 * optable.h: a program's options as one table. Each row names a long
 * option, its environment variable, its default (written once, as text),
 * the kind of value it takes, where the value is stored and its help line;
 * the parser, the --help text and the defaults all come from the rows.
 *
 * Values are gathered first: the environment, then the command line (the
 * last one given wins). Then every row is parsed once, from what was given
 * or else from its default, and rows whose default is not a plain value
 * have it computed by their fill function, after all the others are set.
 */
#ifndef CACHEGATE_COMMON_OPTABLE_H
#define CACHEGATE_COMMON_OPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum optable_kind {
	OPTABLE_FLAG,     /* bool: the flag sets it; its variable is on or off (1 or 0, yes or no) */
	OPTABLE_NOFLAG,   /* bool, true by default: the flag clears it; its variable as above */
	OPTABLE_TEXT,     /* char *: a copy of the value (a path, a URL, a name) */
	OPTABLE_SIZE,     /* uint64_t: bytes with an optional K, M, G or T suffix, at least min */
	OPTABLE_RATE,     /* uint64_t: bytes per second, written as a size; 0 turns it off */
	OPTABLE_COUNT,    /* unsigned: a whole number from min to max */
	OPTABLE_SECONDS,  /* unsigned: whole seconds from min to max */
	OPTABLE_DURATION, /* long: milliseconds, from seconds or a number with ms, s or m */
	OPTABLE_CUSTOM,   /* the row's set function takes the value */
	OPTABLE_HELP,     /* print the usage on stdout and stop */
	OPTABLE_VERSION,  /* print "<program> <version>" on stdout and stop */
};

struct optable_row {
	const char *flag;    /* the long option, "--name" */
	const char *arg;     /* the value's name in the usage ("SIZE"); NULL for flags */
	const char *env;     /* its environment variable, or NULL */
	const char *def;     /* the default as a value, parsed like one given; NULL: zero */
	const char *shown;   /* else a default in words, which fill computes or zero means */
	enum optable_kind kind;
	size_t at;           /* the offset of the value in the program's options struct */
	unsigned long min, max;  /* OPTABLE_COUNT, OPTABLE_SECONDS; min also OPTABLE_SIZE */
	bool (*set)(void *o, const char *value);  /* OPTABLE_CUSTOM: false if invalid; def
	                                             is then the example in the message */
	bool (*fill)(void *o, char **cause);  /* sets the default when no value was given,
	                                         after every row is parsed; false: *cause */
	const char *help;    /* one sentence for --help, without variable and default */
	bool repeat;         /* OPTABLE_CUSTOM: every value given is set, in order, not the last */
};

struct optable {
	const char *program;  /* the name in messages and --version */
	const char *intro;    /* the usage's opening lines */
	const char *outro;    /* the usage's closing lines, or NULL */
	int column;           /* where the help of each option starts in the usage */
	bool empty_is_unset;  /* an empty value counts as not given (a flag's variable: off) */
	const struct optable_row *rows;
	size_t nrows;
};

enum optable_result {
	OPTABLE_OK = 0,
	OPTABLE_EXIT,   /* --help or --version was printed */
	OPTABLE_ERROR,  /* *cause says what is wrong */
};

/*
 * Fill the struct at o (zeroed by the caller) from the environment and argv
 * by the table t. If how is not NULL it receives, for each row, the flag or
 * variable that gave its value (NULL: the default). On OPTABLE_ERROR *cause
 * is one sentence the caller frees; what was stored is the caller's to free
 * in any case.
 */
enum optable_result optable_parse(const struct optable *t, void *o, int argc, char **argv,
                                  const char **how, char **cause);

/*
 * The flag or variable that gave the row for flag its value, as optable_parse
 * recorded it in how; NULL if the default did.
 */
const char *optable_how(const struct optable *t, const char *const *how, const char *flag);

/* Write the usage made from the table to out. */
void optable_usage(const struct optable *t, FILE *out);

#endif
