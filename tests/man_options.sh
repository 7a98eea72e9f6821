#!/bin/sh
# man_options.sh: the options of each program cannot drift apart in its
# three descriptions. Every long option that `--help` names has an entry
# (.It Fl \-NAME) in the program's manual page and a row in README.md's
# table; every entry of the manual page is an option that --help names.
set -eu

: "${CACHEGATE:?CACHEGATE must name the cachegate binary (run through make check)}"
: "${CACHEGATE_PROG_BIN:?CACHEGATE_PROG_BIN must name the cachegate-prog binary}"
top=${TOP_SRCDIR:-.}
failures=0

# fail MESSAGE: report one mismatch and count it.
fail() {
	echo "FAIL - $1"
	failures=$((failures + 1))
}

# check_program BINARY MANPAGE: compare the options --help names with the
# entries of the manual page, both ways.
check_program() {
	bin=$1 man=$2 name=$(basename "$1") before=$failures
	help_opts=$("$bin" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
	man_opts=$(sed -n 's/^\.It Fl \\-\([a-z][a-z0-9-]*\).*/--\1/p' "$man" | sort -u)
	[ -n "$help_opts" ] || fail "$name --help names no options"
	for opt in $help_opts; do
		printf '%s\n' "$man_opts" | grep -qx -- "$opt" ||
			fail "$name $opt is in --help but has no entry in $(basename "$man")"
	done
	for opt in $man_opts; do
		printf '%s\n' "$help_opts" | grep -qx -- "$opt" ||
			fail "$(basename "$man") has an entry for $opt, which $name --help does not name"
	done
	[ "$failures" -ne "$before" ] ||
		echo "ok - $name: $(echo $help_opts | wc -w) options in --help and $(basename "$man")"
}

# check_readme BINARY SECTION: every --help option has a table row in the
# README section whose heading is SECTION (up to the next "## " heading).
check_readme() {
	bin=$1 section=$2 name=$(basename "$1") before=$failures
	rows=$(awk -v s="$section" '/^## /{on = ($0 == s)} on && /^\| `--/' "$top/README.md")
	[ -n "$rows" ] || fail "README.md has no option table under '$section'"
	for opt in $("$bin" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		printf '%s\n' "$rows" | grep -q -- "\`$opt[\` ]" ||
			fail "$name $opt is in --help but not in README.md's table under '$section'"
	done
	[ "$failures" -ne "$before" ] ||
		echo "ok - $name: every --help option has a row in README.md"
}

check_program "$CACHEGATE" "$top/man/cachegate.8"
check_program "$CACHEGATE_PROG_BIN" "$top/man/cachegate-prog.1"
check_readme "$CACHEGATE" "## Running the gateway"
check_readme "$CACHEGATE_PROG_BIN" "## Using it from Go"

[ "$failures" -eq 0 ]
