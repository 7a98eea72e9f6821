#!/bin/sh
# disk_full.sh: the store on a small file system (an 8 MiB tmpfs) filled up
# by PUTs: a write that does not fit is answered 507, reads go on, nothing
# partial is ever visible, no temp file is left, and writes succeed again
# once space is freed. Needs root to mount the tmpfs (else skipped).
set -eu

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"

small=$work/small
mkdir "$small"
if ! mount -t tmpfs -o size=8m tmpfs "$small" 2>"$work/mount.err"; then
	echo "SKIP: cannot mount a tmpfs: $(cat "$work/mount.err") (needs root)"
	exit 77
fi
# Unmount before gateway_lib's cleanup removes $work.
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi; umount -l "$small" 2>/dev/null || true; cleanup' EXIT

# Start the gateway on the small file system, without a --max-size, so
# that only the disk itself says no.
rm -f "$work/port"
"$CACHEGATE" --listen 127.0.0.1:0 --port-file "$work/port" --dir "$small/store" \
	2>>"$work/server.log" &
pid=$!
await_port

# put N: PUT a fresh 1 MiB object n; prints the status (000 without an
# answer, when curl fails: the caller judges it).
put() {
	head -c $((1024 * 1024)) /dev/urandom >"$work/obj.$1"
	sha256sum "$work/obj.$1" | cut -c1-64 >"$work/id.$1"
	curl -s -o "$work/answer.$1" -w '%{http_code}' -T "$work/obj.$1" \
		"$base/cas/$(cat "$work/id.$1")" || :
}

stored=0 refused=
for n in $(seq 20); do
	code=$(put "$n")
	case $code in
	201) stored=$n ;;
	*) refused=$n; break ;;
	esac
done
check "objects were stored until the disk was full ($stored)" test "$stored" -ge 3
check "the write that did not fit was answered 507 (got ${code:-none})" test "$code" = 507
check "the answer says the disk is full" grep -q 'full' "$work/answer.$refused"

# Reads of everything stored go on, byte for byte.
reads_ok=true
for n in $(seq "$stored"); do
	curl -sf -o "$work/back" "$base/cas/$(cat "$work/id.$n")" && cmp -s "$work/back" "$work/obj.$n" ||
		reads_ok=false
done
check "every stored object still reads back whole" $reads_ok

# Nothing partial: only whole objects in cas/, no temp file left over.
check "the refused object is not in the store" \
	test ! -e "$small/store/cas/$(cut -c1-2 "$work/id.$refused")/$(cat "$work/id.$refused")"
check "no temp file is left by the failed write" test -z "$(ls -A "$small/store/tmp")"
if "$CACHEGATE" --verify --dir "$small/store" >"$work/verify.out" 2>&1; then rc=0; else rc=$?; fi
check "cachegate --verify finds no damage (exit $rc)" test "$rc" -eq 0
check "every CAS object hashes to its id" grep -q "^verified $stored CAS objects.*: 0 damaged$" \
	"$work/verify.out"

# Free space: the same write now succeeds.
rm "$small/store/cas/$(cut -c1-2 "$work/id.1")/$(cat "$work/id.1")" \
	"$small/store/cas/$(cut -c1-2 "$work/id.2")/$(cat "$work/id.2")"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$work/obj.$refused" \
	"$base/cas/$(cat "$work/id.$refused")") || :
check "once space is freed the write succeeds (got $code)" test "$code" = 201
check "the gateway stops cleanly" stop

[ "$failures" -eq 0 ]
