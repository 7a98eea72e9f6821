#!/bin/sh
# go_std.sh: `go build std` through the helper and a gateway from empty
# stores, then again on a second machine with an empty store and GOCACHE:
# the second build succeeds and is served by the gateway.
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
gateway_start

# A stats line: "cachegate-prog: gets N, local hits N, remote hits N, misses N, ..."
stat() {
	sed -n "s/^cachegate-prog:.*[ ,]$2 \([0-9][0-9]*\).*/\1/p" "$1" | tail -1
}

go_env machine-a --remote "$remote" --verbose
"$GO" build std 2>"$work/a.err"
check "machine A builds std" [ "$(stat "$work/a.err" puts)" -gt 100 ]
check "machine A uploads it" [ "$(stat "$work/a.err" uploads)" -gt 100 ]

go_env machine-b --remote "$remote" --verbose
"$GO" build std 2>"$work/b.err"
cat "$work/b.err"
gets=$(stat "$work/b.err" gets)
hits=$(stat "$work/b.err" "remote hits")
misses=$(stat "$work/b.err" misses)
check "machine B is served by the gateway" [ "$hits" -gt 100 ]
check "machine B has next to no misses ($misses of $gets)" [ "$((misses * 100))" -le "$gets" ]
check "machine B builds nothing itself" [ "$(stat "$work/b.err" puts)" -le "$misses" ]
exit "$fail"
