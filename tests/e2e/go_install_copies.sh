#!/bin/sh
# go_install_copies.sh: outputs the go command installs elsewhere are copied
# out of the helper's store, never moved out of it. The go command renames a
# cached file it installs (go build -o of a package, GOPATH installs) unless
# the file lies under its GOCACHE, so the helper hands out its DiskPaths
# through a link there; this proves that the store keeps every file.
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
go_module "$work/mod" 4
cd "$work/mod"

go_env machine
"$GO" build ./...
(cd "$work/machine/store/cas" && find . -type f | sort) >"$work/before.txt"

# A fresh GOCACHE, so the archive can only come from the helper's store.
export GOCACHE="$work/second-gocache"
mkdir -p "$GOCACHE" "$work/out"
"$GO" build -x -o "$work/out/p2.a" ./p2 2>"$work/install.log"
(cd "$work/machine/store/cas" && find . -type f | sort) >"$work/after.txt"
comm -23 "$work/before.txt" "$work/after.txt" >"$work/lost.txt"

check "the archive came from the store (no compile)" [ "$(compiles "$work/install.log")" -eq 0 ]
check "the archive was written" [ -s "$work/out/p2.a" ]
check "the store kept every output file" [ ! -s "$work/lost.txt" ]
sed 's/^/  lost: /' "$work/lost.txt"
inode=$(stat -c %i "$work/out/p2.a")
check "the archive is a copy, not a store file" \
	[ -z "$(find "$work/machine/store/cas" -inum "$inode" | head -1)" ]
same=
for f in $(find "$work/machine/store/cas" -type f -size "$(stat -c %s "$work/out/p2.a")c"); do
	cmp -s "$f" "$work/out/p2.a" && same=$f
done
check "the store still holds the archive's bytes" [ -n "$same" ]
check "DiskPaths are given through links in GOCACHE" [ -n "$(find "$GOCACHE/cachegate" -type l | head -1)" ]
"$GO" build -x ./... 2>"$work/build3.log"
check "a later build still compiles nothing" [ "$(compiles "$work/build3.log")" -eq 0 ]
exit "$fail"
