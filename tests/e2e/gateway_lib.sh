# gateway_lib.sh: what the gateway's end-to-end scripts share (sourced under
# `set -eu`). Skips the script (exit 77) without curl; needs $CACHEGATE.
#
# $work             a private temp directory, removed on exit with the server
# check WHAT CMD... run CMD, report WHAT, count a failure in $failures
# start [FLAG...]   run cachegate on 127.0.0.1, port 0, store $work/store,
#                   stderr to $work/server.log; sets $pid, $port, $base
# await_port        wait (30 s at most) for server $pid to write $work/port;
#                   sets $port, $base; exit 1 if it does not
# stop              SIGTERM the server; true when it exited with status 0

if ! command -v curl >/dev/null 2>&1; then
	echo "SKIP: curl is not installed (apt-get install curl)"
	exit 77
fi
: "${CACHEGATE:?CACHEGATE must name the cachegate binary (run through make check)}"

work=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-e2e.XXXXXX")
pid=
failures=0

cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() {
	desc=$1
	shift
	if "$@"; then
		echo "ok - $desc"
	else
		echo "FAIL - $desc"
		failures=$((failures + 1))
	fi
}

start() {
	rm -f "$work/port"
	"$CACHEGATE" --listen 127.0.0.1:0 --port-file "$work/port" --dir "$work/store" --log \
		"$@" 2>>"$work/server.log" &
	pid=$!
	await_port
}

await_port() {
	tries=0
	while [ ! -s "$work/port" ]; do
		tries=$((tries + 1))
		if [ "$tries" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "cachegate did not start:"
			cat "$work/server.log"
			exit 1
		fi
		sleep 0.1
	done
	port=$(cat "$work/port")
	base=http://127.0.0.1:$port
}

stop() {
	kill -TERM "$pid"
	if wait "$pid"; then rc=0; else rc=$?; fi
	pid=
	[ "$rc" -eq 0 ]
}
