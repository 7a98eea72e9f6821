#!/bin/sh
# man_options.sh: the options of each program cannot drift apart in its
# three descriptions. --help is made from the program's option table
# (common/optable.h), so it stands for the table: every long option it names
# has an entry (.It Fl \-NAME) in the program's manual page and a row in
# README.md's table, and every entry and row is an option that --help names.
# An option's environment variable is named in its entry and its row, and
# its default starts the row's default cell; a one-word default also
# appears in the entry. Every line of --help fits 80 columns.
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

# help_rows BINARY: one line per option of --help: the flag, its
# environment variable and its default, separated by '|' (empty if none),
# from the note "(VAR[=1]; default: TEXT)" that ends the option's help.
help_rows() {
	"$1" --help | awk -v OFS='|' '
		function flush(  note, env, def) {
			if (flag == "")
				return
			gsub(/  +/, " ", text)
			if (match(text, /\(([A-Z][A-Z0-9_]*(=[01])?(; default: [^()]*)?|default: [^()]*)\)$/)) {
				note = substr(text, RSTART + 1, RLENGTH - 2)
				if (note !~ /^default: /) {
					env = note
					sub(/[=;].*/, "", env)
				}
				if (sub(/^([^;]*; )?default: /, "", note))
					def = note
			}
			print flag, env, def
			flag = ""
		}
		/^  --/ { flush(); flag = $1; text = $0; next }
		/^      / && flag != "" { text = text " " $0; next }
		{ flush() }
		END { flush() }'
}

# man_entry MANPAGE FLAG: the lines of FLAG's entry, up to the next entry.
man_entry() {
	awk -v f="$2" '/^\.It /{on = ($2 == "Fl" && $3 == "\\" substr(f, 2))} on' "$1"
}

# readme_rows SECTION: the table rows of the option table in README.md's
# SECTION (the heading, up to the next "## " heading), header row first.
readme_rows() {
	awk -v s="$1" '/^## /{on = ($0 == s)} on && /^\| (flag|`--)/' "$top/README.md"
}

# check_program BINARY MANPAGE SECTION: compare --help with the manual
# page and with README.md's table under SECTION, both ways.
check_program() {
	bin=$1 man=$2 section=$3 name=$(basename "$1") page=$(basename "$2") before=$failures
	rows=$(help_rows "$bin")
	help_opts=$("$bin" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
	man_opts=$(sed -n 's/^\.It Fl \\-\([a-z][a-z0-9-]*\).*/--\1/p' "$man" | sort -u)
	readme=$(readme_rows "$section")
	readme_opts=$(printf '%s\n' "$readme" | sed '1d' | cut -d'|' -f2 | grep -o -- '--[a-z][a-z0-9-]*' |
		sort -u)
	defcol=$(printf '%s\n' "$readme" | head -n 1 | awk -F'|' '{
		for (i = 2; i < NF; i++) if ($i ~ /^ *default *$/) print i }')
	[ -n "$rows" ] || fail "$name --help names no options"
	[ -n "$readme" ] || fail "README.md has no option table under '$section'"
	[ -n "$defcol" ] || fail "README.md's table under '$section' has no default column"
	"$bin" --help | awk 'length > 79 { exit 1 }' || fail "$name --help has a line over 79 columns"
	for opt in $help_opts; do
		printf '%s\n' "$man_opts" | grep -qx -- "$opt" ||
			fail "$name $opt is in --help but has no entry in $page"
		printf '%s\n' "$readme_opts" | grep -qx -- "$opt" ||
			fail "$name $opt is in --help but not in README.md's table under '$section'"
	done
	for opt in $man_opts; do
		printf '%s\n' "$help_opts" | grep -qx -- "$opt" ||
			fail "$page has an entry for $opt, which $name --help does not name"
	done
	for opt in $readme_opts; do
		printf '%s\n' "$help_opts" | grep -qx -- "$opt" ||
			fail "README.md's table under '$section' has a row for $opt, which $name --help does not name"
	done
	printf '%s\n' "$rows" | while IFS='|' read -r opt env def; do
		entry=$(man_entry "$man" "$opt")
		row=$(printf '%s\n' "$readme" | grep -- "\`$opt[\` ]" || true)
		if [ -n "$env" ]; then
			printf '%s\n' "$entry" | grep -q "Ev $env\\b" ||
				echo "FAIL - $page does not name $env in the entry for $opt"
			printf '%s\n' "$row" | grep -q "\`$env[\`=]" ||
				echo "FAIL - README.md does not name $env in the row for $opt"
		fi
		envs=$(printf '%s\n' "$entry" | sed -n 's/^\.Pq Ev \([A-Z0-9_]*\).*/\1/p')
		[ -z "$envs" ] || [ "$envs" = "$env" ] ||
			echo "FAIL - $page names $envs for $opt, which --help gives ${env:-no variable}"
		[ -n "$def" ] || continue
		cell=$(printf '%s\n' "$row" | awk -F'|' -v c="$defcol" '{ print $c }' | tr -d '`' |
			sed 's/^ *//; s/ *$//')
		case $cell in
		"$def"*) ;;
		*) echo "FAIL - README.md gives $opt the default '$cell', --help '$def'" ;;
		esac
		case $def in
		*" "*) ;;
		*) printf '%s\n' "$entry" | grep -qFw -- "$def" ||
			echo "FAIL - $page does not give $opt its default $def" ;;
		esac
	done > "$work/found"
	while read -r line; do
		fail "${line#FAIL - }"
	done < "$work/found"
	[ "$failures" -ne "$before" ] ||
		echo "ok - $name: $(echo $help_opts | wc -w) options agree in --help, $page and README.md"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
check_program "$CACHEGATE" "$top/man/cachegate.8" "## Running the gateway"
check_program "$CACHEGATE_PROG_BIN" "$top/man/cachegate-prog.1" "## Using it from Go"

[ "$failures" -eq 0 ]
