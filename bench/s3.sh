#!/bin/bash
# s3.sh: cachegate with --s3 in front of a real SeaweedFS (`weed mini`, from
# tests/e2e/s3_lib.sh), everything on 127.0.0.1.
#
# 1. Warm local tier: wrk GET of 1 KiB and 64 KiB objects against a disk-only
#    cachegate and against a cachegate with --s3 whose local store already
#    holds them (no request may reach the bucket meanwhile). Requests/s, p99,
#    server CPU time per request, and s3/disk-only requests/s as a ratio.
# 2. Misses: objects put in the bucket beforehand (directly, signed with
#    curl's SigV4), each then read once through a gateway started on an empty
#    --dir (a fresh one each round), by CLIENTS parallel curl processes (one
#    keep-alive connection each); against the same reads with the same
#    clients directly from SeaweedFS's S3 endpoint. MB/s (all bytes over the
#    wall time), p99 of the requests' times, and gateway/direct MB/s as a
#    ratio. The gateway must fetch each object from the bucket exactly once;
#    "s3 get" is the mean time of its requests to the bucket (from /metrics).
# 3. The bucket's bytes for `go build std` (issue 17: at most 30% of the raw
#    bytes): one cold build (empty GOCACHE and helper store) through
#    cachegate-prog and a gateway with --compression zstd and --s3, then the
#    raw bytes of its CAS objects and the bytes it sent to the bucket (the
#    objects as stored, action entries included). STD_BUILD=0 skips it.
#
# Each row alternates its two sides REPEAT times and keeps each side's median
# run (by requests/s or MB/s, with that run's p99).
#
# cachegate is built without sanitizers, with -O2, in build/bench/ (as
# bench/gateway.sh does). SeaweedFS comes from scripts/install-seaweedfs.sh.
# Knobs (environment): REPEAT (3), WRK_THREADS (2), WRK_CONNECTIONS (32),
# DURATION (5s), SERVER_THREADS (CPU count), CLIENTS (4),
# MISS_OBJECTS ("200x256K 20x8M": COUNTxSIZE, one row each), WEED (its path),
# STD_BUILD (1), GO (/usr/local/go/bin/go, else go on the PATH).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
repeat=${REPEAT:-3}
threads=${WRK_THREADS:-2}
conns=${WRK_CONNECTIONS:-32}
duration=${DURATION:-5s}
server_threads=${SERVER_THREADS:-$(nproc)}
clients=${CLIENTS:-4}
miss_objects=${MISS_OBJECTS:-200x256K 20x8M}

for tool in wrk curl perl sha256sum numfmt; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench: $tool is needed (./scripts/install-deps.sh --bench)" >&2
		exit 1
	fi
done

# An optimized cachegate, without sanitizers.
build=$("$top/bench/build.sh")
. "$top/bench/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-s3bench.XXXXXX")
# Gateways: "pid" for each one running, stopped by cleanup.
gw_pids=
stop_gateway() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	gw_pids=$(echo "$gw_pids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ' || true)
}
# s3_lib.sh's exit trap stops weed, removes its data and then calls cleanup.
cleanup() {
	for p in $gw_pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	gw_pids=
	rm -rf "$work"
}
TOP_SRCDIR=$top
. "$top/tests/e2e/s3_lib.sh"
if [ ! -x "$s3_weed" ]; then
	echo "bench: SeaweedFS is not installed at $s3_weed (scripts/install-seaweedfs.sh builds it)" >&2
	exit 1
fi
s3_start
prefix=bench
s3_url() { echo "$S3_ENDPOINT/$S3_BUCKET/$prefix/cas/$1"; }

# start_gateway NAME DIR [FLAG...]: a cachegate on a free port with its store
# in DIR; sets $gw_pid and $gw (its URL).
start_gateway() {
	local name=$1 dir=$2
	shift 2
	rm -f "$work/$name.port"
	"$build/cachegate" --listen 127.0.0.1:0 --port-file "$work/$name.port" --dir "$dir" \
		--threads "$server_threads" "$@" 2>>"$work/$name.log" &
	gw_pid=$!
	gw_pids="$gw_pids $gw_pid"
	for _ in $(seq 300); do
		[ -s "$work/$name.port" ] && break
		if ! kill -0 "$gw_pid" 2>/dev/null; then
			echo "bench: cachegate ($name) did not start:" >&2
			cat "$work/$name.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	gw=http://127.0.0.1:$(cat "$work/$name.port")
}
s3_flags=(--s3 "s3://$S3_BUCKET/$prefix" --s3-endpoint "$S3_ENDPOINT" --s3-region "$S3_REGION")

# s3_requests URL: all requests the gateway at URL made to the bucket so far.
s3_requests() {
	curl -sf "$1/metrics" | awk '$1 ~ /^cachegate_s3_requests_total/ { n += $2 } END { print n + 0 }'
}
# s3_gets URL: "<GETs from the bucket answered> <requests to the bucket>
# <their total seconds>" of the gateway at URL so far.
s3_gets() {
	curl -sf "$1/metrics" | awk '
		$1 == "cachegate_s3_requests_total{op=\"GET\",result=\"answered\"}" { gets = $2 }
		$1 == "cachegate_s3_request_seconds_count" { n = $2 }
		$1 == "cachegate_s3_request_seconds_sum" { sum = $2 }
		END { print gets + 0, n + 0, sum + 0 }'
}

# make_object SIZE FILE: FILE gets SIZE (1K, 8M...) random bytes; prints its id.
make_object() {
	head -c "$(numfmt --from=iec "$1")" /dev/urandom >"$2"
	sha256sum "$2" | cut -c1-64
}

row() {
	printf '%-16s %14s %9s %8s %14s %9s %8s %6s\n' "$@"
}

echo "peer: SeaweedFS $("$s3_weed" version 2>/dev/null | awk '{ print $3; exit }') (weed mini) at $S3_ENDPOINT;" \
	"$repeat run(s) per side, alternated; servers: $server_threads threads each"

# --- 1. Warm local tier --------------------------------------------------
start_gateway disk "$work/store-disk"
disk_pid=$gw_pid disk=$gw
start_gateway s3 "$work/store-s3" "${s3_flags[@]}"
s3gw_pid=$gw_pid s3gw=$gw
declare -A warm_ids
for size in 1K 64K; do
	id=$(make_object "$size" "$work/warm-$size")
	warm_ids[$size]=$id
	curl -sf -T "$work/warm-$size" "$disk/cas/$id" >/dev/null
	curl -sf -T "$work/warm-$size" "$s3gw/cas/$id" >/dev/null
	# Both serve it, and the --s3 one has it locally and in the bucket.
	cmp -s <(curl -sf "$disk/cas/$id") "$work/warm-$size"
	cmp -s <(curl -sf "$s3gw/cas/$id") "$work/warm-$size"
	test -e "$work/store-s3/cas/${id:0:2}/$id"
	test "$(s3_curl -o /dev/null -w '%{http_code}' -I "$(s3_url "$id")")" = 200
done

echo
echo "warm local tier: wrk GET, $threads threads, $conns connections, $duration per run"
row test "s3 r/s" p99 "cpu/req" "disk-only r/s" p99 "cpu/req" ratio
s3_before=$(s3_requests "$s3gw")
for size in 1K 64K; do
	id=${warm_ids[$size]}
	: >"$work/s3.runs"
	: >"$work/disk.runs"
	for _ in $(seq "$repeat"); do
		run_wrk "$s3gw/cas/$id" "" "$s3gw_pid" >>"$work/s3.runs"
		run_wrk "$disk/cas/$id" "" "$disk_pid" >>"$work/disk.runs"
	done
	read -r s_rps s_p99 s_cpu <<<"$(median "$repeat" <"$work/s3.runs")"
	read -r d_rps d_p99 d_cpu <<<"$(median "$repeat" <"$work/disk.runs")"
	row "GET $size" "$s_rps" "$s_p99" "${s_cpu}us" "$d_rps" "$d_p99" "${d_cpu}us" \
		"$(awk -v a="$s_rps" -v b="$d_rps" 'BEGIN { printf "%.2f", a / b }')"
done
s3_during=$(($(s3_requests "$s3gw") - s3_before))
if [ "$s3_during" -ne 0 ]; then
	echo "bench: the --s3 gateway made $s3_during requests to the bucket during warm GETs" >&2
	exit 1
fi
echo "(requests to the bucket during the warm runs: 0)"
stop_gateway "$disk_pid"
stop_gateway "$s3gw_pid"

# --- 2. Misses -------------------------------------------------------------
# Objects straight into the bucket, where a gateway with --s3 looks for them.
declare -A miss_count miss_size
classes=
for spec in $miss_objects; do
	count=${spec%%x*} size=${spec#*x}
	classes="$classes $size"
	miss_count[$size]=$count
	miss_size[$size]=$(numfmt --from=iec "$size")
	: >"$work/ids-$size"
	for i in $(seq "$count"); do
		id=$(make_object "$size" "$work/obj")
		s3_curl -f -o /dev/null -T "$work/obj" "$(s3_url "$id")"
		echo "$id" >>"$work/ids-$size"
	done
done
rm -f "$work/obj"

# client_configs SIZE BASE: curl configs $work/client-N.cfg, one per client,
# that each read every CLIENTS-th object of SIZE from BASE/<id>.
client_configs() {
	local size=$1 base=$2 i
	rm -f "$work"/client-*.cfg
	i=0
	while read -r id; do
		printf 'url = "%s/%s"\noutput = "/dev/null"\n' "$base" "$id" >>"$work/client-$((i % clients)).cfg"
		i=$((i + 1))
	done <"$work/ids-$size"
}

# run_clients SIZE MODE: the objects of SIZE read once each by $clients curl
# processes in parallel (one keep-alive connection each), from the gateway
# at $gw (MODE gateway) or from the bucket (MODE direct, signed). Prints
# "<MB/s> <p99 ms>"; every answer must be 200 with the object's size.
run_clients() {
	local size=$1 mode=$2 t0 t1 pids= c
	if [ "$mode" = gateway ]; then
		client_configs "$size" "$gw/cas"
	else
		client_configs "$size" "$S3_ENDPOINT/$S3_BUCKET/$prefix/cas"
	fi
	rm -f "$work"/client-*.out
	t0=$(date +%s%N)
	for cfg in "$work"/client-*.cfg; do
		c=${cfg%.cfg}
		if [ "$mode" = gateway ]; then
			curl -sS -K "$cfg" -w '%{http_code} %{size_download} %{time_total}\n' >"$c.out" &
		else
			s3_curl -K "$cfg" -w '%{http_code} %{size_download} %{time_total}\n' >"$c.out" &
		fi
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	t1=$(date +%s%N)
	cat "$work"/client-*.out >"$work/requests"
	if [ "$(wc -l <"$work/requests")" -ne "${miss_count[$size]}" ] ||
		awk -v s="${miss_size[$size]}" '$1 != 200 || $2 != s { bad = 1 } END { exit !bad }' "$work/requests"; then
		echo "bench: reads of $size objects ($mode) failed:" >&2
		grep -v "^200 ${miss_size[$size]} " "$work/requests" | head >&2 || true
		exit 1
	fi
	awk -v ns=$((t1 - t0)) '{ bytes += $2; print $3 * 1000 }
		END { printf "%.1f\n", bytes / 1048576 / (ns / 1e9) >"/dev/stderr" }' \
		"$work/requests" 2>"$work/mbs" | sort -g >"$work/times"
	echo "$(cat "$work/mbs") $(awk '{ t[NR] = $1 } END { i = int(NR * 0.99 + 0.999999); if (i < 1) i = 1; printf "%.1fms", t[i] }' "$work/times")"
}

# gateway_misses SIZE: run_clients through a gateway started on an empty
# store, which must fetch each object from the bucket exactly once; prints
# run_clients' figures and the mean time of the gateway's own GETs from the
# bucket.
gateway_misses() {
	local size=$1 result gets0 n0 sum0 gets n sum fetch
	rm -rf "$work/store-miss"
	start_gateway miss "$work/store-miss" "${s3_flags[@]}"
	read -r gets0 n0 sum0 <<<"$(s3_gets "$gw")"
	result=$(run_clients "$size" gateway)
	read -r gets n sum <<<"$(s3_gets "$gw")"
	stop_gateway "$gw_pid"
	gets=$((gets - gets0))
	fetch=$(awk -v s0="$sum0" -v n=$((n - n0)) -v s1="$sum" \
		'BEGIN { printf "%.1fms", n ? (s1 - s0) * 1000 / n : 0 }')
	if [ "$gets" != "${miss_count[$size]}" ]; then
		echo "bench: the gateway made $gets GETs to the bucket for ${miss_count[$size]} objects" >&2
		exit 1
	fi
	echo "$result $fetch"
}

# One unmeasured direct pass, so SeaweedFS serves both sides from a warm page cache.
for size in $classes; do
	run_clients "$size" direct >/dev/null
done

echo
echo "misses: each object read once, $clients parallel curl clients (one connection each);" \
	"gateway on an empty --dir each run vs SeaweedFS direct (curl --aws-sigv4)"
row test "gateway MB/s" p99 "s3 get" "SeaweedFS MB/s" p99 - ratio
for size in $classes; do
	: >"$work/gw.runs"
	: >"$work/direct.runs"
	for r in $(seq "$repeat"); do
		if [ $((r % 2)) -eq 1 ]; then
			gateway_misses "$size" >>"$work/gw.runs"
			run_clients "$size" direct >>"$work/direct.runs"
		else
			run_clients "$size" direct >>"$work/direct.runs"
			gateway_misses "$size" >>"$work/gw.runs"
		fi
	done
	read -r g_mbs g_p99 g_fetch <<<"$(median "$repeat" <"$work/gw.runs")"
	read -r d_mbs d_p99 <<<"$(median "$repeat" <"$work/direct.runs")"
	row "GET ${miss_count[$size]}x$size" "$g_mbs" "$g_p99" "$g_fetch" "$d_mbs" "$d_p99" - \
		"$(awk -v a="$g_mbs" -v b="$d_mbs" 'BEGIN { printf "%.2f", a / b }')"
done

# --- 3. The bucket's bytes for go build std -----------------------------------
go=${GO:-/usr/local/go/bin/go}
[ -x "$go" ] || go=$(command -v go || true)
if [ "${STD_BUILD:-1}" = 1 ] && [ -n "$go" ]; then
	start_gateway std "$work/std-store" --compression zstd --s3 "s3://$S3_BUCKET/std" \
		--s3-endpoint "$S3_ENDPOINT" --s3-region "$S3_REGION"
	GOCACHE="$work/std-gocache" GOFLAGS= \
		GOCACHEPROG="$build/cachegate-prog --remote $gw --dir $work/std-prog" "$go" build std
	raw=$(curl -sf "$gw/status" | tr ',' '\n' | awk -F: '/"cas_stored_raw_bytes"/ { print $2 + 0 }')
	sent=$(curl -sf "$gw/metrics" | awk '$1 == "cachegate_s3_sent_bytes_total" { print $2 }')
	echo
	echo "the bucket after go build std: raw CAS bytes $raw, sent to the bucket $sent" \
		"($(awk -v a="$sent" -v b="$raw" 'BEGIN { printf "%.1f", 100 * a / b }')% of raw)"
	stop_gateway "$gw_pid"
fi
