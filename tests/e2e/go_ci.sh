#!/bin/sh
# go_ci.sh: contrib/ci/cachegate-ci.sh end to end with the real go command
# and a gateway. A module whose tests read testdata is built and tested by
# machine A, then by machine B from an empty store and GOCACHE in a fresh
# copy at the same path (new mtimes, as a checkout gives): after the
# script's canonicalizing, every test result is "(cached)", where without it
# the tests that read files run again. A changed testdata file runs its
# package alone again. The report's numbers are the stats lines' sums, in
# the report file and in $GITHUB_STEP_SUMMARY; at another checkout path it
# suggests -trimpath.
set -eu
. "${TOP_SRCDIR:-.}/tests/e2e/go_lib.sh"
go_setup
gateway_start
ci_script="${TOP_SRCDIR:-.}/contrib/ci/cachegate-ci.sh"
npkg=6

# The module: p0..p3 read testdata/input.txt, p4 lists and reads its
# testdata directory, p5 reads nothing.
src="$work/src"
mkdir -p "$src"
printf 'module example.com/cgci\n\ngo 1.24\n' >"$src/go.mod"
for i in 0 1 2 3 4 5; do
	mkdir -p "$src/p$i"
	printf 'package p%s\n\nfunc Lines(s string) int {\n\tn := 0\n\tfor _, c := range s {\n\t\tif c == 10 {\n\t\t\tn++\n\t\t}\n\t}\n\treturn n + %s\n}\n' "$i" "$i" >"$src/p$i/p.go"
done
for i in 0 1 2 3; do
	mkdir -p "$src/p$i/testdata"
	printf 'line one of p%s\nline two\n' "$i" >"$src/p$i/testdata/input.txt"
	cat >"$src/p$i/p_test.go" <<EOT
package p$i

import (
	"os"
	"testing"
)

func TestInput(t *testing.T) {
	b, err := os.ReadFile("testdata/input.txt")
	if err != nil {
		t.Fatal(err)
	}
	if Lines(string(b)) < 1 {
		t.Fatal("no lines")
	}
}
EOT
done
mkdir -p "$src/p4/testdata/cases"
printf 'a\n' >"$src/p4/testdata/cases/a.txt"
printf 'b\n' >"$src/p4/testdata/cases/b.txt"
cat >"$src/p4/p_test.go" <<'EOT'
package p4

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCases(t *testing.T) {
	dir := filepath.Join("testdata", "cases")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 2 {
		t.Fatalf("cases: %v, %d", err, len(entries))
	}
	for _, e := range entries {
		if _, err := os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}
EOT
cat >"$src/p5/p_test.go" <<'EOT'
package p5

import "testing"

func TestLines(t *testing.T) {
	if Lines("x\ny\n") != 7 {
		t.Fatal("Lines")
	}
}
EOT

# (go.mod, 6 p.go, 6 p_test.go, 6 testdata files: 19 files.)

# checkout: a fresh copy of the module at $work/checkout, every file and
# directory with a new mtime (cp gives new ones; ten minutes back, so the go
# command's "modified too recently" rule does not stand in for a checkout's).
checkout() {
	rm -rf "$work/checkout"
	cp -R "$src" "$work/checkout"
	find "$work/checkout" -exec touch -d "@$(($(date +%s) - 600))" {} +
}

# ci NAME MODE: the script in MODE on fresh machine NAME (own GOCACHE and
# store) in the checkout; output in $work/NAME.log, report in $work/NAME.md.
ci() {
	name=$1
	mode=$2
	mkdir -p "$work/$name/gocache"
	if (cd "$work/checkout" && GOCACHE="$work/$name/gocache" CACHEGATE_DIR="$work/$name/store" \
		CACHEGATE_REMOTE="$remote" CACHEGATE_PROG="$CACHEGATE_PROG_BIN" GO="$GO" \
		CACHEGATE_REPORT="$work/$name.md" CACHEGATE_SCOPE=go_ci "$ci_script" "$mode") \
		>"$work/$name.log" 2>&1; then
		return 0
	fi
	tail -n 30 "$work/$name.log"
	return 1
}
# ran LOG: test results that ran; cached LOG: those that were "(cached)".
ran() {
	grep -c '^ok .*[0-9]s$' "$1" || true
}
cached() {
	grep -c '^ok .*(cached)$' "$1" || true
}
# stat_sum LOG NAME: the sum of NAME over the stats lines in LOG.
stat_sum() {
	sed -n "s/^cachegate-prog:.*[ ,(]$2 \([0-9][0-9]*\).*/\1/p" "$1" | awk '{ s += $1 } END { print s + 0 }'
}
# total REPORT NAME: NAME in the report's totals.
total() {
	sed -n "s/^<!-- cachegate-prog totals v1:.* $2 \([0-9][0-9]*\).*/\1/p" "$1"
}

checkout
check "machine A builds and tests" ci machine-a shell
check "machine A runs every test ($(ran "$work/machine-a.log") of $npkg)" \
	[ "$(ran "$work/machine-a.log")" -eq "$npkg" ]
check "the script canonicalized the checkout" \
	grep -q "^cachegate-prog: canonicalized \.: files 19, .* errors 0" "$work/machine-a.log"
check "... to times far in the past" \
	[ "$(stat -c %Y "$work/checkout/p0/testdata/input.txt")" -lt 1300000000 ]

# Without canonicalizing, a fresh checkout runs again every test that reads a file.
checkout
mkdir -p "$work/control/gocache"
(cd "$work/checkout" && GOCACHE="$work/control/gocache" \
	GOCACHEPROG="$CACHEGATE_PROG_BIN --dir $work/control/store --remote $remote" \
	"$GO" test ./...) >"$work/control.log" 2>&1 || cat "$work/control.log"
check "without canonicalizing, the tests that read files run again ($(ran "$work/control.log"))" \
	[ "$(ran "$work/control.log")" -eq 5 ] && [ "$(cached "$work/control.log")" -eq 1 ]

checkout
export GITHUB_STEP_SUMMARY="$work/summary.md"
printf '# Earlier step\n' >"$GITHUB_STEP_SUMMARY"
check "machine B builds and tests in a fresh copy" ci machine-b github
unset GITHUB_STEP_SUMMARY
check "every test result on machine B is (cached) ($(cached "$work/machine-b.log") of $npkg)" \
	[ "$(cached "$work/machine-b.log")" -eq "$npkg" ] && [ "$(ran "$work/machine-b.log")" -eq 0 ]
check "machine B misses nothing" [ "$(stat_sum "$work/machine-b.log" misses)" -eq 0 ]
check "the report shows the script's report" grep -q '^| gets | ' "$work/machine-b.log"
for pair in gets:gets "local hits:local_hits" "remote hits:remote_hits" misses:misses \
	puts:puts uploads:uploads "bytes up:bytes_up" "bytes down:bytes_down" \
	"preload hits:preload_hits" "preload bytes:preload_bytes"; do
	line=${pair%%:*}
	key=${pair#*:}
	check "the report's $key is the stats lines' $line ($(total "$work/machine-b.md" "$key"))" \
		[ "$(total "$work/machine-b.md" "$key")" = "$(stat_sum "$work/machine-b.log" "$line")" ]
done
check "the report counts two go commands" [ "$(total "$work/machine-b.md" runs)" -eq 2 ]
check "its table shows the gets" \
	grep -q "^| gets | $(stat_sum "$work/machine-b.log" gets) |" "$work/machine-b.md"
check "and the $npkg cached test results" \
	grep -q "^| test time saved .* in $npkg results |" "$work/machine-b.md"
check "the step summary holds the same report" \
	[ "$(grep totals "$work/summary.md")" = "$(grep totals "$work/machine-b.md")" ]
check "... after the earlier step's text" [ "$(head -n 1 "$work/summary.md")" = "# Earlier step" ]

# One testdata file changes: only its package runs again.
printf 'line one of p2\nline two, changed\n' >"$src/p2/testdata/input.txt"
checkout
export CI_PROJECT_DIR="$work/checkout"
check "machine C builds and tests with one testdata file changed" ci machine-c gitlab
unset CI_PROJECT_DIR
check "the gitlab mode leaves the report in the project for artifacts" \
	cmp -s "$work/machine-c.md" "$work/checkout/cachegate-report.md"
check "only that package's tests run again ($(ran "$work/machine-c.log"))" \
	[ "$(ran "$work/machine-c.log")" -eq 1 ] && grep -q '^ok .*cgci/p2.*[0-9]s$' "$work/machine-c.log"
check "the others are (cached)" [ "$(cached "$work/machine-c.log")" -eq $((npkg - 1)) ]

# Another checkout path: the preload's list was left at $work/checkout, the
# module's packages miss, and the report says why.
rm -rf "$work/elsewhere"
cp -R "$work/checkout" "$work/elsewhere"
mkdir -p "$work/machine-d/gocache"
(cd "$work/elsewhere" && GOCACHE="$work/machine-d/gocache" CACHEGATE_DIR="$work/machine-d/store" \
	CACHEGATE_REMOTE="$remote" CACHEGATE_PROG="$CACHEGATE_PROG_BIN" GO="$GO" \
	CACHEGATE_REPORT="$work/machine-d.md" CACHEGATE_SCOPE=go_ci "$ci_script" shell) \
	>"$work/machine-d.log" 2>&1 || tail -n 30 "$work/machine-d.log"
check "a checkout at another path misses ($(stat_sum "$work/machine-d.log" misses))" \
	[ "$(stat_sum "$work/machine-d.log" misses)" -gt 0 ]
check "... and the report suggests -trimpath" grep -q 'GOFLAGS=-trimpath' "$work/machine-d.md"
check "the same path's report did not" sh -c '! grep -q "GOFLAGS=-trimpath" "$1"' _ "$work/machine-b.md"

# A failing test fails the script, which still shows the report.
printf 'package p5\n\nimport "testing"\n\nfunc TestFails(t *testing.T) { t.Fatal("on purpose") }\n' \
	>"$src/p5/fail_test.go"
checkout
status=0
(cd "$work/checkout" && GOCACHE="$work/machine-c/gocache" CACHEGATE_DIR="$work/machine-c/store" \
	CACHEGATE_REMOTE="$remote" CACHEGATE_PROG="$CACHEGATE_PROG_BIN" GO="$GO" \
	CACHEGATE_CI_REPORT="$work/failing.md" "$ci_script" shell) >"$work/failing.log" 2>&1 || status=$?
check "a failing test fails the script (exit $status)" [ "$status" -ne 0 ]
check "... which still shows the report" grep -q '^| gets | ' "$work/failing.log"
check "... and copies it to CACHEGATE_CI_REPORT" grep -q '^| gets | ' "$work/failing.md"
check "a mode the script does not know is refused" \
	sh -c '! "$1" travis >/dev/null 2>&1' _ "$ci_script"

status=0
"$CACHEGATE_PROG_BIN" --canonicalize-mtimes "$work/none" 2>"$work/none.log" || status=$?
check "canonicalizing a missing directory exits 2 ($status)" [ "$status" -eq 2 ]
check "... saying so in one line" [ "$(wc -l <"$work/none.log")" -eq 1 ]
exit "$fail"
