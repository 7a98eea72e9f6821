#!/bin/sh
# gobuild.sh: how much `go build std` pays for the helper.
#
# Times, with hyperfine, `go build std` in five setups:
#   1. native GOCACHE, cold (empty)
#   2. native GOCACHE, warm
#   3. cachegate-prog with a warm local store (no remote)
#   4. cachegate-prog with an empty local store and a warm gateway on loopback
#   5. the protocol floor: bench/floorprog, a helper that answers every get
#      from an index in memory (no files, no network), so what the go
#      command's own GOCACHEPROG protocol costs on this machine shows
# and prints each median and its ratio to (2). Targets: (3) <= 1.05x,
# (4) <= 1.3x. The programs are built here without sanitizers, with -O2, in
# build/bench. Usage: bench/gobuild.sh [RUNS]: RUNS (default 1) rounds of the
# warm setups, one run of each per round (more give steadier medians on a
# busy machine); the cold build always runs once.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-1}
go=$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)
for tool in hyperfine jq "$go"; do
	command -v "$tool" >/dev/null 2>&1 || { echo "gobuild.sh: $tool is needed" >&2; exit 1; }
done

bin=$top/build/bench
if [ ! -x "$top/configure" ]; then
	(cd "$top" && autoreconf -fi >/dev/null)
fi
mkdir -p "$bin"
if [ ! -f "$bin/Makefile" ]; then
	(cd "$bin" && "$top/configure" -q CFLAGS="-O2 -g")
fi
make -s -C "$bin" -j"$(nproc)" cachegate cachegate-prog >/dev/null
(cd "$top/bench/floorprog" && GOTOOLCHAIN=local GOFLAGS= "$go" build -o "$bin/floorprog" .)

work=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-bench.XXXXXX")
gateway_pid=
cleanup() {
	[ -z "$gateway_pid" ] || { kill "$gateway_pid" 2>/dev/null; wait "$gateway_pid" 2>/dev/null || true; }
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

export GOTOOLCHAIN=local GOFLAGS= GOPROXY=off GOENV=off
unset GOCACHEPROG CACHEGATE_REMOTE CACHEGATE_DIR CACHEGATE_STATS || true

"$bin/cachegate" --listen 127.0.0.1:0 --port-file "$work/port" --dir "$work/gateway" 2>"$work/gateway.log" &
gateway_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
remote="http://127.0.0.1:$(cat "$work/port")"
prog=$bin/cachegate-prog

echo "$("$go" version); helper and gateway from $bin; gateway at $remote"
echo "warming up: native GOCACHE, helper local store, gateway..."
GOCACHE=$work/native-warm "$go" build std
GOCACHE=$work/prog-gocache GOCACHEPROG="$prog --dir $work/store-warm --remote $remote" "$go" build std
# The floor helper's index: every entry of the warm store, with its output's file.
find "$work/store-warm/ac" -type f -exec cat {} + |
	awk -v cas="$work/store-warm/cas" '{ print $2, $3, $4 + 0, cas "/" substr($3, 1, 2) "/" $3 }' \
	>"$work/floor-index.txt"

# Under GOCACHEPROG the go command keeps no build outputs in GOCACHE, but it
# still lays out its 256 subdirectories there; the helper runs share the
# GOCACHE made in the warm-up, as on any machine that has run go before.
# Emptied directories are moved aside, not deleted: removing thousands of
# files right before a run makes ext4 (no journal) slow at creating new ones
# for the next seconds, which a fresh machine does not suffer either.
mkdir -p "$work/trash"
aside() {
	for d in "$@"; do
		printf 'mv %s %s/trash/$(date +%%s%%N) 2>/dev/null; ' "$d" "$work"
	done
	printf 'true'
}

hyperfine --runs 1 --style basic --export-json "$work/cold.json" \
	-n "native GOCACHE, cold" \
	--prepare "$(aside "$work/native-cold")" \
	"GOCACHE=$work/native-cold $go build std"
# The warm setups run in rounds, one run of each per round, so that a machine
# that speeds up or slows down meanwhile (shared VMs do) weighs on all alike.
for round in $(seq "$runs"); do
	echo "round $round of $runs"
	hyperfine --runs 1 --style none --export-json "$work/warm-$round.json" \
		-n "native GOCACHE, warm" \
		--prepare "true" \
		"GOCACHE=$work/native-warm $go build std" \
		-n "helper, warm local store" \
		--prepare "true" \
		"GOCACHE=$work/prog-gocache GOCACHEPROG='$prog --dir $work/store-warm' $go build std" \
		-n "helper, empty local store + warm gateway" \
		--prepare "$(aside "$work/store-empty")" \
		"GOCACHE=$work/prog-gocache GOCACHEPROG='$prog --dir $work/store-empty --remote $remote' $go build std" \
		-n "protocol floor (floorprog, all in memory)" \
		--prepare "true" \
		"GOCACHE=$work/prog-gocache GOCACHEPROG='$bin/floorprog $work/floor-index.txt' $go build std"
done
# Each setup's runs from all rounds, and their median.
jq -s '{ results: ([.[].results] | transpose | map({
		command: .[0].command,
		times: (map(.times[]) | sort)
	} | . + { median: (.times | if length % 2 == 1 then .[length / 2 | floor]
	                            else (.[length / 2 - 1] + .[length / 2]) / 2 end) })) }' \
	"$work"/warm-*.json >"$work/warm.json"

echo
jq -s '{ results: (.[0].results + .[1].results) }' "$work/cold.json" "$work/warm.json" >"$work/times.json"
jq -r '
	(.results[1].median) as $warm
	| .results[]
	| "\(.command | .[0:45] | . + (" " * (45 - length)))  median \(.median * 1000 | floor / 1000) s   \(.median / $warm * 100 | floor / 100)x native warm   (runs: \(.times | map(. * 1000 | floor / 1000 | tostring) | join(" ")))"
' "$work/times.json"
