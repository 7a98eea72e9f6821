/*
 * local.c: Go cache entries and outputs in the local store.
 */
#include "proghelper/local.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cause.h"

/* The file in the store directory that records when it was last trimmed. */
#define LOCAL_TRIM_MARK "prog-trim.txt"

int64_t local_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

enum local_result local_get(struct store *s, const unsigned char action[STORE_HASH_LEN], struct go_entry *e)
{
	char a[STORE_ID_LEN + 1], o[STORE_ID_LEN + 1];
	char line[GO_ENTRY_LEN + 1];
	size_t len = 0;
	enum store_result r;

	store_hex(action, a);
	r = store_read_small(s, STORE_AC, a, line, sizeof line, &len);
	if (r == STORE_NOT_FOUND)
		return LOCAL_MISS;
	if (r != STORE_OK && r != STORE_TOO_LARGE)
		return LOCAL_ERROR;
	if (r == STORE_TOO_LARGE || !go_entry_parse(line, len, e) ||
	    memcmp(e->action, action, STORE_HASH_LEN) != 0) {
		store_remove(s, STORE_AC, a);
		return LOCAL_MISS;
	}
	store_hex(e->output, o);
	r = store_touch(s, STORE_CAS, o, e->size);
	if (r == STORE_NOT_FOUND)
		return LOCAL_MISS;
	return r == STORE_OK ? LOCAL_OK : LOCAL_ERROR;
}

bool local_has_output(struct store *s, const struct go_entry *e)
{
	char o[STORE_ID_LEN + 1];
	uint64_t have = 0;

	store_hex(e->output, o);
	return store_stat(s, STORE_CAS, o, &have) == STORE_OK && have == (uint64_t)e->size &&
	       store_touch(s, STORE_CAS, o, e->size) == STORE_OK;
}

enum local_result local_record(struct store *s, const struct go_entry *e)
{
	char a[STORE_ID_LEN + 1];
	char line[GO_ENTRY_LEN + 1];

	store_hex(e->action, a);
	go_entry_format(e, line);
	return store_put_bytes(s, STORE_AC, a, line, GO_ENTRY_LEN) == STORE_OK ? LOCAL_OK
	                                                                          : LOCAL_ERROR;
}

/* The time of the last trim recorded in the marker, or 0. */
static time_t local_trim_last(const char *mark)
{
	FILE *f = fopen(mark, "r");
	long long t = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lld", &t) != 1)
		t = 0;
	fclose(f);
	return (time_t)t;
}

/* Record now as the time of the last trim (written aside, then renamed). */
static void local_trim_mark(const char *mark, time_t now)
{
	char *tmp = NULL;
	FILE *f;

	if (asprintf(&tmp, "%s.%ld", mark, (long)getpid()) < 0)
		return;
	f = fopen(tmp, "w");
	if (f != NULL) {
		fprintf(f, "%lld\n", (long long)now);
		if (fclose(f) == 0 && rename(tmp, mark) == 0) {
			free(tmp);
			return;
		}
	}
	unlink(tmp);
	free(tmp);
}

enum local_result local_trim(struct store *s, uint64_t max_bytes, time_t run_start, char **cause)
{
	struct store_trim_options o;
	char *mark = NULL;
	time_t now = time(NULL), last;
	enum store_result r;

	*cause = NULL;
	if (asprintf(&mark, "%s/%s", store_dir(s), LOCAL_TRIM_MARK) < 0)
		return LOCAL_OK;
	last = local_trim_last(mark);
	if (last > 0 && last <= now && now - last < LOCAL_TRIM_INTERVAL) {
		free(mark);
		return LOCAL_OK;
	}
	if (store_is_new(s)) {
		local_trim_mark(mark, now);  /* a fresh machine's store: nothing to look at */
		free(mark);
		return LOCAL_OK;
	}
	memset(&o, 0, sizeof o);
	o.now = now;
	o.max_unused = LOCAL_TRIM_UNUSED;
	o.max_bytes = max_bytes;
	/* Uses are recorded at most hourly: keep everything touched since before this run. */
	o.min_keep = (now - run_start) + STORE_REFRESH_SECONDS + 60;
	r = store_trim(s, &o, NULL);
	if (r == STORE_OK)
		local_trim_mark(mark, now);
	else
		cause_set(cause, "cannot trim the local store %s: %s", store_dir(s),
		          store_result_str(r));
	free(mark);
	return r == STORE_OK ? LOCAL_OK : LOCAL_ERROR;
}

void local_write_error(const struct store *s, enum store_result r, char **cause)
{
	if (r == STORE_NO_SPACE)
		cause_set(cause, "cannot write to the local store %s: its file system is full; "
		          "free space there, lower --max-size (CACHEGATE_MAX_SIZE) or move the "
		          "store with --dir (CACHEGATE_DIR)", store_dir(s));
	else
		cause_set(cause, "cannot write to the local store %s: %s", store_dir(s),
		          store_result_str(r));
}
