#!/bin/sh
# cachegate-ci.sh: build and test a Go module in CI through cachegate.
#
#   contrib/ci/cachegate-ci.sh github|gitlab|shell [go test arguments, default ./...]
#
# Run it in the checkout. It
#   1. sets every file's mtime from its content (cachegate-prog
#      --canonicalize-mtimes), so test results cached by another machine
#      hit on this fresh checkout;
#   2. points GOCACHEPROG at cachegate-prog, with a preload scope per job;
#   3. runs `go build ./...`, then `go test` with the arguments given;
#   4. shows the report of what the cache did (also when a step fails).
#
# Environment: CACHEGATE_REMOTE (the gateway's URL; without it the cache is
# local only), CACHEGATE_TOKEN or CACHEGATE_TOKEN_FILE, and any other
# setting of cachegate-prog; CACHEGATE_PROG, the helper (default:
# cachegate-prog on PATH); GO, the go command (default: go on PATH);
# CACHEGATE_SCOPE, the preload scope (default: the CI's project and job
# name, with GOOS, GOARCH and the Go version); CACHEGATE_REPORT, where the
# report goes (default: a temporary file). Modes:
#   github  the report also goes to $GITHUB_STEP_SUMMARY (the helper does it)
#   gitlab  the report is copied to $CI_PROJECT_DIR/cachegate-report.md at the
#           end, for `artifacts: paths`
#   shell   the report is printed, and copied to $CACHEGATE_CI_REPORT if set
# Exit status: that of the first step that failed, else 0.
set -eu

mode=${1:-}
case "$mode" in
github | gitlab | shell) shift ;;
*)
	echo "usage: $0 github|gitlab|shell [go test arguments]" >&2
	exit 2
	;;
esac
[ "$#" -gt 0 ] || set -- ./...
prog=${CACHEGATE_PROG:-$(command -v cachegate-prog || true)}
go=${GO:-go}
if [ -z "$prog" ] || [ ! -x "$prog" ]; then
	echo "cachegate-ci: no cachegate-prog: install it or set CACHEGATE_PROG" >&2
	exit 2
fi

# 1. Modification times from content (the checkout is the current directory).
"$prog" --verbose --canonicalize-mtimes .

# 2. The helper, one preload scope per job.
platform=$("$go" env GOOS GOARCH GOVERSION | tr '\n' ' ')
case "$mode" in
github) job="github ${GITHUB_REPOSITORY:-} ${GITHUB_WORKFLOW:-} ${GITHUB_JOB:-}" ;;
gitlab) job="gitlab ${CI_PROJECT_PATH:-} ${CI_JOB_NAME:-}" ;;
shell) job="shell $(basename "$PWD")" ;;
esac
export CACHEGATE_SCOPE="${CACHEGATE_SCOPE:-$job $platform}"
tmp=
if [ -z "${CACHEGATE_REPORT:-}" ]; then
	# Outside the checkout: a new file in it would change its directory's time.
	tmp=$(mktemp "${TMPDIR:-/tmp}/cachegate-report.XXXXXX")
	export CACHEGATE_REPORT="$tmp"
fi
export CACHEGATE_STATS="${CACHEGATE_STATS:-1}"
export GOCACHEPROG="$prog"

# 4. The report, however the steps went.
show_report() {
	if [ -s "$CACHEGATE_REPORT" ]; then
		cat "$CACHEGATE_REPORT"
		case "$mode" in
		gitlab) cp "$CACHEGATE_REPORT" "${CI_PROJECT_DIR:-.}/cachegate-report.md" ;;
		shell) [ -z "${CACHEGATE_CI_REPORT:-}" ] || cp "$CACHEGATE_REPORT" "$CACHEGATE_CI_REPORT" ;;
		esac
	fi
	[ -z "$tmp" ] || rm -f "$tmp"
}
trap show_report EXIT

# 3. Build and test.
"$go" build ./...
"$go" test "$@"
