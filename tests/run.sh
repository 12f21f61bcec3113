#!/usr/bin/env bash
# The whole suite: the bats lint, unit tests, then the bats integration tests on the host kernel, then (when
# the VM kernels can be had) the same binary on Debian 6.1 and 6.12 kernels under QEMU.
# Ends with the one line CI reads: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

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

if [ -x tests/vm/run-suite.sh ]; then
	tests/vm/run-suite.sh | tee "$log"
	count_tap
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
