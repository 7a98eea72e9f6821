#!/usr/bin/env bash
# Install the Bazel that tests/e2e/bazel.sh drives (2.1.0, from the npm
# registry's @bazel/bazel-linux_x64 package, which ships the whole binary with
# its own JDK) into a cache folder outside the repository, once per machine.
#
#   install-bazel.sh          install it unless it is already there
#   install-bazel.sh --path   print where the binary is (or will be); the test
#                             asks this, so the location is written only here
set -euo pipefail

version=2.1.0
package=@bazel/bazel-linux_x64@$version
dir=${XDG_CACHE_HOME:-$HOME/.cache}/cachegate-tools/bazel-$version
bin=$dir/node_modules/@bazel/bazel-linux_x64/bazel-$version-linux-x86_64

if [ "${1:-}" = "--path" ]; then
	echo "$bin"
	exit 0
fi

# Already installed: nothing to do. Only a finished install is ever at $dir.
[ -x "$bin" ] && exit 0

if ! command -v npm >/dev/null 2>&1; then
	echo "install-bazel.sh: npm is not installed, so Bazel $version is not (its test will skip)" >&2
	exit 1
fi

# Install into a fresh folder beside $dir and move it into place whole, so an
# interrupted install never looks finished, and of two installs running at
# once the first to finish wins and the other just drops its copy.
echo "installing Bazel $version with npm into $dir" >&2
mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$dir.tmp.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund \
	--loglevel=error "$package" >&2
[ -x "$tmp/${bin#"$dir"/}" ] || { echo "install-bazel.sh: npm installed no $bin" >&2; exit 1; }
if ! mv -T "$tmp" "$dir" 2>/dev/null && [ ! -x "$bin" ]; then
	echo "install-bazel.sh: cannot move the install into $dir (remove that folder and retry)" >&2
	exit 1
fi
