# lib.sh: what the wrk benchmarks share (sourced by bench/gateway.sh and
# bench/s3.sh, under `set -euo pipefail`; they set threads, conns and
# duration for wrk).

# cpu_ticks PID...: user+system clock ticks used so far by these processes (all threads).
cpu_ticks() {
	local total=0 pid
	for pid in "$@"; do
		total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
	done
	echo "$total"
}

# run_wrk URL SCRIPT PID...: one wrk run (with the Lua SCRIPT, unless empty)
# against a server made of processes PID...; prints "<requests/s> <p99>
# <server CPU microseconds per request>". Any answer but 2xx ends the bench.
# A request header goes in wrk_header (e.g. wrk_header='Accept-Encoding: zstd'
# run_wrk ...); wrk sends none by default, Accept-Encoding included.
run_wrk() {
	local url=$1 script=$2 out before after requests
	shift 2
	before=$(cpu_ticks "$@")
	out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency ${script:+-s "$script"} \
		${wrk_header:+-H "$wrk_header"} "$url")
	after=$(cpu_ticks "$@")
	if echo "$out" | grep -q "Non-2xx"; then
		echo "bench: wrk saw errors for $url:" >&2
		echo "$out" >&2
		exit 1
	fi
	# Requests past wrk's 2 s timeout are not counted: say so, they lower requests/s.
	if echo "$out" | grep -q "timeout [1-9]"; then
		echo "bench: $(echo "$out" | grep -o "timeout [0-9]*") requests for $url" >&2
	fi
	requests=$(echo "$out" | awk '/requests in/ { print $1 }')
	echo "$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }') $(echo "$out" | awk '$1 == "99%" { print $2 }')" \
		"$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
}

# median N: of N lines on stdin, the one whose first field is the median.
median() {
	sort -g -k1,1 | awk -v n="$1" 'NR == int((n + 1) / 2) { print }'
}
