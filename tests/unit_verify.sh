#!/bin/sh
# unit_verify.sh: contrib/cachegate.service.in, with @bindir@ pointing at the
# freshly built cachegate, is a unit systemd accepts: `systemd-analyze
# verify` knows every setting and finds the program. Skipped (77) where
# systemd-analyze is not installed.
set -eu

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi
: "${CACHEGATE:?CACHEGATE must name the cachegate binary (run through make check)}"
top=${TOP_SRCDIR:-.}

work=$(mktemp -d "${TMPDIR:-/tmp}/cachegate-unit.XXXXXX")
trap 'rm -rf "$work"' EXIT
sed -e "s|@bindir@|$(dirname "$CACHEGATE")|g" "$top/contrib/cachegate.service.in" \
	>"$work/cachegate.service"

if grep -n '@[a-z]*@' "$work/cachegate.service"; then
	echo "FAIL - the unit keeps a placeholder the build does not replace"
	exit 1
fi
# --man=no: the manual page it names is not installed yet.
if ! systemd-analyze verify --man=no "$work/cachegate.service"; then
	echo "FAIL - systemd-analyze verify rejects the unit"
	exit 1
fi
echo "ok - systemd-analyze verify accepts cachegate.service"
