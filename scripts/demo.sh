#!/usr/bin/env bash
# `sudo make demo`: cidtrace run over a small CI-like job made of real processes.
#
# The job plays two Go tests with t.TempDir() layouts under a scratch root:
#   - TestQEMUWarmBoot: a "qemu-system-x86_64" VMM that its test kills with SIGKILL;
#   - TestFirecrackerSnapshot: a "firecracker" VMM started through a helper that exits, so
#     the VMM is orphaned, and is never stopped: a leak.
# The VMMs are copies of tests/fixtures/idle under their real names, with real command lines;
# cidtrace only sees comm and argv.
set -euo pipefail
cd "$(dirname "$0")/.."

root=$(mktemp -d /tmp/cidtrace-demo.XXXXXX)
trap 'pkill -KILL -f "$root/" 2>/dev/null || true' EXIT
qdir="$root/TestQEMUWarmBoot2961875123/001"
fdir="$root/TestFirecrackerSnapshot3316702011/001"
mkdir -p "$qdir" "$fdir"
cp build/fixtures/idle "$qdir/qemu-system-x86_64"
cp build/fixtures/idle "$fdir/firecracker"

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
echo "job: done"
EOF2

echo "== ./cidtrace run --scope $root --scratch-root $root -o $root/report.json -- sh job.sh"
./cidtrace run --scope "$root" --scratch-root "$root" -o "$root/report.json" -- sh "$root/job.sh"

echo
echo "== report summary ($root/report.json)"
jq -r '
	"trace: \(.trace.mode), \(.trace.events.received) events, \(.trace.events.lost) lost, complete=\(.trace.complete), attach=\(.trace.attach | to_entries | map("\(.key)=\(.value)") | join(","))",
	"processes kept: \(.processes | length)",
	(.processes[] | select(.role == "vmm" and .started_at != null) |
		"  vmm pid \(.pid) \(.comm) [\(.test_dir)] " +
		(if .exit then "exited " + (if .exit.signal > 0 then "by signal \(.exit.signal)" else "code \(.exit.code)" end) else "still running" end) +
		(if (.fatal_signals | length) > 0 then ", \(.fatal_signals[0].name) from pid \(.fatal_signals[0].sender_pid) (\(.fatal_signals[0].sender_comm))" else "" end) +
		(if .orphaned then ", orphaned (original ppid \(.original_ppid))" else "" end)),
	"findings: \(.findings | length)",
	(.findings[] | "  \(.kind): \(.summary)")' "$root/report.json"
