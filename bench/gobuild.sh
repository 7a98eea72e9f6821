#!/bin/sh
# gobuild.sh: how much `go build std` and a cached `go test ./...` pay for the
# helper, on this machine and across a network.
#
# Times, with hyperfine, `go build std` in these setups ([name] for SETUPS):
#   1. native GOCACHE, cold (empty)                                     [cold]
#   2. native GOCACHE, warm (always run: every ratio is to it)
#   3. cachegate-prog with a warm local store (no remote)               [local]
#   4. cachegate-prog with an empty local store and a warm gateway on
#      loopback                                                      [gateway]
#   5. the protocol floor: bench/floorprog, a helper that answers every get
#      from an index in memory (no files, no network), so what the go
#      command's own GOCACHEPROG protocol costs on this machine shows  [floor]
# and, at each round-trip time in RTTS, through bench/delayproxy (a TCP relay
# that adds RTT/2 each way, and one round trip to a new connection's start,
# as its handshake would; RTT 0 goes through the relay too, with no delay, so
# the RTT rows differ only in the delay; (4) is the helper with its default
# options, preload or not, and no relay):
#   6. cachegate-prog, empty local store, warm gateway, without preload
#      (--no-preload if the helper has that flag, else the helper has none)
#                                                                       [prog]
#   7. the same with preload, the helper's default; only when its --help
#      mentions --no-preload                                         [preload]
#   7b. the same as 7 against a second gateway started with
#      --compression none (so what compression costs or saves shows at
#      each RTT; the target is that 7 is no slower than 7b at RTT 0)   [plain]
#   8. the peer, github.com/bradfitz/go-tool-cache: go-cacher with an empty
#      local dir and a warm gocached                                [gocacher]
# and, on each link in LINKS at a round trip of LINK_RTT, through delayproxy
# -rate (each direction one link of that rate shared by all connections, with
# a short queue that holds the sender back):
#   9. cachegate-prog with its default options (preload), empty local store,
#      warm gateway, side by side with
#  10. go-cacher, empty local dir, warm gocached.
# Then `go test ./...`, fully cached, in a module generated here (GEN_PACKAGES
# packages in a tree of imports, each with two tests) in setups 2, 6, 7, 8.
# Every server is warmed by one build (or test run) of each project through
# its own client, without relay; empty local stores and dirs are emptied
# before each run. Prints each median, its ratio to (2) of the same project,
# the HTTP requests the run made (from the gateway's access log or
# gocached's verbose log; median over the rounds), and for the runs through a
# relay, the bytes it relayed down (to the client) and up (from the relays'
# counters; medians over the rounds). Then, for each link, (9) and (10) side
# by side: medians, the ratio (9)/(10), and the bytes on the wire per build.
# Targets: (3) <= 1.05x, (4) <= 1.3x.
#
# Usage: bench/gobuild.sh [RUNS]
#   RUNS (default 1): rounds of the warm setups, one run of each per round
#   (more give steadier medians on a busy machine); the cold build always
#   runs once. Environment (defaults: everything):
#   ROWS="base link"    base: setups 1-8 (as SETUPS and RTTS select); link:
#                       9 and 10 on each of LINKS. Native warm always runs.
#   RTTS="0 2 10"       round-trip times in ms (decimals allowed)
#   SETUPS="cold local gateway floor prog preload plain gocacher"
#   LINKS="100mbit 1gbit"  link rates (delayproxy -rate) for the link rows
#   LINK_RTT=2          their round-trip time in ms
#   PROJECTS="std gen"  `go build std`, and the generated module
#   GEN_PACKAGES=150    size of the generated module
#   EMPTY_DIR           where the empty local stores and dirs of the runs go
#                       (default: inside the work directory, on its file
#                       system); e.g. /dev/shm, a tmpfs, to take the disk and
#                       the file system out of the comparison
# e.g. RTTS=10 SETUPS="prog gocacher" PROJECTS=gen bench/gobuild.sh 3
#      ROWS=link PROJECTS=std EMPTY_DIR=/dev/shm bench/gobuild.sh 3
#
# cachegate and cachegate-prog are built here without sanitizers, with -O2,
# in build/bench; so are floorprog and delayproxy. go-cacher and gocached
# (@latest) are installed into build/bench/gobin when missing, through the
# Go module proxy; everything else runs offline (GOPROXY=off).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-1}
rows=${ROWS-base link}
rtts=${RTTS-0 2 10}
setups=${SETUPS-cold local gateway floor prog preload plain gocacher}
links=${LINKS-100mbit 1gbit}
link_rtt=${LINK_RTT:-2}
projects=${PROJECTS-std gen}
gen_packages=${GEN_PACKAGES:-150}
go=$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)

has() { # has SETUP: is it in SETUPS?
	case " $(echo $setups) " in *" $1 "*) return 0 ;; esac
	return 1
}
for w in $rows; do
	case $w in base | link) ;; *) echo "gobuild.sh: unknown rows $w (ROWS: base link)" >&2; exit 2 ;; esac
done
case " $(echo $rows) " in *" link "*) ;; *) links= ;; esac
case " $(echo $rows) " in *" base "*) ;; *) setups= rtts= ;; esac
# gocacher: does any row need go-cacher and gocached? helper: the gateway?
gocacher=
[ -z "$links" ] && ! has gocacher || gocacher=1
helper=
[ -z "$links" ] && ! has local && ! has gateway && ! has floor && ! has prog && ! has preload || helper=1
for s in $setups; do
	case $s in cold | local | gateway | floor | prog | preload | plain | gocacher) ;;
	*) echo "gobuild.sh: unknown setup $s (SETUPS: cold local gateway floor prog preload plain gocacher)" >&2; exit 2 ;;
	esac
done
for p in $projects; do
	case $p in std | gen) ;; *) echo "gobuild.sh: unknown project $p (PROJECTS: std gen)" >&2; exit 2 ;; esac
done
for r in $rtts $link_rtt; do
	case $r in '' | *[!0-9.]* | *.*.*) echo "gobuild.sh: bad RTT $r (milliseconds)" >&2; exit 2 ;; esac
done
for l in $links; do
	case $l in *[!0-9.a-z]* | *.*.*) echo "gobuild.sh: bad link rate $l (e.g. 100mbit, 1gbit)" >&2; exit 2 ;; esac
done
case $gen_packages in '' | *[!0-9]* | 0) echo "gobuild.sh: bad GEN_PACKAGES $gen_packages" >&2; exit 2 ;; esac
for tool in hyperfine jq curl "$go"; do
	command -v "$tool" >/dev/null 2>&1 || { echo "gobuild.sh: $tool is needed" >&2; exit 1; }
done

bin=$("$top/bench/build.sh")
(cd "$top/bench/floorprog" && GOTOOLCHAIN=local GOFLAGS= "$go" build -o "$bin/floorprog" .)
(cd "$top/bench/delayproxy" && GOTOOLCHAIN=local GOFLAGS= "$go" build -o "$bin/delayproxy" .)
gobin=$bin/gobin
if [ -n "$gocacher" ] && { [ ! -x "$gobin/go-cacher" ] || [ ! -x "$gobin/gocached" ]; }; then
	echo "installing go-cacher and gocached into $gobin"
	GOBIN=$gobin GOFLAGS= GOTOOLCHAIN=local "$go" install \
		github.com/bradfitz/go-tool-cache/cmd/go-cacher@latest \
		github.com/bradfitz/go-tool-cache/cmd/gocached@latest
fi
prog=$bin/cachegate-prog
# Preload is the helper's default where it exists; without it, "prog" is the
# helper as it is and "preload" has nothing to measure.
noprel=
if "$prog" --help 2>&1 | grep -q -- --no-preload; then
	noprel="--no-preload "
elif has preload; then
	echo "preload is not available (cachegate-prog --help has no --no-preload): no preload setups"
	setups=$(for s in $setups; do [ "$s" = preload ] || echo "$s"; done)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-bench.XXXXXX")
pids=
cleanup() {
	for pid in $pids; do kill "$pid" 2>/dev/null || true; done
	for pid in $pids; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
	[ -z "${EMPTY_DIR:-}" ] || [ -z "${empty:-}" ] || rm -rf "$empty"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

export GOTOOLCHAIN=local GOFLAGS= GOPROXY=off GOENV=off
unset GOCACHEPROG CACHEGATE_REMOTE CACHEGATE_DIR CACHEGATE_STATS || true

wait_file() {
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
	echo "gobuild.sh: no $1 after 10 s" >&2
	exit 1
}
# proxy NAME PORT RTT [RATE]: a delayproxy to 127.0.0.1:PORT adding RTT/2 ms
# each way (on a link of RATE, if given); its own port ends up in
# $work/NAME.port, and its pid and counters file in $work/proxies.
touch "$work/proxies"
proxy() {
	"$bin/delayproxy" -listen 127.0.0.1:0 -port-file "$work/$1.port" -upstream "127.0.0.1:$2" \
		-delay "$(awk -v r="$3" 'BEGIN { printf "%dus", r * 500 }')" ${4:+-rate "$4"} \
		-stats "$work/$1.stats" 2>>"$work/proxy.log" &
	pids="$pids $!"
	echo "$! $work/$1.stats" >>"$work/proxies"
	wait_file "$work/$1.port"
}

"$bin/cachegate" --log --listen 127.0.0.1:0 --port-file "$work/port" --dir "$work/gateway" 2>"$work/gateway.log" &
pids="$pids $!"
wait_file "$work/port"
remote="http://127.0.0.1:$(cat "$work/port")"
plain_remote=
if has plain; then
	"$bin/cachegate" --log --compression none --listen 127.0.0.1:0 --port-file "$work/plain.port" \
		--dir "$work/gateway-plain" 2>"$work/gateway-plain.log" &
	pids="$pids $!"
	wait_file "$work/plain.port"
	plain_remote="http://127.0.0.1:$(cat "$work/plain.port")"
fi

# gocached has no port 0 and no port file: a port nobody answers on, then
# wait until it does.
touch "$work/gocached.log"
if [ -n "$gocacher" ]; then
	gc_port=$((20000 + $$ % 20000))
	while curl -s -o /dev/null "http://127.0.0.1:$gc_port/"; do gc_port=$((gc_port + 1)); done
	"$gobin/gocached" -listen "127.0.0.1:$gc_port" -cache-dir "$work/gocached" -verbose 2>"$work/gocached.log" &
	gc_pid=$!
	pids="$pids $gc_pid"
	gocached="http://127.0.0.1:$gc_port"
	for _ in $(seq 100); do
		! curl -s -o /dev/null "$gocached/" || break
		kill -0 "$gc_pid" 2>/dev/null || { cat "$work/gocached.log" >&2; exit 1; }
		sleep 0.1
	done
	curl -s -o /dev/null "$gocached/" || { echo "gobuild.sh: gocached does not answer on $gocached" >&2; exit 1; }
fi

# The generated module: package pNNN imports p((NNN-1)/2) (a binary tree)
# and p(NNN-10), each has three functions and two tests. Deterministic.
# (Its variables start with g: sh has no locals.)
gen_module() { # DIR PACKAGES
	mkdir -p "$1"
	printf 'module benchmod\n\ngo 1.24\n' >"$1/go.mod"
	gi=0
	while [ "$gi" -lt "$2" ]; do
		gp=$(printf 'p%03d' "$gi")
		mkdir -p "$1/$gp"
		if [ "$gi" -eq 0 ]; then
			gimports= gsum="n + 1" glabel="Name()"
		else
			gup=$(printf 'p%03d' $(((gi - 1) / 2)))
			gback=$(printf 'p%03d' $((gi >= 10 ? gi - 10 : gi - 1)))
			gimports=$(printf '"benchmod/%s"\n"benchmod/%s"' "$gup" "$gback")
			[ "$gup" != "$gback" ] || gimports="\"benchmod/$gup\""
			gsum="n + $gi + $gup.Sum($gi)%7" glabel="Name() + \"/\" + $gback.Name()"
		fi
		cat >"$1/$gp/$gp.go" <<-EOF
			// Package $gp is generated by bench/gobuild.sh.
			package $gp

			import (
			"strconv"
			"strings"

			$gimports
			)

			// Name is the package's name.
			func Name() string { return "$gp" }

			// Sum is n plus a little from the packages above this one.
			func Sum(n int) int { return $gsum }

			// Label names this package and one it imports, with a sum.
			func Label(n int) string {
			return strings.ToUpper($glabel) + "=" + strconv.Itoa(Sum(n))
			}
		EOF
		cat >"$1/$gp/${gp}_test.go" <<-EOF
			package $gp

			import (
			"strings"
			"testing"
			)

			func TestSum(t *testing.T) {
			if Sum(1) != Sum(0)+1 {
			t.Fatalf("Sum(1) = %d, Sum(0) = %d", Sum(1), Sum(0))
			}
			}

			func TestLabel(t *testing.T) {
			if l := Label(3); !strings.HasPrefix(l, strings.ToUpper(Name())) {
			t.Fatalf("Label(3) = %q", l)
			}
			}
		EOF
		gi=$((gi + 1))
	done
}

# What each project runs, as a command line for hyperfine, and directly.
gocmd() {
	case $1 in
	std) echo "$go build std" ;;
	gen) echo "$go -C $work/gen test ./..." ;;
	esac
}
warm() { # PROJECT GOCACHE GOCACHEPROG
	case $1 in
	std) GOCACHE=$2 GOCACHEPROG=$3 "$go" build std ;;
	gen) GOCACHE=$2 GOCACHEPROG=$3 "$go" -C "$work/gen" test ./... >/dev/null ;;
	esac
}

echo "$("$go" version); helper and gateway from $bin; gateway at $remote"
if [ -n "$gocacher" ]; then
	echo "go-cacher $("$go" version -m "$gobin/go-cacher" | awk '$1 == "mod" { print $3 }'); gocached at $gocached"
fi
echo "RTTs (ms): $(echo $rtts), through delayproxy; setups: native $(echo $setups); projects: $(echo $projects)"
[ -z "$links" ] || echo "links: $(echo $links) at RTT $link_rtt ms, through delayproxy -rate: helper (preload) and go-cacher"
for p in $projects; do
	[ "$p" = std ] || gen_module "$work/gen" "$gen_packages"
	echo "warming up for $p: native GOCACHE, helper local store and gateway, go-cacher and gocached..."
	warm "$p" "$work/native-warm" ""
	[ -z "$helper" ] || warm "$p" "$work/prog-gocache" "$prog --dir $work/store-warm --remote $remote"
	[ -z "$plain_remote" ] || warm "$p" "$work/prog-gocache" "$prog --dir $work/store-warm-plain --remote $plain_remote"
	[ -z "$gocacher" ] || warm "$p" "$work/gocacher-gocache" "$gobin/go-cacher -cache-dir $work/gocacher-warm -cache-server $gocached"
	if [ "$p" = std ] && has floor; then
		# The floor helper's index: every entry of the warm store, with its output's file.
		find "$work/store-warm/ac" -type f -exec cat {} + |
			awk -v cas="$work/store-warm/cas" '{ print $2, $3, $4 + 0, cas "/" substr($3, 1, 2) "/" $3 }' \
				>"$work/floor-index.txt"
	fi
done
for r in $rtts; do
	! has prog && ! has preload || proxy "gw-$r" "${remote##*:}" "$r"
	! has plain || proxy "gwp-$r" "${plain_remote##*:}" "$r"
	! has gocacher || proxy "gc-$r" "$gc_port" "$r"
done
for l in $links; do
	proxy "gw-link-$l" "${remote##*:}" "$link_rtt" "$l"
	proxy "gc-link-$l" "$gc_port" "$link_rtt" "$l"
done

# Under GOCACHEPROG the go command keeps no build outputs in GOCACHE, but it
# still lays out its 256 subdirectories there; the helper runs share the
# GOCACHE made in the warm-up, as on any machine that has run go before.
# Emptied directories are moved aside, not deleted: removing thousands of
# files right before a run makes ext4 (no journal) slow at creating new ones
# for the next seconds, which a fresh machine does not suffer either.
# Every prepare step ends with sync: a run that writes a store (168 MB for
# std) would otherwise leave its dirty pages to be written back during the
# next runs, and after a few GB the kernel throttles every writer, so the
# later rounds of the setups that write would pay for the earlier ones.
# With EMPTY_DIR (a tmpfs, say) the emptied directories are removed instead:
# a tmpfs has no such slowness, and removing frees their memory for the next.
empty=$work/empty
if [ -n "${EMPTY_DIR:-}" ]; then
	EMPTY_DIR=$(cd "$EMPTY_DIR" && pwd)  # absolute: the gen runs use go -C
	empty=$(mktemp -d "$EMPTY_DIR/cachegate-bench.XXXXXX")
fi
mkdir -p "$work/trash" "$empty"
aside() {
	for d in "$@"; do
		if [ -n "${EMPTY_DIR:-}" ] && [ "$d" != "$work/native-cold" ]; then
			printf 'rm -rf %s; ' "$d"
		else
			printf 'mv %s %s/trash/$(date +%%s%%N) 2>/dev/null; ' "$d" "$work"
		fi
	done
	printf 'sync'
}
# Each run's prepare step notes the request lines both servers have logged so
# far and the bytes all relays have relayed down and up (mark.sh 'PROJECT:
# NAME'; a relay writes its counters when sent SIGUSR1), and so does the end
# of each hyperfine call: a run's requests and bytes are the difference to
# the next mark.
cat >"$work/mark.sh" <<EOF
up=0 down=0
while read -r pid stats; do
	rm -f "\$stats"
	kill -USR1 "\$pid"
	i=0
	while [ ! -s "\$stats" ]; do
		i=\$((i + 1))
		[ "\$i" -le 500 ] || { echo "gobuild.sh: relay \$pid wrote no \$stats" >&2; exit 1; }
		sleep 0.01
	done
	up=\$((up + \$(awk '\$1 == "up" { print \$2 }' "\$stats")))
	down=\$((down + \$(awk '\$1 == "down" { print \$2 }' "\$stats")))
done <'$work/proxies'
printf '%s\t%s\t%s\t%s\t%s\n' "\$1" "\$(cat '$work/gateway.log' '$work/gateway-plain.log' 2>/dev/null | grep -cF ' 127.0.0.1 ')" \\
	"\$(grep -cF 'ServeHTTP: ' '$work/gocached.log')" "\$down" "\$up" >>'$work/marks'
EOF
# add PROJECT NAME DIR COMMAND: a setup of PROJECT's rounds; DIR ("" for
# none) is emptied before each run.
add() {
	printf '%s\n%s\n%s\n' "$2" "$(aside $3); sh $work/mark.sh '$1: $2'" "$4" >>"$work/cmds-$1"
}
label_prog="helper${noprel:+ --no-preload}, empty local + gateway"
label_link() { # helper|gocacher RATE: the name of a link row
	case $1 in
	helper) echo "helper + preload, empty local + gateway, RTT $link_rtt ms, $2" ;;
	gocacher) echo "go-cacher, empty local + gocached, RTT $link_rtt ms, $2" ;;
	esac
}
for p in $projects; do
	cmd=$(gocmd "$p")
	add "$p" "native GOCACHE, warm" "" "GOCACHE=$work/native-warm $cmd"
	if [ "$p" = std ]; then
		! has local || add std "helper, warm local store" "" \
			"GOCACHE=$work/prog-gocache GOCACHEPROG='$prog --dir $work/store-warm' $cmd"
		! has gateway || add std "helper, empty local store + warm gateway" "$empty/std-gateway" \
			"GOCACHE=$work/prog-gocache GOCACHEPROG='$prog --dir $empty/std-gateway --remote $remote' $cmd"
		! has floor || add std "protocol floor (floorprog, all in memory)" "" \
			"GOCACHE=$work/prog-gocache GOCACHEPROG='$bin/floorprog $work/floor-index.txt' $cmd"
	fi
	for r in $rtts; do
		! has prog || add "$p" "$label_prog, RTT $r ms" "$empty/$p-prog-$r" \
			"GOCACHE=$work/prog-gocache GOCACHEPROG='$prog $noprel--dir $empty/$p-prog-$r --remote http://127.0.0.1:$(cat "$work/gw-$r.port")' $cmd"
		! has preload || add "$p" "helper + preload, empty local + gateway, RTT $r ms" "$empty/$p-preload-$r" \
			"GOCACHE=$work/prog-gocache GOCACHEPROG='$prog --dir $empty/$p-preload-$r --remote http://127.0.0.1:$(cat "$work/gw-$r.port")' $cmd"
		! has plain || add "$p" "helper + preload, gateway --compression none, RTT $r ms" "$empty/$p-plain-$r" \
			"GOCACHE=$work/prog-gocache GOCACHEPROG='$prog --dir $empty/$p-plain-$r --remote http://127.0.0.1:$(cat "$work/gwp-$r.port")' $cmd"
		! has gocacher || add "$p" "go-cacher, empty local + gocached, RTT $r ms" "$empty/$p-gocacher-$r" \
			"GOCACHE=$work/gocacher-gocache GOCACHEPROG='$gobin/go-cacher -cache-dir $empty/$p-gocacher-$r -cache-server http://127.0.0.1:$(cat "$work/gc-$r.port")' $cmd"
	done
	for l in $links; do
		add "$p" "$(label_link helper "$l")" "$empty/$p-link-prog-$l" \
			"GOCACHE=$work/prog-gocache GOCACHEPROG='$prog --dir $empty/$p-link-prog-$l --remote http://127.0.0.1:$(cat "$work/gw-link-$l.port")' $cmd"
		add "$p" "$(label_link gocacher "$l")" "$empty/$p-link-gocacher-$l" \
			"GOCACHE=$work/gocacher-gocache GOCACHEPROG='$gobin/go-cacher -cache-dir $empty/$p-link-gocacher-$l -cache-server http://127.0.0.1:$(cat "$work/gc-link-$l.port")' $cmd"
	done
done

if has cold && case " $(echo $projects) " in *" std "*) true ;; *) false ;; esac; then
	hyperfine --runs 1 --style basic --export-json "$work/std-cold.json" \
		-n "native GOCACHE, cold" \
		--prepare "$(aside "$work/native-cold")" \
		"GOCACHE=$work/native-cold $go build std"
fi
# The warm setups run in rounds, one run of each per round, so that a machine
# that speeds up or slows down meanwhile (shared VMs do) weighs on all alike.
for round in $(seq "$runs"); do
	echo "round $round of $runs"
	for p in $projects; do
		set --
		while IFS= read -r name && IFS= read -r prep && IFS= read -r cmd; do
			set -- "$@" -n "$name" --prepare "$prep" "$cmd"
		done <"$work/cmds-$p"
		hyperfine --runs 1 --style none --export-json "$work/$p-round-$round.json" "$@"
		sh "$work/mark.sh" end
	done
done

# Each run's requests and bytes relayed down and up, and each setup's
# medians of them over the rounds.
awk -F '\t' '
	function median(c, k,  i, j, t) {
		for (i = 2; i <= n[k]; i++)
			for (j = i; j > 1 && v[c, k, j - 1] > v[c, k, j]; j--) {
				t = v[c, k, j]; v[c, k, j] = v[c, k, j - 1]; v[c, k, j - 1] = t
			}
		return n[k] % 2 ? v[c, k, (n[k] + 1) / 2] : (v[c, k, n[k] / 2] + v[c, k, n[k] / 2 + 1]) / 2
	}
	prev != "" && prev != "end" {
		k = prev; n[k]++
		v[1, k, n[k]] = $2 - gw + $3 - gc; v[2, k, n[k]] = $4 - down; v[3, k, n[k]] = $5 - up
	}
	{ prev = $1; gw = $2; gc = $3; down = $4; up = $5 }
	END { for (k in n) printf "%s\t%d\t%d\t%d\n", k, median(1, k), median(2, k), median(3, k) }' \
	"$work/marks" >"$work/requests.tsv"

for p in $projects; do
	# Each setup's runs from all rounds, and their median.
	jq -s '{ results: ([.[].results] | transpose | map({
			command: .[0].command,
			times: (map(.times[]) | sort)
		} | . + { median: (.times | if length % 2 == 1 then .[length / 2 | floor]
		                            else (.[length / 2 - 1] + .[length / 2]) / 2 end) })) }' \
		"$work/$p"-round-*.json >"$work/$p-warm.json"
	if [ -f "$work/$p-cold.json" ]; then
		jq -s '{ results: (.[0].results + .[1].results) }' "$work/$p-cold.json" "$work/$p-warm.json"
	else
		cat "$work/$p-warm.json"
	fi >"$work/$p-times.json"
	echo
	case $p in
	std) echo "go build std:" ;;
	gen) echo "go test ./..., fully cached, in a generated module of $gen_packages packages:" ;;
	esac
	# name, median, ratio to native warm, runs, requests, bytes down, bytes up
	jq -r '
		(.results[] | select(.command == "native GOCACHE, warm") | .median) as $warm
		| .results[]
		| [.command, .median, .median / $warm, (.times | map(. * 1000 | floor / 1000 | tostring) | join(" "))]
		| @tsv' "$work/$p-times.json" |
		awk -F '\t' -v requests="$work/requests.tsv" -v p="$p" '
			BEGIN { while ((getline line <requests) > 0) { split(line, f, "\t"); req[f[1]] = f[2] "\t" f[3] "\t" f[4] } }
			{ k = p ": " $1; print $0 "\t" ((k in req) ? req[k] : "-\t0\t0") }' >"$work/$p-rows.tsv"
	awk -F '\t' '{
		wire = $6 + $7 ? sprintf("wire %6.1f + %4.1f MB", $6 / 1e6, $7 / 1e6) : ""
		printf "%-60s  median %6.3f s  %5.2fx native warm  requests %5s  %s  (runs: %s)\n",
		       $1, $2, $3, $5, wire, $4 }' "$work/$p-rows.tsv"
	[ -n "$links" ] || continue
	echo
	echo "  on a link, RTT $link_rtt ms: helper + preload vs go-cacher + gocached (medians; wire: MB (10^6 bytes) down + up per build)"
	printf '  %-9s %9s %9s %7s   %-18s %s\n' link helper go-cacher ratio "wire, helper" "wire, go-cacher"
	for l in $links; do
		awk -F '\t' -v h="$(label_link helper "$l")" -v g="$(label_link gocacher "$l")" -v l="$l" '
			$1 == h { ht = $2; hw = sprintf("%.1f + %.1f", $6 / 1e6, $7 / 1e6) }
			$1 == g { gt = $2; gw = sprintf("%.1f + %.1f", $6 / 1e6, $7 / 1e6) }
			END { printf "  %-9s %7.2f s %7.2f s %6.2fx   %-18s %s\n", l, ht, gt, ht / gt, hw, gw }' "$work/$p-rows.tsv"
	done
done
