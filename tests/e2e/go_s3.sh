#!/bin/sh
# go_s3.sh: the real go command on two machines, each through its own
# gateway, the two gateways in front of one SeaweedFS bucket. Machine A
# builds through gateway 1; machine B, empty, through gateway 2 with an empty
# local store, compiles nothing: all of it came through the bucket, most of it
# in the preload's batches.
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
# Before go_setup moves HOME: weed is found in the real home's tools cache.
. "${TOP_SRCDIR:-.}/tests/e2e/s3_lib.sh"
s3_require
go_setup
s3_start

# gateway N: a gateway in front of the bucket on store N; sets $remoteN.
gateway() {
	mkdir -p "$work/gw$1"
	"$CACHEGATE" --listen 127.0.0.1:0 --port-file "$work/gw$1/port" --dir "$work/gw$1/store" \
		--s3 "s3://$S3_BUCKET/go" --s3-endpoint "$S3_ENDPOINT" 2>"$work/gw$1/log" &
	eval "gw$1_pid=$!"
	for _ in $(seq 100); do
		[ -s "$work/gw$1/port" ] && break
		sleep 0.1
	done
	[ -s "$work/gw$1/port" ] || { echo "FAIL: gateway $1 did not start"; cat "$work/gw$1/log"; exit 1; }
	eval "remote$1=http://127.0.0.1:$(cat "$work/gw$1/port")"
}
stop_all() {
	for p in ${gw1_pid:-} ${gw2_pid:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	s3_cleanup
}
trap stop_all EXIT

gateway 1
gateway 2
go_module "$work/mod" 6

# build NAME GATEWAY_URL: go build -x of the module's program on fresh
# machine NAME through that gateway (the same command each time, so the same
# scope), keeping the program as $work/NAME.tool; true when the build
# succeeds (else its log is shown).
build() {
	go_env "$1" --remote "$2" --verbose
	if (cd "$work/mod" && "$GO" build -x -o "$work/bin/tool" ./cmd/tool) 2>"$work/$1.log"; then
		mv "$work/bin/tool" "$work/$1.tool"
	else
		tail -n 20 "$work/$1.log"
		return 1
	fi
}

check "machine A builds through gateway 1" build machine-a "$remote1"
check "machine A compiles" [ "$(compiles "$work/machine-a.log")" -gt 0 ]
check "machine A uploads its results" grep -q 'uploads [1-9]' "$work/machine-a.log"
sent=$(curl -s "$remote1/metrics" | awk '$1 == "cachegate_s3_sent_bytes_total" { print $2 }')
check "gateway 1 put them in the bucket (${sent:-no} bytes)" [ "${sent:-0}" -gt 0 ]

check "machine B builds through gateway 2" build machine-b "$remote2"
grep 'cachegate-prog: gets' "$work/machine-b.log" || :
check "machine B compiles nothing" [ "$(compiles "$work/machine-b.log")" -eq 0 ]
check "machine B is served through gateway 2" grep -q 'bytes down [1-9]' "$work/machine-b.log"
# A's list of what it used came through the bucket, and gateway 2 answered the
# preload's batches by fetching what they named from the bucket.
check "machine B's gets are answered by the preload" grep -q 'preload hits [1-9]' "$work/machine-b.log"
check "gateway 2 fetched from the bucket" [ -n "$(find "$work/gw2/store/cas" -type f | head -n 1)" ]
check "machine B's program is machine A's, byte for byte" cmp -s "$work/machine-a.tool" "$work/machine-b.tool"
check "no helper warnings, only the stats lines" \
	[ "$(grep 'cachegate-prog:' "$work/machine-b.log" | grep -vc 'cachegate-prog: gets ')" -eq 0 ]
exit "$fail"
