#!/usr/bin/env bash
# Run libFuzzer targets, each for SECONDS, on a scratch copy of its seeds
# (fuzz/corpus/<name>/), so no run writes into the repository. Prints one
# line per target with its executions and coverage. Exits 1 when a target
# crashed, leaked, hung or failed a check, keeping the input that did it
# as <name>-crash-... (-leak-, -timeout-) next to the target.
# Usage: fuzz/run.sh SECONDS fuzz/<name>.fuzz...
# (`make fuzz` and, as the tests' log compiler, `make check` call it.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=$1
shift

scratch=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Extra libFuzzer options of a target: its dictionary, and a longer input
# for the stream so bodies cross the framing's buffer.
options() {
	case $1 in
	request) echo "-dict=$here/protocol.dict" ;;
	stream) echo "-dict=$here/protocol.dict -max_len=16384" ;;
	route) echo "-dict=$here/route.dict" ;;
	authheader | authfile) echo "-dict=$here/auth.dict" ;;
	esac
}

status=0
summary=()
for target in "$@"; do
	name=$(basename "$target" .fuzz)
	corpus=$scratch/$name
	log=$scratch/$name.log
	mkdir -p "$corpus"
	cp "$here/corpus/$name/"* "$corpus/"
	rc=0
	# shellcheck disable=SC2046 # the options are separate words
	"$target" -max_total_time="$seconds" -timeout=10 -error_exitcode=1 -timeout_exitcode=1 \
		-print_final_stats=1 -artifact_prefix="$(dirname "$target")/$name-" \
		$(options "$name") "$corpus" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		line="fuzz $name: ${runs:-?} runs in $seconds s, ${cov:-?} edges covered, 0 crashes"
	else
		status=1
		tail -n 60 "$log" >&2
		line="fuzz $name: CRASHED after ${runs:-?} runs (exit $rc), input kept as $(dirname "$target")/$name-*"
	fi
	echo "$line"
	summary+=("$line")
done
if [ $# -gt 1 ]; then
	echo "---- summary ----"
	printf '%s\n' "${summary[@]}"
fi
exit "$status"
