/*
 * stream_fuzz.c: libFuzzer target for the helper's whole request decoder:
 * one byte stream as the go command writes it on the helper's stdin, read
 * through the framing (input.c), the request lines (protocol.c) and the
 * streamed base64 bodies (body.c) into a real store in a temp directory,
 * with gets answered from it (local.c). The loop is prog_serve's in
 * proghelper/main.c, without the remote and the replies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proghelper/body.h"
#include "proghelper/input.h"
#include "proghelper/local.h"
#include "proghelper/protocol.h"
#include "store/store.h"
#include "tests/tmpdir.h"

/*
 * The smallest buffer the framing allows (a line of PROTOCOL_LINE_MAX and
 * its newline): inputs of a few KiB already cross refills mid-line and
 * mid-body. The helper's own buffer is larger, which only means fewer.
 */
#define STREAM_BUFFER (PROTOCOL_LINE_MAX + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char *dir;
static struct store *store;

/* Remove the store at exit. */
static void stream_cleanup(void)
{
	store_close(store);
	tmpdir_remove(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *cause = NULL;

	(void)argc;
	(void)argv;
	dir = tmpdir_make("cachegate-fuzz-stream");
	store = dir != NULL ? store_open(dir, NULL, &cause) : NULL;
	if (store == NULL) {
		fprintf(stderr, "stream_fuzz: cannot make a store: %s\n", cause ? cause : "no temp dir");
		abort();
	}
	atexit(stream_cleanup);
	return 0;
}

/* A get: a hit must be the entry of the action asked for. */
static void stream_get(const struct protocol_request *req)
{
	struct go_entry e;

	if (local_get(store, req->action, &e) == LOCAL_OK &&
	    memcmp(e.action, req->action, STORE_HASH_LEN) != 0)
		abort();
}

/*
 * A put as prog_put does it: the body into the store, then the entry, which
 * a get must then find. False when the stream is lost.
 */
static bool stream_put(struct input *in, const struct protocol_request *req)
{
	char o[STORE_ID_LEN + 1], *why = NULL;
	struct store_put *put = NULL;
	struct go_entry e, found;

	store_hex(req->output, o);
	if (store_put_begin(store, STORE_CAS, o, (uint64_t)req->body_size, &put) != STORE_OK)
		put = NULL;
	if (req->body_size > 0) {
		enum body_result br = body_read(in, put, req->body_size, &why);

		free(why);
		if (br != BODY_OK) {
			store_put_abort(put);
			return br != BODY_BROKEN;
		}
	}
	if (put == NULL || store_put_commit(put, req->body_size) != STORE_OK)
		return true;
	memcpy(e.action, req->action, STORE_HASH_LEN);
	memcpy(e.output, req->output, STORE_HASH_LEN);
	e.size = req->body_size;
	e.time_ns = local_now_ns();
	if (local_record(store, &e) != LOCAL_OK)
		return true;
	if (local_get(store, req->action, &found) != LOCAL_OK ||
	    memcmp(found.output, req->output, STORE_HASH_LEN) != 0 || found.size != e.size)
		abort();
	return true;
}

/* Serve requests until close, the end of input or a lost stream. */
static void stream_serve(struct input *in)
{
	struct protocol_request req;
	enum protocol_result pr;
	char *line, *why = NULL;
	size_t len;

	for (;;) {
		if (input_line(in, PROTOCOL_LINE_MAX, &line, &len) != INPUT_OK)
			return;
		if (len == 0)
			continue;
		pr = protocol_decode_request(line, len, &req, &why);
		free(why);
		why = NULL;
		if (pr == PROTOCOL_UNPARSABLE)
			return;
		if (pr == PROTOCOL_BAD_REQUEST) {
			enum body_result br = BODY_OK;

			if (req.body_size > 0)
				br = body_read(in, NULL, req.body_size, &why);
			free(why);
			why = NULL;
			if (br == BODY_BROKEN)
				return;
			continue;
		}
		switch (req.cmd) {
		case COMMAND_GET:
			stream_get(&req);
			break;
		case COMMAND_PUT:
			if (!stream_put(in, &req))
				return;
			break;
		case COMMAND_CLOSE:
			return;
		case COMMAND_UNKNOWN:
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("stream_fuzz", 0);
	struct input *in;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	in = input_open(fd, STREAM_BUFFER);
	if (in == NULL)
		abort();
	stream_serve(in);
	input_free(in);
	close(fd);
	return 0;
}
