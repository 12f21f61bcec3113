#!/usr/bin/env bash
# Run the integration tests inside VMs booted on Debian's 6.1 and 6.12 kernels, with the
# cidtrace binary built on this host: one CO-RE object must work on every kernel. Per kernel,
# one boot with vhost_vsock loaded (lifecycle and CID tests) and one without it (the module is
# loadable, and loads while cidtrace runs). Prints TAP, each test name prefixed with its
# kernel, and exits non-zero if any line is "not ok".
#
# Each boot must report as many tests as bats counts in its files: a VM that died, or a bats
# that stopped early, is "not ok", never a shorter list of passes. A kernel that cannot be had
# (vm.sh fetch failed and none is cached) is "not ok" in CI (CI=true); elsewhere it is
# skipped, with the reason.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

vm=tests/vm/vm.sh
# The kernel series every run covers (vm.sh's SERIES), and what each boot runs.
series=(6.1 6.12)
vsock_files=(tests/bats/lifecycle.bats tests/vm/vsock.bats tests/bats/uffd.bats)
# vsock_host.bats first: it wants the module loadable and not yet loaded
novsock_files=(tests/bats/vsock_host.bats tests/vm/vsock_late.bats)
status=0

not_ok() {
	echo "not ok 0 $*"
	status=1
}

# The VM suite, or a part of it, cannot run: "not ok" in CI, a skip elsewhere.
cannot_run() { # what, why
	if [ "${CI:-}" = true ]; then
		not_ok "$1 cannot run (CI=true): $2"
	else
		echo "ok 0 $1 # skip $2"
	fi
}

# run_boot KERNEL EXPECTED [vm.sh run options] -- CMD...: EXPECTED is how many tests CMD runs
run_boot() {
	local k=$1 expected=$2 short out rc ran
	shift 2
	short=$(cut -d. -f1,2 <<<"${k%%-*}") # 6.1.0-41-amd64 -> 6.1, 6.12.57+deb12-amd64 -> 6.12
	out=$("$vm" run "$short" "$@" 2>&1)
	rc=$?
	# 125: the VM itself failed. Under multi-threaded TCG a guest kernel occasionally oopses
	# while booting, or on a stale translation of code the kernel just patched (an "int3"
	# oops in a function a static key or trampoline changed). That says nothing about
	# cidtrace when no test had failed: run the boot once more, whole. A crash that repeats
	# fails.
	if [ "$rc" -eq 125 ] && ! grep -q '^not ok ' <<<"$out" && grep -qE 'Oops|panic' <<<"$out"; then
		echo "# [$k] the VM's kernel crashed, running the boot once more: $(grep -m1 -E 'Oops|panic' <<<"$out")"
		out=$("$vm" run "$short" "$@" 2>&1)
		rc=$?
	fi
	sed -n "s/^\(not ok\|ok\) \([0-9]*\) /\1 \2 [$k] /p; s/^# /# [$k] /p" <<<"$out"
	grep -q '^not ok ' <<<"$out" && status=1
	ran=$(grep -cE '^(not )?ok ' <<<"$out")
	if ! [[ "$expected" =~ ^[1-9][0-9]*$ ]]; then
		not_ok "[$k] bats counted '$expected' tests to run"
	elif [ "$ran" -ne "$expected" ] || { [ "$rc" -ne 0 ] && ! grep -q '^not ok ' <<<"$out"; }; then
		not_ok "[$k] the VM run reported $ran of $expected tests (status $rc)"
		tail -n 20 <<<"$out" | sed 's/^/# /'
	fi
}

if ! fetch_log=$("$vm" fetch 2>&1); then
	echo "# vm.sh fetch failed: $(tail -n 1 <<<"$fetch_log")"
fi
for s in "${series[@]}"; do
	# the newest cached release of the series: 6.1 must not match 6.12
	k=$("$vm" kernels | grep -E "^${s//./\\.}[.+-]" | sort -V | tail -n 1)
	if [ -z "$k" ]; then
		cannot_run "[$s] VM suite" "no $s kernel: $(tail -n 1 <<<"$fetch_log")"
		continue
	fi
	run_boot "$k" "$(bats --count "${vsock_files[@]}")" --timeout 1500 -- \
		env BATS_TEST_TIMEOUT=300 CIDTRACE_UFFD_THREADS=1 bats --tap "${vsock_files[@]}"
	run_boot "$k" "$(bats --count "${novsock_files[@]}")" --no-vsock --timeout 300 -- \
		env BATS_TEST_TIMEOUT=300 bats --tap "${novsock_files[@]}"
done
exit "$status"
