#!/usr/bin/env bash
# The whole suite: the bats lint, the layer check, unit tests, the bats integration tests on the host kernel,
# then the same binary on Debian 6.1 and 6.12 kernels under QEMU (tests/vm/run-suite.sh;
# with CI=true, a VM suite that cannot run fails).
# Ends with the one line CI reads: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}
passed=0 failed=0 skipped=0
log=$(mktemp /tmp/cidtrace-tests.XXXXXX)
trap 'rm -f "$log"' EXIT

count_tap() {
	local ok notok skip
	ok=$(grep -cE '^ok ' "$log")
	skip=$(grep -cE '^ok .* # skip' "$log")
	notok=$(grep -cE '^not ok ' "$log")
	passed=$((passed + ok - skip))
	skipped=$((skipped + skip))
	failed=$((failed + notok))
}

# Statements in bats files that could never fail a test (scripts/lint-bats.sh says why).
if scripts/lint-bats.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "not ok: scripts/lint-bats.sh"; fi
# The include rule of docs/architecture.md (make check-layers).
if scripts/check-layers.py; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "not ok: scripts/check-layers.py"; fi

for t in build/unit/test_*; do
	[[ $t == *.d ]] && continue # the compiler's dependency files
	# a unit test that hangs is a failure, not the end of the run
	if timeout --kill-after=5 60 "$t"; then
		passed=$((passed + 1))
	else
		st=$?
		failed=$((failed + 1))
		echo "not ok: $t (status $st$( ((st == 124)) && echo ', timed out after 60 s'))"
	fi
done

timeout 1800 bats --tap tests/bats | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || grep -qE '^not ok ' "$log" || failed=$((failed + 1))
count_tap

# It prints a line per test, or per kernel it could not run (not ok in CI, else a skip), and
# exits non-zero on any failure; an exit status with no "not ok" line to show for it, or no
# line at all, is a failure too.
tests/vm/run-suite.sh | tee "$log"
if [ "${PIPESTATUS[0]}" -ne 0 ] && ! grep -qE '^not ok ' "$log"; then
	failed=$((failed + 1))
elif ! grep -qE '^(not )?ok ' "$log"; then
	echo "not ok: tests/vm/run-suite.sh printed no test line"
	failed=$((failed + 1))
fi
count_tap

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
