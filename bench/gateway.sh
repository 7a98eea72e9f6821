#!/bin/bash
# gateway.sh: wrk against cachegate and against nginx serving the same
# object files from the same disk as static files, both on 127.0.0.1, with
# the same wrk threads and connections. One run each: GET of 1 KiB, 64 KiB
# and 8 MiB objects, and PUT of 64 KiB objects to cachegate. Prints
# requests/s, p99 latency and server CPU time per request, and
# cachegate/nginx requests/s as a ratio.
#
# cachegate is built without sanitizers, with -O2, in build/bench/.
# Knobs (environment): WRK_THREADS (2), WRK_CONNECTIONS (32), DURATION (5s),
# SERVER_THREADS (CPU count, for both servers), REPEAT (1: on a busy machine,
# REPEAT=3 alternates the servers three times and keeps each one's median run).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
threads=${WRK_THREADS:-2}
conns=${WRK_CONNECTIONS:-32}
duration=${DURATION:-5s}
server_threads=${SERVER_THREADS:-$(nproc)}
repeat=${REPEAT:-1}

for tool in wrk nginx curl sha256sum; do
	if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
		echo "bench: $tool is needed (apt-get install wrk nginx curl)" >&2
		exit 1
	fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# An optimized cachegate, without sanitizers.
build=$("$top/bench/build.sh")
. "$top/bench/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-bench.XXXXXX")
chmod 755 "$work"
cg_pid=
nginx_pid=
cleanup() {
	[ -n "$cg_pid" ] && kill "$cg_pid" 2>/dev/null && wait "$cg_pid" 2>/dev/null
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# cachegate on a free port.
"$build/cachegate" --listen 127.0.0.1:0 --port-file "$work/cg.port" --dir "$work/store" \
	--threads "$server_threads" 2>"$work/cachegate.log" &
cg_pid=$!
for _ in $(seq 100); do [ -s "$work/cg.port" ] && break; sleep 0.1; done
cg=http://127.0.0.1:$(cat "$work/cg.port")

# The objects, uploaded through cachegate: nginx serves the very same files.
declare -A ids
for size in 1K 64K 8M; do
	head -c "$size" /dev/urandom >"$work/obj-$size" 2>/dev/null ||
		head -c "$(numfmt --from=iec "$size")" /dev/urandom >"$work/obj-$size"
	id=$(sha256sum "$work/obj-$size" | cut -c1-64)
	ids[$size]=$id
	curl -sf -T "$work/obj-$size" "$cg/cas/$id" >/dev/null
done
chmod -R a+rX "$work/store"

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
		root $work/store;
	}
}
CONF
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/stderr" &
nginx_pid=$!
for _ in $(seq 100); do
	curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/cas/${ids[1K]:0:2}/${ids[1K]}" && break
	sleep 0.1
done
ng=http://127.0.0.1:$nginx_port

# Both serve the same bytes.
for size in 1K 64K 8M; do
	id=${ids[$size]}
	cmp -s <(curl -sf "$cg/cas/$id") "$work/obj-$size"
	cmp -s <(curl -sf "$ng/cas/${id:0:2}/$id") "$work/obj-$size"
done

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

echo "wrk: $threads threads, $conns connections, $duration per run, $repeat run(s) each;" \
	"servers: $server_threads threads/workers each"
nginx_workers=$(ps --ppid "$nginx_pid" -o pid= | tr '\n' ' ')
printf '%-10s %13s %9s %7s %13s %9s %7s %6s\n' test "cachegate r/s" p99 "cpu/req" "nginx r/s" p99 "cpu/req" ratio
for size in 1K 64K 8M; do
	id=${ids[$size]}
	: >"$work/cg.runs"
	: >"$work/ng.runs"
	for _ in $(seq "$repeat"); do
		run_wrk "$cg/cas/$id" "" "$cg_pid" >>"$work/cg.runs"
		# shellcheck disable=SC2086
		run_wrk "$ng/cas/${id:0:2}/$id" "" $nginx_workers >>"$work/ng.runs"
	done
	read -r cg_rps cg_p99 cg_cpu <<<"$(median "$repeat" <"$work/cg.runs")"
	read -r ng_rps ng_p99 ng_cpu <<<"$(median "$repeat" <"$work/ng.runs")"
	ratio=$(awk -v a="$cg_rps" -v b="$ng_rps" 'BEGIN { printf "%.2f", a / b }')
	printf '%-10s %13s %9s %7s %13s %9s %7s %6s\n' "GET $size" "$cg_rps" "$cg_p99" "${cg_cpu}us" \
		"$ng_rps" "$ng_p99" "${ng_cpu}us" "$ratio"
done
: >"$work/put.runs"
for _ in $(seq "$repeat"); do
	run_wrk "$cg" "$work/put.lua" "$cg_pid" >>"$work/put.runs"
done
read -r put_rps put_p99 put_cpu <<<"$(median "$repeat" <"$work/put.runs")"
printf '%-10s %13s %9s %7s %13s %9s %7s %6s\n' "PUT 64K" "$put_rps" "$put_p99" "${put_cpu}us" - - - -
