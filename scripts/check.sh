#!/usr/bin/env bash
# Build cachegate with -Werror, AddressSanitizer and UndefinedBehaviorSanitizer,
# run every test (`make check`) in build/check, and print one closing count
# of the tests. With CACHEGATE_NO_SKIP=1 (as in CI) a skipped test fails the
# run, with a line naming it and why it skipped, so a broken install step
# cannot hide behind a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p build/check
cd build/check
../../configure -q --enable-werror --enable-asan
make -j"$(nproc)" >/dev/null
# Results of an earlier run must not be counted as this one's.
rm -f tests/*.trs tests/e2e/*.trs fuzz/*.trs
status=0
# Criterion names a skipped test only when verbose; the count below needs it.
CRITERION_VERBOSITY_LEVEL=1 make -j"$(nproc)" check || status=$?

# Count individual tests: Criterion's own tallies, plus one per script test.
passed=0 failed=0 skipped=0
# skip TEST WHY: count a skipped test, a failure under CACHEGATE_NO_SKIP=1.
skip() {
	if [ "${CACHEGATE_NO_SKIP:-}" = 1 ]; then
		echo "FAIL: $1 skipped, and CACHEGATE_NO_SKIP=1 allows no skip: $2"
		failed=$((failed + 1))
		status=1
	else
		echo "SKIP: $1: $2"
		skipped=$((skipped + 1))
	fi
}
for trs in tests/*.trs tests/e2e/*.trs fuzz/*.trs; do
	[ -e "$trs" ] || continue
	log=${trs%.trs}.log
	result=$(sed -n 's/^:test-result: //p' "$trs")
	synthesis=$(grep -a 'Synthesis: Tested' "$log" | tail -n 1 || true)
	if [ -n "$synthesis" ]; then
		p=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$synthesis")
		f=$(sed -E 's/.*Failing: ([0-9]+).*Crashing: ([0-9]+).*/\1+\2/' <<<"$synthesis")
		passed=$((passed + p)); failed=$((failed + f))
		# A crash outside any test shows only in the harness result.
		[ "$result" = FAIL ] && [ "$f" = "0+0" ] && failed=$((failed + 1))
		# Criterion's skips: "[SKIP] suite::test: why".
		while IFS= read -r why; do
			skip "${trs%.trs}" "$why"
		done < <(grep -a '^\[SKIP\] ' "$log" | sed 's/^\[SKIP\] //')
	else
		case $result in
		PASS) passed=$((passed + 1)) ;;
		SKIP) skip "${trs%.trs}" "$(grep -a -m 1 '^SKIP' "$log" | sed 's/^SKIP:* *//')" ;;
		*) failed=$((failed + 1)) ;;
		esac
	fi
	if [ "$result" = FAIL ] || [ "$result" = ERROR ]; then
		echo "---- $log (last 40 lines) ----"
		tail -n 40 "$log"
	fi
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
