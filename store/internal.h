/*
 * internal.h: what the store's own files share; not part of its interface.
 */
#ifndef CACHEGATE_STORE_INTERNAL_H
#define CACHEGATE_STORE_INTERNAL_H

#include "store/store.h"

#include <limits.h>
#include <sys/stat.h>

#include <openssl/evp.h>

/* Longest action-entry directory under a store: "ns/<name>/ac". */
#define STORE_AC_DIR_MAX (sizeof "ns//ac" + STORE_NS_MAX)

struct store {
	char *dir;                   /* absolute, no trailing slash; a view's is its base's */
	size_t dir_len;
	struct store_options opts;
	bool unnamed_temps;          /* puts write unnamed files (O_TMPFILE): put.c */
	bool made;                   /* store_open created ac/: the store is new */
	bool view;                   /* a namespace's view (store_namespace): dir is borrowed */
	char ns[STORE_NS_MAX + 1];   /* the namespace of its action entries */
	char ac_dir[STORE_AC_DIR_MAX];  /* where they are under dir: "ac" or "ns/<name>/ac" */
};

/*
 * Temp files untouched for this long are fair game for removal, if unlocked:
 * a live writer holds its lock from a moment after it creates the file.
 */
#define STORE_TEMP_GRACE_SECONDS 5

/*
 * Called for every object a scan finds: its id, its kind's directory under
 * the store (where: "cas", "ac" or "ns/<name>/ac"), and its file's name in
 * dir_fd (the id, or for CAS the id and ".zst"). False stops with STORE_IO_ERROR.
 */
typedef bool (*store_scan_visit)(void *ctx, enum store_kind k, const char *where,
                                 const char *id, const char *name, int dir_fd,
                                 const struct stat *st);

/* The encoding of an object file by its name, as a scan passes it. */
#define STORE_NAME_ENCODING(name) \
	(strlen(name) > STORE_ID_LEN ? STORE_ZSTD : STORE_IDENTITY)

/* Visit every well-named regular file in <dir>/<kind>/<xx>/ (scan.c); for
 * STORE_AC, of every namespace. */
enum store_result store_scan_kind(struct store *s, enum store_kind k, store_scan_visit visit,
                                  void *ctx);

/* Write the action-entry directory of namespace ns under a store into buf (ns.c). */
void store_ns_dir(const char *ns, char buf[STORE_AC_DIR_MAX]);

/*
 * Call visit(ctx, where) for the action-entry directory of every namespace
 * but the default one that <dir>/ns/ holds (ns.c). False when visit was.
 */
bool store_ns_each(const struct store *s, bool (*visit)(void *ctx, const char *where),
                   void *ctx);

/* store_scan_kind for action entries, then for CAS objects. */
enum store_result store_scan(struct store *s, store_scan_visit visit, void *ctx);

/*
 * True when files can be made unnamed in dir (O_TMPFILE) and named later
 * through /proc/self/fd (put.c); tried once, with a file linked and removed.
 */
bool store_probe_unnamed(const char *dir);

/* Map the current errno to a result. */
enum store_result store_errno_result(void);

/* Set an object's mtime to now if it is older than STORE_REFRESH_SECONDS; true if it did. */
bool store_refresh(int fd, time_t mtime);

/*
 * Write the .zst form of the size raw bytes of in_fd to out_fd at the given
 * level (compress.c). STORE_TOO_LARGE as soon as the output passes max_out
 * bytes (it does not pay); *written is the output's length so far.
 */
enum store_result store_compress_fd(int in_fd, uint64_t size, int out_fd, int level,
                                    uint64_t max_out, uint64_t *written);

/*
 * Write all n bytes of buf to fd: at offset off, or where fd stands when off
 * is negative (compress.c).
 */
enum store_result store_write_all(int fd, const void *buf, size_t n, off_t off);

/* Fill h with the skippable frame that opens a .zst object of size raw bytes (compress.c). */
void store_zst_header(unsigned char h[STORE_ZST_HEADER], uint64_t size);

/* True when h is such a frame; *size is then the size it holds (decode.c). */
bool store_zst_header_size(const unsigned char h[STORE_ZST_HEADER], uint64_t *size);

/* Suffix of a compressed CAS object's file name. */
#define STORE_ZST_SUFFIX ".zst"

/* store_object_path for the file of the given encoding (open.c). */
enum store_result store_encoded_path(const struct store *s, enum store_kind k, const char *id,
                                     enum store_encoding e, char *buf, size_t n);

/* ---- a put in progress (put.c, put_zst.c) ---- */

struct store_put {
	struct store *store;     /* &store_copy */
	struct store store_copy; /* the store (or view) begun through, which may go first */
	enum store_kind kind;
	char id[STORE_ID_LEN + 1];
	int fd;
	EVP_MD_CTX *digest;      /* CAS only: of the raw bytes */
	uint64_t size;           /* raw bytes so far (decoded ones, for a zstd stream) */
	uint64_t limit;          /* 0: none */
	enum store_result error; /* the first failed write's result */
	bool unnamed;            /* fd is an O_TMPFILE: no temp_path until it is given one */
	bool zst;                /* the compressed form of a CAS put: final_path ends in .zst */
	/* A put fed a zstd stream (store_put_take_zstd): */
	struct store_unzstd *unzstd;  /* decodes it, for the hash and the size */
	bool keep_frames;        /* fd holds the frames as they came, after STORE_ZST_HEADER */
	uint64_t stored;         /* bytes of the stream written to fd (after the header) */
	unsigned char head[STORE_ZST_HEADER];  /* the stream's first bytes, until judged */
	size_t held;             /* bytes in head; STORE_ZST_HEADER once judged */
	char temp_path[PATH_MAX];
	char final_path[PATH_MAX];
};

/* Start a write into the file of encoding e of object id; a CAS one is hashed when hash. */
enum store_result store_put_open(struct store *s, enum store_kind k, const char *id,
                                 enum store_encoding e, bool hash, uint64_t limit,
                                 struct store_put **out);

/* Append raw bytes to p's file, hashing and counting them; errors are remembered in p. */
enum store_result store_put_raw(struct store_put *p, const void *buf, size_t n);

/*
 * Move p's file into place (an intact object already there is kept), then
 * remove a damaged copy under the other name. Frees p.
 */
enum store_result store_put_place(struct store_put *p);

/* Release everything p holds; the temp file is removed if still there. */
void store_put_free(struct store_put *p);

/* Write n bytes of a zstd stream to p (put_zst.c). */
enum store_result store_put_frames(struct store_put *p, const void *buf, size_t n);

/*
 * Place a verified CAS put in its stored form (put_zst.c): the frames kept
 * or compressed at the store's level when that pays, else the raw bytes.
 * Frees p.
 */
enum store_result store_put_settle(struct store_put *p);

#endif
