/*
 * input.h: a buffered reader over the helper's stdin.
 *
 * Requests are read as bounded lines; put bodies are streamed straight out
 * of the same buffer (body.c), so memory stays fixed whatever the body size.
 */
#ifndef CACHEGATE_PROG_INPUT_H
#define CACHEGATE_PROG_INPUT_H

#include <stdbool.h>
#include <stddef.h>

enum input_result {
	INPUT_OK = 0,
	INPUT_EOF,       /* end of input (a partial last line is INPUT_TRUNCATED) */
	INPUT_TRUNCATED, /* input ended in the middle of a line */
	INPUT_TOO_LONG,  /* a line longer than the limit */
	INPUT_IO_ERROR,  /* read failed; errno is kept */
};

/* A reader; owned by whoever called input_open, freed by input_free. */
struct input {
	int fd;
	char *buf;
	size_t cap;     /* buffer size, also the longest line readable */
	size_t start;   /* first unread byte */
	size_t end;     /* one past the last buffered byte */
	bool eof;
};

/* Make a reader of fd with a cap-byte buffer; NULL when out of memory. */
struct input *input_open(int fd, size_t cap);

/* Free a reader (does not close fd). NULL is allowed. */
void input_free(struct input *in);

/*
 * Read the next line of at most max bytes (max < cap), without its '\n'.
 * *line points into the buffer and stays valid until the next call.
 */
enum input_result input_line(struct input *in, size_t max, char **line, size_t *len);

/*
 * Make at least one unread byte available (reading if needed): INPUT_OK,
 * INPUT_EOF or INPUT_IO_ERROR. Unread bytes are in buf[start..end).
 */
enum input_result input_fill(struct input *in);

#endif
