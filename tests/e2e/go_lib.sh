# go_lib.sh: shared setup of the helper's end-to-end tests with the real go
# command (sourced by tests/e2e/go_*.sh, which run under `set -eu`).
#
# go_setup          find go >= 1.24 (else exit 77), make $work, set the trap
# go_module DIR N   write a module of N packages with tests into DIR
# gateway_start [FLAGS]  start cachegate on 127.0.0.1, port 0, with more FLAGS;
#                   sets $remote (https:// with --tls-cert), $gateway_pid
# go_env NAME ARGS  point GOCACHE and GOCACHEPROG at machine NAME's own dirs
# check WHAT CMD... run CMD, report WHAT, fail the test if CMD fails
# prog_stat FILE NAME    the number after NAME in the last stats line in FILE

fail=0
gateway_pid=
work=

cleanup() {
	if [ -n "$gateway_pid" ]; then
		kill "$gateway_pid" 2>/dev/null || true
		wait "$gateway_pid" 2>/dev/null || true
	fi
	if [ -n "$work" ]; then
		chmod -R u+w "$work" 2>/dev/null || true
		rm -rf "$work"
	fi
}

check() {
	what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		fail=1
	fi
}

go_setup() {
	GO=
	for candidate in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go; do
		[ -n "$candidate" ] && [ -x "$candidate" ] || continue
		v=$(GOTOOLCHAIN=local "$candidate" env GOVERSION 2>/dev/null || true)
		minor=$(printf '%s\n' "$v" | sed -n 's/^go1\.\([0-9][0-9]*\).*/\1/p')
		if [ -n "$minor" ] && [ "$minor" -ge 24 ]; then
			GO=$candidate
			break
		fi
	done
	if [ -z "$GO" ]; then
		echo "SKIP: no go command 1.24 or newer (GOCACHEPROG with OutputID) on PATH or in /usr/local/go"
		exit 77
	fi
	: "${CACHEGATE_PROG_BIN:?CACHEGATE_PROG_BIN must name the built cachegate-prog}"
	work=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-go.XXXXXX")
	trap cleanup EXIT
	trap 'exit 1' INT TERM HUP
	# Off the network, with this toolchain only, and no settings from the user.
	export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GONOSUMDB= GOWORK=off
	export GOENV=off GOPATH="$work/gopath" GOMODCACHE="$work/gopath/pkg/mod"
	export HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache"
	mkdir -p "$HOME"
	unset CACHEGATE_REMOTE CACHEGATE_DIR CACHEGATE_TOKEN CACHEGATE_TOKEN_FILE CACHEGATE_READ_ONLY
	unset CACHEGATE_MAX_SIZE CACHEGATE_CLOSE_TIMEOUT CACHEGATE_STATS
	unset CACHEGATE_SCOPE CACHEGATE_PRELOAD CACHEGATE_PRELOAD_MAX
	unset CACHEGATE_CACERT CACHEGATE_CERT CACHEGATE_KEY
	echo "using $("$GO" version) and $CACHEGATE_PROG_BIN"
}

go_module() {
	dir=$1
	n=$2
	mkdir -p "$dir"
	printf 'module example.com/cgtest\n\ngo 1.24\n' >"$dir/go.mod"
	i=0
	while [ "$i" -lt "$n" ]; do
		mkdir -p "$dir/p$i"
		{
			echo "package p$i"
			echo
			if [ "$i" -gt 0 ]; then
				echo "import \"example.com/cgtest/p$((i - 1))\""
				echo
				echo "func Value() int { return p$((i - 1)).Value() + $i }"
			else
				echo "func Value() int { return 0 }"
			fi
		} >"$dir/p$i/p.go"
		{
			echo "package p$i"
			echo
			echo 'import "testing"'
			echo
			echo "func TestValue(t *testing.T) {"
			echo "	if got, want := Value(), $((i * (i + 1) / 2)); got != want {"
			echo '		t.Fatalf("Value() = %d, want %d", got, want)'
			echo "	}"
			echo "}"
		} >"$dir/p$i/p_test.go"
		i=$((i + 1))
	done
	mkdir -p "$dir/cmd/tool"
	cat >"$dir/cmd/tool/main.go" <<EOT
package main

import (
	"fmt"

	"example.com/cgtest/p$((n - 1))"
)

func main() { fmt.Println(p$((n - 1)).Value()) }
EOT
}

gateway_start() {
	: "${CACHEGATE:?CACHEGATE must name the built cachegate}"
	mkdir -p "$work/gateway"
	"$CACHEGATE" --listen 127.0.0.1:0 --port-file "$work/gateway/port" \
		--dir "$work/gateway/store" "$@" 2>"$work/gateway/log" &
	gateway_pid=$!
	for _ in $(seq 100); do
		[ -s "$work/gateway/port" ] && break
		if ! kill -0 "$gateway_pid" 2>/dev/null; then
			echo "FAIL: the gateway did not start:"
			cat "$work/gateway/log"
			exit 1
		fi
		sleep 0.1
	done
	[ -s "$work/gateway/port" ] || { echo "FAIL: the gateway wrote no port file"; exit 1; }
	scheme=http
	case " $* " in *" --tls-cert "*) scheme=https ;; esac
	remote="$scheme://127.0.0.1:$(cat "$work/gateway/port")"
	echo "gateway at $remote"
}

# go_env NAME [helper flags...]: a fresh machine NAME (own GOCACHE and store).
go_env() {
	name=$1
	shift
	mkdir -p "$work/$name/gocache"
	export GOCACHE="$work/$name/gocache"
	export GOCACHEPROG="$CACHEGATE_PROG_BIN --dir $work/$name/store $*"
}

# A stats line: "cachegate-prog: gets N, local hits N, remote hits N, misses N, ..."
prog_stat() {
	sed -n "s/^cachegate-prog:.*[ ,(]$2 \([0-9][0-9]*\).*/\1/p" "$1" | tail -1
}

# compiles FILE: the number of compiler runs in a `go build -x` log.
compiles() {
	grep -c '/compile ' "$1" || true
}
