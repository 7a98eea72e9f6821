#!/bin/sh
# go_local.sh: the helper as a purely local cache. A module of several
# packages is built and tested twice through it, the second time with a new,
# empty GOCACHE: everything must come from the helper's store (no compiler
# run, every test result "(cached)").
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
go_module "$work/mod" 6
cd "$work/mod"

go_env first
"$GO" build -x ./... 2>"$work/build1.log"
"$GO" test ./... >"$work/test1.log"
check "the first build compiles" [ "$(compiles "$work/build1.log")" -gt 0 ]
check "the first test run runs the tests" \
	[ "$(grep -c '^ok.*[0-9]s$' "$work/test1.log")" -eq 6 ]

# Same store, fresh GOCACHE: the go command can only have it from the helper.
export GOCACHE="$work/second-gocache"
mkdir -p "$GOCACHE"
"$GO" build -x ./... 2>"$work/build2.log"
"$GO" test ./... >"$work/test2.log"
check "the second build compiles nothing" [ "$(compiles "$work/build2.log")" -eq 0 ]
check "every test result of the second run is (cached)" \
	[ "$(grep -c '^ok.*(cached)$' "$work/test2.log")" -eq 6 ]
check "the built program still works" [ "$("$GO" run ./cmd/tool)" = 15 ]
check "outputs live in the helper's store" [ -n "$(find "$work/first/store/cas" -type f | head -1)" ]
exit "$fail"
