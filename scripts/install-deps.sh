#!/usr/bin/env bash
# Install the Debian packages cachegate builds and tests with, if any is missing,
# Bazel for its end-to-end test (from npm, by install-bazel.sh), and SeaweedFS
# for the S3 tests (built with Go, by install-seaweedfs.sh).
# Benchmarks need more (nginx wrk hyperfine jq); pass --bench to add them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t packages < "$here/debian-packages.txt"
if [ "${1:-}" = "--bench" ]; then
	packages+=(nginx wrk hyperfine jq)
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Without Bazel only its end-to-end test is lost (it skips, saying why), so a
# failed install is reported but stops nothing. npm comes with the machine.
"$here/install-bazel.sh" || echo "install-deps.sh: Bazel is not installed; tests/e2e/bazel.sh will skip" >&2
# Likewise without SeaweedFS only the S3 tests are lost. Its first build takes
# minutes (the Go modules are fetched through the module proxy); later runs
# find the binary and return at once.
"$here/install-seaweedfs.sh" || echo "install-deps.sh: SeaweedFS is not installed; the S3 tests will skip" >&2

[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q "${missing[@]}"
