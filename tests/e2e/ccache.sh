#!/bin/sh
# ccache.sh: real ccache with cachegate as its remote storage
# (remote_storage = http://127.0.0.1:PORT|layout=bazel). The same C file is
# compiled from two empty local ccache directories; the second compile must
# be a remote hit. Then the same with tokens (ccache's bearer-token), and
# with namespaces: a pull request's token reads main's results, and what it
# stores for main's keys never reaches main's readers.
set -eu

if ! command -v ccache >/dev/null 2>&1; then
	echo "SKIP: ccache is not installed (apt-get install ccache)"
	exit 77
fi
cc=${CC_FOR_CCACHE:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "SKIP: no C compiler '$cc' for ccache to wrap"
	exit 77
fi

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"

mkdir "$work/src"
cat >"$work/src/hello.c" <<'C'
#include <stdio.h>

int main(void)
{
	printf("hello from a remote cache\n");
	return 0;
}
C

# Only the settings below apply: no user or system ccache configuration.
: >"$work/ccache.conf"
CCACHE_CONFIGPATH=$work/ccache.conf
CCACHE_NOHASHDIR=1
export CCACHE_CONFIGPATH CCACHE_NOHASHDIR
unset CCACHE_DISABLE CCACHE_READONLY CCACHE_RECACHE CCACHE_REMOTE_ONLY 2>/dev/null || true

# compile N [ATTRIBUTES]: build hello.o with a fresh, empty local cache
# directory N, cachegate as remote storage with |ATTRIBUTES added.
compile() {
	mkdir -p "$work/cache$1"
	(cd "$work/src" && CCACHE_DIR="$work/cache$1" \
		CCACHE_REMOTE_STORAGE="http://127.0.0.1:$port|layout=bazel${2:+|$2}" \
		ccache "$cc" -c hello.c -o "hello$1.o")
}

# counter N FIELD: a counter of ccache --print-stats for cache directory N.
counter() {
	CCACHE_DIR="$work/cache$1" ccache --print-stats | awk -v f="$2" '$1 == f { print $2 }'
}

start
check "first compile succeeds" compile 1
check "first compile is a remote miss" [ "$(counter 1 remote_storage_miss)" -ge 1 ]
check "first compile uploaded to cachegate" \
	[ "$(find "$work/store/ac" "$work/store/cas" -type f | wc -l)" -ge 1 ]
check "second compile succeeds" compile 2
check "second compile is a remote hit" [ "$(counter 2 remote_storage_hit)" -ge 1 ]
check "second compile did not run the compiler" [ "$(counter 2 cache_miss)" -eq 0 ]
check "both object files are the same" cmp -s "$work/src/hello1.o" "$work/src/hello2.o"
check "cachegate saw ccache's GETs and PUTs" sh -c \
	"grep -q ' GET /ac/' '$work/server.log' && grep -q ' PUT /ac/' '$work/server.log'"
check "SIGTERM stops the server cleanly" stop

# With tokens: a CI machine writes with a write token, a laptop reads with a read token.
rm -rf "$work/store"
printf 'ci-writes write\nlaptop-reads read\n' >"$work/tokens"
start --auth-file "$work/tokens"
check "compile with a write token succeeds" compile 3 bearer-token=ci-writes
check "the write token uploaded" [ "$(counter 3 remote_storage_write)" -ge 1 ]
check "compile with a read token succeeds" compile 4 "bearer-token=laptop-reads|read-only=true"
check "the read token gets a remote hit" [ "$(counter 4 remote_storage_hit)" -ge 1 ]
check "compile without a token succeeds" compile 5
check "no token, no remote hit" [ "$(counter 5 remote_storage_hit)" -eq 0 ]
check "SIGTERM stops the authenticated server" stop

# With namespaces: main's CI writes main, a pull request writes its own and reads main's.
rm -rf "$work/store"
printf '%s\n' 'main-writes write ns=main' 'pr-writes write ns=pr-42 reads=pr-42,main' \
	'main-reads read reads=main' >"$work/tokens"
start --auth-file "$work/tokens"
check "main's compile succeeds" compile 6 bearer-token=main-writes
check "main's results are in its namespace" \
	[ "$(find "$work/store/ns/main/ac" -type f | wc -l)" -ge 1 ]
check "the pull request's compile succeeds" compile 7 bearer-token=pr-writes
check "the pull request hits main's results" [ "$(counter 7 remote_storage_hit)" -ge 1 ]
printf 'poisoned result\n' >"$work/poison"
for f in $(find "$work/store/ns/main/ac" -type f); do
	curl -sS -o /dev/null -H 'Authorization: Bearer pr-writes' -T "$work/poison" \
		"http://127.0.0.1:$port/ac/$(basename "$f")"
done
check "the pull request's entries went to its own namespace" \
	[ "$(find "$work/store/ns/pr-42/ac" -type f | wc -l)" -ge 1 ]
# main_served: every entry main's reader gets is main's own (byte for byte), none the PR's.
main_served() {
	for f in $(find "$work/store/ns/main/ac" -type f); do
		curl -sS -H 'Authorization: Bearer main-reads' -o "$work/served" \
			"http://127.0.0.1:$port/ac/$(basename "$f")" && cmp -s "$f" "$work/served" || return 1
	done
}
check "main's reader is served main's entries, not the PR's" main_served
check "main's reader compiles" compile 8 "bearer-token=main-reads|read-only=true"
check "main's reader gets main's result (a remote hit)" [ "$(counter 8 remote_storage_hit)" -ge 1 ]
check "the same object file as main's" cmp -s "$work/src/hello6.o" "$work/src/hello8.o"
check "SIGTERM stops the server with namespaces" stop

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed; server log:"
	cat "$work/server.log"
	for n in 1 2 3 4 5 6 7 8; do
		echo "ccache stats for cache $n:"
		CCACHE_DIR="$work/cache$n" ccache --print-stats || true
	done
	exit 1
fi
echo "all ccache checks passed"
