#!/bin/sh
# ci.sh: issue 19's measurement. A real module's own `go test ./...`
# through contrib/ci/cachegate-ci.sh and a gateway, as CI runs it:
#   A  a first machine, in a fresh copy of the module (fills the gateway);
#   B  a second machine (empty store, empty GOCACHE) in a fresh copy at the
#      same path, canonicalized by the script: every package A ran should be
#      "(cached)", in under a fifth of A's time;
#   C  as B, without canonicalizing (go build and go test directly, the
#      copy's files ten minutes old): the baseline of golang/go#58571.
# Then canonicalizing FILES small files (default 100000) on EMPTY_DIR.
# C runs last: a machine that does not canonicalize replaces the list of
# files each test read (README, CI), so a B after it runs those again.
#
# Usage: bench/ci.sh [MODULE@VERSION]   (default golang.org/x/text@v0.43.0)
# The module comes from the Go module proxy (`go mod download`), and so do
# its dependencies; cachegate and cachegate-prog from bench/build.sh. WORK
# (default a new directory under /tmp) holds the copies; EMPTY_DIR
# (default /dev/shm) the small files.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
mod=${1:-golang.org/x/text@v0.43.0}
files=${FILES:-100000}
go=$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)
build=$("$top/bench/build.sh")
work=${WORK:-$(mktemp -d /tmp/cachegate-ci-bench.XXXXXX)}
gateway_pid=
cleanup() {
	[ -z "$gateway_pid" ] || kill "$gateway_pid" 2>/dev/null || true
	chmod -R u+w "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

src=$("$go" mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
[ -d "$src" ] || { echo "ci.sh: cannot download $mod" >&2; exit 1; }
"$build/cachegate" --listen 127.0.0.1:0 --port-file "$work/port" --dir "$work/gateway" \
	2>"$work/gateway.log" &
gateway_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
remote="http://127.0.0.1:$(cat "$work/port")"

# machine NAME canonicalize|plain: a fresh copy at $work/src, run as machine NAME.
machine() {
	rm -rf "$work/src"
	cp -R "$src" "$work/src"
	chmod -R u+w "$work/src"
	mkdir -p "$work/$1/gocache"
	start=$(date +%s.%N)
	if [ "$2" = canonicalize ]; then
		(cd "$work/src" && GOCACHE="$work/$1/gocache" CACHEGATE_DIR="$work/$1/store" \
			CACHEGATE_REMOTE="$remote" CACHEGATE_PROG="$build/cachegate-prog" GO="$go" \
			CACHEGATE_SCOPE=bench-ci "$top/contrib/ci/cachegate-ci.sh" shell) >"$work/$1.log" 2>&1 || true
	else
		find "$work/src" -exec touch -d "@$(($(date +%s) - 600))" {} +
		(cd "$work/src" && GOCACHE="$work/$1/gocache" CACHEGATE_STATS=1 \
			GOCACHEPROG="$build/cachegate-prog --dir $work/$1/store --remote $remote --scope bench-ci" \
			sh -c '"$1" build ./... && "$1" test ./...' _ "$go") >"$work/$1.log" 2>&1 || true
	fi
	end=$(date +%s.%N)
	printf '| %s | %s of %s | %s | %s s |\n' "$1" "$(grep -c '^ok .*(cached)' "$work/$1.log" || true)" \
		"$(grep -c '^ok ' "$work/$1.log" || true)" "$(grep -c '^FAIL' "$work/$1.log" || true)" \
		"$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')"
}

echo "$mod, go test ./... through cachegate-prog and a gateway ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)):"
echo "| machine | packages (cached) of ok | FAIL | time (build and test) |"
echo "|---|---|---|---|"
machine A canonicalize
machine B canonicalize
machine C plain

dir="${EMPTY_DIR:-/dev/shm}/cachegate-ci-bench.$$"
mkdir -p "$dir"
i=0
while [ "$i" -lt "$files" ]; do
	d="$dir/d$((i / 10000))/e$((i / 100))"
	mkdir -p "$d"
	j=0
	while [ "$j" -lt 100 ]; do
		echo "package x // $i $j" >"$d/f$j.go"
		j=$((j + 1))
	done
	i=$((i + 100))
done
echo "canonicalizing $files small files in $dir:"
/usr/bin/time -f "  %e s, %U s user, %S s system" "$build/cachegate-prog" --verbose \
	--canonicalize-mtimes "$dir" 2>&1
rm -rf "$dir"
