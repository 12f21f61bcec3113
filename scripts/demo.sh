#!/usr/bin/env bash
# `sudo make demo`: cidtrace run over a small CI-like job made of real processes.
#
# The job plays three Go tests with t.TempDir() layouts under a scratch root:
#   - TestQEMUWarmBoot: a "qemu-system-x86_64" VMM that its test kills with SIGKILL;
#   - TestFirecrackerSnapshot: a "firecracker" VMM started through a helper that exits, so
#     the VMM is orphaned, and is never stopped: a leak.
#   - TestFirecrackerUffdRestore: a real KVM guest ("firecracker") restored with a userfaultfd
#     memory backend served by a real pager ("hypeman-uffd-pager") over SCM_RIGHTS. The test
#     kills the pager: the guest's vCPU0 blocks on the next missing page and vCPU1 spins.
# The first two VMMs are copies of tests/fixtures/idle under their real names, with real
# command lines; the third pair are tests/fixtures/uffd_vmm and uffd_pager.
# With DEMO_VM=1, or when a test VM kernel is already cached, a real QEMU CID conflict
# follows, inside a VM (tests/vm/vm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

root=$(mktemp -d /tmp/cidtrace-demo.XXXXXX)
# The demo's VMMs and pager are stopped at the end; the reports stay for reading.
trap 'pkill -KILL -f "$root/" 2>/dev/null || true' EXIT
qdir="$root/TestQEMUWarmBoot2961875123/001"
fdir="$root/TestFirecrackerSnapshot3316702011/001"
udir="$root/TestFirecrackerUffdRestore1187/001"
mkdir -p "$qdir" "$fdir" "$udir"
cp build/fixtures/idle "$qdir/qemu-system-x86_64"
cp build/fixtures/idle "$fdir/firecracker"
cp build/fixtures/uffd_vmm "$udir/firecracker"
cp build/fixtures/uffd_pager "$udir/hypeman-uffd-pager"
vcpus=""
[ -c /dev/kvm ] || vcpus="--threads" # no KVM: the same faults from plain threads

cat >"$root/job.sh" <<EOF2
set -e
# TestQEMUWarmBoot: start the VMM, then kill it the hard way
IDLE_READY="$qdir/vmm.ready" "$qdir/qemu-system-x86_64" -S -nodefaults -display none -chardev "socket,id=mon,path=$qdir/qemu.sock,server=on,wait=off" &
vmm=\$!
while [ ! -e "$qdir/vmm.ready" ]; do sleep 0.01; done
kill -KILL \$vmm
{ wait \$vmm; } 2>/dev/null || true
# TestFirecrackerSnapshot: a launcher that exits and leaves its VMM behind
sh -c 'IDLE_READY="$fdir/vmm.ready" "$fdir/firecracker" --api-sock "$fdir/fc.sock" >/dev/null 2>&1 & echo \$! >"$fdir/fc.pid"'
while [ ! -e "$fdir/vmm.ready" ]; do sleep 0.01; done
# TestFirecrackerUffdRestore: restore a guest with a UFFD pager, then lose the pager
"$udir/hypeman-uffd-pager" --sock "$udir/uffd.sock" --ready "$udir/pager.ready" >/dev/null 2>&1 &
pager=\$!
while [ ! -e "$udir/pager.ready" ]; do sleep 0.01; done
"$udir/firecracker" --sock "$udir/uffd.sock" --ready "$udir/guest.ready" $vcpus >/dev/null 2>&1 &
while [ ! -e "$udir/guest.ready" ]; do sleep 0.01; done
{ kill -KILL \$pager; wait \$pager; } 2>/dev/null || true
# wait (at most 20 s) until cidtrace's checkpoint says the orphaned guest is spinning; bash
# builtins only, so that the wait adds no processes to the report
for i in {1..200}; do
	[[ \$(<"$root/report.json") == *'"state":"spinning"'* ]] && break
	sleep 0.1
done
echo "job: done"
EOF2

# --as-root: under `sudo make demo` the job would run as the user who ran sudo, who can
# neither write $root nor open /dev/kvm
echo "== ./cidtrace run --as-root --scope $root --scratch-root $root --checkpoint 0.5 --only exec,exit,uffd -o $root/report.json -- bash job.sh"
./cidtrace run --as-root --scope "$root" --scratch-root "$root" --checkpoint 0.5 \
	--only exec,exit,uffd -o "$root/report.json" -- bash "$root/job.sh"

# DEMO_VM=1 fetches the VM kernels if needed; by default the VM part runs only if they are
# cached already (the VM boots in ~15 s; the download takes longer).
if [ "${DEMO_VM:-}" = 1 ] || { [ "${DEMO_VM:-}" != 0 ] && [ -n "$(tests/vm/vm.sh kernels)" ]; }; then
	echo
	echo "== a real QEMU CID conflict, in a test VM (Debian 6.12 kernel under TCG; DEMO_VM=0 skips)"
	tests/vm/vm.sh fetch >/dev/null
	tests/vm/vm.sh run 6.12 --timeout 300 -- scripts/demo-vm.sh
fi

echo
echo "== ./cidtrace report $root/report.json"
./cidtrace report "$root/report.json"
./cidtrace report --format html -o "$root/report.html" "$root/report.json"
echo
echo "HTML report (self-contained; open it in a browser): $root/report.html"
