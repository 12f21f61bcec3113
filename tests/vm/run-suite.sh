#!/usr/bin/env bash
# Run the integration tests inside VMs booted on Debian's 6.1 and 6.12 kernels, with the
# cidtrace binary built on this host: one CO-RE object must work on every kernel. Per kernel,
# one boot with vhost_vsock loaded (lifecycle and CID tests) and one without it (the module
# loads while cidtrace runs). Prints TAP, each test name prefixed with its kernel. Without
# the kernels (no apt mirror), the suite is reported as skipped, with the reason.
set -uo pipefail
cd "$(dirname "$0")/../.."

vm=tests/vm/vm.sh

# run_boot KERNEL [vm.sh run options] -- BATS FILES...
run_boot() {
	local k=$1 short out status
	shift
	short=$(cut -d. -f1,2 <<<"${k%%-*}") # 6.1.0-41-amd64 -> 6.1, 6.12.57+deb12-amd64 -> 6.12
	out=$("$vm" run "$short" "$@" 2>&1)
	status=$?
	# 125: the VM itself failed (under TCG a guest kernel occasionally oopses while booting,
	# before any test ran). That says nothing about cidtrace: boot once more.
	if [ "$status" -eq 125 ] && ! grep -qE '^(not )?ok ' <<<"$out"; then
		echo "# [$k] VM boot failed, retrying once: $(grep -m1 -E 'Oops|panic' <<<"$out")"
		out=$("$vm" run "$short" "$@" 2>&1)
		status=$?
	fi
	sed -n "s/^\(not ok\|ok\) \([0-9]*\) /\1 \2 [$k] /p; s/^# /# [$k] /p" <<<"$out"
	if ! grep -qE '^(not )?ok ' <<<"$out" || { [ "$status" -ne 0 ] && ! grep -q '^not ok ' <<<"$out"; }; then
		echo "not ok 0 [$k] the VM run failed (status $status)"
		tail -n 20 <<<"$out" | sed 's/^/# /'
	fi
}

if ! fetch_log=$("$vm" fetch 2>&1); then
	echo "ok 1 # skip VM kernels unavailable: $(tail -n 1 <<<"$fetch_log")"
	exit 0
fi
mapfile -t kernels < <("$vm" kernels)
for k in "${kernels[@]}"; do
	run_boot "$k" --timeout 1500 -- env BATS_TEST_TIMEOUT=300 CIDTRACE_UFFD_THREADS=1 \
		bats --tap tests/bats/lifecycle.bats tests/vm/vsock.bats tests/bats/uffd.bats
	run_boot "$k" --no-vsock --timeout 300 -- env BATS_TEST_TIMEOUT=300 \
		bats --tap tests/vm/vsock_late.bats
done
