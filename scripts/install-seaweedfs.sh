#!/usr/bin/env bash
# Install the SeaweedFS `weed` binary that the S3 end-to-end tests start
# (tests/e2e/s3_lib.sh), built from its source at one fixed version fetched
# through the Go module proxy, into a cache folder outside the repository,
# once per machine. The build takes minutes; later runs find it and return.
#
#   install-seaweedfs.sh          build and install it unless it is there
#   install-seaweedfs.sh --path   print where the binary is (or will be); the
#                                 tests ask this, so the location is written
#                                 only here
#
# `go install module@version` refuses SeaweedFS because its go.mod has replace
# directives, so the module is downloaded (`go mod download -json` names its
# folder) and built in that folder, whose files the module cache keeps
# read-only: the binary is written elsewhere with -o.
set -euo pipefail

module=github.com/seaweedfs/seaweedfs
version=v0.0.0-20261109003541-7506e5f91cd6
dir=${XDG_CACHE_HOME:-$HOME/.cache}/cachegate-tools/seaweedfs-$version
bin=$dir/weed

if [ "${1:-}" = "--path" ]; then
	echo "$bin"
	exit 0
fi

# Already installed: nothing to do. Only a finished build is ever at $bin.
[ -x "$bin" ] && exit 0

go=$(command -v go 2>/dev/null || true)
[ -n "$go" ] || { [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go; }
if [ -z "$go" ]; then
	echo "install-seaweedfs.sh: Go is not installed, so SeaweedFS is not (its tests will skip)" >&2
	exit 1
fi

echo "building SeaweedFS $version with $go into $dir (several minutes, once)" >&2
mkdir -p "$dir"
# Build to a temporary name beside $bin and rename it into place, so an
# interrupted build never looks finished; of two builds at once, the last
# rename wins, and both binaries are the same.
tmp=$(mktemp "$bin.tmp.XXXXXX")
trap 'rm -f "$tmp"' EXIT

src=$("$go" mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$src" ] || [ ! -d "$src/weed" ]; then
	echo "install-seaweedfs.sh: go mod download named no source folder for $module@$version" >&2
	exit 1
fi

start=$(date +%s)
# -mod=mod: resolve the dependencies from go.mod/go.sum as they are (the
# module ships no vendor folder). -buildvcs=false: the folder is no checkout.
(cd "$src" && GOFLAGS=-mod=mod "$go" build -buildvcs=false -ldflags='-s -w' -o "$tmp" ./weed)
chmod 755 "$tmp"
"$tmp" version >/dev/null 2>&1 || { echo "install-seaweedfs.sh: the built weed does not run" >&2; exit 1; }
mv -f "$tmp" "$bin"
echo "SeaweedFS installed at $bin (built in $(($(date +%s) - start)) s)" >&2
