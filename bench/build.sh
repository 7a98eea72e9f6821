#!/bin/sh
# build.sh: build cachegate and cachegate-prog for benchmarks, with -O2 and
# without sanitizers, in build/bench (make rebuilds only what changed), and
# print that directory. The benchmark scripts start with it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build/bench
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null)
mkdir -p "$build"
if [ ! -f "$build/Makefile" ]; then
	(cd "$build" && "$top/configure" -q CFLAGS="-O2 -g")
fi
make -s -C "$build" -j"$(nproc)" cachegate cachegate-prog >/dev/null
echo "$build"
