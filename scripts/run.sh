#!/usr/bin/env bash
# Build cachegate, start the gateway on its default local store, and build the
# example Go module through the helper twice: "machine A" fills the gateway,
# "machine B" (empty local store, empty GOCACHE) is then served by it.
# The gateway keeps running afterwards; ./scripts/run.sh --stop stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
listen=${CACHEGATE_LISTEN:-127.0.0.1:8080}
state=${XDG_STATE_HOME:-$HOME/.local/state}/cachegate
pidfile=$state/cachegate.pid
logfile=$state/cachegate.log
mkdir -p "$state"

stop_gateway() {
	if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		kill -TERM "$(cat "$pidfile")"
		for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
		echo "stopped the gateway (pid $(cat "$pidfile"))"
	fi
	rm -f "$pidfile"
}
if [ "${1:-}" = "--stop" ]; then
	stop_gateway
	exit 0
fi

./scripts/install-deps.sh --build
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p build/release
(cd build/release && ../../configure -q CFLAGS="-O2 -g" && make -j"$(nproc)" >/dev/null)
bin=$top/build/release

stop_gateway
# Detached from this terminal's output, so a pipe reading ours still ends.
nohup "$bin/cachegate" --listen "$listen" --log </dev/null >>"$logfile" 2>&1 &
echo $! > "$pidfile"
for _ in $(seq 50); do
	curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
	kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "the gateway did not start; see $logfile" >&2; exit 1; }
	sleep 0.1
done
echo "gateway: http://$listen (pid $(cat "$pidfile"), log $logfile)"
curl -fsS "http://$listen/status"; echo

go=$(command -v go || echo /usr/local/go/bin/go)
if ! "$go" version >/dev/null 2>&1; then
	echo "no go command found (install Go 1.24+ at /usr/local/go): skipping the example build" >&2
	exit 0
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
for machine in A B; do
	echo "== go build on machine $machine (fresh GOCACHE and local store)"
	(cd examples/hello &&
	 GOCACHE=$work/gocache-$machine GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off \
	 GOCACHEPROG="$bin/cachegate-prog --remote http://$listen --dir $work/store-$machine --verbose" \
	 "$go" build -o "$work/hello" . && "$work/hello")
done
echo "the gateway is still running on http://$listen; stop it with: ./scripts/run.sh --stop"
