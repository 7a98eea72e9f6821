#!/bin/sh
# go_std.sh: `go build std` through the helper and a gateway from empty
# stores, then again on a second machine with an empty store and GOCACHE:
# the second build succeeds and is served by the gateway.
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
gateway_start

go_env machine-a --remote "$remote" --verbose
"$GO" build std 2>"$work/a.err"
check "machine A builds std" [ "$(prog_stat "$work/a.err" puts)" -gt 100 ]
check "machine A uploads it" [ "$(prog_stat "$work/a.err" uploads)" -gt 100 ]

go_env machine-b --remote "$remote" --verbose
"$GO" build std 2>"$work/b.err"
cat "$work/b.err"
gets=$(prog_stat "$work/b.err" gets)
hits=$(prog_stat "$work/b.err" "remote hits")
preloaded=$(prog_stat "$work/b.err" "preload hits")
misses=$(prog_stat "$work/b.err" misses)
check "machine B is served by the gateway ($hits remote hits, $preloaded preloaded)" \
	[ "$((hits + preloaded))" -gt 100 ]
check "machine B has next to no misses ($misses of $gets)" [ "$((misses * 100))" -le "$gets" ]
check "machine B builds nothing itself" [ "$(prog_stat "$work/b.err" puts)" -le "$misses" ]
exit "$fail"
