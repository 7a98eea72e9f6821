#!/bin/sh
# go_disk_full.sh: the helper's local store on a full file system (a 256 KiB
# tmpfs). The build cannot cache its outputs; what the go command prints
# must name the store's path and say what to do about it. Needs root to
# mount the tmpfs (else skipped).
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
small=$work/small
mkdir "$small"
if ! mount -t tmpfs -o size=256k tmpfs "$small" 2>"$work/mount.err"; then
	echo "SKIP: cannot mount a tmpfs: $(cat "$work/mount.err") (needs root)"
	exit 77
fi
trap 'umount -l "$small" 2>/dev/null || true; cleanup' EXIT
go_module "$work/mod" 3
cd "$work/mod"

mkdir -p "$work/gocache"
export GOCACHE="$work/gocache"
export GOCACHEPROG="$CACHEGATE_PROG_BIN --dir $small/store"
status=0
"$GO" build ./... 2>"$work/build.log" || status=$?
cat "$work/build.log"
check "the build reports that it could not cache (exit $status)" [ "$status" -ne 0 ]
check "the error names the local store's path" grep -q "local store $small/store" "$work/build.log"
check "the error says the file system is full and what to do" \
	grep -q 'its file system is full; free space there' "$work/build.log"
exit "$fail"
