/*
 * store.h: the cachegate disk store, shared by the gateway and the helper.
 *
 * Layout under a store directory:
 *   <dir>/ac/<xx>/<id>    action entries (opaque bytes, replaced by a later put)
 *                         of the namespace "default" (all of them before namespaces)
 *   <dir>/ns/<name>/ac/<xx>/<id>  action entries of any other namespace, its
 *                         name with each '/' written as '+'
 *   <dir>/cas/<xx>/<id>   content blobs whose SHA-256 is <id>
 *   <dir>/cas/<xx>/<id>.zst  the same, zstd-compressed (a store opened with a
 *                         compression level writes these where that pays):
 *                         a skippable frame holding the uncompressed size
 *                         (STORE_ZST_HEADER bytes), then the compressed frames
 *   <dir>/tmp/            named writes in progress (same file system: rename is atomic)
 *   <dir>/README          what the folder is
 *
 * Every write goes to a file no reader can find (unnamed where the file
 * system allows, else a unique name in tmp/), is hashed while written,
 * verified, then linked or renamed into place, so a reader never sees a
 * partial or wrong object.
 * Many processes and threads may use one directory at once. A struct store
 * holds no mutable state after store_open, so one may be shared by threads.
 */
#ifndef CACHEGATE_STORE_H
#define CACHEGATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define STORE_ID_LEN 64     /* hex characters in an id */
#define STORE_HASH_LEN 32   /* raw bytes of a SHA-256 */
/* SHA-256 of no bytes: the only id an empty CAS object may have. */
#define STORE_EMPTY_ID "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* How long a use may go unrecorded: mtime is refreshed at most this often. */
#define STORE_REFRESH_SECONDS 3600

enum store_kind {
	STORE_AC,   /* action entries: any bytes, last put wins */
	STORE_CAS,  /* content blobs: SHA-256 of the bytes must equal the id */
};

/* The outcome of every fallible store function. */
enum store_result {
	STORE_OK = 0,
	STORE_NOT_FOUND,      /* no such object, or a bad one that was removed */
	STORE_BAD_ID,         /* not 64 lowercase hex characters */
	STORE_HASH_MISMATCH,  /* CAS body's SHA-256 differs from the id */
	STORE_SIZE_MISMATCH,  /* body length differs from the expected size */
	STORE_TOO_LARGE,      /* body grew past the put's limit */
	STORE_NO_SPACE,       /* the file system is full (ENOSPC, EDQUOT) */
	STORE_BAD_ENCODING,   /* compressed bytes that do not decode (a broken zstd frame) */
	STORE_IO_ERROR,       /* any other system error; errno is kept */
};

/* A short lowercase sentence for a result, e.g. "hash mismatch". */
const char *store_result_str(enum store_result r);

/* "ac" or "cas". */
const char *store_kind_name(enum store_kind k);

/* True when id[0..len) is exactly 64 lowercase hex characters. */
bool store_id_valid(const char *id, size_t len);

/* Write the 64-character lowercase hex of a 32-byte hash, NUL-terminated. */
void store_hex(const unsigned char hash[STORE_HASH_LEN], char hex[STORE_ID_LEN + 1]);

/* Parse 64 lowercase hex characters into 32 bytes; false if not valid. */
bool store_unhex(const char *hex, unsigned char hash[STORE_HASH_LEN]);

struct store_options {
	bool fsync;        /* fsync each object before it is named (slower, survives power loss) */
	bool named_temps;  /* write through named files in tmp/ even where unnamed ones work */
	/*
	 * 0: never compress. Else CAS puts that arrive as zstd frames keep them,
	 * and with compress_raw_puts raw puts are compressed at this zstd level:
	 * either way an object of at least STORE_COMPRESS_MIN bytes is kept
	 * compressed when that saves at least an eighth of its bytes.
	 */
	int compression_level;
	/*
	 * Compress raw puts too. Off, they stay raw, so that a raw reader (who
	 * most likely wrote them) gets them by sendfile, not decoded per read.
	 */
	bool compress_raw_puts;
};

/* CAS objects shorter than this are always kept raw. */
#define STORE_COMPRESS_MIN 512

/* Bytes of the skippable frame that opens a .zst object: magic, length 8, the size. */
#define STORE_ZST_HEADER 16

/* How an object's file holds its bytes. */
enum store_encoding {
	STORE_IDENTITY,  /* the bytes themselves */
	STORE_ZSTD,      /* a .zst CAS object: header, then zstd frames */
};

struct store;

/* ---- namespaces of action entries (ns.c) ------------------------------ */

/* Longest namespace name. */
#define STORE_NS_MAX 64

/* The namespace of a store as opened: today's ac/ directory. */
#define STORE_NS_DEFAULT "default"

/*
 * True when name is a namespace name: 1 to STORE_NS_MAX characters, parts of
 * letters, digits, '-', '_' and '.' joined by single '/', no part "." or "..".
 * Such a name is safe as a directory name or an S3 key part.
 */
bool store_ns_valid(const char *name);

/*
 * A view of s whose action entries are those of namespace ns; CAS objects,
 * temp files and everything else stay s's (one pool). The view borrows s,
 * which must outlive it; a put begun through it does not need it any more.
 * Free it with store_close. NULL when ns is not a namespace name or out of
 * memory.
 */
struct store *store_namespace(struct store *s, const char *ns);

/* The namespace of a store's action entries: STORE_NS_DEFAULT unless a view's. */
const char *store_ns(const struct store *s);

/*
 * Open (creating if needed) the store at dir: makes ac/, cas/, tmp/ and the
 * README, and removes temp files that no live writer holds. opts may be NULL.
 * On failure returns NULL and sets *cause to a sentence the caller frees.
 */
struct store *store_open(const char *dir, const struct store_options *opts, char **cause);

/* Free a store opened by store_open, or a namespace's view. NULL is allowed. */
void store_close(struct store *s);

/* The store's directory as an absolute path. */
const char *store_dir(const struct store *s);

/* True when store_open created the store's layout: nothing in it predates this process. */
bool store_is_new(const struct store *s);

/*
 * Write the path of an object into buf (size n). The object need not exist.
 * Returns STORE_BAD_ID for an invalid id (buf is then untouched).
 */
enum store_result store_object_path(const struct store *s, enum store_kind k,
                                    const char *id, char *buf, size_t n);

/* Longest path store_object_path can produce, plus the NUL. */
size_t store_path_max(const struct store *s);

/* Bytes of the longest object name ("cas/<xx>/<id>"), plus the NUL. */
#define STORE_NAME_MAX (sizeof "cas/xx/" + STORE_ID_LEN)

/*
 * Write an object's name inside any store directory, "<kind>/<xx>/<id>",
 * into buf (STORE_NAME_MAX bytes). Returns STORE_BAD_ID for an invalid id.
 */
enum store_result store_object_name(enum store_kind k, const char *id,
                                    char buf[STORE_NAME_MAX]);

/* ---- writing ---------------------------------------------------------- */

/* One write in progress; owned by the caller until commit or abort. */
struct store_put;

/*
 * Start writing object id of kind k into a fresh file no reader can find.
 * limit > 0 caps the body in bytes (store_put_write then fails with
 * STORE_TOO_LARGE).
 * On success *out owns the write: finish it with store_put_commit or
 * store_put_abort, exactly once.
 */
enum store_result store_put_begin(struct store *s, enum store_kind k, const char *id,
                                  uint64_t limit, struct store_put **out);

/* Append n bytes to the body, hashing them on the way. */
enum store_result store_put_write(struct store_put *p, const void *buf, size_t n);

/*
 * Make p, a CAS put begun by store_put_begin with nothing written yet, take
 * a zstd stream: the bytes written from now on are zstd frames (any number,
 * skippable ones too), decoded only to hash and count the raw bytes, which
 * the put's limit caps (STORE_TOO_LARGE), as it caps the stream itself
 * (a little more than the frames of that many bytes need). Bytes that do
 * not decode are STORE_BAD_ENCODING, and so is a commit inside a frame.
 * A store with a compression level keeps the frames as they came (after
 * the size header, which replaces one the stream may open with) as
 * <id>.zst when that saves at least an eighth and the object is at least
 * STORE_COMPRESS_MIN bytes, else the decoded bytes raw; a store without
 * one writes the decoded bytes. Commit checks the raw bytes as for any put.
 */
enum store_result store_put_take_zstd(struct store_put *p);

/* Bytes written so far (raw bytes: those decoded, for a zstd stream). */
uint64_t store_put_size(const struct store_put *p);

/* The temp file being written, open for reading too (dup it to keep it); a zstd stream's
 * holds no raw bytes. */
int store_put_fd(const struct store_put *p);

/* The result of the first store_put_write that failed, or STORE_OK. */
enum store_result store_put_error(const struct store_put *p);

/*
 * Finish the write: check the length against expected_size (when >= 0) and,
 * for CAS, the SHA-256 against the id; then move the file into place. A CAS
 * object already present and intact is kept as it is (a file once handed out
 * is never rewritten); a damaged one, or an AC entry, is replaced atomically.
 * A put whose write failed fails with that write's result.
 * Always frees p and removes the temp file, whatever the outcome; nothing is
 * visible unless STORE_OK is returned.
 */
enum store_result store_put_commit(struct store_put *p, int64_t expected_size);

/* Throw the write away: removes the temp file, frees p. NULL is allowed. */
void store_put_abort(struct store_put *p);

/*
 * Convenience: store a whole small buffer (an action entry) in one call.
 */
enum store_result store_put_bytes(struct store *s, enum store_kind k, const char *id,
                                  const void *buf, size_t n);

/* ---- reading ---------------------------------------------------------- */

/* An object opened for reading. The caller owns fd and closes it. */
struct store_object {
	int fd;           /* open read-only, positioned at 0 */
	uint64_t size;    /* its length in bytes, uncompressed */
	uint64_t stored_size;         /* the file's length (size unless compressed) */
	enum store_encoding encoding; /* how the file holds the bytes */
	time_t mtime;     /* last recorded use */
	struct stat st;   /* the open file as fstat saw it, after any refresh */
};

/*
 * Open object id for reading; a CAS object may be raw or compressed (the raw
 * file is preferred when both are there). expected_size >= 0 requires that length: an
 * object of another length, or a CAS object that cannot be its hash (empty
 * with a non-empty id), is bad: it is removed and STORE_NOT_FOUND returned.
 * A hit refreshes the mtime when older than STORE_REFRESH_SECONDS.
 */
enum store_result store_get(struct store *s, enum store_kind k, const char *id,
                            int64_t expected_size, struct store_object *out);

/*
 * Like store_get without opening the object: STORE_OK when it is there with
 * expected_size (any size if negative), and its mtime is refreshed as
 * store_get does. A bad object is removed and is STORE_NOT_FOUND.
 */
enum store_result store_touch(struct store *s, enum store_kind k, const char *id,
                              int64_t expected_size);

/*
 * Like store_get without opening: the object's size, and whether it exists.
 * Does not refresh the mtime. size may be NULL.
 */
enum store_result store_stat(struct store *s, enum store_kind k, const char *id,
                             uint64_t *size);

/*
 * Read a whole small object (at most cap bytes) into buf, setting *len.
 * An object longer than cap is STORE_TOO_LARGE. Refreshes like store_get.
 */
enum store_result store_read_small(struct store *s, enum store_kind k, const char *id,
                                   void *buf, size_t cap, size_t *len);

/* Remove an object, under any name (a bad entry found by a caller). Absent is STORE_OK. */
enum store_result store_remove(struct store *s, enum store_kind k, const char *id);

/* ---- integrity ------------------------------------------------------- */

/* A streaming check that some bytes hash to a CAS id. */
struct store_check;

/* Start checking bytes against CAS id. NULL on a bad id or no memory. */
struct store_check *store_check_new(const char *id);

/* Feed the next n bytes to the check. */
void store_check_update(struct store_check *c, const void *buf, size_t n);

/* True when the bytes fed so far hash to the id. Ends the check: call once. */
bool store_check_intact(struct store_check *c);

/* Free a check. NULL is allowed. */
void store_check_free(struct store_check *c);

/*
 * Hash the object open at fd, size bytes long, against CAS id. STORE_OK
 * when intact, STORE_HASH_MISMATCH when its bytes are not the id's (a file
 * shorter than size too), STORE_IO_ERROR when it cannot be read.
 */
enum store_result store_verify_fd(int fd, const char *id, uint64_t size);

/*
 * store_verify_fd for an object as store_get opened it, raw or compressed:
 * STORE_HASH_MISMATCH too when its frames do not decode to size bytes.
 */
enum store_result store_verify_object(const struct store_object *o, const char *id);

/* Write the hex SHA-256 of the size bytes of fd from offset into hex. */
enum store_result store_sha256_fd(int fd, uint64_t offset, uint64_t size,
                                  char hex[STORE_ID_LEN + 1]);

/*
 * Remove an object found bad (raw or compressed), unless its path names another file than the
 * one seen (st_dev and st_ino of seen) by now: a fresh write replaced it.
 */
enum store_result store_remove_if_same(struct store *s, enum store_kind k, const char *id,
                                       const struct stat *seen);

struct store_verify_options {
	uint64_t rate;  /* bytes read per second at most; 0: no limit */
	/* Told of each damaged object, after its removal. May be NULL. */
	void (*damaged)(void *ctx, const char *id, const struct stat *st);
	/* Told of each intact object, with what fstat said as it was read. May be NULL. */
	void (*intact)(void *ctx, const char *id, const struct stat *st);
	/* Asked between reads: true ends the pass early. May be NULL. */
	bool (*stop)(void *ctx);
	void *ctx;
};

struct store_verify_result {
	uint64_t objects;  /* CAS objects hashed */
	uint64_t bytes;    /* their bytes on disk */
	uint64_t damaged;  /* of them, found not to hash to their ids and removed */
};

/*
 * Hash every CAS object against its id, removing the damaged ones. Action
 * entries are opaque and not checked. o and result may be NULL.
 */
enum store_result store_verify(struct store *s, const struct store_verify_options *o,
                               struct store_verify_result *result);

/* ---- trimming --------------------------------------------------------- */

struct store_trim_options {
	time_t now;            /* the clock trim judges ages by (tests pass a fake one) */
	time_t max_unused;     /* > 0: remove objects whose mtime is older than now - max_unused */
	uint64_t max_bytes;    /* > 0: then remove least recently used until total <= max_bytes */
	time_t min_keep;       /* never remove objects used within this many seconds of now */
};

struct store_usage {
	uint64_t objects;      /* objects in ac/ (every namespace's) and cas/ */
	uint64_t bytes;        /* their total length on disk (compressed ones as stored) */
	uint64_t temp_bytes;   /* in tmp/: writes in progress (store_trim fills it) */
	uint64_t ac_objects;
	uint64_t cas_objects;
};

struct store_trim_result {
	struct store_usage before;
	struct store_usage after;
	uint64_t removed_objects;
	uint64_t removed_bytes;
};

/*
 * Remove unused objects by age, then by total size (temp files of live
 * writers count toward it), least recently used first, the action entries
 * of every namespace alike, and temp files no
 * live writer holds. Safe while other processes
 * read and write: a file removed under a reader stays readable through the
 * reader's open descriptor. result may be NULL.
 */
enum store_result store_trim(struct store *s, const struct store_trim_options *o,
                             struct store_trim_result *result);

/*
 * Remove the temp files no live writer holds (a killed writer's leftovers,
 * once a few seconds old) and return the bytes of those that remain.
 */
uint64_t store_sweep_temp(struct store *s, time_t now);

/* Count the objects and bytes in the store by scanning it. */
enum store_result store_usage(struct store *s, struct store_usage *u);

/* ---- compressed objects (decode.c) ----------------------------------- */

/* Where a decoder's bytes go: STORE_OK to go on, anything else stops the decoding. */
typedef enum store_result (*store_sink)(void *ctx, const void *buf, size_t n);

/* A streaming zstd decoder fed compressed bytes; bounded memory whatever the input. */
struct store_unzstd;

/* A decoder expecting at most limit uncompressed bytes (0: any). NULL when out of memory. */
struct store_unzstd *store_unzstd_new(uint64_t limit);

/*
 * Decode the next n compressed bytes, handing what they decode to sink.
 * STORE_BAD_ENCODING when they are not zstd (or decode past the limit);
 * else the first result of sink that was not STORE_OK, or STORE_OK.
 */
enum store_result store_unzstd_feed(struct store_unzstd *u, const void *in, size_t n,
                                    store_sink sink, void *ctx);

/* True when the bytes fed so far end at the end of a frame (and some were fed). */
bool store_unzstd_complete(const struct store_unzstd *u);

/* Uncompressed bytes decoded so far. */
uint64_t store_unzstd_size(const struct store_unzstd *u);

/* Free a decoder. NULL is allowed. */
void store_unzstd_free(struct store_unzstd *u);

/* Reads an object's uncompressed bytes in order, raw or compressed. */
struct store_reader;

/* A reader of o (it borrows o->fd, which must outlive it), or NULL when out of memory. */
struct store_reader *store_reader_new(const struct store_object *o);

/*
 * Read the next bytes, at most n, into buf; *got 0 at the end. A compressed
 * object whose frames do not decode to exactly o->size bytes is
 * STORE_BAD_ENCODING; a raw one shorter than o->size just ends early.
 */
enum store_result store_reader_read(struct store_reader *rd, void *buf, size_t n,
                                    size_t *got);

/* Free a reader. NULL is allowed. */
void store_reader_free(struct store_reader *rd);

/*
 * Decode object o (raw or compressed) into a fresh unnamed file under the
 * store's tmp/, for a consumer that needs a raw file (an upload to S3):
 * *fd, which the caller owns, holds its o->size raw bytes from offset 0.
 * STORE_BAD_ENCODING when o's frames are broken (it is damaged).
 */
enum store_result store_decode_temp(struct store *s, const struct store_object *o, int *fd);

/*
 * Read the uncompressed size from the header of a .zst file open at fd.
 * False when the file does not open with one.
 */
bool store_zst_size(int fd, uint64_t *size);

#endif
