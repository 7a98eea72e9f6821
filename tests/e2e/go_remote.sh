#!/bin/sh
# go_remote.sh: two machines sharing one gateway. Machine A builds and tests
# a module through the helper; machine B, with an empty store and an empty
# GOCACHE, then compiles nothing and gets every test result "(cached)".
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
gateway_start
go_module "$work/mod" 6
cd "$work/mod"

go_env machine-a --remote "$remote" --verbose
"$GO" build -x ./... 2>"$work/a-build.log"
"$GO" test ./... >"$work/a-test.log" 2>"$work/a-test.err"
check "machine A compiles" [ "$(compiles "$work/a-build.log")" -gt 0 ]
check "machine A uploads its results" grep -q 'uploads [1-9]' "$work/a-build.log"
check "machine A runs the tests" [ "$(grep -c '^ok.*[0-9]s$' "$work/a-test.log")" -eq 6 ]

# One get at a time, as asked (go_preload.sh tests fetching ahead).
go_env machine-b --remote "$remote" --verbose --no-preload
"$GO" build -x ./... 2>"$work/b-build.log"
# Counted the moment go returns: the helper writes nothing after it answers close.
entries=$(find "$work/machine-b/store/ac" -type f | wc -l)
hits=$(sed -n 's/.*remote hits \([0-9]*\).*/\1/p' "$work/b-build.log")
puts=$(sed -n 's/.*, puts \([0-9]*\).*/\1/p' "$work/b-build.log")
"$GO" test ./... >"$work/b-test.log" 2>"$work/b-test.err"
check "machine B compiles nothing" [ "$(compiles "$work/b-build.log")" -eq 0 ]
check "machine B is served by the gateway" grep -q 'remote hits [1-9]' "$work/b-build.log"
check "every test result on machine B is (cached)" \
	[ "$(grep -c '^ok.*(cached)$' "$work/b-test.log")" -eq 6 ]
check "machine B's store has every entry when go returns ($entries: $hits fetched, $puts put)" \
	[ "$entries" -eq "$((hits + puts))" ]
check "machine B's store now holds the outputs" \
	[ -n "$(find "$work/machine-b/store/cas" -type f | head -1)" ]
check "no helper warnings, only the stats lines" \
	[ "$(cat "$work/b-build.log" "$work/b-test.err" | grep 'cachegate-prog:' | grep -vc 'cachegate-prog: gets ')" -eq 0 ]
exit "$fail"
