#!/usr/bin/env bash
# Run the lifecycle integration tests inside VMs booted on Debian's 6.1 and 6.12 kernels, with
# the cidtrace binary built on this host: one CO-RE object must work on every kernel. Prints
# TAP, each test name prefixed with its kernel. Without the kernels (no apt mirror), the suite
# is reported as skipped, with the reason.
set -uo pipefail
cd "$(dirname "$0")/../.."

vm=tests/vm/vm.sh
if ! fetch_log=$("$vm" fetch 2>&1); then
	reason=$(tail -n 1 <<<"$fetch_log")
	echo "ok 1 # skip VM kernels unavailable: $reason"
	exit 0
fi
mapfile -t kernels < <("$vm" kernels)
for k in "${kernels[@]}"; do
	prefix=${k%%-*} # 6.1.0-41-amd64 -> 6.1.0, 6.12.57+deb12-amd64 -> 6.12.57+deb12
	short=$(cut -d. -f1,2 <<<"$prefix")
	out=$("$vm" run "$short" --timeout 900 -- \
		env BATS_TEST_TIMEOUT=300 bats --tap tests/bats/lifecycle.bats 2>&1)
	status=$?
	sed -n "s/^\(not ok\|ok\) \([0-9]*\) /\1 \2 [$k] /p; s/^# /# [$k] /p" <<<"$out"
	if ! grep -qE '^(not )?ok ' <<<"$out" || { [ "$status" -ne 0 ] && ! grep -q '^not ok ' <<<"$out"; }; then
		echo "not ok 0 [$k] the VM run failed (status $status)"
		tail -n 20 <<<"$out" | sed 's/^/# /'
	fi
done
