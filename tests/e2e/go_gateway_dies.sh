#!/bin/sh
# go_gateway_dies.sh: the gateway is killed in the middle of a build. The
# build must still succeed, and the helper must say so in exactly one line.
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
gateway_start
go_module "$work/mod" 8
cd "$work/mod"

go_env machine --remote "$remote"
# A build that hangs is stopped after 10 minutes, and fails.
timeout 600 "$GO" build ./... 2>"$work/build.err" &
build=$!
# Kill the gateway once the build has uploaded a few outputs (the standard
# library and the module are still being compiled then).
for _ in $(seq 600); do
	n=$(find "$work/gateway/store/cas" -type f 2>/dev/null | wc -l)
	[ "$n" -ge 5 ] && break
	kill -0 "$build" 2>/dev/null || break
	sleep 0.05
done
check "the build was still running when the gateway died" kill -0 "$build"
kill -9 "$gateway_pid"
wait "$gateway_pid" 2>/dev/null || true
gateway_pid=
status=0
wait "$build" || status=$?
check "the build succeeds (exit 0)" [ "$status" -eq 0 ]
echo "--- stderr of the build:"
cat "$work/build.err"
echo "---"
check "exactly one line on stderr" [ "$(wc -l <"$work/build.err")" -eq 1 ]
check "that line is the helper's warning about the remote" \
	grep -q '^cachegate-prog: the remote .* continuing without the remote' "$work/build.err"
# Everything the build made is in the local store all the same.
export GOCACHE="$work/again-gocache" GOCACHEPROG="$CACHEGATE_PROG_BIN --dir $work/machine/store"
mkdir -p "$GOCACHE"
check "a rebuild from the local store builds" sh -c '"$1" build -x ./... 2>"$2"' _ "$GO" "$work/again.log"
check "... and compiles nothing" [ "$(compiles "$work/again.log")" -eq 0 ]
exit "$fail"
