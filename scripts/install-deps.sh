#!/usr/bin/env bash
# Install the Debian packages cachegate builds and tests with, if any is missing.
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
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q "${missing[@]}"
