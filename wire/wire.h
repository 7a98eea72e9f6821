/*
 * wire.h: the contract between cachegate-prog and the gateway, beyond
 * the plain /ac and /cas of Bazel's HTTP cache. Both programs include this
 * header, so a name or a limit is written once.
 *
 * GET /go/<action>: the gateway answers every /go path with WIRE_GO_HEADER
 * "1", so the helper may take a 404 without it for a server that has no
 * /go paths (and fall back to /ac, then /cas). A hit is 200 with the
 * output's bytes as the body and the action's entry line (wire/goentry.h),
 * without its newline, in WIRE_ENTRY_HEADER. The helper checks the body
 * against the entry (size and SHA-256) before the go command sees it.
 *
 * POST /go/batch: the body is action ids, WIRE_BATCH_LINE bytes each (64
 * lowercase hex digits and a newline), at most WIRE_BATCH_MAX of them; the
 * gateway refuses a longer or malformed body with 400. It answers 200 with
 * a stream of the hits in the order asked, misses left out: each hit is
 * its entry line (GO_ENTRY_LEN bytes) followed by exactly the entry's size
 * of output bytes. The helper asks for at most WIRE_BATCH_MAX actions at
 * once and takes a short stream as the end of what came.
 *
 * Compression (issue 17), by bazel-remote's HTTP convention. A helper may
 * send "Accept-Encoding: zstd" on GET /go/<action>, POST /go/batch and GET
 * /cas/<id>; the gateway may then answer "Content-Encoding: zstd", whose
 * body decodes (libcurl's CURLOPT_ACCEPT_ENCODING does it) to exactly the
 * bytes described above: for /go/batch the whole stream is one zstd stream
 * (concatenated frames, skippable frames among them). A gateway that keeps
 * objects compressed says "Accept-Encoding: zstd" on its /ac, /cas and /go
 * answers (RFC 7694): it takes PUT /cas/<id> with "Content-Encoding: zstd"
 * and X-Digest-SizeBytes (the uncompressed size), which it decodes while
 * hashing. A helper compresses its uploads only after such an answer, so a
 * plain /ac + /cas server (which would keep the compressed bytes as the
 * object) never receives them.
 *
 * Preload lists: a list is stored as an /ac object whose key is the
 * SHA-256 of WIRE_LIST_HEADER followed by the scope's name (so it never
 * equals an action id); its body is WIRE_LIST_HEADER, then at most
 * WIRE_LIST_MAX_ENTRIES entry lines. The gateway keeps it as any /ac
 * object; only helpers read and write it.
 *
 * The empty output is the CAS object STORE_EMPTY_ID (store/store.h),
 * the only id an empty object may have.
 */
#ifndef CACHEGATE_WIRE_WIRE_H
#define CACHEGATE_WIRE_WIRE_H

#include "store/store.h"
#include "wire/goentry.h"

/* Response header on every /go answer, with the value "1". */
#define WIRE_GO_HEADER "Cachegate-Go"
/* Response header on a /go/<action> hit: the entry line without its newline. */
#define WIRE_ENTRY_HEADER "Cachegate-Entry"
/* The content coding both sides speak, in Accept-Encoding and Content-Encoding. */
#define WIRE_ZSTD "zstd"
/* Request header of a PUT with Content-Encoding: zstd: the uncompressed size. */
#define WIRE_RAW_SIZE_HEADER "X-Digest-SizeBytes"

/* Action ids one POST /go/batch may ask for. */
#define WIRE_BATCH_MAX 1024
/* Bytes of one id line in a /go/batch body. */
#define WIRE_BATCH_LINE (STORE_ID_LEN + 1)

/* The first line of every preload list, and the prefix of its key's hash. */
#define WIRE_LIST_HEADER "cachegate preload list v1\n"
#define WIRE_LIST_HEADER_LEN (sizeof WIRE_LIST_HEADER - 1)
/* Entry lines a preload list holds at most; a writer leaves later ones out. */
#define WIRE_LIST_MAX_ENTRIES 65536
/*
 * A list may end with one more record of an entry line's length: this
 * prefix, the SHA-256 in hex of the directory the writing build ran in,
 * spaces, and a newline. A reader that does not know it ends the list
 * there; one that does tells a list left by a checkout at another path.
 */
#define WIRE_LIST_CHECKOUT "cachegate checkout "
#define WIRE_LIST_CHECKOUT_LEN (sizeof WIRE_LIST_CHECKOUT - 1)

#endif
