#!/usr/bin/env bash
# Install what cachegate needs, skipping whatever is already there:
#
#   install-deps.sh          what the tests need (scripts/check.sh): the Debian
#                            packages in debian-packages.txt and
#                            debian-test-packages.txt, Bazel for its end-to-end
#                            test (install-bazel.sh, with npm) and SeaweedFS for
#                            the S3 tests (install-seaweedfs.sh, built with Go)
#   install-deps.sh --build  only what building and running need
#                            (scripts/run.sh): debian-packages.txt
#   install-deps.sh --bench  what building needs and the benchmarks' tools
#                            (nginx wrk hyperfine jq)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-}
mapfile -t packages < "$here/debian-packages.txt"
case $mode in
"") mapfile -t -O ${#packages[@]} packages < "$here/debian-test-packages.txt" ;;
--build) ;;
--bench) packages+=(nginx wrk hyperfine jq) ;;
*) echo "usage: install-deps.sh [--build | --bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q
	$sudo apt-get install -y -q "${missing[@]}"
fi

[ -z "$mode" ] || exit 0
# Without Bazel only its end-to-end test is lost (it skips, saying why), so a
# failed install is reported but stops nothing. npm comes with the machine.
"$here/install-bazel.sh" || echo "install-deps.sh: Bazel is not installed; tests/e2e/bazel.sh will skip" >&2
# Likewise without SeaweedFS only the S3 tests are lost. Its first build takes
# minutes (the Go modules are fetched through the module proxy); later runs
# find the binary and return at once.
"$here/install-seaweedfs.sh" || echo "install-deps.sh: SeaweedFS is not installed; the S3 tests will skip" >&2
