#!/bin/bash
# gateway.sh: wrk against cachegate and against nginx serving the same
# object files from the same disk as static files, both on 127.0.0.1, with
# the same wrk threads and connections. GET of 1 KiB, 64 KiB and 8 MiB
# objects, and PUT of 64 KiB objects to cachegate.
#
# The objects are real Go build outputs, so they compress as a build's do:
# the files `go list -export std` names in the go build cache (it builds std
# first if needed), one after another, cut to each size. Two gateways with
# their default options (--compression zstd) hold them: one got them as raw
# uploads (ccache's, Bazel's, curl's), which it keeps as raw files, the
# other as zstd uploads (the helper's), which it keeps as
# cas/<xx>/<id>.zst (the script checks both). Each size has three rows:
#   raw   raw   the raw upload, a raw client (no Accept-Encoding, as wrk
#               sends by default): what ccache and Bazel get; vs nginx
#               sending the raw file;
#   zstd  raw   the zstd upload, a raw client: the gateway decodes every
#               answer (what curl gets of the helper's outputs); vs the
#               same nginx runs as the row above;
#   zstd  zstd  the zstd upload with Accept-Encoding: zstd (the helper): the
#               stored frames go out as they are; vs nginx sending the very
#               same .zst file with Content-Encoding: zstd. nginx has no zstd
#               module (Debian's has gzip_static, for .gz only), so it serves
#               the .zst under its own name, with the header added: a static
#               file by sendfile, the least work a server can do for these
#               bytes (gzip_static would also read Accept-Encoding and try one
#               more open() per request).
# Every object is read once through each gateway before any measure: that
# first GET hashes it and marks its file known good, so the measured GETs
# send raw and stored files by sendfile (the decoded answers of the zstd raw
# row are decoded every time; nothing is hashed again).
#
# Rounds interleave: each round runs every row's runs once, size after size,
# and each cell keeps its median run (by requests/s, with that run's p99 and
# CPU time). Printed: requests/s, p99, the server's CPU time per request, the
# bytes of one answer on the wire (headers and body, measured with curl),
# and cachegate/nginx requests/s as a ratio.
#
# cachegate is built without sanitizers, with -O2, in build/bench/.
# Knobs (environment): WRK_THREADS (2), WRK_CONNECTIONS (32), DURATION (5s),
# SERVER_THREADS (CPU count, for both servers), REPEAT (1: a short run; on a
# busy machine REPEAT=3 or more gives medians), SIZES ("1K 64K 8M"),
# GO (the go command: go on PATH, else /usr/local/go/bin/go).
# A short run: DURATION=2s bench/gateway.sh (about a minute).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
threads=${WRK_THREADS:-2}
conns=${WRK_CONNECTIONS:-32}
duration=${DURATION:-5s}
server_threads=${SERVER_THREADS:-$(nproc)}
repeat=${REPEAT:-1}
sizes=${SIZES:-1K 64K 8M}
go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

for tool in wrk nginx curl sha256sum zstd numfmt "$go"; do
	if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
		echo "bench: $tool is needed (./scripts/install-deps.sh --bench; go for the objects)" >&2
		exit 1
	fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# An optimized cachegate, without sanitizers.
build=$("$top/bench/build.sh")
. "$top/bench/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-bench.XXXXXX")
chmod 755 "$work"
rawup_pid=
zstd_pid=
nginx_pid=
cleanup() {
	local pid
	for pid in "$rawup_pid" "$zstd_pid" "$nginx_pid"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_gateway NAME: cachegate with its defaults on a free port, its store in $work/NAME.
start_gateway() {
	"$build/cachegate" --listen 127.0.0.1:0 --port-file "$work/$1.port" --dir "$work/$1" \
		--threads "$server_threads" 2>"$work/$1.log" &
	for _ in $(seq 100); do [ -s "$work/$1.port" ] && break; sleep 0.1; done
}
start_gateway rawup
rawup_pid=$!
start_gateway zstd
zstd_pid=$!
rawup=http://127.0.0.1:$(cat "$work/rawup.port")
zstd=http://127.0.0.1:$(cat "$work/zstd.port")

# The objects: real build outputs, cut to size, uploaded raw to one gateway
# and in zstd (level 3, as the helper sends) to the other.
"$go" list -export -f '{{.Export}}' std >"$work/exports"
declare -A ids
for size in $sizes; do
	(xargs cat <"$work/exports" 2>/dev/null || true) | head -c "$(numfmt --from=iec "$size")" >"$work/obj-$size"
	id=$(sha256sum "$work/obj-$size" | cut -c1-64)
	ids[$size]=$id
	curl -sf -T "$work/obj-$size" "$rawup/cas/$id" >/dev/null
	zstd -3 -q -c "$work/obj-$size" >"$work/up-$size.zst"
	curl -sf -H 'Content-Encoding: zstd' -T "$work/up-$size.zst" "$zstd/cas/$id" >/dev/null
	if [ ! -f "$work/rawup/cas/${id:0:2}/$id" ]; then
		echo "bench: the gateway did not keep the raw upload of $size raw" >&2
		exit 1
	fi
	if [ ! -f "$work/zstd/cas/${id:0:2}/$id.zst" ]; then
		echo "bench: the gateway kept the zstd upload of $size raw: it does not compress enough" >&2
		exit 1
	fi
done
chmod -R a+rX "$work/rawup" "$work/zstd"

# nginx: foreground, generated config, a free loopback port, sendfile on.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 40000))
}
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes $server_threads;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	default_type application/octet-stream;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	server {
		listen 127.0.0.1:$nginx_port;
		root $work;
		location ~ \.zst\$ { add_header Content-Encoding zstd; }
	}
}
CONF
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/stderr" &
nginx_pid=$!
first=${sizes%% *}
for _ in $(seq 100); do
	curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/rawup/cas/${ids[$first]:0:2}/${ids[$first]}" && break
	sleep 0.1
done
ng=http://127.0.0.1:$nginx_port

# The URLs of each size's object: raw, and the .zst file, at nginx.
declare -A ng_raw ng_zst
for size in $sizes; do
	id=${ids[$size]}
	ng_raw[$size]=$ng/rawup/cas/${id:0:2}/$id
	ng_zst[$size]=$ng/zstd/cas/${id:0:2}/$id.zst
done

# same FILE COMMAND...: the command prints FILE's bytes, or the bench ends.
same() {
	local file=$1
	shift
	if ! cmp -s <("$@") "$file"; then
		echo "bench: \`$*\` does not give the bytes of $file" >&2
		exit 1
	fi
}

# Everyone serves the right bytes. The gateways' first GETs (raw, hashed)
# mark the files known good, so what follows is sent without hashing.
for size in $sizes; do
	id=${ids[$size]}
	obj=$work/obj-$size
	zst=$work/zstd/cas/${id:0:2}/$id.zst
	same "$obj" curl -sf "$rawup/cas/$id"
	same "$obj" curl -sf "$zstd/cas/$id"
	same "$zst" curl -sf -H 'Accept-Encoding: zstd' "$zstd/cas/$id"
	same "$obj" curl -sf "${ng_raw[$size]}"
	same "$zst" curl -sf "${ng_zst[$size]}"
	same "$obj" zstd -dcq "$zst"
done

# wire_bytes URL [HEADER]: the bytes of one answer's headers and body as received.
wire_bytes() {
	curl -sf -o /dev/null ${2:+-H "$2"} -w '%{size_header} %{size_download}' "$1" |
		awk '{ print $1 + $2 }'
}

# PUT of 64 KiB action entries, over 256 ids (one per shard folder) so the store stays small.
cat >"$work/put.lua" <<'LUA'
local n = 0
local body = string.rep("x", 65536)
request = function()
	n = n + 1
	local path = "/ac/" .. string.format("%02x", n % 256) .. string.rep("0", 62)
	return wrk.format("PUT", path, { ["Content-Type"] = "application/octet-stream" }, body)
end
LUA

echo "wrk: $threads threads, $conns connections, $duration per run, $repeat round(s);" \
	"servers: $server_threads threads/workers each; load: $(uptime | sed 's/.*load/load/')"
for size in $sizes; do
	id=${ids[$size]}
	echo "$size object: $(stat -c %s "$work/obj-$size") bytes raw," \
		"$(stat -c %s "$work/zstd/cas/${id:0:2}/$id.zst") stored as .zst"
done
nginx_workers=$(ps --ppid "$nginx_pid" -o pid= | tr '\n' ' ')
zst='Accept-Encoding: zstd'
# Each round: per size, the runs of every row (cells named <size>.<who>).
for _ in $(seq "$repeat"); do
	for size in $sizes; do
		id=${ids[$size]}
		run_wrk "$rawup/cas/$id" "" "$rawup_pid" >>"$work/$size.rawup"
		# shellcheck disable=SC2086
		run_wrk "${ng_raw[$size]}" "" $nginx_workers >>"$work/$size.ngraw"
		run_wrk "$zstd/cas/$id" "" "$zstd_pid" >>"$work/$size.zraw"
		wrk_header=$zst run_wrk "$zstd/cas/$id" "" "$zstd_pid" >>"$work/$size.zzst"
		# shellcheck disable=SC2086
		wrk_header=$zst run_wrk "${ng_zst[$size]}" "" $nginx_workers >>"$work/$size.ngzst"
	done
	run_wrk "$rawup" "$work/put.lua" "$rawup_pid" >>"$work/put.runs"
done

format='%-4s %-4s %-6s %10s %8s %8s %9s %10s %8s %8s %9s %6s\n'
# shellcheck disable=SC2059
printf "$format" GET store client "cg r/s" p99 cpu/req B/answer "nginx r/s" p99 cpu/req B/answer ratio
# row SIZE STORE CLIENT CG_CELL NGINX_CELL CG_URL NGINX_URL [HEADER]: one line of the table.
row() {
	local cg_rps cg_p99 cg_cpu ng_rps ng_p99 ng_cpu ratio
	read -r cg_rps cg_p99 cg_cpu <<<"$(median "$repeat" <"$work/$1.$4")"
	read -r ng_rps ng_p99 ng_cpu <<<"$(median "$repeat" <"$work/$1.$5")"
	ratio=$(awk -v a="$cg_rps" -v b="$ng_rps" 'BEGIN { printf "%.2f", a / b }')
	# shellcheck disable=SC2059
	printf "$format" "$1" "$2" "$3" "$cg_rps" "$cg_p99" "${cg_cpu}us" "$(wire_bytes "$6" "${8:-}")" \
		"$ng_rps" "$ng_p99" "${ng_cpu}us" "$(wire_bytes "$7" "${8:-}")" "$ratio"
}
for size in $sizes; do
	id=${ids[$size]}
	row "$size" raw raw rawup ngraw "$rawup/cas/$id" "${ng_raw[$size]}"
	row "$size" zstd raw zraw ngraw "$zstd/cas/$id" "${ng_raw[$size]}"
	row "$size" zstd zstd zzst ngzst "$zstd/cas/$id" "${ng_zst[$size]}" "$zst"
done
read -r put_rps put_p99 put_cpu <<<"$(median "$repeat" <"$work/put.runs")"
printf 'PUT 64K /ac: %s r/s, p99 %s, %sus cpu/req\n' "$put_rps" "$put_p99" "$put_cpu"
