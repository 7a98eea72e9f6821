#!/bin/sh
# s3_gateways.sh: two gateways in front of one bucket of a real SeaweedFS.
# What one stores the other serves from an empty local store (ccache too);
# misses of one object share one fetch; a /go/batch through the empty one is
# answered from the bucket; a damaged object in the bucket is neither kept
# nor served; 1 GiB passes in flat memory (up in parts); with S3 hung, and
# then with S3 stopped, local objects are still served, misses are 404 and
# writes 503 in bounded time, and all is well again once S3 is back; wrong
# credentials and a missing bucket stop the start with one line.
set -eu

. "${TOP_SRCDIR:-.}/tests/e2e/gateway_lib.sh"
. "${TOP_SRCDIR:-.}/tests/e2e/s3_lib.sh"
s3_require
s3_start
echo "SeaweedFS ready in ${s3_ready_ms} ms at $S3_ENDPOINT"

trap 's3_stop_gateways || true; s3_cleanup' EXIT

# metric URL NAME: the value of the sample NAME in URL's /metrics.
metric() {
	curl -s "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
code() {
	curl -s -o "$work/body" -w '%{http_code}' "$@" || true
}

s3_gateway 1
s3_gateway 2
head -c 300000 /dev/urandom >"$work/big"
big=$(sha256sum "$work/big" | cut -c1-64)
printf 'an action entry' >"$work/entry"

check "/healthz shows the S3 tier" test "$(curl -s "$gw1/healthz")" = "ok (S3: ok)"
check "a PUT through gateway 1 is stored (201)" test "$(code -T "$work/big" "$gw1/cas/$big")" = 201
check "... and is in the bucket" test "$(s3_curl -o /dev/null -w '%{http_code}' -I \
	"$S3_ENDPOINT/$S3_BUCKET/team/cas/$big")" = 200
check "an entry through gateway 1 is stored" test "$(code -T "$work/entry" "$gw1/ac/$big")" = 201
check "gateway 2 answers a HEAD from the bucket's metadata" \
	test "$(curl -sI "$gw2/cas/$big" | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }')" = 300000
check "... without fetching the object" test ! -e "$work/store2/cas/$(echo "$big" | cut -c1-2)/$big"
check "gateway 2 serves the object from its empty store" test "$(code "$gw2/cas/$big")" = 200
check "... byte for byte" cmp -s "$work/body" "$work/big"
check "... and keeps it" test -e "$work/store2/cas/$(echo "$big" | cut -c1-2)/$big"
check "gateway 2 serves the entry" test "$(code "$gw2/ac/$big")" = 200
check "... byte for byte" cmp -s "$work/body" "$work/entry"
check "an object in neither tier is 404" \
	test "$(code "$gw2/cas/$(printf 'nowhere' | sha256sum | cut -c1-64)")" = 404

# Eight clients miss one object at once: one fetch from S3.
head -c 200000 /dev/urandom >"$work/shared"
shared=$(sha256sum "$work/shared" | cut -c1-64)
code -T "$work/shared" "$gw1/cas/$shared" >/dev/null
before=$(metric "$gw2" 'cachegate_s3_requests_total{op="GET",result="answered"}')
clients=
for i in 1 2 3 4 5 6 7 8; do
	curl -s -o "$work/shared.$i" "$gw2/cas/$shared" &
	clients="$clients $!"
done
for c in $clients; do wait "$c" || true; done
same=0
for i in 1 2 3 4 5 6 7 8; do cmp -s "$work/shared.$i" "$work/shared" && same=$((same + 1)); done
after=$(metric "$gw2" 'cachegate_s3_requests_total{op="GET",result="answered"}')
check "eight concurrent misses are all served ($same of 8)" test "$same" -eq 8
check "... by one fetch from S3 ($((after - before)))" test $((after - before)) -eq 1

# POST /go/batch through a gateway whose store lacks the actions: it asks the
# bucket for their entries, then their outputs, and streams the hits.
# goentry ACTION OUTPUT SIZE: a Go entry line (wire/goentry.h) into $work/e.ACTION.
goentry() {
	printf 'v1 %s %s %20d %20d\n' "$1" "$2" "$3" 1 >"$work/e.$1"
}
head -c 30000 /dev/urandom >"$work/out1"
out1=$(sha256sum "$work/out1" | cut -c1-64)
act1=$(printf 'action 1' | sha256sum | cut -c1-64)
act2=$(printf 'action 2' | sha256sum | cut -c1-64)
act3=$(printf 'action 3' | sha256sum | cut -c1-64)
goentry "$act1" "$out1" 30000
goentry "$act2" "$(printf 'never stored' | sha256sum | cut -c1-64)" 12
code -T "$work/out1" "$gw1/cas/$out1" >/dev/null
code -T "$work/e.$act1" "$gw1/ac/$act1" >/dev/null
code -T "$work/e.$act2" "$gw1/ac/$act2" >/dev/null
printf '%s\n%s\n%s\n' "$act3" "$act2" "$act1" >"$work/ids"
cat "$work/e.$act1" "$work/out1" >"$work/want"
check "a batch through gateway 2 is answered (200)" \
	test "$(code --data-binary @"$work/ids" "$gw2/go/batch")" = 200
check "... with the hit the bucket has, entry and output, byte for byte" cmp -s "$work/body" "$work/want"
check "... which gateway 2 keeps" test -e "$work/store2/cas/$(echo "$out1" | cut -c1-2)/$out1"

# batch_answers_local NAME MAX_MS CURL_ARG...: a batch of action 1 (in
# gateway 2's store by now) and of action NAME (nowhere) is answered with
# action 1's record alone, byte for byte, within MAX_MS.
batch_answers_local() {
	printf '%s\n%s\n' "$act1" "$(printf '%s' "$1" | sha256sum | cut -c1-64)" >"$work/ids"
	limit=$2
	shift 2
	start_ms=$(date +%s%N)
	check "a batch is answered with what the local store has" \
		test "$(code "$@" --data-binary @"$work/ids" "$gw2/go/batch")" = 200
	took=$((($(date +%s%N) - start_ms) / 1000000))
	check "... byte for byte" cmp -s "$work/body" "$work/want"
	check "... within $((limit / 1000)) s (${took} ms)" test "$took" -lt "$limit"
}

# An object damaged inside the bucket: neither kept nor served.
printf 'the right bytes' >"$work/right"
right=$(sha256sum "$work/right" | cut -c1-64)
printf 'the wrong bytes' >"$work/wrong"
s3_curl -o /dev/null -H "x-amz-content-sha256: $(sha256sum "$work/wrong" | cut -c1-64)" \
	-T "$work/wrong" "$S3_ENDPOINT/$S3_BUCKET/team/cas/$right"
# It streams as it arrives, but its last byte waits for the check: the client
# gets a broken transfer (or a 404), never the whole wrong object.
status=0
curl -sf -o "$work/body" "$gw2/cas/$right" || status=$?
check "a damaged object in the bucket is never served whole (curl exit $status)" \
	test "$status" -ne 0
check "... not even its wrong bytes whole" sh -c '! cmp -s "$1" "$2"' _ "$work/body" "$work/wrong"
check "... is not kept" test ! -e "$work/store2/cas/$(echo "$right" | cut -c1-2)/$right"
check "... and is counted" \
	test "$(metric "$gw2" 'cachegate_damaged_objects_total{found_by="s3"}')" = 1

# ccache through the two gateways: what gateway 1 took, gateway 2 gives.
if command -v ccache >/dev/null 2>&1 && command -v cc >/dev/null 2>&1; then
	printf '#include <stdio.h>\nint main(void) { puts("via S3"); return 0; }\n' >"$work/hello.c"
	: >"$work/ccache.conf"
	ccache_via() {  # ccache_via N URL: compile with a fresh local cache N through URL
		(cd "$work" && CCACHE_CONFIGPATH="$work/ccache.conf" CCACHE_NOHASHDIR=1 \
			CCACHE_DIR="$work/ccache$1" CCACHE_REMOTE_STORAGE="$2|layout=bazel" \
			ccache cc -c hello.c -o "hello$1.o")
	}
	ccache_via 1 "$gw1"
	ccache_via 2 "$gw2"
	hits=$(CCACHE_CONFIGPATH="$work/ccache.conf" CCACHE_DIR="$work/ccache2" ccache --print-stats |
		awk '$1 == "remote_storage_hit" { print $2 }')
	check "ccache through gateway 2 hits what it stored through gateway 1 ($hits)" \
		test "${hits:-0}" -ge 1
	check "... the same object file" cmp -s "$work/hello1.o" "$work/hello2.o"
else
	echo "ccache or cc is missing: the ccache case is left out"
fi

# A 1 GiB object through the bucket: both gateways stay small.
head -c $((1024 * 1024 * 1024)) /dev/urandom >"$work/huge"
huge=$(sha256sum "$work/huge" | cut -c1-64)
check "1 GiB is stored through gateway 1" test "$(code -T "$work/huge" "$gw1/cas/$huge")" = 201
rm -f "$work/huge"
etag=$(s3_curl -I "$S3_ENDPOINT/$S3_BUCKET/team/cas/$huge" | tr -d '\r' |
	awk 'tolower($1) == "etag:" { print $2 }')
check "... in 32 parts of 32 MiB (ETag $etag)" sh -c 'case $1 in *-32\") ;; *) exit 1 ;; esac' _ "$etag"
got=$(curl -s "$gw2/cas/$huge" | sha256sum | cut -c1-64)
check "... and read whole through gateway 2" test "$got" = "$huge"
for n in 1 2; do
	peak=$(eval "awk '/^VmHWM:/ { print \$2 }' /proc/\$gw${n}_pid/status")
	check "gateway $n's memory stayed flat (peak ${peak} KiB)" test "$peak" -lt 262144
done

# S3 hung (SIGSTOP: connections are taken, nothing is answered): local objects
# are served; a miss is 404 and a write 503, each in bounded time; all is well
# again once S3 goes on.
head -c 1000 /dev/urandom >"$work/stuck"
stuck=$(sha256sum "$work/stuck" | cut -c1-64)
kill -STOP "$s3_pid"
check "with S3 hung, a local object is still served" test "$(code -m 30 "$gw2/cas/$big")" = 200
# A batch gives up on what it lacks well within the helper's own patience
# (a preload batch is dropped after 10 s without 1 KiB/s: curl -Y 1024 -y 10).
batch_answers_local 'action hung' 8000 -m 30 -Y 1024 -y 10
start_ms=$(date +%s%N)
curl -s -m 30 -o "$work/stuck.body" -w '%{http_code}' -T "$work/stuck" "$gw1/cas/$stuck" \
	>"$work/stuck.code" 2>/dev/null &
writer=$!
check "a miss is 404" test "$(code -m 30 "$gw2/cas/$(printf 'hung' | sha256sum | cut -c1-64)")" = 404
took=$((($(date +%s%N) - start_ms) / 1000000))
check "... within 15 s (${took} ms)" test "$took" -lt 15000
wait "$writer" || true
took=$((($(date +%s%N) - start_ms) / 1000000))
check "a write is 503 ($(cat "$work/stuck.body"))" test "$(cat "$work/stuck.code")" = 503
check "... within 15 s (${took} ms)" test "$took" -lt 15000
kill -CONT "$s3_pid"
check "with S3 going on, the write succeeds" \
	sh -c 'case $1 in 20[01]) ;; *) exit 1 ;; esac' _ "$(code -m 30 -T "$work/stuck" "$gw1/cas/$stuck")"
check "... and the other gateway serves it" test "$(code -m 30 "$gw2/cas/$stuck")" = 200

# S3 down: local objects are served, misses are 404 in bounded time, writes 503.
head -c 1000 /dev/urandom >"$work/later"
later=$(sha256sum "$work/later" | cut -c1-64)
s3_stop || true
check "with S3 down, a local object is still served" test "$(code "$gw2/cas/$big")" = 200
start_ms=$(date +%s%N)
check "a miss is 404" test "$(code "$gw2/cas/$later")" = 404
took=$((($(date +%s%N) - start_ms) / 1000000))
check "... within 15 s (${took} ms)" test "$took" -lt 15000
batch_answers_local 'action later' 15000
check "a write is 503" test "$(code -T "$work/later" "$gw1/cas/$later")" = 503
check "... saying why in one line" test "$(wc -l <"$work/body")" -eq 1
cat "$work/body"
check "/healthz is still 200" test "$(code "$gw1/healthz")" = 200
check "... and says S3 is failing: $(cat "$work/body")" grep -q '^ok (S3 failing: .*)$' "$work/body"
s3_start
check "with S3 back, the write succeeds" test "$(code -T "$work/later" "$gw1/cas/$later")" = 201
check "... and the other gateway serves it" test "$(code "$gw2/cas/$later")" = 200
check "/healthz says S3 is well again" test "$(curl -s "$gw1/healthz")" = "ok (S3: ok)"
check "both gateways stop cleanly" s3_stop_gateways

# Starts that cannot work say why in one line.
out=$(AWS_SECRET_ACCESS_KEY=not-the-secret "$CACHEGATE" --listen 127.0.0.1:0 \
	--dir "$work/store3" --s3 "s3://$S3_BUCKET/team" --s3-endpoint "$S3_ENDPOINT" \
	--s3-region "$S3_REGION" 2>&1) && status=0 || status=$?
echo "$out"
check "wrong credentials stop the start (exit $status)" test "$status" -eq 1
check "... with one line about the credentials" sh -c 'test "$(echo "$1" | wc -l)" -eq 1 &&
	echo "$1" | grep -q "refused the credentials"' _ "$out"
out=$("$CACHEGATE" --listen 127.0.0.1:0 --dir "$work/store3" --s3 s3://no-such-bucket \
	--s3-endpoint "$S3_ENDPOINT" 2>&1) && status=0 || status=$?
echo "$out"
check "a missing bucket stops the start (exit $status)" test "$status" -eq 1
check "... with one line naming it" sh -c 'test "$(echo "$1" | wc -l)" -eq 1 &&
	echo "$1" | grep -q "no-such-bucket does not exist"' _ "$out"

[ "$failures" -eq 0 ]
