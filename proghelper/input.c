/*
 * input.c: a buffered reader for request lines and streamed bodies.
 */
#include "proghelper/input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct input *input_open(int fd, size_t cap)
{
	struct input *in = calloc(1, sizeof *in);

	if (in == NULL)
		return NULL;
	in->buf = malloc(cap);
	if (in->buf == NULL) {
		free(in);
		return NULL;
	}
	in->fd = fd;
	in->cap = cap;
	return in;
}

void input_free(struct input *in)
{
	if (in == NULL)
		return;
	free(in->buf);
	free(in);
}

/* Read more bytes after end, compacting first when the buffer is full. */
static enum input_result input_more(struct input *in)
{
	ssize_t n;

	if (in->start > 0 && in->end == in->cap) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->start == in->end)
		in->start = in->end = 0;
	for (;;) {
		n = read(in->fd, in->buf + in->end, in->cap - in->end);
		if (n > 0) {
			in->end += (size_t)n;
			return INPUT_OK;
		}
		if (n == 0) {
			in->eof = true;
			return INPUT_EOF;
		}
		if (errno != EINTR)
			return INPUT_IO_ERROR;
	}
}

enum input_result input_fill(struct input *in)
{
	if (in->start < in->end)
		return INPUT_OK;
	if (in->eof)
		return INPUT_EOF;
	return input_more(in);
}

enum input_result input_line(struct input *in, size_t max, char **line, size_t *len)
{
	size_t scanned = 0;
	enum input_result r;

	for (;;) {
		char *nl = memchr(in->buf + in->start + scanned, '\n',
		                  in->end - in->start - scanned);
		if (nl != NULL) {
			*line = in->buf + in->start;
			*len = (size_t)(nl - *line);
			in->start += *len + 1;
			return *len > max ? INPUT_TOO_LONG : INPUT_OK;
		}
		scanned = in->end - in->start;
		if (scanned > max)
			return INPUT_TOO_LONG;
		if (in->eof)
			return scanned > 0 ? INPUT_TRUNCATED : INPUT_EOF;
		r = input_more(in);
		if (r == INPUT_IO_ERROR)
			return r;
	}
}
