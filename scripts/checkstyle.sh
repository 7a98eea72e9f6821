#!/usr/bin/env bash
# checkstyle.sh: the house style that a compiler does not check, settled
# once (curl's checksrc in spirit). A test of `make check`; prints each
# offence as FILE:LINE: what, and exits 1 if there is any.
#   - A function's return type stands on the line of its name:
#     `static bool store_id_valid(...)`, never the type on a line of its own.
#   - No line ends in white space.
#   - Lines are at most MAX_WIDTH columns, a tab counting as 8.
#   - Each folder includes only the folders below it (README, "Map of the
#     tree"): common/ nothing else of ours, store/ common/, wire/ store/ and
#     common/, the two programs those three and never each other.
# Files: every tracked .c and .h (all of them when git is not there).
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_WIDTH=120

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
[ ${#files[@]} -gt 0 ] || exit 0

awk -v max="$MAX_WIDTH" '
function offence(what) { printf "%s:%d: %s\n", FILENAME, FNR, what; bad = 1 }
# The folders a file in folder may include, as a pattern.
function allowed(folder) {
	if (folder == "common") return "^common$"
	if (folder == "store") return "^(common|store)$"
	if (folder == "wire") return "^(common|store|wire)$"
	if (folder == "gateway") return "^(common|store|wire|gateway)$"
	if (folder == "proghelper") return "^(common|store|wire|proghelper)$"
	return ""
}
FNR == 1 { prev = ""; split(FILENAME, part, "/"); may = allowed(part[1] == "." ? part[2] : part[1]) }
may != "" && match($0, /^#include "[a-z]+\//) {
	inc = substr($0, RSTART + 10, RLENGTH - 11)
	if (inc !~ may)
		offence(inc "/ is not below this folder; see the map of the tree in README.md")
}
{
	line = $0
	# A type alone on the line above a name that opens a parameter list, at
	# the margin: a definition (or prototype) with its type on its own line.
	if (prev ~ /^(static |inline |extern |const |unsigned |struct |enum )*[A-Za-z_][A-Za-z0-9_]*( ?\*+)?$/ &&
	    prev !~ /^(return|else|do|typedef)$/ && line ~ /^[A-Za-z_][A-Za-z0-9_]*\(/)
		offence("return type on its own line; put it on the line of the name")
	if (line ~ /[ \t]+$/)
		offence("white space at the end of the line")
	expanded = line
	while ((i = index(expanded, "\t")) > 0)
		expanded = substr(expanded, 1, i - 1) sprintf("%*s", 8 - (i - 1) % 8, "") substr(expanded, i + 1)
	if (length(expanded) > max)
		offence("longer than " max " columns")
	prev = line
}
END { exit bad }
' "${files[@]}"
